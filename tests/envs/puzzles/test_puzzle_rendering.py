"""Rendering: the vectorised renderer matches a per-pixel reference; every puzzle draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs.puzzles.arc import ARCEnv
from reasongym.envs.puzzles.lights_out import LightsOutEnv
from reasongym.envs.puzzles.maze import MazeEnv
from reasongym.envs.puzzles.render import GridRenderer, glyph, grid_lines, solid
from reasongym.envs.puzzles.sliding import SlidingPuzzleEnv
from reasongym.envs.puzzles.sokoban import SokobanEnv
from reasongym.envs.puzzles.sudoku import SudokuEnv

PUZZLES = [MazeEnv, SlidingPuzzleEnv, SokobanEnv, LightsOutEnv, SudokuEnv]


def reference_draw(sprites: np.ndarray, codes: np.ndarray, out: tuple[int, int]) -> np.ndarray:
    """Per-pixel loops (test only): pixel -> cell -> position inside the cell -> sprite pixel."""
    rows, cols = codes.shape
    size = sprites.shape[1]
    image = np.zeros((*out, 3), np.uint8)
    for y in range(out[0]):
        r = y * rows // out[0]
        top, bottom = -(-r * out[0] // rows), -(-(r + 1) * out[0] // rows)
        sy = min((y - top) * size // (bottom - top), size - 1)
        for x in range(out[1]):
            c = x * cols // out[1]
            left, right = -(-c * out[1] // cols), -(-(c + 1) * out[1] // cols)
            sx = min((x - left) * size // (right - left), size - 1)
            image[y, x] = sprites[codes[r, c], sy, sx]
    return image


@given(
    rows=st.integers(1, 9),
    cols=st.integers(1, 9),
    out_h=st.integers(8, 40),
    out_w=st.integers(8, 40),
    size=st.integers(2, 12),
    seed=st.integers(0, 1000),
)
@settings(max_examples=40, deadline=None)
def test_renderer_matches_per_pixel_reference(rows, cols, out_h, out_w, size, seed):
    rng = np.random.default_rng(seed)
    sprites = rng.integers(0, 256, (5, size, size, 3), dtype=np.uint8)
    codes = rng.integers(0, 5, (rows, cols))
    renderer = GridRenderer(sprites, (rows, cols), (out_h, out_w))
    assert np.array_equal(renderer.draw(codes), reference_draw(sprites, codes, (out_h, out_w)))


def test_renderer_returns_fresh_arrays():
    sprites = np.stack([solid(4, (0, 0, 0)), solid(4, (255, 255, 255))])
    renderer = GridRenderer(sprites, (2, 2), (8, 8))
    a = renderer.draw(np.zeros((2, 2), int))
    b = renderer.draw(np.ones((2, 2), int))
    assert not np.shares_memory(a, b) and a.max() == 0 and b.min() == 255


def test_glyph_draws_digits_and_grid_lines_cover_boundaries():
    base = solid(20, (255, 255, 255))
    assert (glyph(base, "7", (0, 0, 0)) == 0).any()
    mask = grid_lines((9, 9), (90, 90), every=3, width=2)
    assert mask[:, 30].all() and mask[60, :].all() and not mask[15, 15]


@pytest.mark.parametrize("cls", PUZZLES)
@pytest.mark.parametrize("size", [84, 100])
def test_image_observation_and_rgb_render(cls, size):
    env = cls(
        observation_mode="image", action_mode="discrete", image_size=size, render_mode="rgb_array"
    )
    obs, _ = env.reset(seed=0)
    assert obs.shape == (size, size, 3) and obs.dtype == np.uint8
    assert obs in env.observation_space
    assert np.array_equal(env.render(), obs)
    assert len(np.unique(obs.reshape(-1, 3), axis=0)) > 2  # not a blank frame
    plan = env.solve()
    after = env.step(plan[0])[0]
    assert not np.array_equal(obs, after)  # the picture follows the board


@pytest.mark.parametrize("cls", PUZZLES)
def test_ansi_render_is_the_ascii_board(cls):
    env = cls(render_mode="ansi", observation_mode="text")
    obs, _ = env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and text.strip() in obs


@pytest.mark.parametrize("cls", PUZZLES)
def test_distinct_codes_have_distinct_sprites(cls):
    env = cls()
    sprites = env._sprites(12)
    flat = sprites.reshape(len(sprites), -1)
    assert len(np.unique(flat, axis=0)) == env.num_codes


def test_unknown_render_mode_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match="rgb_array"):
        MazeEnv(render_mode="human")


def test_arc_image_shows_the_task():
    env = ARCEnv(observation_mode="image", image_size=256, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (256, 256, 3) and obs.dtype == np.uint8
    assert np.array_equal(env.render(), obs) and not np.shares_memory(env.render(), obs)


def test_overlay_pixels_take_the_overlay_colour():
    sprites = np.stack([solid(4, (200, 200, 200)), solid(4, (255, 255, 255))])
    mask = grid_lines((4, 4), (40, 40), every=2, width=2)
    renderer = GridRenderer(sprites, (4, 4), (40, 40), overlay=mask, overlay_color=(1, 2, 3))
    image = renderer.draw(np.ones((4, 4), int))
    assert (image[mask] == (1, 2, 3)).all() and (image[~mask] == 255).all()
