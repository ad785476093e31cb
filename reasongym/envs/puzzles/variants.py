"""Puzzle variants declared in YAML: fixed instances from a file, and curricula.

``instances: {path: levels.txt}`` makes a puzzle pose fixed instances (a frozen evaluation
set) instead of generating them; ``reset(options={"task_index": i})`` poses instance ``i``
and ``num_tasks`` is their count. Formats, one instance per block (blocks are separated by
blank lines; lines starting with ``;`` are comments):

* Sokoban: the standard XSB characters — ``#`` wall, space or ``-`` floor, ``.`` goal,
  ``$`` box, ``*`` box on goal, ``@`` player, ``+`` player on goal. A level smaller than
  ``size`` is padded with walls.
* Sudoku: one grid per line: ``size * size`` digits, ``0`` or ``.`` for an empty cell
  (spaces and ``|`` are ignored). A grid must have exactly one solution.
* Maze: ``size`` lines of ``size`` characters — ``#`` wall, ``.`` or space floor, ``S`` the
  start (default: the top-left room) and ``G`` the goal, which must be the bottom-right
  room (where this env keeps it); the border is wall and the goal must be reachable.

``curriculum: {levels: [{scramble: 4}, {scramble: 12}], ...}`` (see
:mod:`reasongym.envs.curriculum`) changes difficulty knobs between episodes; a level may not
change the board's shape or the spaces (``size``, modes, ``image_size``, ...).
"""

from __future__ import annotations

import copy
from collections import deque
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from reasongym.envs.curriculum import Curriculum

#: Config keys a curriculum level may not change (they fix the spaces or are not knobs).
FIXED_KEYS = frozenset(
    {
        "size",
        "observation_mode",
        "action_mode",
        "action_format",
        "image_size",
        "reward",
        "max_observation_chars",
        "max_action_chars",
        "curriculum",
        "instances",
        "pencil_marks",  # Sudoku: adds the candidates to the observation
        "discrete_actions",  # Sudoku: the layout of the discrete actions
    }
)
MAX_INSTANCES = 100_000
MAX_FILE_BYTES = 32 * 1024 * 1024


class InstancesSpec(BaseModel):
    """The ``instances:`` key of a puzzle: a text file of fixed instances."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Field(description="relative to the YAML file that names it")

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        from reasongym.envs.tasks.files import resolve_data_path

        value = resolve_data_path(value, info.context)
        if value.stat().st_size > MAX_FILE_BYTES:  # resolve_data_path checked it is a file
            raise ValueError(f"instances file {str(value)!r} is larger than {MAX_FILE_BYTES} bytes")
        return value


# -- instance parsers: text block -> the puzzle's ``_board_state`` dict -----------------------
def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each blank-line-separated block, comments dropped."""
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(";"):
            continue
        if not line.strip():
            if current:
                out.append((start, current))
                current = []
            continue
        if not current:
            start = lineno
        current.append(line.rstrip())
    if current:
        out.append((start, current))
    return out


def _sokoban(lines: list[str], n: int) -> dict[str, Any]:
    if len(lines) > n or max(len(row) for row in lines) > n:
        raise ValueError(f"the level is larger than size {n}; raise size")
    walls, goals, boxes, players = [], [], [], []
    for r in range(n):
        row = lines[r] if r < len(lines) else ""
        cells = []
        for c in range(n):
            ch = row[c] if c < len(row) else "#"
            if ch not in "#- .$*@+_":
                raise ValueError(
                    f"row {r + 1} column {c + 1}: unknown character {ch!r} (use # - . $ * @ +)"
                )
            cells.append("#" if ch == "#" else "-")
            if ch in ".*+":
                goals.append((r, c))
            if ch in "$*":
                boxes.append((r, c))
            if ch in "@+":
                players.append((r, c))
        walls.append("".join(cells))
    if len(players) != 1:
        raise ValueError(f"a level needs exactly one player (@ or +), found {len(players)}")
    if not boxes or len(boxes) != len(goals):
        raise ValueError(
            f"a level needs as many goals as boxes (>= 1): {len(boxes)} boxes, {len(goals)} goals"
        )
    _closed([[ch == "#" for ch in row] for row in walls], players[0], "player")
    return {"walls": walls, "goals": goals, "boxes": boxes, "player": players[0]}


def _closed(wall: list[list[bool]], start: tuple[int, int], what: str) -> set[tuple[int, int]]:
    """Cells reachable from ``start``; raises if that region touches the grid's edge."""
    h, w = len(wall), len(wall[0])
    seen, queue = {start}, deque([start])
    while queue:
        r, c = queue.popleft()
        if r in (0, h - 1) or c in (0, w - 1):
            raise ValueError(f"the {what} can walk off the board: close the level with walls")
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            q = (r + dr, c + dc)
            if not wall[q[0]][q[1]] and q not in seen:
                seen.add(q)
                queue.append(q)
    return seen


def _sudoku_solve(grid: list[int], n: int) -> list[int] | None:
    """One solution by backtracking on the most constrained cell (None if none)."""
    b = int(n**0.5)
    grid = list(grid)

    def options(cell: int) -> list[int]:
        r, c = divmod(cell, n)
        used = {grid[r * n + k] for k in range(n)} | {grid[k * n + c] for k in range(n)}
        br, bc = r // b * b, c // b * b
        used |= {grid[(br + i) * n + bc + j] for i in range(b) for j in range(b)}
        return [d for d in range(1, n + 1) if d not in used]

    def search() -> bool:
        empty = [i for i, d in enumerate(grid) if d == 0]
        if not empty:
            return True
        cell = min(empty, key=lambda i: len(options(i)))
        for digit in options(cell):
            grid[cell] = digit
            if search():
                return True
        grid[cell] = 0
        return False

    return list(grid) if search() else None


def _sudoku(lines: list[str], n: int) -> list[tuple[int, dict[str, Any]]]:
    from reasongym.envs.puzzles.sudoku import count_solutions

    out = []
    for offset, line in enumerate(lines):
        chars = [ch for ch in line if ch not in " |+-\t"]
        try:
            if len(chars) != n * n:
                raise ValueError(f"a {n}x{n} grid has {n * n} cells, this line has {len(chars)}")
            grid = []
            for ch in chars:
                if ch in "0._":
                    grid.append(0)
                elif ch.isdigit() and 1 <= int(ch) <= n:
                    grid.append(int(ch))
                else:
                    raise ValueError(f"{ch!r} is not a digit 1-{n} or an empty cell (0 or .)")
            solution = _sudoku_solve(grid, n)
            if solution is None:
                raise ValueError("the grid has no solution")
            if count_solutions(list(grid), n) != 1:
                raise ValueError("the grid has more than one solution")
        except ValueError as exc:
            raise _AtLine(offset, str(exc)) from None
        board = {"board": list(grid), "solution": solution, "given": [d != 0 for d in grid]}
        out.append((offset, board))
    return out


def _maze(lines: list[str], n: int) -> dict[str, Any]:
    if len(lines) != n or any(len(row) != n for row in lines):
        raise ValueError(f"a maze of size {n} is {n} lines of {n} characters")
    wall, start, goal = [], None, None
    for r, row in enumerate(lines):
        cells = []
        for c, ch in enumerate(row):
            if ch not in "#. SGA":
                raise ValueError(
                    f"row {r + 1} column {c + 1}: unknown character {ch!r} (use # . S G)"
                )
            cells.append(ch == "#")
            if ch in "SA":
                start = (r, c)
            if ch == "G":
                goal = (r, c)
        wall.append(cells)
    want_goal = (n - 2, n - 2)
    if goal is not None and goal != want_goal:
        raise ValueError(f"G must be in the bottom-right room {want_goal} (row, column from 0)")
    start = start or (1, 1)
    if wall[start[0]][start[1]] or wall[want_goal[0]][want_goal[1]]:
        raise ValueError("the start and the goal must be floor")
    if any(
        wall[r][c] is False
        for r in range(n)
        for c in range(n)
        if r in (0, n - 1) or c in (0, n - 1)
    ):
        raise ValueError("the border of a maze must be wall")
    if want_goal not in _closed(wall, start, "agent"):
        raise ValueError("the goal cannot be reached from the start")
    rows = ["".join("#" if w else "." for w in row) for row in wall]
    return {"walls": rows, "pos": start}


class _AtLine(ValueError):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset


_PARSERS = {"SokobanConfig": "sokoban", "SudokuConfig": "sudoku", "MazeConfig": "maze"}


def _kind(config: Any) -> str | None:
    for cls in type(config).__mro__:
        if cls.__name__ in _PARSERS:
            return _PARSERS[cls.__name__]
    return None


def load_instances(config: Any) -> list[dict[str, Any]]:
    """Parse ``config.instances`` for this puzzle; a ValueError lists every bad instance as
    ``file:line: problem``."""
    kind = _kind(config)
    path = config.instances.path
    if kind is None:
        raise ValueError("instances from a file are supported for Sokoban, Sudoku and Maze")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read as UTF-8 text: {exc}") from None
    boards, problems = [], []
    for start, lines in _blocks(text):
        try:
            if kind == "sudoku":
                boards += [b for _, b in _sudoku(lines, config.size)]
            elif kind == "sokoban":
                boards.append(_sokoban(lines, config.size))
            else:
                boards.append(_maze(lines, config.size))
        except _AtLine as exc:
            problems.append(f"{path}:{start + exc.offset}: {exc}")
        except ValueError as exc:
            problems.append(f"{path}:{start}: {exc}")
        if len(boards) > MAX_INSTANCES:
            problems.append(f"{path}: more than {MAX_INSTANCES} instances")
            break
    if problems:
        shown = problems[:12] + (
            [f"... and {len(problems) - 12} more"] if len(problems) > 12 else []
        )
        raise ValueError(f"{len(problems)} bad instance(s):\n    " + "\n    ".join(shown))
    if not boards:
        raise ValueError(f"{path} holds no instances")
    return boards


def level_configs(config: Any) -> list[Any]:
    """The validated config of each curriculum level (ValueError naming the bad level)."""
    spec = config.curriculum
    base = config.model_dump(exclude={"curriculum", "instances"}, exclude_unset=True)
    out = []
    for i, level in enumerate(spec.levels):
        if not isinstance(level, dict):
            raise ValueError(
                f"curriculum.levels[{i}]: a puzzle level is a mapping of knobs, e.g. {{scramble: 8}}"
            )
        for key in level:
            if key in FIXED_KEYS:
                raise ValueError(
                    f"curriculum.levels[{i}].{key}: a level may not change {key!r} (it fixes the spaces)"
                )
            if key not in type(config).model_fields:
                raise ValueError(
                    f"curriculum.levels[{i}].{key}: unknown key; knobs are {sorted(set(type(config).model_fields) - FIXED_KEYS)}"
                )
        try:
            out.append(type(config).model_validate({**base, **level}))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(
                f"curriculum.levels[{i}]{'.' + where if where else ''}: {first['msg']}"
            ) from None
    return out


def check_variants(config: Any) -> None:
    """Validate ``instances`` / ``curriculum`` of a puzzle config (called by PuzzleConfig)."""
    if (
        getattr(config, "instances", None) is not None
        and getattr(config, "curriculum", None) is not None
    ):
        raise ValueError("use either instances (a fixed set) or curriculum (generated), not both")
    if getattr(config, "instances", None) is not None:
        load_instances(config)
    if getattr(config, "curriculum", None) is not None:
        level_configs(config)


class PuzzleVariants:
    """What ``PuzzleEnv`` delegates to: instance loading and the curriculum's level."""

    def __init__(self, env: Any):
        self.env = env
        self.base_config = env.config
        self.instances = load_instances(env.config) if env.config.instances is not None else None
        self.curriculum = (
            Curriculum(env.config.curriculum) if env.config.curriculum is not None else None
        )
        self.configs = level_configs(env.config) if self.curriculum is not None else []
        shape = (env.grid_shape, env.num_codes, env.num_actions)
        for i, cfg in enumerate(self.configs):
            env.config = cfg
            env._setup()
            if (env.grid_shape, env.num_codes, env.num_actions) != shape:
                env.config = self.base_config
                env._setup()
                raise ValueError(f"curriculum.levels[{i}] changes the board's shape or moves")
        env.config = self.base_config
        env._setup()
        if self.curriculum is not None:
            env.config = self.configs[self.curriculum.level]

    @property
    def num_tasks(self) -> int | None:
        return len(self.instances) if self.instances is not None else None

    def generate(self, task_index: int) -> int:
        """Pose the episode's instance; returns its optimal (or best-known) length."""
        env = self.env
        if self.curriculum is not None:
            env.config = self.configs[self.curriculum.level]
        if self.instances is None:
            return int(env._generate())
        env._load_board(copy.deepcopy(self.instances[task_index % len(self.instances)]))
        plan = env._solve_moves()
        return len(plan) if plan is not None else 0

    def end_episode(self, success: bool) -> None:
        if self.curriculum is not None:
            self.curriculum.end_episode(success)

    def info(self) -> dict[str, Any]:
        return {"curriculum": self.curriculum.info()} if self.curriculum is not None else {}

    def snapshot(self) -> dict[str, Any] | None:
        return self.curriculum.snapshot() if self.curriculum is not None else None

    def restore(self, data: dict[str, Any] | None) -> None:
        if self.curriculum is not None and data is not None:
            self.curriculum.restore(data)
            self.env.config = self.configs[self.curriculum.level]
