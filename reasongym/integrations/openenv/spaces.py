"""Gymnasium spaces as JSON (served in ``/schema``) and back, so ``RemoteEnv`` has the served
env's exact spaces without importing its code."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces


def describe(space: spaces.Space) -> dict[str, Any]:
    """A JSON description of ``space`` (Text/UnicodeText, Discrete, Box, Dict)."""
    from reasongym.spaces import UnicodeText

    if isinstance(space, UnicodeText):
        return {
            "type": "unicode_text",
            "min_length": space.min_length,
            "max_length": space.max_length,
        }
    if isinstance(space, spaces.Text):
        return {
            "type": "text",
            "min_length": space.min_length,
            "max_length": space.max_length,
            "charset": "".join(sorted(space.character_set)),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {
            "type": "box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": space.low.tolist(),
            "high": space.high.tolist(),
        }
    if isinstance(space, spaces.MultiBinary):
        return {"type": "multi_binary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict):
        return {"type": "dict", "spaces": {k: describe(v) for k, v in space.spaces.items()}}
    raise TypeError(
        f"cannot serve a {type(space).__name__} space (supported: text, discrete, box, dict)"
    )


def build(desc: dict[str, Any]) -> spaces.Space:
    """Inverse of :func:`describe`."""
    from reasongym.spaces import UnicodeText

    kind = desc.get("type")
    if kind == "unicode_text":
        return UnicodeText(int(desc["max_length"]), min_length=int(desc["min_length"]))
    if kind == "text":
        return spaces.Text(
            int(desc["max_length"]), min_length=int(desc["min_length"]), charset=desc["charset"]
        )
    if kind == "discrete":
        return spaces.Discrete(int(desc["n"]), start=int(desc.get("start", 0)))
    if kind == "box":
        dtype = np.dtype(desc["dtype"])
        return spaces.Box(
            low=np.asarray(desc["low"], dtype=dtype),
            high=np.asarray(desc["high"], dtype=dtype),
            shape=tuple(desc["shape"]),
            dtype=dtype,
        )
    if kind == "multi_binary":
        return spaces.MultiBinary(desc["n"])
    if kind == "dict":
        return spaces.Dict({k: build(v) for k, v in desc["spaces"].items()})
    raise ValueError(f"unknown space description {kind!r}")


def kind_of(space: spaces.Space) -> str:
    """How observations of ``space`` travel: ``text``, ``dict`` or ``array``."""
    if isinstance(space, spaces.Text):
        return "text"
    if isinstance(space, spaces.Dict):
        return "dict"
    return "array"
