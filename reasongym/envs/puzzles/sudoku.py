"""Sudoku (4x4 and 9x9) with a unique solution.

## Description
A random complete grid (a base pattern shuffled by digit, row, column, band and stack
permutations) from which cells are emptied in random order while the puzzle keeps exactly one
solution (checked by a bitmask backtracking solver). Difficulty knob: ``empty_cells`` (at most
that many; generation stops early when no further cell can go). ``optimal_steps`` is the
number of cells that differ from the solution (one placement each).

## Observation
Per ``observation_mode``. Grid codes: 0 empty, ``d`` a given digit ``d``, ``n + d`` a digit
``d`` the agent placed; with the cursor layout, ``2n + 1 + code`` for the cell under the cursor
(drawn tinted in images). ASCII: digits, ``.`` for empty, ``|`` and ``-`` between boxes.
``pencil_marks: true`` adds each writable cell's candidates (the digits no other cell of its row,
column or box holds, whatever the cell holds now): ``onehot`` appends ``(n*n*n,)`` bits
(cell-major, digits 1..n) and, with the cursor layout, the ``(n,)`` bits of the cursor's cell;
text observations add a "Pencil marks" line; ``grid``/``image`` cannot show them (rejected).

## Action
``discrete`` (``discrete_actions: placements``, the default): ``Discrete(n*n*(n+1))``:
``(row * n + col) * (n + 1) + d`` writes digit ``d`` in a cell (``d = 0`` clears it).
``discrete_actions: cursor``: ``Discrete(n*n + n + 1)``: action ``c < n*n`` moves the cursor to
cell ``c``; ``n*n + d`` writes ``d`` at the cursor (``0`` clears). The cursor starts on the
first empty cell and, after a digit is written, moves to the next empty cell in reading order
(as Sudoku apps do), so solving is one write per cell when the cells are filled in order.
``text``: ``R C D`` (1-based row and column), ``clear R C``, or a whole filled grid (rows of
digits), which fills every non-given cell at once (text actions ignore ``discrete_actions``).

## Difficulty
``empty_cells`` (1 .. 80), ``max_turns``; ``Config.easiest`` is one empty cell, 2 steps, pencil
marks and the cursor, where SB3's default PPO and DQN reach 1.00 in 20,000 steps (README,
"Baselines"); with placements, with or without marks, neither passed 0.35 there.

## Rewards
``reward:`` (signed, added): ``correct`` (1) when the grid equals the solution;
``illegal_move`` for writing on a given cell (a no-op; moving the cursor is always legal);
``per_step``; optional ``shaping`` on the number of wrong cells.

## Termination
When the grid is solved. A wrong full-grid answer does not end the episode.
Truncated after ``max_turns`` steps; after the end see :class:`reasongym.envs.base.ReasonEnv`.

## Registered ids
``reasongym/Sudoku-v0`` (9x9, multimodal, text), ``reasongym/SudokuDiscrete-v0`` (4x4,
one-hot, discrete).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium import spaces
from pydantic import Field, model_validator

from reasongym.envs.puzzles.base import PuzzleConfig, PuzzleEnv
from reasongym.envs.puzzles.parsing import answer_part, parse_grid, parse_ints
from reasongym.envs.puzzles.render import framed, glyph, grid_lines


class SudokuConfig(PuzzleConfig):
    #: One empty cell, its candidates shown, the cursor on it: SB3 PPO/DQN learn it in 20k
    #: steps (bench/baselines.py); placements (80 actions, one rewarded) are not learned there.
    easiest: ClassVar[dict[str, Any]] = {
        "empty_cells": 1,
        "max_turns": 2,
        "pencil_marks": True,
        "discrete_actions": "cursor",
    }
    size: Literal[4, 9] = Field(9, description="4 (2x2 boxes) or 9 (3x3 boxes)")
    empty_cells: int = Field(
        45, ge=1, le=80, description="cells to empty (at most; uniqueness can stop it earlier)"
    )
    image_size: int = Field(108, ge=16, le=2048, description="side of the rendered image")
    pencil_marks: bool = Field(
        False,
        description="show each writable cell's candidates (the digits no other cell of its "
        "row, column or box holds): onehot appends (n*n*n,) bits (and, with the cursor, the "
        "(n,) bits of the cursor's cell), text adds a line",
    )
    discrete_actions: Literal["placements", "cursor"] = Field(
        "placements",
        description="action_mode discrete: placements = Discrete(n*n*(n+1)), one action per "
        "(cell, digit); cursor = Discrete(n*n+n+1), select a cell or write a digit at the "
        "cursor, which starts on the first empty cell and moves on to the next empty cell "
        "after a digit is written (text actions are always 'R C D' placements)",
    )

    @model_validator(mode="after")
    def _pencil_marks_shown(self) -> SudokuConfig:
        if self.pencil_marks and self.observation_mode in ("grid", "image"):
            raise ValueError(
                f"pencil_marks: observation_mode {self.observation_mode!r} cannot show them; "
                "use onehot (arrays), text or multimodal, or set pencil_marks: false"
            )
        return self


@lru_cache(maxsize=4)
def peers(n: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """``(row_of, col_of, box_of)`` for every cell of an ``n`` x ``n`` Sudoku."""
    b = math.isqrt(n)
    cells = range(n * n)
    return (
        tuple(c // n for c in cells),
        tuple(c % n for c in cells),
        tuple((c // n) // b * b + (c % n) // b for c in cells),
    )


@lru_cache(maxsize=4)
def peer_matrix(n: int) -> np.ndarray:
    """``(n*n, n*n)`` bool: cells ``a`` and ``b`` differ and share a row, column or box."""
    row_of, col_of, box_of = (np.array(x) for x in peers(n))
    same = (
        (row_of[:, None] == row_of[None, :])
        | (col_of[:, None] == col_of[None, :])
        | (box_of[:, None] == box_of[None, :])
    )
    np.fill_diagonal(same, False)
    same.setflags(write=False)
    return same


def candidates(board: list[int], given: np.ndarray, n: int) -> np.ndarray:
    """Pencil marks: ``(n*n, n)`` bool, ``[cell, d - 1]`` when ``cell`` is writable (not
    given) and no other cell of its row, column or box holds ``d`` (whatever ``cell`` holds)."""
    values = np.asarray(board, np.int64)
    holds = values[:, None] == np.arange(1, n + 1)[None, :]  # (n*n, n)
    used = (peer_matrix(n).astype(np.int64) @ holds.astype(np.int64)) > 0  # (n*n, n)
    return ~used & ~np.asarray(given, bool)[:, None]


def count_solutions(grid: list[int], n: int, limit: int = 2) -> int:
    """Number of solutions of ``grid`` (0 = empty), counting no further than ``limit``."""
    row_of, col_of, box_of = peers(n)
    full = (1 << (n + 1)) - 2  # bits 1..n
    rows, cols, boxes = [0] * n, [0] * n, [0] * n
    empty = []
    for cell, d in enumerate(grid):
        if d:
            bit = 1 << d
            r, c, b = row_of[cell], col_of[cell], box_of[cell]
            if (rows[r] | cols[c] | boxes[b]) & bit:
                return 0  # the givens already clash
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
        else:
            empty.append(cell)

    def search(todo: list[int]) -> int:
        if not todo:
            return 1
        # Most constrained cell first.
        best, best_options, best_count = 0, 0, n + 1
        for i, cell in enumerate(todo):
            options = full & ~(rows[row_of[cell]] | cols[col_of[cell]] | boxes[box_of[cell]])
            count = options.bit_count()
            if count < best_count:
                best, best_options, best_count = i, options, count
                if count <= 1:
                    break
        if best_count == 0:
            return 0
        cell = todo[best]
        rest = todo[:best] + todo[best + 1 :]
        r, c, b = row_of[cell], col_of[cell], box_of[cell]
        found = 0
        while best_options and found < limit:
            bit = best_options & -best_options
            best_options ^= bit
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            found += search(rest)
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
        return found

    return min(search(empty), limit)


class SudokuEnv(PuzzleEnv):
    """Fill the grid so every row, column and box holds each digit once (see the module
    docstring)."""

    Config = SudokuConfig
    config: SudokuConfig
    title = "sudoku"

    def _setup(self) -> None:
        n = self.config.size
        self.grid_shape = (n, n)
        self._cursor_mode = (
            self.config.discrete_actions == "cursor" and self.config.action_mode == "discrete"
        )
        self._cell_codes = 2 * n + 1  # empty, given 1..n, placed 1..n
        # cursor: every cell code also comes "under the cursor" (code + 2n+1)
        self.num_codes = self._cell_codes * (2 if self._cursor_mode else 1)
        self.num_actions = n * n + n + 1 if self._cursor_mode else n * n * (n + 1)
        self._box = math.isqrt(n)
        self._board = [0] * (n * n)
        self._solution = [0] * (n * n)
        self._given = np.zeros(n * n, bool)
        self._cursor = 0

    # -- the cursor layout --------------------------------------------------------------------
    def _first_empty(self, after: int = -1) -> int | None:
        """The first empty writable cell in reading order after ``after`` (wrapping)."""
        cells = len(self._board)
        for k in range(1, cells + 1):
            cell = (after + k) % cells
            if self._board[cell] == 0 and not self._given[cell]:
                return cell
        return None

    def _placement(self, move: int) -> tuple[int | None, int]:
        """``(cell, digit)`` that ``move`` writes (``digit`` 0 clears); cursor layout: a
        selection is ``(None, cell)``."""
        n = self.config.size
        if not self._cursor_mode:
            return divmod(move, n + 1)
        if move < n * n:
            return None, move
        return self._cursor, move - n * n

    # -- generation -------------------------------------------------------------------------
    def _generate(self) -> int:
        n, b, rng = self.config.size, self._box, self.np_random

        def order() -> list[int]:  # shuffle bands (stacks) and rows (columns) within them
            return [band * b + i for band in rng.permutation(b) for i in rng.permutation(b)]

        rows, cols, digits = order(), order(), rng.permutation(n) + 1
        solution = [
            int(digits[(b * (r % b) + r // b + c) % n]) for r in rows for c in cols
        ]  # a valid grid: the base pattern with rows, columns and digits permuted
        puzzle = list(solution)
        removed = 0
        for cell in rng.permutation(n * n).tolist():
            if removed == self.config.empty_cells:
                break
            puzzle[cell] = 0
            if count_solutions(puzzle, n) == 1:
                removed += 1
            else:
                puzzle[cell] = solution[cell]
        self._solution = solution
        self._board = puzzle
        self._given = np.array([d != 0 for d in puzzle])
        self._cursor = self._first_empty() or 0
        return removed

    # -- board ------------------------------------------------------------------------------
    def _move(self, move: int) -> bool:
        cell, digit = self._placement(move)
        if cell is None:  # cursor layout: select a cell
            self._cursor = digit
            return True
        if self._given[cell]:
            return False
        self._board[cell] = digit
        if self._cursor_mode and digit:
            nxt = self._first_empty(after=cell)
            self._cursor = cell if nxt is None else nxt
        return True

    def _is_legal(self, move: int) -> bool:
        cell, _ = self._placement(move)
        return cell is None or not self._given[cell]

    def _solved(self) -> bool:
        return self._board == self._solution

    def _distance(self) -> float:
        return float(sum(a != b for a, b in zip(self._board, self._solution, strict=True)))

    def _solve_moves(self) -> list[int]:
        n = self.config.size
        wrong = [
            (cell, want)
            for cell, (have, want) in enumerate(zip(self._board, self._solution, strict=True))
            if have != want
        ]
        if not self._cursor_mode:
            return [cell * (n + 1) + want for cell, want in wrong]
        # follow the cursor: write where it is when that cell is wrong, else select the next
        saved = (list(self._board), self._cursor)
        moves: list[int] = []
        try:
            todo = dict(wrong)
            while todo:
                cell = self._cursor if self._cursor in todo else min(todo)
                if cell != self._cursor:
                    moves.append(cell)
                    self._move(cell)
                moves.append(n * n + todo.pop(cell))
                self._move(moves[-1])
        finally:
            self._board, self._cursor = saved
        return moves

    def _codes(self) -> np.ndarray:
        codes = np.array(self._board, np.int64)
        codes[~self._given & (codes > 0)] += self.config.size
        if self._cursor_mode:
            codes[self._cursor] += self._cell_codes
        return codes.reshape(self.grid_shape)

    def _board_state(self) -> dict[str, Any]:
        return {
            "board": list(self._board),
            "solution": list(self._solution),
            "given": self._given.tolist(),
            "cursor": self._cursor,
        }

    def _load_codes(self, codes: np.ndarray) -> None:
        n = self.config.size
        flat = codes.ravel().astype(np.int64)
        under = np.flatnonzero(flat >= self._cell_codes)
        flat = flat % self._cell_codes
        self._given = (flat >= 1) & (flat <= n)  # codes 1..n are givens, n+1..2n entries
        self._board = [int(c - n) if c > n else int(c) for c in flat.tolist()]
        if self._cursor_mode:
            self._cursor = int(under[0]) if under.size else (self._first_empty() or 0)

    def _load_board(self, board: dict[str, Any]) -> None:
        self._board = [int(d) for d in board["board"]]
        self._solution = [int(d) for d in board["solution"]]
        self._given = np.array(board["given"], bool)
        cursor = board.get("cursor")  # instance files carry none: the first empty cell
        if cursor is None or not 0 <= int(cursor) < len(self._board):
            cursor = self._first_empty() or 0
        self._cursor = int(cursor)

    # -- pencil marks ----------------------------------------------------------------------
    def _marks(self) -> np.ndarray:
        """The board's pencil marks, ``(n*n, n)`` bool (see :func:`candidates`)."""
        return candidates(self._board, self._given, self.config.size)

    def _observation_space(self) -> spaces.Space:
        space = super()._observation_space()
        if self.config.pencil_marks and self.config.observation_mode == "onehot":
            n = self.config.size
            marks = n * n * n + (n if self._cursor_mode else 0)
            return spaces.Box(0.0, 1.0, (n * n * self.num_codes + marks,), np.float32)
        return space

    def _observation(self, first: bool = False) -> Any:
        obs = super()._observation(first)
        if self.config.pencil_marks and self._obs_mode == "onehot":
            # (n*n*K,) one-hot codes, (n*n*n,) marks (cell-major, digit 1..n)[, (n,) cursor's]
            marks = self._marks()
            parts = [obs, marks.ravel().astype(np.float32)]
            if self._cursor_mode:
                parts.append(marks[self._cursor].astype(np.float32))
            return np.concatenate(parts)
        return obs

    def _marks_text(self) -> str:
        n, marks = self.config.size, self._marks()
        cells = [
            f"{cell // n + 1} {cell % n + 1}: " + "".join(str(d + 1) for d in np.flatnonzero(row))
            for cell, row in enumerate(marks)
            if not self._given[cell]
        ]
        return "Pencil marks (row col: digits no other cell of its row, column or box holds): " + (
            "; ".join(c if not c.endswith(": ") else c + "none" for c in cells)
        )

    # -- text and pictures ------------------------------------------------------------------
    def _grid_text(self, values: list[int]) -> str:
        n, b = self.config.size, self._box
        rows = []
        for r in range(n):
            row = values[r * n : (r + 1) * n]
            rows.append(
                " | ".join(
                    " ".join(str(d) if d else "." for d in row[i : i + b]) for i in range(0, n, b)
                )
            )
        separator = "".join("+" if ch == "|" else "-" for ch in rows[0])
        lines = []
        for r, row in enumerate(rows):
            if r and r % b == 0:
                lines.append(separator)
            lines.append(row)
        return "\n".join(lines)

    def _rules(self) -> str:
        n, b = self.config.size, self._box
        start = [d if g else 0 for d, g in zip(self._board, self._given.tolist(), strict=True)]
        return (
            f"Sudoku ({n}x{n}, {b}x{b} boxes). Fill the empty cells '.' so that every row, "
            f"column and box contains each digit 1..{n} exactly once. The digits of the "
            f"starting grid are fixed:\n{self._grid_text(start)}\n"
            f"Answer 'R C D' to write digit D in row R, column C (all 1..{n}, counted from the "
            "top left), 'clear R C' to empty a cell, or the whole filled grid (one row per "
            "line) to fill every cell at once."
        )

    def _ascii(self) -> str:
        return self._grid_text(self._board)

    def _legal_text(self) -> str:
        n = self.config.size
        free = sum(1 for g in self._given.tolist() if not g)
        text = (
            f"Legal moves: 'R C D' (D in 1..{n}) or 'clear R C' on any of the {free} "
            "non-fixed cells, or a whole grid."
        )
        if self._cursor_mode:
            r, c = divmod(self._cursor, n)
            text += f"\nThe cursor is on row {r + 1}, column {c + 1}."
        if self.config.pencil_marks:
            text += "\n" + self._marks_text()
        return text

    def _parse(self, text: str) -> list[int] | str:
        n = self.config.size
        numbers = parse_ints(text)
        body = answer_part(text).lower()
        if len(numbers) == 3 and all(1 <= x <= n for x in numbers[:2]) and 0 <= numbers[2] <= n:
            r, c, d = numbers
            return [((r - 1) * n + c - 1) * (n + 1) + d]
        if len(numbers) == 2 and re.search(r"clear|erase|empty|remove", body):
            r, c = numbers
            if 1 <= r <= n and 1 <= c <= n:
                return [((r - 1) * n + c - 1) * (n + 1)]
        grid = parse_grid(text, empty="._")
        if grid is not None and len(grid) == n and all(len(row) == n for row in grid):
            moves = []
            for cell, d in enumerate(d for row in grid for d in row):
                if not 0 <= d <= n:
                    return f"digit {d} is out of range 1..{n}."
                if self._given[cell]:
                    if d and d != self._board[cell]:
                        r, c = divmod(cell, n)
                        return (
                            f"row {r + 1}, column {c + 1} is fixed to {self._board[cell]}, not {d}."
                        )
                elif d != self._board[cell]:
                    moves.append(cell * (n + 1) + d)
            return moves
        return (
            f"write 'R C D' (row, column, digit; all 1..{n}), 'clear R C', or the whole grid "
            f"as {n} lines of {n} digits ('.' for empty)."
        )

    def _move_text(self, move: int) -> str:
        n = self.config.size
        cell, d = self._placement(move)
        if cell is None:
            return f"select {d // n + 1} {d % n + 1}"
        r, c = divmod(cell, n)
        return f"clear {r + 1} {c + 1}" if d == 0 else f"{r + 1} {c + 1} {d}"

    def _describe(self, moves: tuple[int, ...], legal: bool, solved: bool) -> str:
        if len(moves) == 1:
            return super()._describe(moves, legal, solved)
        said = f"a grid that changes {len(moves)} cells"
        if solved:
            return f"You wrote {said}. Solved!"
        return f"You wrote {said}. The grid is not solved yet."

    def _sprites(self, size: int) -> np.ndarray:
        n = self.config.size
        empty = framed(size, (250, 250, 250), (170, 170, 170), 1)
        given = framed(size, (225, 225, 230), (170, 170, 170), 1)
        digits = [glyph(given, str(d), (20, 20, 20), 0.7) for d in range(1, n + 1)]
        placed = [glyph(empty, str(d), (30, 80, 200), 0.7) for d in range(1, n + 1)]
        sprites = np.stack([empty, *digits, *placed])
        if self._cursor_mode:  # the cell under the cursor, tinted yellow
            tint = np.array([255, 235, 120], np.float32)
            under = (0.6 * sprites + 0.4 * tint).astype(np.uint8)
            sprites = np.concatenate([sprites, under])
        return sprites

    def _overlay(self, image_shape: tuple[int, int]) -> np.ndarray:
        width = max(2, image_shape[0] // 60)
        return grid_lines(self.grid_shape, image_shape, self._box, width)
