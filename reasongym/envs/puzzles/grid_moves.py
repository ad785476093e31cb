"""The four grid directions shared by Maze, SlidingPuzzle and Sokoban."""

from __future__ import annotations

from reasongym.envs.puzzles.parsing import DIRECTIONS, parse_direction

UP, DOWN, LEFT, RIGHT = range(4)


def offsets(width: int) -> tuple[int, int, int, int]:
    """Flat-index offsets of up, down, left, right on a row-major board ``width`` wide."""
    return (-width, width, -1, 1)


def parse_move(text: str) -> list[int] | str:
    """One direction as ``[move]``, or the format-error message."""
    direction = parse_direction(text)
    if direction is None:
        return "write exactly one direction: up, down, left or right (e.g. 'up')."
    return [DIRECTIONS.index(direction)]


def move_text(move: int) -> str:
    return DIRECTIONS[move]
