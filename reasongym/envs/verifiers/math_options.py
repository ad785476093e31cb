"""Options of the ``math`` verifier (the ``math:`` block of a text env's YAML) and the
verifier object the env builds from them.

```yaml
kwargs:
  verifier: math
  math:
    require_number_for_numeric_gold: true   # the default: a computation of a numeric gold is wrong
    timeout_s: 1.0
```

This module stays light (pydantic only): text env configs import it, and the verifier itself
(:func:`~.math.verify_math`, which may import sympy) is imported on the first call.
"""

from __future__ import annotations

from pydantic import Field

from reasongym.envs.base import EnvConfig
from reasongym.envs.types import Task, Verdict

__all__ = ["MathVerifier", "MathVerifierOptions"]


class MathVerifierOptions(EnvConfig):
    """How the ``math`` verifier grades (docs/math_verifier.md)."""

    require_number_for_numeric_gold: bool = Field(
        default=True,
        description="when the gold is made of plain numbers (43680, 3/4, x = 7, (2, 3)), the "
        "answer must be written as numbers too: an expression still to be evaluated "
        "(the question's own '70 * 12 * 52', '\\frac{84}{12}' for 7, '\\sqrt{49}') scores 0. "
        "false: any expression equal to the gold is correct (for tasks that ask for one)",
    )
    timeout_s: float = Field(
        default=1.0, gt=0, le=60, description="time budget of one verification, in seconds"
    )


class MathVerifier:
    """``verify(task, answer) -> Verdict`` with :func:`~.math.verify_math` and fixed options.

    A plain object of plain fields, so an env holding it pickles (vector envs, Ray).
    """

    def __init__(self, *, require_number_for_numeric_gold: bool = True, timeout_s: float = 1.0):
        options = MathVerifierOptions(
            require_number_for_numeric_gold=require_number_for_numeric_gold, timeout_s=timeout_s
        )
        self.require_number_for_numeric_gold = options.require_number_for_numeric_gold
        self.timeout_s = options.timeout_s

    def __call__(self, task: Task, answer: str) -> Verdict:
        from reasongym.envs.verifiers.math import verify_math

        return verify_math(
            answer,
            task.answer,
            timeout_s=self.timeout_s,
            require_number_for_numeric_gold=self.require_number_for_numeric_gold,
        )

    def close(self) -> None:
        """Nothing to release (the verifier holds no process or file)."""
