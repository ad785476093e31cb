"""Gymnasium spaces for free text.

``gymnasium.spaces.Text`` only contains strings over its (alphanumeric by default) charset,
but prompts, tool output and LLM actions are arbitrary Unicode. ``UnicodeText`` contains any
``str`` up to ``max_length`` characters and samples from printable ASCII, so random agents and
``check_env`` still get useful samples.

Vector envs batch a ``UnicodeText`` space as a ``Tuple`` of them (observations come back as a
tuple of ``str``, one per sub-env). ``AsyncVectorEnv`` passes observations through shared memory
as ``int32`` arrays; gymnasium encodes ``Text`` as indices into the charset, which fails on
any character outside it (``KeyError: '➞'``), so ``UnicodeText`` registers its own encoding:
Unicode code points, ``-1`` as padding (also what ``flatten`` returns).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.spaces.utils import flatten, flatten_space, unflatten
from gymnasium.vector.utils.shared_memory import read_from_shared_memory

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


PAD = -1  # fills the int32 encoding of a UnicodeText string past its end


@flatten.register(UnicodeText)
def _flatten_unicode_text(space: UnicodeText, x: str) -> np.ndarray:
    out = np.full(space.max_length, PAD, dtype=np.int32)
    out[: len(x)] = [ord(c) for c in x]
    return out


@unflatten.register(UnicodeText)
def _unflatten_unicode_text(space: UnicodeText, x: np.ndarray) -> str:
    return "".join(chr(c) for c in x if c >= 0)


@flatten_space.register(UnicodeText)
def _flatten_unicode_text_space(space: UnicodeText) -> spaces.Box:
    return spaces.Box(low=PAD, high=0x10FFFF, shape=(space.max_length,), dtype=np.int32)


@read_from_shared_memory.register(UnicodeText)
def _read_unicode_text(space: UnicodeText, shared_memory: Any, n: int = 1) -> tuple[str, ...]:
    # gymnasium's Text writer calls ``flatten`` (above); its reader only knows charset indices
    data = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(n, space.max_length)
    return tuple(_unflatten_unicode_text(space, row) for row in data)


def clip_text(text: str, max_length: int, marker: str = "\n...[truncated]") -> str:
    """Cut ``text`` to at most ``max_length`` characters, saying so at the end."""
    if len(text) <= max_length:
        return text
    keep = max(0, max_length - len(marker))
    return text[:keep] + marker[: max_length - keep]
