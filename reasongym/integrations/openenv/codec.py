"""JSON on the wire: observations, info and actions of a reasongym env as OpenEnv payloads.

An observation travels as ``{"text": str | None, "image": IMAGE | None, "array": ARRAY | None,
"info": {...}, "terminated": bool, "truncated": bool}`` inside OpenEnv's ``{"observation",
"reward", "done"}``. Images (uint8 ``(H, W, 3)``) are PNG, base64 — lossless, so the client
gets the exact array back, and any OpenEnv/VLM consumer can show them:
``{"type": "image", "mime_type": "image/png", "data": BASE64, "shape": [H, W, 3]}``.
Other arrays (grid/one-hot observations) travel raw: ``{"type": "ndarray", "dtype", "shape",
"data": BASE64}``. Numpy scalars become Python numbers; anything else unknown becomes its
``repr`` (info is for reading, never executed).
"""

from __future__ import annotations

import base64
import io
import json
import math
from typing import Any

import numpy as np

_MAX_DEPTH = 32
MAX_IMAGE_PIXELS = 2**25  # 32 M pixels (a 5792x5792 frame): larger images are refused

try:  # orjson (a dependency of the ``serve`` extra) is ~5x faster; json is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - only without the extra
    _orjson = None


def dumps(message: Any) -> str:
    """One wire message as JSON text (compact; the stdlib encodes what orjson refuses, such as
    integers beyond 64 bits or lone surrogates)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(message).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError
            pass
    return json.dumps(message, separators=(",", ":"))


def loads(raw: str | bytes) -> Any:
    """Parse one client message; raises ``ValueError`` on bad JSON (nesting included).

    What orjson refuses (lone surrogate escapes, NaN) is retried with the stdlib, so the
    server accepts exactly what ``json.loads`` accepts."""
    if _orjson is not None:
        try:
            return _orjson.loads(raw)
        except ValueError:
            pass
    try:
        return json.loads(raw)
    except RecursionError as exc:  # stdlib: deep nesting
        raise ValueError(f"nesting too deep: {exc}") from None


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """An array as a JSON object (PNG for RGB uint8 images, raw bytes otherwise)."""
    if array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] in (3, 4):
        from reasongym.agents.models.images import encode_png

        # zlib level 1, no PIL: an 84x84 frame costs ~50 us instead of ~250 us (bench/serve.py)
        return {
            "type": "image",
            "mime_type": "image/png",
            "data": base64.b64encode(encode_png(array, level=1)).decode("ascii"),
            "shape": list(array.shape),
        }
    data = np.ascontiguousarray(array)
    return {
        "type": "ndarray",
        "dtype": str(data.dtype),
        "shape": list(data.shape),
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def decode_array(obj: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_array`.

    Only what :func:`encode_array` makes is decoded: PNG images (PIL would otherwise pick a
    decoder from the bytes, some of which run external programs, e.g. EPS via Ghostscript)
    of at most ``MAX_IMAGE_PIXELS``, and raw arrays of plain numeric dtypes (never objects).
    Anything else is a ``ValueError``."""
    raw = base64.b64decode(obj["data"], validate=True)
    if obj.get("type") == "image":
        from PIL import Image

        with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValueError(f"an image of {width}x{height} pixels is too large to decode")
            array = np.asarray(image)
        return array.reshape(obj["shape"]) if "shape" in obj else array
    dtype = np.dtype(obj["dtype"])
    if dtype.kind not in "biufcUS" or dtype.hasobject:
        raise ValueError(f"refusing to decode an array of dtype {dtype}")
    return np.frombuffer(raw, dtype=dtype).reshape(obj["shape"]).copy()


def to_jsonable(value: Any, depth: int = 0) -> Any:
    """Plain JSON data for ``value`` (numpy to lists/numbers, tuples to lists, NaN to None)."""
    if depth > _MAX_DEPTH:
        return repr(value)
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return to_jsonable(value.item(), depth + 1)
    if isinstance(value, np.ndarray):
        return encode_array(value) if value.size > 64 else to_jsonable(value.tolist(), depth + 1)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, depth + 1) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_jsonable(to_dict(), depth + 1)
    return repr(value)


def encode_observation(obs: Any) -> dict[str, Any]:
    """The ``text`` / ``image`` / ``array`` fields of one env observation."""
    out: dict[str, Any] = {"text": None, "image": None, "array": None}
    if isinstance(obs, str):
        out["text"] = obs
    elif isinstance(obs, dict):
        for key, value in obs.items():
            if key == "text":
                out["text"] = str(value)
            elif key == "image" and isinstance(value, np.ndarray):
                out["image"] = encode_array(value)
            else:
                out.setdefault("extra", {})[str(key)] = to_jsonable(value)
    elif isinstance(obs, np.ndarray):
        out["array"] = encode_array(obs)
    else:
        out["array"] = to_jsonable(obs)
    return out


def decode_observation(fields: dict[str, Any], kind: str) -> Any:
    """Rebuild the gymnasium observation from its wire fields.

    Args:
        fields: the ``observation`` object of an OpenEnv payload.
        kind: ``"text"``, ``"dict"`` (multimodal: ``{"text", "image"}``) or ``"array"``.
    """
    if kind == "text":
        return fields.get("text") or ""
    if kind == "dict":
        obs: dict[str, Any] = {}
        if fields.get("text") is not None:
            obs["text"] = fields["text"]
        if fields.get("image") is not None:
            obs["image"] = decode_array(fields["image"])
        for key, value in (fields.get("extra") or {}).items():
            obs[key] = decode_array(value) if _is_array(value) else np.asarray(value)
        return obs
    value = fields.get("array")
    if _is_array(value):
        return decode_array(value)
    return np.asarray(value)


def _is_array(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in ("image", "ndarray") and "data" in value


def payload(obs: Any, reward: float | None, terminated: bool, truncated: bool, info: dict) -> dict:
    """OpenEnv's ``{"observation", "reward", "done"}`` for one reset/step result."""
    fields = encode_observation(obs)
    fields["info"] = to_jsonable(info)
    fields["terminated"] = bool(terminated)
    fields["truncated"] = bool(truncated)
    return {
        "observation": fields,
        "reward": None if reward is None or not math.isfinite(float(reward)) else float(reward),
        "done": bool(terminated or truncated),
    }
