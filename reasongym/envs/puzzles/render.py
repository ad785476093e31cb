"""Vectorised numpy rendering of grid puzzles: every cell is a sprite, drawn by one gather.

A board is an ``(H, W)`` array of small integer *codes* (wall, floor, tile 7, ...). A
``GridRenderer`` precomputes, for each output pixel, which cell it shows and which sprite pixel
it samples, so drawing a frame is two fancy-index gathers and no Python loop over pixels::

    renderer = GridRenderer(sprites, grid_shape=(7, 7), image_shape=(84, 84))
    image = renderer.draw(codes)  # (84, 84, 3) uint8

Sprites are built once per (puzzle, size) with the helpers below (``solid``, ``framed``,
``disc``, ``glyph``), which are numpy too.
"""

from __future__ import annotations

import numpy as np

Color = tuple[int, int, int]

# A 3x5 bitmap font: enough for tile numbers, Sudoku digits and a few marks.
_FONT_ROWS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "?": ("111", "001", "011", "000", "010"),
    "G": ("111", "100", "101", "101", "111"),
}
FONT = {ch: np.array([[c == "1" for c in row] for row in rows]) for ch, rows in _FONT_ROWS.items()}


def solid(size: int, color: Color) -> np.ndarray:
    """A ``(size, size, 3)`` sprite of one color."""
    return np.broadcast_to(np.array(color, np.uint8), (size, size, 3)).copy()


def framed(size: int, fill: Color, frame: Color, width: int | None = None) -> np.ndarray:
    """A filled square with a border ``width`` pixels wide (default: ~1/16 of the sprite)."""
    width = max(1, size // 16) if width is None else width
    sprite = solid(size, frame)
    sprite[width : size - width, width : size - width] = fill
    return sprite


def disc(base: np.ndarray, color: Color, radius: float = 0.35) -> np.ndarray:
    """``base`` with a filled circle of ``radius`` (fraction of the sprite) in the middle."""
    size = base.shape[0]
    yy, xx = np.mgrid[0:size, 0:size]
    centre = (size - 1) / 2
    mask = (yy - centre) ** 2 + (xx - centre) ** 2 <= (radius * size) ** 2
    sprite = base.copy()
    sprite[mask] = color
    return sprite


def square(base: np.ndarray, color: Color, margin: float = 0.2) -> np.ndarray:
    """``base`` with a filled square inset by ``margin`` (fraction of the sprite)."""
    size = base.shape[0]
    lo, hi = int(round(margin * size)), size - int(round(margin * size))
    sprite = base.copy()
    sprite[lo:hi, lo:hi] = color
    return sprite


def glyph(base: np.ndarray, text: str, color: Color, height: float = 0.55) -> np.ndarray:
    """``base`` with ``text`` (characters of ``FONT``) centred, about ``height`` of the sprite tall.

    The 3x5 font is scaled by an integer factor (``np.kron``), so glyphs stay crisp.
    """
    size = base.shape[0]
    chars = [FONT[ch] for ch in text]
    gap = np.zeros((5, 1), bool)
    bitmap = np.concatenate([part for ch in chars for part in (ch, gap)][:-1], axis=1)
    scale = max(1, int(height * size) // 5)
    while scale > 1 and bitmap.shape[1] * scale > size - 2:
        scale -= 1
    bitmap = np.kron(bitmap, np.ones((scale, scale), bool))
    h, w = bitmap.shape
    sprite = base.copy()
    if h > size or w > size:  # too small to write in: leave the cell plain
        return sprite
    top, left = (size - h) // 2, (size - w) // 2
    sprite[top : top + h, left : left + w][bitmap] = color
    return sprite


def _pixel_map(cells: int, pixels: int, sprite: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``pixels`` output pixels along one axis: its cell and its sprite pixel."""
    pos = np.arange(pixels)
    cell = pos * cells // pixels
    start = -(-cell * pixels // cells)  # ceil: first pixel of the cell
    stop = -(-(cell + 1) * pixels // cells)
    inner = (pos - start) * sprite // np.maximum(stop - start, 1)
    return cell, np.minimum(inner, sprite - 1)


class GridRenderer:
    """Draws an ``(H, W)`` grid of sprite codes as an ``(h, w, 3)`` uint8 image.

    Args:
        sprites: ``(K, S, S, 3)`` uint8, one sprite per code.
        grid_shape: ``(H, W)`` of the boards to draw.
        image_shape: ``(h, w)`` of the output image.
        overlay: optional ``(h, w)`` bool mask painted with ``overlay_color`` on top (e.g. the
            thick 3x3 box lines of Sudoku).
    """

    def __init__(
        self,
        sprites: np.ndarray,
        grid_shape: tuple[int, int],
        image_shape: tuple[int, int],
        overlay: np.ndarray | None = None,
        overlay_color: Color = (0, 0, 0),
    ):
        if sprites.ndim != 4 or sprites.shape[1] != sprites.shape[2] or sprites.shape[3] != 3:
            raise ValueError(f"sprites must be (K, S, S, 3), got {sprites.shape}")
        self.num_codes, size = sprites.shape[0], sprites.shape[1]
        self.image_shape = tuple(image_shape)
        flat = np.ascontiguousarray(sprites, np.uint8).reshape(-1, 3)  # (K*S*S, 3)
        # One extra row holds the overlay colour: overlay pixels index it directly.
        self._flat = np.concatenate([flat, np.array([overlay_color], np.uint8)])
        self._overlay_row = len(flat)
        rows, sy = _pixel_map(grid_shape[0], image_shape[0], size)
        cols, sx = _pixel_map(grid_shape[1], image_shape[1], size)
        self._cell = (rows[:, None] * grid_shape[1] + cols[None, :]).astype(np.intp)  # (h, w)
        self._offset = (sy[:, None] * size + sx[None, :]).astype(np.intp)  # (h, w)
        self._stride = size * size
        self._overlay = None if overlay is None else np.flatnonzero(overlay)  # pixel indices

    def draw(self, codes: np.ndarray) -> np.ndarray:
        """Render ``codes`` (``(H, W)`` ints in ``[0, K)``) to a fresh ``(h, w, 3)`` image."""
        index = codes.ravel().take(self._cell)  # (h, w) code of each pixel's cell
        if index.dtype != np.intp:
            index = index.astype(np.intp)
        index *= self._stride
        index += self._offset  # (h, w) row of each pixel in the flat sprite table
        if self._overlay is not None:
            index.reshape(-1)[self._overlay] = self._overlay_row
        return self._flat.take(index, axis=0)  # (h, w, 3); take is ~4x faster than [index]


def sprite_size(grid_shape: tuple[int, int], image_shape: tuple[int, int]) -> int:
    """The sprite side that gives at least one sprite pixel per image pixel."""
    return max(-(-image_shape[0] // grid_shape[0]), -(-image_shape[1] // grid_shape[1]), 1)


def grid_lines(
    grid_shape: tuple[int, int], image_shape: tuple[int, int], every: int, width: int = 1
) -> np.ndarray:
    """An ``image_shape`` bool mask of lines on every ``every``-th cell boundary (and the edge)."""
    mask = np.zeros(image_shape, bool)
    for axis, (cells, pixels) in enumerate(zip(grid_shape, image_shape, strict=True)):
        for k in range(0, cells + 1, every):
            centre = min(k * pixels // cells, pixels - 1)
            lo, hi = max(0, centre - width // 2), min(pixels, centre - width // 2 + width)
            if axis == 0:
                mask[lo:hi, :] = True
            else:
                mask[:, lo:hi] = True
    return mask
