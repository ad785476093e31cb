"""Tasks from the reasoning-gym package (imported lazily: it is slow to import)."""

from __future__ import annotations

import functools
from typing import Any

from reasongym.envs.tasks.base import ListSource
from reasongym.envs.types import Task


@functools.cache
def dataset_names() -> frozenset[str]:
    """Names reasoning-gym registers (empty if the package is missing)."""
    try:
        from reasoning_gym.factory import DATASETS
    except ImportError:
        return frozenset()
    return frozenset(DATASETS)


def load_reasoning_gym(dataset: str, config: dict[str, Any], size: int, seed: int) -> ListSource:
    """Materialise ``size`` items of a reasoning-gym dataset as tasks."""
    import reasoning_gym

    data = reasoning_gym.create_dataset(dataset, size=size, seed=seed, **config)
    tasks = []
    for i in range(size):
        item = data[i]
        meta = {"source_dataset": dataset}
        tasks.append(
            Task(f"{dataset}/{seed}/{i}", str(item["question"]), str(item["answer"]), meta)
        )
    return ListSource(tasks)
