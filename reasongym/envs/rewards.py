"""The declarative reward spec (``reward:`` in YAML), one sign convention for every family.

Every number is a signed reward *added* to the step's reward: outcomes are positive, penalties
negative (``format_error: -0.1``, ``per_step: -0.01``). Penalty fields reject positive values,
so a sign slip is an error at load time, not a policy that learns to farm "penalties".
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

_RENAMED = {
    "step_cost": "use per_step (a signed reward: step_cost 0.01 is per_step -0.01)",
    "format_penalty": "use format_error (signed: format_penalty 0.01 is format_error -0.01)",
    "illegal_penalty": "use illegal_move (signed: illegal_penalty 0.01 is illegal_move -0.01)",
}


class RewardSpec(BaseModel):
    """Terms shared by every family.

    Attributes:
        correct: paid once, on the step that solves the task (a correct answer, a solving
            move).
        format_error: added when an action cannot be parsed (a no-op); <= 0.
        per_step: added on every step (a step cost when negative); <= 0.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    renamed: ClassVar[dict[str, str]] = _RENAMED

    correct: float = 1.0
    format_error: float = Field(default=-0.1, le=0.0, description="unparseable action; <= 0")
    per_step: float = Field(default=0.0, le=0.0, description="added every step; <= 0")

    @model_validator(mode="before")
    @classmethod
    def _reject_renamed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            found = [
                f"reward.{old} is no longer a key: {hint}"
                for old, hint in cls.renamed.items()
                if old in data
            ]
            if found:
                raise ValueError("; ".join(found))
        return data


class AnswerRewardSpec(RewardSpec):
    """Rewards of envs that judge answers (text, code, ARC).

    The value of a judged answer is ``correct`` when it is correct, else
    ``incorrect + score * (correct - incorrect)`` with ``partial_credit`` (score in [0, 1],
    e.g. the fraction of tests passed) or ``incorrect`` without. With several attempts, each
    answer is paid only its improvement over the episode's best earlier answer
    (:meth:`improvement`), so an episode's outcome rewards sum to its best answer's value.
    """

    incorrect: float = 0.0
    partial_credit: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> AnswerRewardSpec:
        if self.incorrect > self.correct:
            raise ValueError("incorrect must not pay more than correct")
        return self

    @staticmethod
    def improvement(value: float, best: float | None) -> tuple[float, float]:
        """``(pay, new_best)`` for an answer worth ``value`` when the best earlier answer of
        the episode was worth ``best`` (None: the first answer). Only improvements are paid,
        so the answers of one episode together earn exactly the value of its best answer:
        revising (``max_attempts > 1``) never pays the same credit twice."""
        if best is None:
            return value, value
        if value <= best:
            return 0.0, best
        return value - best, value

    def for_answer(self, score: float, correct: bool) -> float:
        """The outcome part of an answer's reward (``per_step`` is added by the env)."""
        if correct:
            return self.correct
        if self.partial_credit:
            score = min(1.0, max(0.0, float(score)))
            return self.incorrect + score * (self.correct - self.incorrect)
        return self.incorrect


class TextRewardSpec(AnswerRewardSpec):
    """Rewards of text envs: answers plus tool calls."""

    tool_error: float = Field(default=0.0, le=0.0, description="a tool call that fails; <= 0")
    tool_success: float = Field(
        default=0.0,
        description="process reward for a working tool call, once per distinct result "
        "(tool and output); an episode's total stops at correct",
    )
    free_text_answer: float = Field(
        default=-0.1,
        le=0.0,
        description="added when an answer is read from prose (answer_mode: free_text); <= 0",
    )


class PuzzleRewardSpec(RewardSpec):
    """Rewards of the grid puzzles.

    Attributes:
        illegal_move: added for an illegal move (a no-op); <= 0.
        shaping: add potential-based shaping ``shaping_weight * (distance before - after)``
            with the puzzle's distance to the goal; it does not change the optimal policy.
    """

    format_error: float = Field(default=-0.01, le=0.0, description="unparseable action; <= 0")
    illegal_move: float = Field(default=-0.01, le=0.0, description="illegal move; <= 0")
    shaping: bool = False
    shaping_weight: float = Field(default=0.1, ge=0.0)
