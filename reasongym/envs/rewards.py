"""The declarative reward spec applied by text environments."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RewardSpec(BaseModel):
    """Rewards for one step; declared under ``reward:`` in YAML.

    The reward of a final answer is ``incorrect + score * (correct - incorrect)`` when
    ``partial_credit`` (score in [0, 1], e.g. the fraction of tests passed), else
    ``correct`` or ``incorrect``. Every step also pays ``step_cost`` (subtracted).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    correct: float = 1.0
    incorrect: float = 0.0
    format_error: float = Field(default=-0.1, description="for an action that does not parse")
    tool_error: float = Field(default=0.0, description="for a tool call that fails (bad input)")
    tool_success: float = Field(default=0.0, description="process reward for a tool call that works")
    step_cost: float = Field(default=0.0, ge=0.0)
    partial_credit: bool = True

    def for_answer(self, score: float, correct: bool) -> float:
        if correct:
            value = self.correct
        elif self.partial_credit:
            value = self.incorrect + score * (self.correct - self.incorrect)
        else:
            value = self.incorrect
        return value - self.step_cost
