"""Move words and grids in the text actions of puzzles and ARC.

Which part of an action holds the move is decided by the one action grammar
(:mod:`reasongym.envs.actions`, first construct wins): :func:`answer_part` is the content of
the first ``<answer>``/``\\boxed{}``/``submit_answer`` construct (or a tool call's input), else
the first fenced block, else the whole text, so ``Move: **Up**.`` still reads as ``up``. The
helpers below read direction words, integers and grids out of that part; the puzzle decides
what they mean and writes the format-error message.

Every helper is linear in the text and bounded: integers beyond ``10**18`` read as ``±10**18``
(outside every puzzle's range), grids larger than :data:`MAX_GRID_SIDE` are not grids.
"""

from __future__ import annotations

import re

from reasongym.envs.actions import Answer, ToolCall, decode_json, parse_action

MAX_GRID_SIDE = 64
_INT_CAP = 10**18

_FENCE = re.compile(r"```[a-zA-Z]*\n?(.*?)```", re.DOTALL)
_WORD = re.compile(r"[a-z]+|\d+|[\u2190-\u2193]")
_INT = re.compile(r"-?\d+")

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


def answer_part(text: str) -> str:
    """The part of a text action that holds the move or grid (see the module docstring)."""
    if not isinstance(text, str):
        text = str(text)
    parsed = parse_action(text)
    if isinstance(parsed, Answer):
        return parsed.text
    if isinstance(parsed, ToolCall):
        return parsed.argument
    fence = _FENCE.search(text)
    if fence is not None:
        return fence.group(1).strip()
    return text.strip()


def words(text: str) -> list[str]:
    """Lower-case words, numbers and arrow characters of ``text``, in order."""
    return _WORD.findall(text.lower())


def parse_direction(text: str) -> str | None:
    """The one direction (``up``/``down``/``left``/``right``) that ``text`` names, else None.

    ``"up"``, ``"Move UP."``, ``"<answer>north</answer>"`` and ``"↑"`` all give ``"up"``; text
    naming two different directions is ambiguous and gives None.
    """
    found = {DIRECTION_WORDS.get(ARROWS.get(w, w)) for w in words(answer_part(text))}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def to_int(digits: str) -> int:
    """``int(digits)`` clamped to ``±10**18`` without converting huge digit strings."""
    negative = digits.startswith("-")
    body = digits.lstrip("-").lstrip("0") or "0"
    if len(body) > 18:
        return -_INT_CAP if negative else _INT_CAP
    value = int(body)
    return -value if negative else value


def parse_ints(text: str) -> list[int]:
    """Every integer in the answer part of ``text``, in order (clamped to ``±10**18``)."""
    return [to_int(x) for x in _INT.findall(answer_part(text))]


def parse_grid(text: str, empty: str = "") -> list[list[int]] | None:
    """A grid of small integers written as rows of digits, or None if there is none.

    Accepted forms (in the answer part): JSON (``[[1, 2], [3, 4]]``), one row per line with
    the digits separated by spaces, commas or ``|`` (``1 2 | 3 4``), or packed (``1234``).
    Characters in ``empty`` (e.g. ``"._"`` for Sudoku) stand for 0. Lines without any cell are
    skipped (borders, prose), so a grid copied from the puzzle's own ASCII rendering parses
    too. Grids with more than :data:`MAX_GRID_SIDE` rows or columns are not grids.
    """
    body = answer_part(text)
    start = body.find("[[")
    if start >= 0:
        grid = _json_grid(body, start)
        if grid is not None:
            return grid
    cell = "[0-9" + re.escape(empty) + "]" if empty else "[0-9]"
    packed = re.compile(cell + "+")
    token = re.compile(r"\d+|" + cell)
    junk = re.compile(r"[\s,;|+\-\[\]]|" + cell)
    rows = []
    for line in body.splitlines():
        line = line.strip().strip("|").strip()
        if not line or re.search(r"[a-zA-Z]", line):
            continue  # prose or a label
        if len(line) > 8 * MAX_GRID_SIDE:
            return None
        if packed.fullmatch(line):
            tokens = list(line)
        else:
            tokens = token.findall(line)
            if not tokens or junk.sub("", line):
                continue
        if len(tokens) > MAX_GRID_SIDE or len(rows) >= MAX_GRID_SIDE:
            return None
        rows.append([0 if t in empty else to_int(t) for t in tokens])
    return rows or None


def _json_grid(body: str, start: int) -> list[list[int]] | None:
    try:
        grid, _ = decode_json(body, start)
    except ValueError:
        return None
    if (
        isinstance(grid, list)
        and 0 < len(grid) <= MAX_GRID_SIDE
        and all(isinstance(row, list) and 0 < len(row) <= MAX_GRID_SIDE for row in grid)
        and all(type(x) is int for row in grid for x in row)
    ):
        return grid
    return None
