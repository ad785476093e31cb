"""Procedural task source: a generator (or a uniform mix) at a difficulty."""

from __future__ import annotations

import numpy as np

from reasongym.envs.tasks.base import TaskSource
from reasongym.envs.tasks.generators import GENERATORS
from reasongym.envs.types import Task

_INDEX_SPACE = 2**62


class ProceduralSource(TaskSource):
    """Task ``i`` is generated from ``np.random.default_rng(i)``: stable across versions of
    numpy's Generator API and independent of the env's RNG position."""

    unbounded = True

    def __init__(self, generators: list[str], difficulty: int = 1):
        self.generators = list(generators)
        self.difficulty = difficulty

    def __len__(self) -> int:
        return _INDEX_SPACE

    def __getitem__(self, index: int) -> Task:
        if not 0 <= index < _INDEX_SPACE:
            raise IndexError(index)
        rng = np.random.default_rng(index)
        name = self.generators[int(rng.integers(len(self.generators)))]
        question, answer = GENERATORS[name](rng, self.difficulty)
        return Task(
            id=f"{name}/d{self.difficulty}/{index}",
            question=question,
            answer=answer,
            meta={"generator": name, "difficulty": self.difficulty},
        )
