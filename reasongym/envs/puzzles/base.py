"""``PuzzleEnv``: the shared loop of the grid puzzles (observations, actions, rewards, state).

A puzzle file subclasses ``PuzzleEnv`` and implements the board: generate an instance from
``self.np_random``, apply a move, say when it is solved, draw itself as a grid of codes and as
ASCII, parse a move written in words, and solve itself from the current state. Everything else
(the spaces, rewards, text prompts, rendering, get_state/set_state, the oracle) lives here, so
each puzzle reads as the rules of the game only.

Moves are the discrete action indices ``0 .. num_actions - 1`` in both action modes: text
actions are parsed into them, and ``solve()`` plans in them (converted back to words in text
mode).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium import spaces
from pydantic import Field

from reasongym.envs.base import EnvConfig, ReasonEnv
from reasongym.envs.puzzles.render import GridRenderer, sprite_size
from reasongym.spaces import UnicodeText, clip_text

ObservationMode = Literal["multimodal", "text", "image", "grid", "onehot"]
ActionMode = Literal["text", "discrete"]


class PuzzleConfig(EnvConfig):
    """Options shared by every grid puzzle (each puzzle adds its difficulty knobs)."""

    observation_mode: ObservationMode = Field(
        "multimodal",
        description="multimodal: {'text', 'image'}; text: rules + ASCII board; image: uint8 "
        "(S, S, 3) board; grid: (H, W) int64 cell codes; onehot: (H*W*K,) float32 for MLPs",
    )
    action_mode: ActionMode = Field(
        "text", description="text: moves in words (for LLMs); discrete: Discrete(n) (for RL)"
    )
    image_size: int = Field(84, ge=16, le=2048, description="side of the rendered image")
    step_cost: float = Field(0.0, ge=0.0, description="subtracted from every step's reward")
    illegal_penalty: float = Field(
        0.01, ge=0.0, description="subtracted when a move is illegal (it is a no-op)"
    )
    format_penalty: float = Field(
        0.01, ge=0.0, description="subtracted when a text action cannot be parsed (no-op)"
    )
    shaping: bool = Field(
        False,
        description="add potential-based shaping: shaping_weight * (distance before - after), "
        "with the puzzle's distance-to-goal; it does not change the optimal policy",
    )
    shaping_weight: float = Field(0.1, ge=0.0)
    max_text_length: int = Field(8192, ge=256, description="max length of text obs/actions")


class PuzzleEnv(ReasonEnv):
    """Base of the grid puzzles; subclasses implement the ``_board`` hooks below.

    Rewards: +1 on the solving step, minus ``step_cost`` every step, minus ``illegal_penalty``
    for an illegal move (a no-op), minus ``format_penalty`` for an unparseable text action,
    plus optional potential-based shaping. ``info["is_success"]`` is on every step;
    ``info["optimal_steps"]`` (optimal or best-known solution length) is in the reset info.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}
    Config: ClassVar[type[EnvConfig]] = PuzzleConfig
    config: PuzzleConfig

    #: Human name used in prompts.
    title: ClassVar[str] = "puzzle"

    # Set by ``_setup``: board shape, number of cell codes, number of discrete moves.
    grid_shape: tuple[int, int]
    num_codes: int
    num_actions: int

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        self._configure(render_mode, kwargs)
        self._setup()
        cfg = self.config
        self._discrete = cfg.action_mode == "discrete"
        self.action_space = (
            spaces.Discrete(self.num_actions)
            if self._discrete
            else UnicodeText(cfg.max_text_length)
        )
        self.observation_space = self._observation_space()
        self._obs_mode = cfg.observation_mode
        self._onehot = np.eye(self.num_codes, dtype=np.float32)
        self._renderer: GridRenderer | None = None
        self._step_cost, self._illegal_penalty = cfg.step_cost, cfg.illegal_penalty
        self._shaping, self._shaping_weight = cfg.shaping, cfg.shaping_weight
        self._steps = 0
        self._optimal = 0
        self._distance_before = 0.0
        self._feedback = ""
        self._plan: list[int] | None = None  # the oracle's cached plan (see ``oracle_action``)
        self._plan_key: bytes = b""

    # -- hooks a puzzle implements ----------------------------------------------------------
    def _setup(self) -> None:
        """Set ``grid_shape``, ``num_codes`` and ``num_actions`` from ``self.config``."""
        raise NotImplementedError

    def _generate(self) -> int:
        """Make a new solvable instance from ``self.np_random``; return its optimal length."""
        raise NotImplementedError

    def _move(self, move: int) -> bool:
        """Apply ``move``; return False (and change nothing) if it is illegal."""
        raise NotImplementedError

    def _solved(self) -> bool:
        raise NotImplementedError

    def _codes(self) -> np.ndarray:
        """The board as a fresh ``grid_shape`` int64 array of codes in ``[0, num_codes)``."""
        raise NotImplementedError

    def _board_state(self) -> dict[str, Any]:
        """The board as plain data (lists, ints, strings)."""
        raise NotImplementedError

    def _load_board(self, board: dict[str, Any]) -> None:
        """Restore a ``_board_state`` snapshot."""
        raise NotImplementedError

    def _solve_moves(self) -> list[int] | None:
        """An optimal (or best-known) list of moves from the current board; None if none."""
        raise NotImplementedError

    def _distance(self) -> float:
        """Distance to the goal, for shaping (0 when solved)."""
        return 0.0

    def _sprites(self, size: int) -> np.ndarray:
        """``(num_codes, size, size, 3)`` uint8 sprites, one per code."""
        raise NotImplementedError

    def _overlay(self, image_shape: tuple[int, int]) -> np.ndarray | None:
        """An optional bool mask drawn in black on top of the board (e.g. Sudoku boxes)."""
        return None

    def _rules(self) -> str:
        """The rules and the move syntax, shown once at reset."""
        raise NotImplementedError

    def _ascii(self) -> str:
        raise NotImplementedError

    def _legal_text(self) -> str:
        """The prompt line listing the moves that are legal now."""
        legal = [self._move_text(m) for m in range(self.num_actions) if self._is_legal(m)]
        return "Legal moves: " + ", ".join(legal)

    def _is_legal(self, move: int) -> bool:
        raise NotImplementedError

    def _parse(self, text: str) -> list[int] | str:
        """Moves named by a text action, or a format-error message saying what is expected."""
        raise NotImplementedError

    def _move_text(self, move: int) -> str:
        """How to write ``move`` as a text action."""
        raise NotImplementedError

    # -- gymnasium API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._optimal = int(self._generate())
        self._steps = 0
        self._plan = None
        self._feedback = ""
        if self._shaping:
            self._distance_before = float(self._distance())
        return self._observation(first=True), {"is_success": False, "optimal_steps": self._optimal}

    def step(self, action: Any):
        if self._discrete:
            moves = (int(action),)
            if not 0 <= moves[0] < self.num_actions:
                raise ValueError(f"action {action!r} is outside Discrete({self.num_actions})")
        else:
            parsed = self._parse(str(action))
            if isinstance(parsed, str):
                return self._format_error(parsed)
            moves = tuple(parsed)
        legal = True
        for move in moves:
            legal = self._move(move) and legal
        self._steps += 1
        solved = self._solved()
        reward = -self._step_cost
        if solved:
            reward += 1.0
        if not legal:
            reward -= self._illegal_penalty
        if self._shaping:
            distance = float(self._distance())
            reward += self._shaping_weight * (self._distance_before - distance)
            self._distance_before = distance
        if self._plan is not None:
            self._advance_plan(moves)
        if self._obs_mode in ("text", "multimodal"):
            self._feedback = self._describe(moves, legal, solved)
        return (
            self._observation(),
            reward,
            solved,
            False,
            {"is_success": solved, "illegal": not legal},
        )

    def render(self):
        if self.render_mode == "rgb_array":
            return self._image()
        if self.render_mode == "ansi":
            return self._ascii() + "\n"
        return None

    # -- ReasonEnv API ----------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "board": self._board_state(),
            "steps": self._steps,
            "optimal_steps": self._optimal,
            "distance": self._distance_before,
            "feedback": self._feedback,
            "rng": self._rng_state(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self._load_board(state["board"])
        self._steps = int(state["steps"])
        self._optimal = int(state["optimal_steps"])
        self._distance_before = float(state["distance"])
        self._feedback = str(state["feedback"])
        self._set_rng_state(state["rng"])
        self._plan = None

    def observe(self) -> Any:
        """The observation of the current state (e.g. after ``set_state``)."""
        return self._observation(first=self._steps == 0 and not self._feedback)

    def solve(self) -> list[Any] | None:
        """A solution plan from the current state, as actions of this env's action mode
        (optimal where the puzzle's solver is exact); ``[]`` if solved, None if unsolvable."""
        moves = self._solve_moves()
        if moves is None:
            return None
        return [self._action(m) for m in moves]

    def oracle_action(self) -> Any:
        """The next action of ``solve()``'s plan (cached while the agent follows it).

        From a dead end (e.g. a Sokoban box stuck in a corner) there is no plan; the oracle
        then plays the first legal move, so an oracle rollout never crashes.
        """
        key = self._codes().tobytes()
        if self._plan is None or self._plan_key != key or not self._plan:
            plan = self._solve_moves()
            if not plan:
                if plan is not None:
                    raise RuntimeError(f"{type(self).__name__}: already solved; reset the env")
                legal = [m for m in range(self.num_actions) if self._is_legal(m)]
                return self._action(legal[0] if legal else 0)
            self._plan, self._plan_key = list(plan), key
        return self._action(self._plan[0])

    # -- shared machinery -------------------------------------------------------------------
    def _action(self, move: int) -> Any:
        return int(move) if self._discrete else self._move_text(move)

    def _advance_plan(self, moves: tuple[int, ...]) -> None:
        if self._plan and moves == (self._plan[0],):
            self._plan = self._plan[1:]
            self._plan_key = self._codes().tobytes()
        else:
            self._plan = None

    def _format_error(self, message: str):
        self._steps += 1
        reward = -self._step_cost - self.config.format_penalty
        self._feedback = f"Format error: {message} The board did not change."
        info = {"is_success": False, "illegal": False, "format_error": message}
        return self._observation(), reward, False, False, info

    def _describe(self, moves: tuple[int, ...], legal: bool, solved: bool) -> str:
        """The feedback line of a text observation after a move."""
        said = ", ".join(self._move_text(m) for m in moves)
        if solved:
            return f"You played {said}. Solved in {self._steps} moves!"
        if not legal:
            return f"You played {said}: not a legal move here, so the board did not change."
        return f"You played {said}."

    def _observation_space(self) -> spaces.Space:
        cfg = self.config
        h, w = self.grid_shape
        text = UnicodeText(cfg.max_text_length)
        image = spaces.Box(0, 255, (cfg.image_size, cfg.image_size, 3), np.uint8)
        return {
            "multimodal": lambda: spaces.Dict({"text": text, "image": image}),
            "text": lambda: text,
            "image": lambda: image,
            "grid": lambda: spaces.Box(0, self.num_codes - 1, (h, w), np.int64),
            "onehot": lambda: spaces.Box(0.0, 1.0, (h * w * self.num_codes,), np.float32),
        }[cfg.observation_mode]()

    def _observation(self, first: bool = False) -> Any:
        mode = self._obs_mode
        if mode == "grid":
            return self._codes()
        if mode == "onehot":
            return self._onehot.take(self._codes().ravel(), axis=0).ravel()  # (H*W*K,)
        if mode == "image":
            return self._image()
        text = clip_text(self._text(first), self.config.max_text_length)
        if mode == "text":
            return text
        return {"text": text, "image": self._image()}

    def _text(self, first: bool) -> str:
        parts = [self._rules()] if first else [self._feedback]
        parts.append(f"Current board (after {self._steps} moves):\n{self._ascii()}")
        if self._solved():
            parts.append("The puzzle is solved.")
        else:
            parts.append(self._legal_text())
        return "\n\n".join(parts)

    def _image(self) -> np.ndarray:
        if self._renderer is None:
            shape = (self.config.image_size, self.config.image_size)
            size = sprite_size(self.grid_shape, shape)
            self._renderer = GridRenderer(
                self._sprites(size), self.grid_shape, shape, overlay=self._overlay(shape)
            )
        return self._renderer.draw(self._codes())
