"""Maze: walk from the top-left corner to the goal in the bottom-right corner.

## Description
A perfect maze (one path between any two squares, so always solvable) carved by a randomised
depth-first search on a ``size`` x ``size`` grid (odd; the border is wall). The agent starts at
the top-left open square; the goal is the bottom-right one. Difficulty knob: ``size``.

## Observation
Per ``observation_mode`` (see ``PuzzleConfig``). Grid codes: 0 floor, 1 wall, 2 goal, 3 agent.
ASCII: ``#`` wall, ``.`` floor, ``G`` goal, ``A`` agent.

## Action
``discrete``: ``Discrete(4)``: 0 up, 1 down, 2 left, 3 right. ``text``: one direction in words
(``up``, ``Move left.``, ``<answer>down</answer>``, ``north``, arrows).

## Rewards
``reward:`` (signed, added): ``correct`` (1) on reaching the goal; ``illegal_move`` for walking
into a wall (a no-op); ``per_step``; optional ``shaping`` on the shortest-path distance.

## Termination
On reaching the goal. Truncated after ``max_turns`` steps; after the end see :class:`reasongym.envs.base.ReasonEnv`.

## Registered ids
``reasongym/Maze-v0`` (multimodal, text actions), ``reasongym/MazeDiscrete-v0`` (one-hot
observation, discrete actions, for Stable-Baselines3).
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, field_validator

from reasongym.envs.puzzles import grid_moves
from reasongym.envs.puzzles.base import PuzzleConfig, PuzzleEnv
from reasongym.envs.puzzles.render import disc, framed, glyph, solid

FLOOR, WALL, GOAL, AGENT = range(4)
_ASCII = ".#GA"


class MazeConfig(PuzzleConfig):
    easiest: ClassVar[dict[str, Any]] = {"size": 5}  # fixes the board shape: not a curriculum knob
    size: int = Field(9, ge=5, le=63, description="grid side, odd, border included (5 = 2x2 rooms)")

    @field_validator("size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"size must be odd (walls sit between rooms), e.g. {value + 1}")
        return value


class MazeEnv(PuzzleEnv):
    """Reach the goal of a random perfect maze (see the module docstring)."""

    Config = MazeConfig
    config: MazeConfig
    title = "maze"

    def _setup(self) -> None:
        n = self.config.size
        self.grid_shape = (n, n)
        self.num_codes = 4
        self.num_actions = 4
        self._delta = grid_moves.offsets(n)
        self._wall: list[bool] = [True] * (n * n)
        self._dist: list[int] = [0] * (n * n)
        self._pos = self._start = n + 1
        self._goal = n * n - n - 2
        self._base = np.zeros(self.grid_shape, np.int64)

    # -- board ------------------------------------------------------------------------------
    def _generate(self) -> int:
        n = self.config.size
        rooms = (n - 1) // 2
        wall = [True] * (n * n)
        draws = self.np_random.random(rooms * rooms).tolist()
        visited = [False] * (rooms * rooms)
        visited[0] = True
        wall[n + 1] = False
        stack, k = [0], 0
        while stack:
            room = stack[-1]
            i, j = divmod(room, rooms)
            options = [
                nb
                for nb, ok in (
                    (room - rooms, i > 0),
                    (room + rooms, i < rooms - 1),
                    (room - 1, j > 0),
                    (room + 1, j < rooms - 1),
                )
                if ok and not visited[nb]
            ]
            if not options:
                stack.pop()
                continue
            nxt = options[int(draws[k] * len(options))]
            k += 1
            visited[nxt] = True
            a, b = divmod(nxt, rooms)
            cell = (2 * a + 1) * n + 2 * b + 1
            wall[cell] = False
            wall[(cell + (2 * i + 1) * n + 2 * j + 1) // 2] = False  # the wall between
            stack.append(nxt)
        self._load_walls(wall)
        self._pos = self._start
        return self._dist[self._start]

    def _load_walls(self, wall: list[bool]) -> None:
        self._wall = wall
        self._base = np.array(wall, np.int64).reshape(self.grid_shape)  # FLOOR 0 / WALL 1
        self._base.flat[self._goal] = GOAL
        # Distances to the goal (BFS), for shaping and for the solver.
        dist = [-1] * len(wall)
        dist[self._goal] = 0
        queue = deque([self._goal])
        while queue:
            p = queue.popleft()
            for d in self._delta:
                q = p + d
                if not wall[q] and dist[q] < 0:
                    dist[q] = dist[p] + 1
                    queue.append(q)
        self._dist = dist

    def _move(self, move: int) -> bool:
        target = self._pos + self._delta[move]
        if self._wall[target]:
            return False
        self._pos = target
        return True

    def _is_legal(self, move: int) -> bool:
        return not self._wall[self._pos + self._delta[move]]

    def _solved(self) -> bool:
        return self._pos == self._goal

    def _distance(self) -> float:
        return self._dist[self._pos]

    def _solve_moves(self) -> list[int]:
        plan, pos, dist = [], self._pos, self._dist
        while pos != self._goal:
            move = next(m for m, d in enumerate(self._delta) if dist[pos + d] == dist[pos] - 1)
            plan.append(move)
            pos += self._delta[move]
        return plan

    def _codes(self) -> np.ndarray:
        codes = self._base.copy()
        codes.flat[self._pos] = AGENT
        return codes

    def _board_state(self) -> dict[str, Any]:
        n = self.config.size
        rows = ["".join("#" if self._wall[r * n + c] else "." for c in range(n)) for r in range(n)]
        return {"walls": rows, "pos": divmod(self._pos, n)}

    def _load_codes(self, codes: np.ndarray) -> None:
        flat = codes.ravel().tolist()
        self._load_walls([c == WALL for c in flat])
        agents = [i for i, c in enumerate(flat) if c == AGENT]
        self._pos = agents[0] if agents else self._start

    def _load_board(self, board: dict[str, Any]) -> None:
        n = self.config.size
        self._load_walls([ch == "#" for row in board["walls"] for ch in row])
        r, c = board["pos"]
        self._pos = r * n + c

    # -- text and pictures ------------------------------------------------------------------
    def _rules(self) -> str:
        return (
            "Maze. You are A; reach the goal G. '#' is a wall, '.' is open floor. "
            "Each move goes one square: answer with one direction (up, down, left or right). "
            "Walking into a wall does nothing."
        )

    def _ascii(self) -> str:
        codes = self._codes()
        return "\n".join("".join(_ASCII[c] for c in row) for row in codes.tolist())

    def _parse(self, text: str) -> list[int] | str:
        return grid_moves.parse_move(text)

    def _move_text(self, move: int) -> str:
        return grid_moves.move_text(move)

    def _sprites(self, size: int) -> np.ndarray:
        floor = solid(size, (235, 235, 225))
        return np.stack(
            [
                floor,
                framed(size, (60, 60, 70), (40, 40, 50)),
                glyph(solid(size, (90, 200, 110)), "G", (20, 90, 30)),
                disc(floor, (220, 50, 50)),
            ]
        )
