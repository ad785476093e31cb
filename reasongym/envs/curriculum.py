"""Curricula: a difficulty schedule declared in YAML, for procedural task sources and puzzles.

A curriculum walks through ``levels`` (difficulties for a procedural source, config overrides
such as ``{scramble: 8}`` or ``{presses: 1, max_turns: 4}`` for a puzzle: a rung may set its own
step limit, so the first rung can be the puzzle's ``Config.easiest`` itself) on one of two
schedules:

* ``episodes``: level ``start_level + k`` once ``k * episodes_per_level`` episodes have ended;
* ``success_rate``: promoted one level when the success rate of the last ``window`` finished
  episodes reaches ``promote_at`` (and, with ``demote_below``, demoted when it falls below);
  the window restarts after every change.

The tracker's state is plain data: it is part of the env's ``get_state`` (so ``set_state``
restores it) and shown in ``info["curriculum"]`` on every reset and step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CurriculumSpec(BaseModel):
    """The ``curriculum:`` key (of a procedural task spec or a puzzle's kwargs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: list[Any] = Field(
        min_length=1,
        max_length=100,
        description="procedural sources: difficulties (ints); puzzles: config overrides (mappings)",
    )
    schedule: Literal["episodes", "success_rate"] = "episodes"
    episodes_per_level: int = Field(default=100, ge=1, le=10**9, description="schedule episodes")
    window: int = Field(
        default=20, ge=1, le=10_000, description="schedule success_rate: episodes judged"
    )
    promote_at: float = Field(default=0.8, gt=0, le=1, description="success rate that promotes")
    demote_below: float | None = Field(
        default=None, ge=0, lt=1, description="success rate that demotes"
    )
    start_level: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> CurriculumSpec:
        if self.start_level >= len(self.levels):
            raise ValueError(
                f"start_level {self.start_level} is past the last level ({len(self.levels) - 1})"
            )
        if self.demote_below is not None and self.demote_below >= self.promote_at:
            raise ValueError("demote_below must be lower than promote_at")
        return self


@dataclass
class CurriculumState:
    """Plain-data progress of a curriculum."""

    level: int = 0
    episodes: int = 0  # finished episodes (terminated or truncated)
    window: list[bool] = field(default_factory=list)


class Curriculum:
    """Tracks one curriculum; the env calls ``end_episode(success)`` when an episode ends
    (terminated or truncated; an episode abandoned by ``reset`` is not counted), and the
    next task is drawn at the level that results."""

    def __init__(self, spec: CurriculumSpec):
        self.spec = spec
        self.state = CurriculumState(level=spec.start_level)

    @property
    def level(self) -> int:
        return self.state.level

    @property
    def value(self) -> Any:
        """The current level's entry of ``levels``."""
        return self.spec.levels[self.state.level]

    def end_episode(self, success: bool) -> None:
        s, spec = self.state, self.spec
        s.episodes += 1
        last = len(spec.levels) - 1
        if spec.schedule == "episodes":
            s.level = min(spec.start_level + s.episodes // spec.episodes_per_level, last)
            return
        s.window.append(bool(success))
        if len(s.window) > spec.window:
            del s.window[0]
        if len(s.window) < spec.window:
            return
        rate = sum(s.window) / len(s.window)
        if rate >= spec.promote_at and s.level < last:
            s.level += 1
            s.window.clear()
        elif spec.demote_below is not None and rate < spec.demote_below and s.level > 0:
            s.level -= 1
            s.window.clear()

    def info(self) -> dict[str, Any]:
        s = self.state
        return {
            "level": s.level,
            "value": self.value,
            "levels": len(self.spec.levels),
            "episodes": s.episodes,
            "success_rate": (sum(s.window) / len(s.window)) if s.window else None,
        }

    def snapshot(self) -> dict[str, Any]:
        return asdict(self.state)

    def restore(self, data: dict[str, Any]) -> None:
        self.state = CurriculumState(
            level=int(data["level"]),
            episodes=int(data["episodes"]),
            window=[bool(x) for x in data["window"]],
        )
