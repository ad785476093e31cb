"""The CHAMP competition-math problems shipped by the champ-dataset package."""

from __future__ import annotations

from reasongym.envs.tasks.base import ListSource
from reasongym.envs.types import Task


def load_champ(version: str = "v0") -> ListSource:
    import champ_dataset

    data = champ_dataset.load(version)
    tasks = [
        Task(f"champ/{key}", problem.text, problem.answer, {"category": problem.category})
        for key, problem in sorted(data.problems.items())
    ]
    return ListSource(tasks)
