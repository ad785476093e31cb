"""Plain-data types shared by environments, verifiers, agents and search."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    """One problem an environment poses.

    Attributes:
        id: stable identifier (``info["task_id"]``), unique within its source.
        question: the problem statement shown to the agent.
        answer: the gold answer as text (for code tasks: the reference solution).
        meta: source-specific plain data (tests, entry point, difficulty, ...).
    """

    id: str
    question: str
    answer: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """What a verifier decided about one answer.

    Attributes:
        correct: whether the answer counts as solved.
        score: in [0, 1]; partial credit (e.g. fraction of tests passed), 1.0 when correct.
        details: plain data explaining the decision (extracted answer, per-test results, ...).
    """

    correct: bool
    score: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"correct": self.correct, "score": self.score, "details": dict(self.details)}


@dataclass(frozen=True)
class ToolResult:
    """Output of one tool call: ``ok`` is False for errors the agent caused."""

    output: str
    ok: bool = True
