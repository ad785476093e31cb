"""Images for multimodal prompts: uint8 arrays -> PNG -> ``data:`` URLs (stdlib only)."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any


def encode_png(image: Any, level: int = 6) -> bytes:
    """PNG bytes of an ``(H, W, 3)`` or ``(H, W)`` uint8 array (RGB or grayscale).

    Args:
        image: the array.
        level: zlib compression level (1 is ~3x faster, for servers sending every frame).
    """
    import numpy as np

    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got dtype {array.dtype}")
    if array.ndim == 2:
        color_type = 0
    elif array.ndim == 3 and array.shape[2] in (3, 4):
        color_type = 2 if array.shape[2] == 3 else 6
    else:
        raise ValueError(
            f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}"
        )
    height, width = array.shape[:2]
    # Each row is prefixed with filter type 0 (none).
    channels = array.shape[2] if array.ndim == 3 else 1
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = array.reshape(height, width * channels)
    raw = rows.tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, level))
        + chunk(b"IEND", b"")
    )


def image_data_url(image: Any) -> str:
    """A ``data:image/png;base64,...`` URL of a uint8 image array."""
    return "data:image/png;base64," + base64.b64encode(encode_png(image)).decode("ascii")


def image_part(image: Any) -> dict[str, Any]:
    """An OpenAI-style ``image_url`` content part for a uint8 image array."""
    return {"type": "image_url", "image_url": {"url": image_data_url(image)}}
