"""``PuzzleEnv``: the shared loop of the grid puzzles (observations, actions, rewards, state).

A puzzle file subclasses ``PuzzleEnv`` and implements the board: generate an instance from
``self.np_random``, apply a move, say when it is solved, draw itself as a grid of codes and as
ASCII, parse a move written in words, and solve itself from the current state. Everything else
(the spaces, rewards, text prompts, rendering, get_state/set_state, the oracle) lives here, so
each puzzle reads as the rules of the game only.

Instances are numbered: ``reset(options={"task_index": i})`` builds instance ``i`` from a
generator seeded with ``i`` alone (so it is the same instance whatever the env's seed), and a
plain ``reset()`` draws ``i`` from ``self.np_random``. ``info["task_id"]`` names the instance.
Episode rules (step limit ``max_turns``, what happens after the end, info keys) are
:class:`reasongym.envs.base.ReasonEnv`'s.

Moves are the discrete action indices ``0 .. num_actions - 1`` in both action modes: text
actions are parsed into them, and ``solve()`` plans in them (converted back to words in text
mode).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium import spaces
from pydantic import Field, model_validator

from reasongym.envs.actions import ToolCall, parse_action
from reasongym.envs.base import COMMON_RENAMES, MAX_TASK_INDEX, EnvConfig, ReasonEnv, StepOutcome
from reasongym.envs.curriculum import CurriculumSpec
from reasongym.envs.puzzles.render import GridRenderer, sprite_size
from reasongym.envs.puzzles.variants import InstancesSpec, PuzzleVariants, check_variants
from reasongym.envs.rewards import PuzzleRewardSpec
from reasongym.envs.tools.spec import ToolSpec, move_spec
from reasongym.envs.types import ToolResult
from reasongym.spaces import UnicodeText, clip_text

ObservationMode = Literal["multimodal", "text", "image", "grid", "onehot"]
ActionMode = Literal["text", "discrete"]

#: The name of the puzzles' move tool (native tool calls and ``env.tools``).
MOVE_TOOL = "move"


class PuzzleConfig(EnvConfig):
    """Options shared by every grid puzzle (each puzzle adds its difficulty knobs)."""

    renamed = COMMON_RENAMES
    #: The easiest setting of this puzzle's difficulty knobs (where an RL agent with default
    #: hyper-parameters learns; see bench/baselines.py). Its keys outside ``FIXED_KEYS`` of
    #: puzzles/variants.py are the first rung of a curriculum.
    easiest: ClassVar[dict[str, Any]] = {}

    observation_mode: ObservationMode = Field(
        "multimodal",
        description="multimodal: {'text', 'image'}; text: rules + ASCII board; image: uint8 "
        "(S, S, 3) board; grid: (H, W) int64 cell codes; onehot: (H*W*K,) float32 for MLPs",
    )
    action_mode: ActionMode = Field(
        "text", description="text: moves in words (for LLMs); discrete: Discrete(n) (for RL)"
    )
    action_format: Literal["tags", "native"] = Field(
        "tags",
        description="text actions: tags = moves in words (optionally in <answer>); native = "
        "OpenAI-style calls of the move tool (JSON string or dict)",
    )
    image_size: int = Field(84, ge=16, le=2048, description="side of the rendered image")
    reward: PuzzleRewardSpec = Field(default_factory=PuzzleRewardSpec)
    max_turns: int = Field(100, ge=1, le=100_000, description="the one step limit")
    max_observation_chars: int = Field(8192, ge=256, description="max length of text obs")
    max_action_chars: int = Field(8192, ge=16, description="max length of text actions")
    instances: InstancesSpec | None = Field(
        None, description="fixed instances from a text file (see envs/puzzles/variants.py)"
    )
    curriculum: CurriculumSpec | None = Field(
        None, description="difficulty knobs per level, e.g. levels: [{scramble: 4}, {scramble: 12}]"
    )

    @model_validator(mode="after")
    def _check_variants(self) -> PuzzleConfig:
        check_variants(self)  # instances parse, curriculum levels are valid knobs
        return self


class PuzzleEnv(ReasonEnv):
    """Base of the grid puzzles; subclasses implement the ``_board`` hooks below.

    Rewards (``reward:``, all signed and added): ``correct`` on the solving step,
    ``per_step`` every step, ``illegal_move`` for an illegal move (a no-op), ``format_error``
    for an unparseable text action (a no-op), plus optional potential-based shaping.
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
            else UnicodeText(cfg.max_action_chars)
        )
        self.observation_space = self._observation_space()
        self._obs_mode = cfg.observation_mode
        self._onehot = np.eye(self.num_codes, dtype=np.float32)
        self._renderer: GridRenderer | None = None
        self._optimal = 0
        self._distance_before = 0.0
        self._feedback = ""
        self._plan: list[int] | None = None  # the oracle's cached plan (see ``oracle_action``)
        self._plan_key: bytes = b""
        self._variants = PuzzleVariants(self)  # instances from a file, curriculum

    @property
    def num_tasks(self) -> int | None:
        return self._variants.num_tasks

    def _episode_ended(self, success: bool) -> None:
        self._variants.end_episode(success)

    def _common_info(self, extra: dict[str, Any], verdict: dict[str, Any] | None) -> dict:
        return {**super()._common_info(extra, verdict), **self._variants.info()}

    @property
    def _steps(self) -> int:
        return self._status.turn

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

    # -- the contract ------------------------------------------------------------------------
    @property
    def tools(self) -> list[ToolSpec]:
        """Text modes: the ``move`` tool (moves written as in the rules); discrete: none."""
        if self._discrete:
            return []
        return [
            move_spec(
                f"Play your next move(s) in the {self.title}; the episode ends when it is solved.",
                name=MOVE_TOOL,
                about="the move(s), written as the rules say (e.g. one of the legal moves)",
                fn=self._tool_move,
            )
        ]

    def is_final(self, action: Any) -> bool:
        """Exact (the move is tried on a snapshot); the oracle's cached plan survives it."""
        plan, key = self._plan, self._plan_key
        try:
            return super().is_final(action)
        finally:
            self._plan, self._plan_key = plan, key

    def _tool_move(self, move: str) -> ToolResult:
        obs, *_ = self.step(ToolCall(MOVE_TOOL, move))
        return ToolResult(self._prompt_text(obs))

    def _row_answer(self) -> str:
        plan = self.solve()
        if plan is None:
            return ""
        return ", ".join(str(a) for a in plan)

    # -- the episode --------------------------------------------------------------------------
    def _reset(self, task_index: int | None) -> tuple[Any, dict[str, Any]]:
        if task_index is None:
            task_index = int(self.np_random.integers(self.num_tasks or MAX_TASK_INDEX))
        episode_rng = self._np_random
        self._np_random = np.random.Generator(np.random.PCG64(task_index))
        try:
            self._optimal = int(self._variants.generate(task_index))
        finally:
            self._np_random = episode_rng
        self._status.task_id = f"{self.title.replace(' ', '-')}-{task_index}"
        self._status.task_index = task_index
        self._plan = None
        self._feedback = ""
        if self.config.reward.shaping:
            self._distance_before = float(self._distance())
        return self._observation(first=True), {"optimal_steps": self._optimal}

    def _step(self, action: Any) -> StepOutcome:
        reward_spec = self.config.reward
        if self._discrete:
            try:
                move = int(action)
                ok = int(np.asarray(action).size) == 1 and float(action) == move
            except (TypeError, ValueError, OverflowError):
                ok, move = False, -1
            if not ok or not 0 <= move < self.num_actions:
                return self._format_error(
                    f"action {str(action)[:80]!r} is not in Discrete({self.num_actions})"
                )
            moves: tuple[int, ...] = (move,)
        else:
            text = self._action_text(action)
            parsed = self._parse(text) if text is not None else self._native_problem(action)
            if isinstance(parsed, str):
                return self._format_error(parsed)
            moves = tuple(parsed)
        legal = True
        for move in moves:
            legal = self._move(move) and legal
        solved = bool(self._solved())
        reward = reward_spec.per_step
        if solved:
            reward += reward_spec.correct
        if not legal:
            reward += reward_spec.illegal_move
        if reward_spec.shaping:
            distance = float(self._distance())
            reward += reward_spec.shaping_weight * (self._distance_before - distance)
            self._distance_before = distance
        if self._plan is not None:
            self._advance_plan(moves)
        if self._obs_mode in ("text", "multimodal"):
            self._feedback = self._describe(moves, legal, solved)
        return StepOutcome(
            observation=self._observation(),
            reward=reward,
            terminated=solved,
            is_success=solved,
            info={"illegal": not legal},
        )

    def _action_text(self, action: Any) -> str | None:
        """The text of a text-mode action: the string itself (tags) or the ``move`` argument
        of a move-tool call (native, a dict, or the tool's callable); None when a native
        action is not such a call."""
        if isinstance(action, ToolCall):
            return action.argument if action.name == MOVE_TOOL else None
        if isinstance(action, str) and self.config.action_format == "tags":
            return action
        parsed = parse_action(
            action,
            action_format="native",
            tools=self.tools,
            max_chars=self.config.max_action_chars,
        )
        if isinstance(parsed, ToolCall) and parsed.name == MOVE_TOOL:
            return parsed.argument
        return None

    def _native_problem(self, action: Any) -> str:
        return (
            f'call the {MOVE_TOOL} tool, e.g. {{"name": "{MOVE_TOOL}", "arguments": '
            f'{{"move": "..."}}}}'
        )

    def render(self):
        if self.render_mode == "rgb_array":
            return self._image()
        if self.render_mode == "ansi":
            return self._ascii() + "\n"
        return None

    # -- ReasonEnv API ----------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        return {
            "board": self._board_state(),
            "optimal_steps": self._optimal,
            "distance": self._distance_before,
            "feedback": self._feedback,
            "variants": self._variants.snapshot(),
        }

    def _restore(self, data: dict[str, Any]) -> None:
        self._load_board(data["board"])
        self._optimal = int(data["optimal_steps"])
        self._distance_before = float(data["distance"])
        self._feedback = str(data["feedback"])
        self._plan = None
        self._variants.restore(data.get("variants"))

    def _ended_observation(self, message: str) -> Any:
        if self._obs_mode == "text":
            return clip_text(message, self.config.max_observation_chars)
        if self._obs_mode == "multimodal":
            return {
                "text": clip_text(message, self.config.max_observation_chars),
                "image": self._image(),
            }
        return self._observation()

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
        if self._discrete:
            return int(move)
        text = self._move_text(move)
        if self.config.action_format == "native":
            return json.dumps({"name": MOVE_TOOL, "arguments": {"move": text}})
        return text

    def _advance_plan(self, moves: tuple[int, ...]) -> None:
        if self._plan and moves == (self._plan[0],):
            self._plan = self._plan[1:]
            self._plan_key = self._codes().tobytes()
        else:
            self._plan = None

    def _format_error(self, message: str) -> StepOutcome:
        spec = self.config.reward
        self._feedback = f"Format error: {message} The board did not change."
        return StepOutcome(
            observation=self._observation(),
            reward=spec.per_step + spec.format_error,
            terminated=False,
            is_success=False,
            info={"illegal": False, "format_error": message},
        )

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
        text = UnicodeText(cfg.max_observation_chars)
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
        text = clip_text(self._text(first), self.config.max_observation_chars)
        if mode == "text":
            return text
        return {"text": text, "image": self._image()}

    def _text(self, first: bool) -> str:
        parts = [self._rules()] if first else [self._feedback]
        if first and self.config.action_format == "native":
            parts[0] += (
                f' Send your move(s) as a call of the {MOVE_TOOL} tool: {{"name": "{MOVE_TOOL}", '
                '"arguments": {"move": "..."}}.'
            )
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

    # -- latent state, for world models (additive hooks; see reasongym.world_models) ---------
    def latent_state(self) -> np.ndarray:
        """The board as a fresh ``grid_shape`` int64 array of cell codes: the state a learned
        world model predicts, whatever the observation mode."""
        return self._codes()

    def latent_moves(self, action: Any) -> list[int] | str:
        """The moves ``action`` makes in this env's action mode, or the format-error message
        the env would answer it with (such an action never changes the board). Never raises."""
        try:
            if self._discrete:
                move = int(action)
                if float(action) == move and 0 <= move < self.num_actions:
                    return [move]
                return f"action {str(action)[:80]!r} is not in Discrete({self.num_actions})"
            text = self._action_text(action)
            parsed = self._parse(text) if text is not None else self._native_problem(action)
        except Exception as exc:  # noqa: BLE001 - a hostile action is a format error
            return f"the action could not be read ({type(exc).__name__})"
        return parsed if isinstance(parsed, str) else [int(m) for m in parsed]

    def action_of_move(self, move: int) -> Any:
        """Move ``move`` (``0 .. num_actions - 1``) written as an action of this env's mode."""
        return self._action(int(move))

    def observation_from_latent(
        self, latent: Any, *, action: Any = None, legal: bool = True, turn: int = 0
    ) -> Any:
        """This env's observation of a board given as cell codes (``latent_state()``'s form),
        so a model that predicts boards is seen in the env's own observation mode.

        ``action=None`` renders a first observation (with the rules); otherwise the
        observation after ``action`` as a step shows it, with its feedback line (``legal``:
        whether the move changed the board), after ``turn`` moves. The episode is unchanged.
        """
        codes = np.clip(
            np.asarray(latent, np.int64).reshape(self.grid_shape), 0, self.num_codes - 1
        )
        saved = self.get_state()
        try:
            self._load_codes(codes)
            self._status.turn = int(turn)
            if action is None:
                self._feedback = ""
                return self._observation(first=True)
            moves = self.latent_moves(action)
            if isinstance(moves, str):
                return self._format_error(moves).observation
            self._feedback = self._describe(tuple(moves), legal, bool(self._solved()))
            return self._observation()
        finally:
            self.set_state(saved)

    def _load_codes(self, codes: np.ndarray) -> None:
        """Set the board from ``grid_shape`` cell codes (the inverse of ``_codes``), for
        ``observation_from_latent``; the parts codes do not show (a Sudoku's solution) stay."""
        raise NotImplementedError(f"{type(self).__name__} cannot load a board from cell codes")
