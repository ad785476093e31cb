"""Lenient parsing of puzzle moves written by people and language models.

Agents wrap their move in all sorts of ways (``<answer>up</answer>``, ``\\boxed{up}``,
``Move: **Up**.``, a fenced grid). These helpers strip the wrapping and find the move; the
puzzle decides what the words mean and writes the format-error message.
"""

from __future__ import annotations

import json
import re

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}", re.DOTALL)
_FENCE = re.compile(r"```[a-zA-Z]*\n?(.*?)```", re.DOTALL)
_WORD = re.compile(r"[a-z]+|\d+|[\u2190-\u2193]")

ARROWS = {"\u2191": "up", "\u2193": "down", "\u2190": "left", "\u2192": "right"}
DIRECTION_WORDS = {
    "up": "up",
    "u": "up",
    "north": "up",
    "down": "down",
    "d": "down",
    "south": "down",
    "left": "left",
    "l": "left",
    "west": "left",
    "right": "right",
    "r": "right",
    "east": "right",
}
DIRECTIONS = ("up", "down", "left", "right")


def extract_answer(text: str) -> str:
    """The part of ``text`` that holds the move: the last ``<answer>``, ``\\boxed{}`` or fenced
    block if there is one, else the whole text (stripped)."""
    for pattern in (_ANSWER, _BOXED, _FENCE):
        found = pattern.findall(text)
        if found:
            return found[-1].strip()
    return text.strip()


def words(text: str) -> list[str]:
    """Lower-case words, numbers and arrow characters of ``text``, in order."""
    return _WORD.findall(text.lower())


def parse_direction(text: str) -> str | None:
    """The one direction (``up``/``down``/``left``/``right``) that ``text`` names, else None.

    ``"up"``, ``"Move UP."``, ``"<answer>north</answer>"`` and ``"↑"`` all give ``"up"``; text
    naming two different directions is ambiguous and gives None.
    """
    found = {DIRECTION_WORDS.get(ARROWS.get(w, w)) for w in words(extract_answer(text))}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def parse_ints(text: str) -> list[int]:
    """Every integer in ``text`` (after answer extraction), in order."""
    return [int(x) for x in re.findall(r"-?\d+", extract_answer(text))]


def parse_grid(text: str, empty: str = "") -> list[list[int]] | None:
    """A grid of small integers written as rows of digits, or None if there is none.

    Accepted forms: JSON (``[[1, 2], [3, 4]]``), one row per line with the digits separated by
    spaces, commas or ``|`` (``1 2 | 3 4``), or packed (``1234``). Characters in ``empty``
    (e.g. ``"._"`` for Sudoku) stand for 0. Lines without any cell are skipped (borders,
    prose), so a grid copied from the puzzle's own ASCII rendering parses too.
    """
    body = extract_answer(text)
    start = body.find("[[")
    if start >= 0:
        end = body.rfind("]]")
        try:
            grid = json.loads(body[start : end + 2])
        except (ValueError, TypeError):
            grid = None
        if (
            isinstance(grid, list)
            and grid
            and all(isinstance(row, list) and row for row in grid)
            and all(isinstance(x, int) and not isinstance(x, bool) for row in grid for x in row)
        ):
            return grid
    cell = "[0-9" + re.escape(empty) + "]" if empty else "[0-9]"
    rows = []
    for line in body.splitlines():
        line = line.strip().strip("|").strip()
        if not line or re.search(r"[a-zA-Z]", line):
            continue  # prose or a label
        if re.fullmatch(cell + "+", line):
            tokens = list(line)
        else:
            tokens = re.findall(r"\d+|" + cell, line)
            if not tokens or re.sub(r"[\s,;|+\-\[\]]|" + cell, "", line):
                continue
        rows.append([0 if t in empty else int(t) for t in tokens])
    return rows or None
