"""Text actions are parsed leniently; anything else is a clear, penalised format error."""

from __future__ import annotations

import pytest

from reasongym.envs.puzzles.lights_out import LightsOutEnv
from reasongym.envs.puzzles.maze import MazeEnv
from reasongym.envs.puzzles.parsing import answer_part, parse_direction, parse_grid
from reasongym.envs.puzzles.sudoku import SudokuEnv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("up", "up"),
        ("Move UP.", "up"),
        ("<answer>north</answer>", "up"),
        ("I think left is wrong. <answer>down</answer>", "down"),
        ("\\boxed{right}", "right"),
        ("\u2190", "left"),
        ("go up or down", None),
        ("jump", None),
        ("", None),
    ],
)
def test_parse_direction(text, expected):
    assert parse_direction(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1 2 3\n4 5 6",
        "123\n456",
        "[[1, 2, 3], [4, 5, 6]]",
        "<answer>\n1,2,3\n4,5,6\n</answer>",
        "Here is my grid:\n```\n1 2 3\n4 5 6\n```",
        "| 1 2 3 |\n| 4 5 6 |",
    ],
)
def test_parse_grid_forms(text):
    assert parse_grid(text) == [[1, 2, 3], [4, 5, 6]]


def test_parse_grid_empty_cells_and_separators():
    text = "1 . | 3 4\n3 4 | . 2\n----+----\n2 1 | 4 3\n4 3 | 2 1"
    assert parse_grid(text, empty=".") == [[1, 0, 3, 4], [3, 4, 0, 2], [2, 1, 4, 3], [4, 3, 2, 1]]
    assert parse_grid("no grid here") is None


def test_answer_part_takes_the_first_construct():
    assert answer_part("<answer>a</answer> then <answer>b</answer>") == "a"


def test_format_error_is_a_penalised_no_op_with_a_helpful_message():
    env = MazeEnv(size=7, observation_mode="multimodal", reward={"format_error": -0.1})
    obs, _ = env.reset(seed=0)
    state = env.get_state()["data"]["board"]
    obs, reward, terminated, truncated, info = env.step("go up or down")
    assert reward == pytest.approx(-0.1) and not terminated and not truncated
    assert "up, down, left or right" in info["format_error"]
    assert obs["text"].startswith("Format error:")
    assert env.get_state()["data"]["board"] == state


@pytest.mark.parametrize(
    "text", ["toggle 2 4", "press (2, 4)", "<answer>2,4</answer>", "row 2 col 4"]
)
def test_lights_out_coordinates(text):
    env = LightsOutEnv(size=5, observation_mode="text")
    env.reset(seed=0)
    before = env._lights.reshape(5, 5).copy()
    env.step(text)
    changed = {tuple(x) for x in zip(*(env._lights.reshape(5, 5) != before).nonzero(), strict=True)}
    assert changed == {(1, 3), (0, 3), (2, 3), (1, 2), (1, 4)}


def test_lights_out_rejects_out_of_range():
    env = LightsOutEnv(size=5, observation_mode="text")
    env.reset(seed=0)
    assert "format_error" in env.step("toggle 6 1")[4]


def test_sudoku_text_moves():
    env = SudokuEnv(size=4, empty_cells=6, observation_mode="text")
    env.reset(seed=0)
    cell = env._given.tolist().index(False)
    r, c = divmod(cell, 4)
    env.step(f"{r + 1} {c + 1} 3")
    assert env._board[cell] == 3
    env.step(f"clear {r + 1} {c + 1}")
    assert env._board[cell] == 0


def test_sudoku_whole_grid_answer_solves():
    env = SudokuEnv(size=9, empty_cells=40, observation_mode="text")
    env.reset(seed=1)
    grid = env._grid_text(env._solution)  # the env's own ASCII layout parses back
    obs, reward, terminated, _, info = env.step(f"<answer>\n{grid}\n</answer>")
    assert terminated and info["is_success"] and reward == pytest.approx(1.0)


def test_sudoku_grid_contradicting_a_given_is_a_format_error():
    env = SudokuEnv(size=4, empty_cells=4, observation_mode="text")
    env.reset(seed=0)
    cell = env._given.tolist().index(True)
    wrong = list(env._solution)
    wrong[cell] = wrong[cell] % 4 + 1
    text = "\n".join(" ".join(map(str, wrong[r * 4 : r * 4 + 4])) for r in range(4))
    info = env.step(text)[4]
    assert "is fixed to" in info["format_error"]
