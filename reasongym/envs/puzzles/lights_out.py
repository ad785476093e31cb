"""LightsOut: press cells to switch every light off; a press toggles the cell and its 4 neighbours.

## Description
An ``n`` x ``n`` board of lights. Instances are made by pressing ``presses`` distinct random
cells on a dark board, so they are always solvable. The solver is linear algebra over GF(2):
it finds the minimum number of presses (over the whole solution space, so ``optimal_steps``
is exact and can be below ``presses``). Difficulty knobs: ``size``, ``presses``.

## Observation
Per ``observation_mode``. Grid codes: 0 off, 1 on. ASCII: ``O`` on, ``.`` off, with row and
column numbers.

## Action
``discrete``: ``Discrete(n*n)``: press cell ``row * n + col``. ``text``: ``toggle R C`` (1-based
row and column; ``press 2 4``, ``(2, 4)`` work too).

## Rewards
``reward:`` (signed, added): ``correct`` (1) when every light is off; ``per_step``; optional
``shaping`` on the minimum number of presses left. Every press changes the board, so no move
is illegal.

## Termination
When every light is off. Truncated after ``max_turns`` steps; after the end see :class:`reasongym.envs.base.ReasonEnv`.

## Registered ids
``reasongym/LightsOut-v0`` (5x5, multimodal, text), ``reasongym/LightsOutDiscrete-v0`` (5x5,
one-hot, discrete).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from reasongym.envs.puzzles.base import PuzzleConfig, PuzzleEnv
from reasongym.envs.puzzles.parsing import parse_ints
from reasongym.envs.puzzles.render import framed


class LightsOutConfig(PuzzleConfig):
    # one press away, and a short step limit: with 50 turns a random press walks away from the
    # solution and default PPO never sees a win (bench/baselines.py)
    easiest: ClassVar[dict[str, Any]] = {"presses": 1, "max_turns": 4}
    size: int = Field(5, ge=2, le=10, description="board side")
    presses: int = Field(6, ge=1, description="random distinct presses that make the instance")

    @model_validator(mode="after")
    def _fits(self) -> LightsOutConfig:
        if self.presses > self.size * self.size:
            raise ValueError(f"presses={self.presses} exceeds the {self.size * self.size} cells")
        return self


def press_masks(n: int) -> list[int]:
    """``masks[cell]``: the lights (bits of a row-major int) one press of ``cell`` toggles."""
    masks = []
    for cell in range(n * n):
        r, c = divmod(cell, n)
        mask = 1 << cell
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < n and 0 <= cc < n:
                mask |= 1 << (rr * n + cc)
        masks.append(mask)
    return masks


@lru_cache(maxsize=16)
def _elimination(n: int) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Gauss-Jordan over GF(2) of the press matrix, done once per board size.

    Returns ``(pivots, checks, nullspace)``: ``pivots`` pairs ``(column, row_op)`` so that a
    particular solution presses ``column`` iff ``parity(row_op & lights)``; ``checks`` are row
    ops that must have even parity for a solvable board; ``nullspace`` spans the press sets
    that change nothing.
    """
    cells = n * n
    rows = press_masks(n)  # the matrix is symmetric: row i = lights toggled by press i
    ops = [1 << i for i in range(cells)]
    pivot_cols, r = [], 0
    for col in range(cells):
        found = next((i for i in range(r, cells) if rows[i] >> col & 1), None)
        if found is None:
            continue
        rows[r], rows[found] = rows[found], rows[r]
        ops[r], ops[found] = ops[found], ops[r]
        for i in range(cells):
            if i != r and rows[i] >> col & 1:
                rows[i] ^= rows[r]
                ops[i] ^= ops[r]
        pivot_cols.append(col)
        r += 1
    pivots = [(col, ops[k]) for k, col in enumerate(pivot_cols)]
    checks = ops[r:]
    free = [c for c in range(cells) if c not in set(pivot_cols)]
    nullspace = []
    for f in free:
        vec = 1 << f
        for k, col in enumerate(pivot_cols):
            if rows[k] >> f & 1:
                vec |= 1 << col
        nullspace.append(vec)
    return pivots, checks, nullspace


def min_presses(lights: int, n: int) -> int | None:
    """The smallest press set (bits of an int) that turns ``lights`` off, or None if none."""
    pivots, checks, nullspace = _elimination(n)
    if any((op & lights).bit_count() & 1 for op in checks):
        return None
    x = 0
    for col, op in pivots:
        if (op & lights).bit_count() & 1:
            x |= 1 << col
    best = x
    for combo in range(1, 1 << len(nullspace)):
        y = x
        for i, vec in enumerate(nullspace):
            if combo >> i & 1:
                y ^= vec
        if y.bit_count() < best.bit_count():
            best = y
    return best


class LightsOutEnv(PuzzleEnv):
    """Switch all the lights off (see the module docstring)."""

    Config = LightsOutConfig
    config: LightsOutConfig
    title = "lights out"

    def _setup(self) -> None:
        n = self.config.size
        self.grid_shape = (n, n)
        self.num_codes = 2
        self.num_actions = n * n
        self._masks = press_masks(n)
        self._mask_arrays = np.array(
            [[m >> i & 1 for i in range(n * n)] for m in self._masks], np.int64
        )  # (n*n, n*n)
        self._lights = np.zeros(n * n, np.int64)

    def _as_int(self) -> int:
        return int(sum(1 << i for i in np.flatnonzero(self._lights).tolist()))

    # -- board ------------------------------------------------------------------------------
    def _generate(self) -> int:
        n = self.config.size
        while True:
            cells = self.np_random.choice(n * n, size=self.config.presses, replace=False)
            self._lights = np.bitwise_xor.reduce(self._mask_arrays[cells], axis=0)
            if self._lights.any():
                break
        return self._distance()

    def _move(self, move: int) -> bool:
        self._lights ^= self._mask_arrays[move]
        return True

    def _is_legal(self, move: int) -> bool:
        return True

    def _solved(self) -> bool:
        return not self._lights.any()

    def _distance(self) -> int:
        presses = min_presses(self._as_int(), self.config.size)
        return presses.bit_count() if presses is not None else self.num_actions

    def _solve_moves(self) -> list[int] | None:
        presses = min_presses(self._as_int(), self.config.size)
        if presses is None:
            return None
        return [cell for cell in range(self.num_actions) if presses >> cell & 1]

    def _codes(self) -> np.ndarray:
        return self._lights.reshape(self.grid_shape).copy()

    def _board_state(self) -> dict[str, Any]:
        return {"lights": self._lights.tolist()}

    def _load_codes(self, codes: np.ndarray) -> None:
        self._lights = (codes.ravel() != 0).astype(np.int64)

    def _load_board(self, board: dict[str, Any]) -> None:
        self._lights = np.array(board["lights"], np.int64)

    # -- text and pictures ------------------------------------------------------------------
    def _rules(self) -> str:
        n = self.config.size
        return (
            f"Lights Out ({n}x{n}). 'O' is a light that is on, '.' one that is off. Pressing a "
            "cell toggles it and its up, down, left and right neighbours. Switch every light "
            f"off. Answer with one press as 'toggle R C' (row R, column C, both 1..{n})."
        )

    def _ascii(self) -> str:
        n = self.config.size
        rows = self._lights.reshape(n, n).tolist()
        header = "    " + " ".join(f"{c + 1:>2}" for c in range(n))
        lines = [
            f"{r + 1:>2}  " + " ".join(" O" if x else " ." for x in row)
            for r, row in enumerate(rows)
        ]
        return "\n".join([header, *lines])

    def _legal_text(self) -> str:
        n = self.config.size
        return f"Legal moves: toggle R C for any row R and column C in 1..{n}"

    def _parse(self, text: str) -> list[int] | str:
        n = self.config.size
        numbers = parse_ints(text)
        if len(numbers) != 2 or not all(1 <= x <= n for x in numbers):
            return f"write one press as 'toggle R C' with row R and column C in 1..{n} (e.g. 'toggle 2 3')."
        return [(numbers[0] - 1) * n + numbers[1] - 1]

    def _move_text(self, move: int) -> str:
        r, c = divmod(move, self.config.size)
        return f"toggle {r + 1} {c + 1}"

    def _sprites(self, size: int) -> np.ndarray:
        width = max(1, size // 8)
        return np.stack(
            [
                framed(size, (50, 50, 70), (25, 25, 35), width),
                framed(size, (250, 220, 80), (25, 25, 35), width),
            ]
        )
