"""Exact-match verifier: equal after trimming, case folding and collapsing white space.

An answer that is empty after that (``""``, ``" "``, ``"..."``) is never correct, whatever the
gold: saying nothing must not match a gold that normalises to nothing (a bad data row).
"""

from __future__ import annotations

import re

from reasongym.envs.types import Verdict

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text.strip()).casefold().rstrip(".")


def verify_exact(prediction: str, gold: str) -> Verdict:
    said = normalise(prediction)
    correct = bool(said) and said == normalise(gold)
    return Verdict(
        correct, 1.0 if correct else 0.0, {"extracted": prediction, "gold": gold, "method": "exact"}
    )
