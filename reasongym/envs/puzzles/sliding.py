"""SlidingPuzzle: the 8- and 15-puzzle, scrambled by a random walk from the solved board.

## Description
Tiles ``1 .. n*n-1`` and one gap on an ``n`` x ``n`` board; slide tiles into the gap until
they read in order with the gap last. Instances are random walks of ``scramble`` moves (no
immediate undo) from the solved board, so they are always solvable; ``scramble`` is the
difficulty knob. The solver is A* with the Manhattan heuristic (optimal); past a node budget
(deep 4x4 scrambles) it falls back to weighted A*, and ``optimal_steps`` is then best-known.

## Observation
Per ``observation_mode``. Grid codes: the tile number, 0 for the gap. ASCII: numbers, ``_``
for the gap.

## Action
``discrete``: ``Discrete(4)``: the direction a tile slides into the gap: 0 up (the tile below
the gap), 1 down, 2 left, 3 right. ``text``: a direction, or ``move N`` to slide tile ``N``.

## Rewards
``reward:`` (signed, added): ``correct`` (1) when solved; ``illegal_move`` for a move with no
tile to slide (a no-op); ``per_step``; optional ``shaping`` on the Manhattan distance.

## Termination
When solved. Truncated after ``max_turns`` steps; after the end see :class:`reasongym.envs.base.ReasonEnv`.

## Registered ids
``reasongym/SlidingPuzzle-v0`` (3x3, multimodal, text), ``reasongym/SlidingPuzzleDiscrete-v0``
(3x3, one-hot, discrete).
"""

from __future__ import annotations

import heapq
import re
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from reasongym.envs.puzzles import grid_moves
from reasongym.envs.puzzles.base import PuzzleConfig, PuzzleEnv
from reasongym.envs.puzzles.parsing import answer_part, to_int
from reasongym.envs.puzzles.render import framed, glyph, solid

ILLEGAL = 4  # internal move for "move N" with tile N not next to the gap


class SlidingPuzzleConfig(PuzzleConfig):
    easiest: ClassVar[dict[str, Any]] = {"scramble": 1}
    size: int = Field(3, ge=2, le=5, description="board side: 3 = 8-puzzle, 4 = 15-puzzle")
    scramble: int = Field(20, ge=1, le=500, description="random moves away from solved")
    solver_budget: int = Field(
        50_000, ge=1000, description="A* expansions before falling back to weighted A*"
    )


def gap_moves(n: int) -> list[list[int]]:
    """``table[gap][move]``: the gap's new position after ``move`` (-1 if illegal)."""
    table = []
    for gap in range(n * n):
        r, c = divmod(gap, n)
        table.append(
            [
                gap + n if r < n - 1 else -1,  # up: the tile below slides up
                gap - n if r > 0 else -1,  # down
                gap + 1 if c < n - 1 else -1,  # left: the tile on the right slides left
                gap - 1 if c > 0 else -1,  # right
                -1,  # ILLEGAL
            ]
        )
    return table


def manhattan_table(n: int) -> list[list[int]]:
    """``table[tile][pos]``: Manhattan distance of ``tile`` at ``pos`` from its home (gap: 0)."""
    table = [[0] * (n * n)]
    for tile in range(1, n * n):
        home = divmod(tile - 1, n)
        table.append([abs(p // n - home[0]) + abs(p % n - home[1]) for p in range(n * n)])
    return table


#: The last restart weight; that search runs without a budget, so the solver always ends.
_MAX_WEIGHT = 64.0


def solve_sliding(
    tiles: tuple[int, ...], n: int, budget: int, weight: float = 1.0
) -> tuple[list[int], bool]:
    """A* from ``tiles`` to the solved board; returns (moves, optimal).

    With ``weight == 1`` the plan is optimal; after ``budget`` expansions the search restarts
    with a larger weight (faster, not optimal) until it finds a plan; the search with weight
    ``_MAX_WEIGHT`` has no budget, so a plan is always found.
    """
    table, md = gap_moves(n), manhattan_table(n)
    goal = tuple(range(1, n * n)) + (0,)
    start_h = sum(md[t][p] for p, t in enumerate(tiles))
    parents: dict[tuple[int, ...], tuple[tuple[int, ...] | None, int]] = {tiles: (None, -1)}
    best_g = {tiles: 0}
    heap = [(start_h * weight, 0, start_h, tiles, tiles.index(0))]
    expanded = 0
    while heap:
        _, g, h, state, gap = heapq.heappop(heap)
        if state == goal:
            moves = []
            while parents[state][0] is not None:
                state, move = parents[state]
                moves.append(move)
            return moves[::-1], weight == 1.0
        if g > best_g[state]:
            continue
        expanded += 1
        if expanded > budget and weight < _MAX_WEIGHT:
            return solve_sliding(tiles, n, budget, weight * 2)
        for move in range(4):
            new_gap = table[gap][move]
            if new_gap < 0:
                continue
            tile = state[new_gap]
            nxt = list(state)
            nxt[gap], nxt[new_gap] = tile, 0
            nxt_t = tuple(nxt)
            if nxt_t in best_g and best_g[nxt_t] <= g + 1:
                continue
            best_g[nxt_t] = g + 1
            parents[nxt_t] = (state, move)
            nh = h + md[tile][gap] - md[tile][new_gap]
            heapq.heappush(heap, (g + 1 + weight * nh, g + 1, nh, nxt_t, new_gap))
    raise RuntimeError("unsolvable sliding puzzle (only reachable boards are generated)")


class SlidingPuzzleEnv(PuzzleEnv):
    """Slide the tiles back in order (see the module docstring)."""

    Config = SlidingPuzzleConfig
    config: SlidingPuzzleConfig
    title = "sliding puzzle"

    def _setup(self) -> None:
        n = self.config.size
        self.grid_shape = (n, n)
        self.num_codes = n * n
        self.num_actions = 4
        self._table = gap_moves(n)
        self._md = manhattan_table(n)
        self._goal = list(range(1, n * n)) + [0]
        self._tiles = list(self._goal)
        self._gap = n * n - 1

    # -- board ------------------------------------------------------------------------------
    def _generate(self) -> int:
        n, steps = self.config.size, self.config.scramble
        self._tiles, self._gap = list(self._goal), n * n - 1
        undo = {0: 1, 1: 0, 2: 3, 3: 2}
        last = -1
        while True:
            for u in self.np_random.random(steps).tolist():
                options = [
                    m for m in range(4) if self._table[self._gap][m] >= 0 and m != undo.get(last)
                ]
                last = options[int(u * len(options))]
                self._move(last)
            if self._tiles != self._goal:
                break
            steps = 2  # the walk came back home: walk on
        moves, _ = solve_sliding(tuple(self._tiles), n, self.config.solver_budget)
        return len(moves)

    def _move(self, move: int) -> bool:
        new_gap = self._table[self._gap][move]
        if new_gap < 0:
            return False
        tiles = self._tiles
        tiles[self._gap], tiles[new_gap] = tiles[new_gap], 0
        self._gap = new_gap
        return True

    def _is_legal(self, move: int) -> bool:
        return self._table[self._gap][move] >= 0

    def _solved(self) -> bool:
        return self._tiles == self._goal

    def _distance(self) -> float:
        md = self._md
        return sum(md[t][p] for p, t in enumerate(self._tiles))

    def _solve_moves(self) -> list[int]:
        if self._solved():
            return []
        return solve_sliding(tuple(self._tiles), self.config.size, self.config.solver_budget)[0]

    def _codes(self) -> np.ndarray:
        return np.array(self._tiles, np.int64).reshape(self.grid_shape)

    def _board_state(self) -> dict[str, Any]:
        return {"tiles": list(self._tiles)}

    def _load_codes(self, codes: np.ndarray) -> None:
        self._tiles = [int(t) for t in codes.ravel().tolist()]
        self._gap = self._tiles.index(0) if 0 in self._tiles else 0

    def _load_board(self, board: dict[str, Any]) -> None:
        self._tiles = [int(t) for t in board["tiles"]]
        self._gap = self._tiles.index(0)

    # -- text and pictures ------------------------------------------------------------------
    def _rules(self) -> str:
        n = self.config.size
        goal = "\n".join(
            " ".join(f"{t:>2}" if t else " _" for t in self._goal[r * n : (r + 1) * n])
            for r in range(n)
        )
        return (
            f"Sliding puzzle ({n}x{n}). Slide tiles into the gap '_' until the board reads:\n"
            f"{goal}\n"
            "Moves name the direction a tile slides into the gap: 'up' slides the tile below "
            "the gap up, 'down' the tile above it down, 'left' the tile on its right to the "
            "left, 'right' the tile on its left to the right. You may also write 'move N' to "
            "slide tile N, which must be next to the gap. One move per answer."
        )

    def _ascii(self) -> str:
        n = self.config.size
        t = self._tiles
        return "\n".join(
            " ".join(f"{x:>2}" if x else " _" for x in t[r * n : (r + 1) * n]) for r in range(n)
        )

    def _parse(self, text: str) -> list[int] | str:
        tile = re.search(r"(?:move|slide|tile)\s*(\d+)", answer_part(text).lower())
        if tile is None:
            return grid_moves.parse_move(text)
        number = to_int(tile.group(1))
        if number not in self._tiles or number == 0:
            return f"there is no tile {number}; tiles are 1..{self.num_codes - 1}."
        pos = self._tiles.index(number)
        for move in range(4):
            if self._table[self._gap][move] == pos:
                return [move]
        return [ILLEGAL]

    def _move_text(self, move: int) -> str:
        return grid_moves.move_text(move) if move < 4 else "a tile not next to the gap"

    def _describe(self, moves: tuple[int, ...], legal: bool, solved: bool) -> str:
        if moves == (ILLEGAL,):
            return "That tile is not next to the gap, so it cannot slide; the board did not change."
        return super()._describe(moves, legal, solved)

    def _sprites(self, size: int) -> np.ndarray:
        gap = solid(size, (40, 40, 48))
        tile = framed(size, (238, 214, 160), (150, 110, 60), width=max(1, size // 10))
        return np.stack(
            [gap] + [glyph(tile, str(v), (60, 40, 20)) for v in range(1, self.num_codes)]
        )
