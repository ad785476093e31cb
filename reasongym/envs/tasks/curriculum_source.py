"""A procedural source under a curriculum: one source per level, the curriculum picks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reasongym.envs.curriculum import Curriculum, CurriculumSpec
from reasongym.envs.tasks.base import TaskSource, is_unbounded
from reasongym.envs.types import Task


class CurriculumSource(TaskSource):
    """Tasks come from ``make(level_value)`` for the curriculum's current level.

    The same index gives the same task at the same level, so ``reset(options={"task_index":
    i})`` stays deterministic; the level is part of the env's snapshot.
    """

    unbounded = True

    def __init__(self, spec: CurriculumSpec, make: Callable[[Any], TaskSource]):
        self.curriculum = Curriculum(spec)
        self._sources = [make(value) for value in spec.levels]
        self.unbounded = all(is_unbounded(s) for s in self._sources)

    @property
    def current(self) -> TaskSource:
        return self._sources[self.curriculum.level]

    def __len__(self) -> int:
        return len(self.current)

    def __getitem__(self, index: int) -> Task:
        return self.current[index]

    def sample(self, rng: np.random.Generator) -> Task:
        return self.current.sample(rng)

    def verifier_names(self) -> set[str]:
        return set().union(*(s.verifier_names() for s in self._sources))

    def end_episode(self, task: Task, success: bool) -> None:
        self.curriculum.end_episode(success)

    def snapshot(self) -> Any:
        return self.curriculum.snapshot()

    def restore(self, data: Any) -> None:
        if data is not None:
            self.curriculum.restore(data)

    def info(self, task: Task | None) -> dict[str, Any]:
        return {"curriculum": self.curriculum.info()}
