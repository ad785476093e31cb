"""Task sources: deterministic ``source.sample(rng)`` and ``source[i]``."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from reasongym.envs.types import Task


class TaskSource(ABC):
    """Where an environment's tasks come from.

    ``sample(rng)`` draws with the env's ``np_random`` only, so the same seed gives the same
    task; ``source[i]`` gives task ``i`` for evaluation over a fixed set.
    """

    @abstractmethod
    def __len__(self) -> int:
        """Number of distinct indexable tasks (procedural sources: a large finite range)."""

    @abstractmethod
    def __getitem__(self, index: int) -> Task:
        """Task number ``index`` (0 <= index < len(self))."""

    def sample(self, rng: np.random.Generator) -> Task:
        return self[int(rng.integers(len(self)))]


class ListSource(TaskSource):
    """A fixed list of tasks (JSONL files, packaged datasets)."""

    def __init__(self, tasks: list[Task]):
        if not tasks:
            raise ValueError("a task source needs at least one task")
        self.tasks = tasks

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, index: int) -> Task:
        return self.tasks[index]
