"""Sokoban: push every box onto a goal square.

## Description
Small procedural levels: a walled room with random inner walls (kept connected) and random
goals. A breadth-first search *backwards* from the solved level (walking and pulling boxes)
finds the states exactly ``depth`` moves from solved; the level is one of them (preferring
those whose boxes moved most), or one of the farthest if the room is too small. A forward
breadth-first solver (with dead-square pruning) confirms it and gives the plan. Difficulty
knobs: ``size``, ``boxes``, ``depth``.

## Observation
Per ``observation_mode``. Grid codes: 0 floor, 1 wall, 2 goal, 3 box, 4 box on goal, 5 player,
6 player on goal. ASCII (XSB): ``#`` wall, ``-`` floor, ``.`` goal, ``$`` box, ``*`` box on
goal, ``@`` player, ``+`` player on goal.

## Action
``discrete``: ``Discrete(4)``: 0 up, 1 down, 2 left, 3 right. ``text``: one direction.
Walking into a box pushes it if the square behind it is free.

## Rewards
``reward:`` (signed, added): ``correct`` (1) when every box is on a goal; ``illegal_move`` for
bumping a wall or an unmovable box (a no-op); ``per_step``; optional ``shaping`` on the sum of
box-to-nearest-goal distances.

## Termination
When every box is on a goal. A box pushed into a dead end does not end the episode
(``solve()`` returns None from such states). Truncated after ``max_turns`` steps; after the end see :class:`reasongym.envs.base.ReasonEnv`.

## Registered ids
``reasongym/Sokoban-v0`` (7x7, 2 boxes, multimodal, text), ``reasongym/SokobanDiscrete-v0``
(7x7, 1 box, one-hot, discrete).
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from reasongym.envs.puzzles import grid_moves
from reasongym.envs.puzzles.base import PuzzleConfig, PuzzleEnv
from reasongym.envs.puzzles.render import disc, framed, solid

FLOOR, WALL, GOAL, BOX, BOX_ON_GOAL, PLAYER, PLAYER_ON_GOAL = range(7)
_ASCII = "-#.$*@+"


class SokobanConfig(PuzzleConfig):
    easiest: ClassVar[dict[str, Any]] = {"boxes": 1, "depth": 1, "max_turns": 4}
    size: int = Field(7, ge=5, le=12, description="grid side, border walls included")
    boxes: int = Field(2, ge=1, le=4, description="number of boxes (and goals)")
    depth: int = Field(
        15, ge=1, le=500, description="optimal solution length wanted (capped by the room)"
    )
    inner_walls: float = Field(0.15, ge=0.0, le=0.4, description="share of inner cells walled")
    solver_budget: int = Field(200_000, ge=1000, description="max states the solver visits")

    @model_validator(mode="after")
    def _room_fits(self) -> SokobanConfig:
        inner = (self.size - 2) ** 2
        if self.boxes + 2 > inner * (1 - self.inner_walls):
            raise ValueError(
                f"{self.boxes} boxes do not fit a {self.size}x{self.size} room; "
                "use a bigger size or fewer boxes"
            )
        return self


def _bits(mask: int) -> list[int]:
    """Positions of the set bits of ``mask``."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def live_squares(wall: list[bool], goals: list[int], delta: tuple[int, ...]) -> list[bool]:
    """Squares from which a lone box can still be pushed onto some goal."""
    live = [False] * len(wall)
    queue = deque(goals)
    for g in goals:
        live[g] = True
    while queue:
        cell = queue.popleft()
        for d in delta:  # a push in direction d moved the box from cell - d to cell
            prev, player = cell - d, cell - 2 * d
            if 0 <= player < len(wall) and not wall[prev] and not wall[player] and not live[prev]:
                live[prev] = True
                queue.append(prev)
    return live


def solve_sokoban(
    wall: list[bool],
    goals: int,
    boxes: int,
    player: int,
    delta: tuple[int, ...],
    budget: int,
) -> list[int] | None:
    """Breadth-first search for a shortest move sequence (boxes as bitmasks); None if no
    solution is found within ``budget`` states."""
    if boxes == goals:
        return []
    live = live_squares(wall, _bits(goals), delta)
    start = (player, boxes)
    parents: dict[tuple[int, int], tuple[tuple[int, int], int]] = {}
    seen = {start}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        pos, bx = state
        for move, d in enumerate(delta):
            target = pos + d
            if wall[target]:
                continue
            nbx = bx
            if bx >> target & 1:
                beyond = target + d
                if wall[beyond] or bx >> beyond & 1 or not live[beyond]:
                    continue
                nbx = bx ^ (1 << target) ^ (1 << beyond)
            nxt = (target, nbx)
            if nxt in seen:
                continue
            seen.add(nxt)
            parents[nxt] = (state, move)
            if nbx == goals:
                plan = []
                while nxt != start:
                    nxt, m = parents[nxt]
                    plan.append(m)
                return plan[::-1]
            if len(seen) > budget:
                return None
            queue.append(nxt)
    return None


class SokobanEnv(PuzzleEnv):
    """Push the boxes onto the goals (see the module docstring)."""

    Config = SokobanConfig
    config: SokobanConfig
    title = "sokoban"

    def _setup(self) -> None:
        n = self.config.size
        self.grid_shape = (n, n)
        self.num_codes = 7
        self.num_actions = 4
        self._delta = grid_moves.offsets(n)
        self._wall: list[bool] = [True] * (n * n)
        self._goals = 0
        self._boxes = 0
        self._player = n + 1
        self._base = np.ones(self.grid_shape, np.int64)
        self._goal_dist: list[int] = []

    # -- generation -------------------------------------------------------------------------
    def _generate(self) -> int:
        while True:
            plan = self._try_generate()
            if plan is not None:
                return len(plan)

    def _try_generate(self) -> list[int] | None:
        cfg, rng, n = self.config, self.np_random, self.config.size
        inner = [r * n + c for r in range(1, n - 1) for c in range(1, n - 1)]
        wall = [True] * (n * n)
        for cell in inner:
            wall[cell] = False
        for cell in rng.permutation(inner)[: int(cfg.inner_walls * len(inner))].tolist():
            wall[cell] = True
            if not self._connected(wall):
                wall[cell] = False
        floor = [c for c in inner if not wall[c]]
        goals = sum(1 << g for g in rng.permutation(floor)[: cfg.boxes].tolist())
        layer = self._reverse_layer(wall, goals, floor)
        if not layer:
            return None
        player, boxes = layer[int(rng.integers(len(layer)))]
        plan = solve_sokoban(wall, goals, boxes, player, self._delta, cfg.solver_budget)
        if plan is None:
            return None
        self._load(wall, goals, boxes, player)
        return plan

    def _reverse_layer(
        self, wall: list[bool], goals: int, floor: list[int]
    ) -> list[tuple[int, int]]:
        """States ``depth`` moves from solved (or the farthest found), by breadth-first search
        backwards from every solved state; among them, those whose path pulls boxes most."""
        cfg = self.config
        frontier = {(p, goals): 0 for p in floor if not goals >> p & 1}  # state -> pulls
        seen = set(frontier)
        best: dict[tuple[int, int], int] = {}
        for _ in range(cfg.depth):
            nxt: dict[tuple[int, int], int] = {}
            for (player, boxes), pulls in frontier.items():
                for d in self._delta:
                    target = player + d
                    if wall[target] or boxes >> target & 1:
                        continue
                    candidates = [((target, boxes), pulls)]
                    behind = player - d
                    if boxes >> behind & 1:  # undo a push: pull the box along
                        moved = boxes ^ (1 << behind) ^ (1 << player)
                        candidates.append(((target, moved), pulls + 1))
                    for state, p in candidates:
                        if state not in seen:
                            seen.add(state)
                            nxt[state] = p
                        elif state in nxt and p > nxt[state]:
                            nxt[state] = p
            if not nxt or len(seen) > cfg.solver_budget:
                break
            frontier = nxt
            best = {s: p for s, p in frontier.items() if s[1] != goals}
        if not best:
            return []
        most = max(best.values())
        return sorted(s for s, p in best.items() if p == most)

    def _connected(self, wall: list[bool]) -> bool:
        floor = [c for c, w in enumerate(wall) if not w]
        seen = {floor[0]}
        queue = deque(seen)
        while queue:
            cell = queue.popleft()
            for d in self._delta:
                if not wall[cell + d] and cell + d not in seen:
                    seen.add(cell + d)
                    queue.append(cell + d)
        return len(seen) == len(floor)

    def _load(self, wall: list[bool], goals: int, boxes: int, player: int) -> None:
        self._wall, self._goals, self._boxes, self._player = wall, goals, boxes, player
        base = np.array(wall, np.int64)
        base[_bits(goals)] = GOAL
        self._base = base.reshape(self.grid_shape)
        # Floor distance of every square to its nearest goal, for shaping.
        dist = [-1] * len(wall)
        queue = deque(_bits(goals))
        for g in queue:
            dist[g] = 0
        while queue:
            cell = queue.popleft()
            for d in self._delta:
                if not wall[cell + d] and dist[cell + d] < 0:
                    dist[cell + d] = dist[cell] + 1
                    queue.append(cell + d)
        self._goal_dist = dist

    # -- board ------------------------------------------------------------------------------
    def _move(self, move: int) -> bool:
        d = self._delta[move]
        target = self._player + d
        if self._wall[target]:
            return False
        if self._boxes >> target & 1:
            beyond = target + d
            if self._wall[beyond] or self._boxes >> beyond & 1:
                return False
            self._boxes ^= (1 << target) | (1 << beyond)
        self._player = target
        return True

    def _is_legal(self, move: int) -> bool:
        d = self._delta[move]
        target = self._player + d
        if self._wall[target]:
            return False
        if self._boxes >> target & 1:
            return not (self._wall[target + d] or self._boxes >> (target + d) & 1)
        return True

    def _solved(self) -> bool:
        return self._boxes == self._goals

    def _distance(self) -> float:
        return float(sum(self._goal_dist[b] for b in _bits(self._boxes)))

    def _solve_moves(self) -> list[int] | None:
        return solve_sokoban(
            self._wall,
            self._goals,
            self._boxes,
            self._player,
            self._delta,
            self.config.solver_budget,
        )

    def _codes(self) -> np.ndarray:
        codes = self._base.copy()
        flat = codes.reshape(-1)
        boxes = _bits(self._boxes)
        flat[boxes] = np.where(flat[boxes] == GOAL, BOX_ON_GOAL, BOX)
        flat[self._player] = PLAYER_ON_GOAL if flat[self._player] == GOAL else PLAYER
        return codes

    def _board_state(self) -> dict[str, Any]:
        n = self.config.size
        walls = ["".join("#" if self._wall[r * n + c] else "-" for c in range(n)) for r in range(n)]
        return {
            "walls": walls,
            "goals": [divmod(g, n) for g in _bits(self._goals)],
            "boxes": [divmod(b, n) for b in _bits(self._boxes)],
            "player": divmod(self._player, n),
        }

    def _load_codes(self, codes: np.ndarray) -> None:
        flat = codes.ravel().tolist()
        goals = sum(1 << i for i, c in enumerate(flat) if c in (GOAL, BOX_ON_GOAL, PLAYER_ON_GOAL))
        boxes = sum(1 << i for i, c in enumerate(flat) if c in (BOX, BOX_ON_GOAL))
        players = [i for i, c in enumerate(flat) if c in (PLAYER, PLAYER_ON_GOAL)]
        self._load([c == WALL for c in flat], goals, boxes, players[0] if players else self._player)

    def _load_board(self, board: dict[str, Any]) -> None:
        n = self.config.size
        wall = [ch == "#" for row in board["walls"] for ch in row]
        goals = sum(1 << (r * n + c) for r, c in board["goals"])
        boxes = sum(1 << (r * n + c) for r, c in board["boxes"])
        r, c = board["player"]
        self._load(wall, goals, boxes, r * n + c)

    # -- text and pictures ------------------------------------------------------------------
    def _rules(self) -> str:
        return (
            "Sokoban. You are '@' ('+' when standing on a goal). Push every box '$' onto a goal "
            "'.'; a box on a goal shows as '*'. '#' is a wall, '-' is floor. Answer with one "
            "direction (up, down, left or right). Walking into a box pushes it one square if "
            "the square behind it is free; boxes cannot be pulled, so avoid pushing one into "
            "a corner that is not a goal."
        )

    def _ascii(self) -> str:
        return "\n".join("".join(_ASCII[c] for c in row) for row in self._codes().tolist())

    def _parse(self, text: str) -> list[int] | str:
        return grid_moves.parse_move(text)

    def _move_text(self, move: int) -> str:
        return grid_moves.move_text(move)

    def _sprites(self, size: int) -> np.ndarray:
        floor = solid(size, (225, 215, 190))
        goal = framed(size, (225, 215, 190), (200, 60, 60), width=max(1, size // 8))
        box = framed(size, (190, 130, 60), (110, 70, 30), width=max(1, size // 8))
        box_on_goal = framed(size, (90, 180, 90), (40, 100, 40), width=max(1, size // 8))
        wall = framed(size, (120, 60, 50), (80, 40, 35), width=max(1, size // 16))
        player = disc(floor, (40, 80, 200), radius=0.32)
        return np.stack(
            [
                floor,
                wall,
                goal,
                box,
                box_on_goal,
                player,
                disc(goal, (40, 80, 200), radius=0.32),
            ]
        )
