"""Gymnasium spaces for free text.

``gymnasium.spaces.Text`` only contains strings over its (alphanumeric by default) charset,
but prompts, tool output and LLM actions are arbitrary Unicode. ``UnicodeText`` contains any
``str`` up to ``max_length`` characters and samples from printable ASCII, so random agents and
``check_env`` still get useful samples.

Vector envs batch a ``UnicodeText`` space as a ``Tuple`` of them: observations come back as a
tuple of ``str``, one per sub-env. ``AsyncVectorEnv`` (with its default ``shared_memory=True``)
passes them through shared ``int32`` arrays, where gymnasium's ``Text`` support is broken twice
over: it encodes characters as charset indices (``KeyError`` on any character outside the
charset, e.g. HumanEval's ``'➞'``), and it decodes the buffer only once, when the vector env is
made, so every later text observation reads as that first, empty one. ``UnicodeText``
therefore registers its own encoding (Unicode code points, ``-1`` as padding; also what
``flatten`` returns) and a live reader, whose ``deepcopy`` (what ``copy=True``, the default,
returns each step) is a plain tuple of ``str``.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
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


def _encode(text: str, max_length: int) -> np.ndarray:
    out = np.full(max_length, PAD, dtype=np.int32)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<i4")
    out[: len(codes)] = codes
    return out


def _decode(codes: np.ndarray) -> str:
    return codes[codes >= 0].astype("<i4").tobytes().decode("utf-32-le", "surrogatepass")


@flatten.register(UnicodeText)
def _flatten_unicode_text(space: UnicodeText, x: str) -> np.ndarray:
    return _encode(x, space.max_length)


@unflatten.register(UnicodeText)
def _unflatten_unicode_text(space: UnicodeText, x: np.ndarray) -> str:
    return _decode(np.asarray(x))


@flatten_space.register(UnicodeText)
def _flatten_unicode_text_space(space: UnicodeText) -> spaces.Box:
    return spaces.Box(low=PAD, high=0x10FFFF, shape=(space.max_length,), dtype=np.int32)


class SharedTexts(Sequence):
    """The strings in a shared ``(n, max_length)`` code-point buffer, decoded on access.

    ``AsyncVectorEnv`` reads its shared memory once and expects a live view (as numpy gives
    for ``Box``); ``deepcopy`` gives a plain tuple of ``str``.
    """

    def __init__(self, codes: np.ndarray):
        self._codes = codes

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(_decode(row) for row in self._codes[index])
        return _decode(self._codes[index])

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return f"SharedTexts({tuple(self)!r})"


@read_from_shared_memory.register(UnicodeText)
def _read_unicode_text(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTexts:
    # gymnasium's Text writer calls ``flatten`` (above), so the buffer holds code points
    codes = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(n, space.max_length)
    return SharedTexts(codes)


def clip_text(text: str, max_length: int, marker: str = "\n...[truncated]") -> str:
    """Cut ``text`` to at most ``max_length`` characters, saying so at the end."""
    if len(text) <= max_length:
        return text
    keep = max(0, max_length - len(marker))
    return text[:keep] + marker[: max_length - keep]
