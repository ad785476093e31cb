"""Task sources: deterministic ``source.sample(rng)`` and ``source[i]``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from reasongym.envs.types import Task


class TaskSource(ABC):
    """Where an environment's tasks come from.

    ``sample(rng)`` draws with the env's ``np_random`` only, so the same seed gives the same
    task; ``source[i]`` gives task ``i`` for evaluation over a fixed set.

    Beyond that, a source may route tasks and keep state; the text env calls these hooks:

    * ``verifier_names()`` / ``tool_names()``: every verifier and tool its tasks may name in
      ``task.meta["verifier"]`` / ``task.meta["tools"]`` (mixture parts, code rows), so the
      env builds them up front;
    * ``end_episode(task, success)``: an episode ended, terminated or truncated (curricula);
    * ``snapshot()`` / ``restore(data)``: plain-data state, part of the env's ``get_state``;
    * ``info(task)``: extra ``info`` keys for the current task (``source``, ``curriculum``).
    """

    #: True for procedural sources: ``len`` is a huge index space, not a count of tasks.
    unbounded: bool = False

    @abstractmethod
    def __len__(self) -> int:
        """Number of distinct indexable tasks (procedural sources: a large finite range)."""

    @abstractmethod
    def __getitem__(self, index: int) -> Task:
        """Task number ``index`` (0 <= index < len(self))."""

    def sample(self, rng: np.random.Generator) -> Task:
        return self[int(rng.integers(len(self)))]

    def verifier_names(self) -> set[str]:
        return set()

    def tool_names(self) -> list[str]:
        return []

    def end_episode(self, task: Task, success: bool) -> None:
        """The episode of ``task`` ended (terminated or truncated)."""

    def snapshot(self) -> Any:
        return None

    def restore(self, data: Any) -> None:
        """Restore a ``snapshot``."""

    def info(self, task: Task | None) -> dict[str, Any]:
        return {}


def is_unbounded(source: TaskSource) -> bool:
    """Whether a source is procedural (its ``len`` is an index space, not a task count)."""
    return bool(getattr(source, "unbounded", False)) or len(source) >= 2**62


class ListSource(TaskSource):
    """A fixed list of tasks (data files, packaged datasets)."""

    def __init__(self, tasks: list[Task]):
        if not tasks:
            raise ValueError("a task source needs at least one task")
        self.tasks = list(tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, index: int) -> Task:
        return self.tasks[index]

    def verifier_names(self) -> set[str]:
        return {str(t.meta["verifier"]) for t in self.tasks if t.meta.get("verifier")}
