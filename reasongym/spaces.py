"""Gymnasium spaces for free text.

``gymnasium.spaces.Text`` only contains strings over its (alphanumeric by default) charset,
but prompts, tool output and LLM actions are arbitrary Unicode. ``UnicodeText`` contains any
``str`` up to ``max_length`` characters and samples from printable ASCII, so random agents and
``check_env`` still get useful samples.
"""

from __future__ import annotations

import string
from typing import Any

from gymnasium import spaces

PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " \n"


class UnicodeText(spaces.Text):
    """A Text space whose members are any Unicode string of length [min_length, max_length]."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: Any = None):
        super().__init__(max_length, min_length=min_length, charset=PRINTABLE, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


def clip_text(text: str, max_length: int, marker: str = "\n...[truncated]") -> str:
    """Cut ``text`` to at most ``max_length`` characters, saying so at the end."""
    if len(text) <= max_length:
        return text
    keep = max(0, max_length - len(marker))
    return text[:keep] + marker[: max_length - keep]
