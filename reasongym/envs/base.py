"""The contract every reasongym environment follows, on top of ``gymnasium.Env``.

Every family (text/code ``TextTaskEnv``, the grid puzzles ``PuzzleEnv``, ``ARCEnv``) is a
``ReasonEnv`` and keeps the same rules, written here once and checked for every registered id
by :func:`reasongym.envs.contract.check_contract`:

Configuration:
    ``Config`` is a pydantic model (``extra="forbid"``) of the keyword arguments. Registration
    validates YAML ``kwargs`` against it; ``__init__`` takes the same keywords plus
    ``render_mode``. Every family uses the same names: ``max_turns`` (the one step limit),
    ``max_attempts`` (answers allowed), ``max_observation_chars`` / ``max_action_chars`` (text
    bounds) and one ``reward:`` block (:mod:`reasongym.envs.rewards`). A retired name (e.g.
    ``step_cost``, ``format_penalty``, ``attempts``, ``max_text_length``) is a
    :class:`reasongym.ConfigError` that names its replacement.

Step limit:
    ``max_turns`` is the only step limit: the env truncates itself after that many steps, so
    ``gym.make(env_id, max_turns=10)`` gives 10 steps. YAML files do not set gymnasium's
    ``max_episode_steps``; one passed to ``gym.make`` explicitly lowers the env's own limit
    (``max_turns`` is the smaller of the two, see :class:`TimeLimitSync`), so the
    ``TimeLimit``'s truncation is the end here too.

Rewards:
    Every number in ``reward:`` is a signed reward that is *added* to the step's reward
    (penalties are negative: ``format_error: -0.1``, ``per_step: -0.01``; penalty fields
    reject positive values). Nothing is paid twice: the answers of one episode together earn
    the value of its best answer (each pays only its improvement), a solving move pays once
    (it ends the episode), a process reward (``tool_success``) is paid once per distinct
    result and at most ``correct`` per episode in all, and rewards are finite (a non-finite
    term pays 0).

After the episode ends:
    Once a step returned ``terminated`` or ``truncated``, every further ``step`` (with any
    action) returns reward ``0.0``, the same ``terminated``/``truncated`` flags, an observation
    saying that the episode is over (text modes; other modes repeat the final observation),
    ``info["episode_over"] = True``, and changes nothing. It never raises. Call ``reset()``.

Info:
    Every ``reset`` and ``step`` info has ``task_id`` (str), ``turn`` (steps taken),
    ``verdict`` (a ``Verdict.to_dict()`` for a judged answer, else None) and ``is_success``
    (bool). Text envs add ``messages`` and ``action`` (the parsed action). Family extras share
    their names too: ``format_error`` (the message, when an action could not be read),
    ``attempts_left`` (envs that judge answers), ``optimal_steps`` (puzzles, at reset),
    ``episode_over`` (a step after the end).

Reset options:
    ``reset(options={"task_index": i})`` poses task ``i`` deterministically (whatever the
    seed), in every family. ``options`` must be None or a dict whose only key is
    ``task_index``; the index must be an ``int`` (not a bool, not 1.5) in
    ``[0, num_tasks)`` (any ``i >= 0`` below 2**62 when ``num_tasks`` is None). Anything else
    raises ``ValueError``/``TypeError`` naming the fix (options come from the caller, not the
    policy).

Tasks:
    ``num_tasks`` (None for unbounded procedural sources) and ``task_row(i)``: a plain-data
    row ``{prompt, messages, answer, task_id, task_index, tools}`` for trainers and datasets
    (see :func:`reasongym.tasks`), computed without disturbing the current episode.

Actions and tools:
    ``is_final(action)`` says whether stepping ``action`` now would end the episode (an answer,
    a solving move, or the last turn), so search needs no knowledge of the grammar.
    ``stop_strings`` are the strings after which a completion holds one whole action.
    ``tools`` is the list of :class:`reasongym.envs.tools.spec.ToolSpec` the env offers
    (name, description, JSON Schema, callable); the prompt's tool section is rendered from it.

Search support:
    ``get_state()`` / ``set_state(state)``: a deep, plain-data snapshot of the whole episode
    (task, transcript, board, turn counter, end flags and the RNG) so search can branch.
    ``oracle_action()`` (optional): an action towards the gold solution.

Subclasses implement the hooks ``_reset(task_index)``, ``_step(action)``,
``_snapshot()``/``_restore(data)`` and ``_ended_observation(message)``; the base class does the
bookkeeping (turn counter, step limit, after-end rule, option checks, common info keys).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TypedDict

import gymnasium as gym
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from reasongym.errors import ConfigError

#: Upper bound of ``task_index`` for unbounded (procedural) task sets.
MAX_TASK_INDEX = 2**62

#: Task sets at least this large are reported as unbounded (``num_tasks`` None).
UNBOUNDED_TASKS = 2**31

#: The observation text of a step taken after the episode ended.
EPISODE_OVER = "The episode is over; nothing more is paid. Call reset() to start a new one."


class EnvConfig(BaseModel):
    """Base of env config models: unknown keys are errors, never silently dropped.

    ``renamed`` maps retired key names to the message that names their replacement.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    renamed: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _reject_renamed(cls, data: Any) -> Any:
        found = retired_keys(cls, data)
        if found:
            raise ValueError("; ".join(found))
        return data


def retired_keys(model: type[BaseModel], data: Any, prefix: str = "") -> list[str]:
    """Messages for every retired key in ``data`` (and in its nested config blocks)."""
    if not isinstance(data, dict):
        return []
    found = [
        f"{prefix}{old} is no longer a key: {hint}"
        for old, hint in getattr(model, "renamed", {}).items()
        if old in data
    ]
    for name, info in model.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel) and name in data:
            found += retired_keys(nested, data[name], prefix=f"{prefix}{name}.")
    return found


#: Renames shared by every family (their replacement names are the same everywhere).
COMMON_RENAMES: dict[str, str] = {
    "max_text_length": "use max_observation_chars and max_action_chars",
    "attempts": "use max_attempts",
    "step_cost": "use reward.per_step (a signed reward: step_cost 0.01 is per_step -0.01)",
    "format_penalty": "use reward.format_error (signed: format_penalty 0.01 is -0.01)",
    "illegal_penalty": "use reward.illegal_move (signed: illegal_penalty 0.01 is -0.01)",
    "shaping": "use reward.shaping",
    "shaping_weight": "use reward.shaping_weight",
    "partial_credit": "use reward.partial_credit",
    "max_episode_steps": "use max_turns (the one step limit)",
}


@dataclass
class EpisodeStatus:
    """The bookkeeping the base class keeps for every family (part of every snapshot)."""

    started: bool = False
    turn: int = 0
    terminated: bool = False
    truncated: bool = False
    is_success: bool = False
    task_id: str = ""
    task_index: int | None = None


@dataclass
class StepOutcome:
    """What a family's ``_step`` hook returns; the base class adds truncation and info keys.

    Attributes:
        observation: the next observation.
        reward: the step's reward (already including every configured term).
        terminated: the episode ended by the family's own rule (solved, answered, ...).
        verdict: the judged answer's ``Verdict.to_dict()``, or None.
        is_success: whether the task is solved after this step.
        info: extra family-specific info keys.
    """

    observation: Any
    reward: float
    terminated: bool = False
    verdict: dict[str, Any] | None = None
    is_success: bool = False
    info: dict[str, Any] = field(default_factory=dict)


class EnvSnapshot(TypedDict):
    """What ``get_state`` returns: plain data (JSON-able for the grid families, picklable
    always), typed by key."""

    status: dict[str, Any]  # EpisodeStatus as a dict: turn, end flags, success, task id/index
    data: Any  # the family's part (``_snapshot``): transcript, board, attempts, ...
    rng: dict[str, Any] | None  # the bit generator's state (None before the first reset)


class ReasonEnv(gym.Env):
    """Base class of reasongym environments; the contract is the module docstring."""

    Config: ClassVar[type[EnvConfig]] = EnvConfig
    config: Any

    _status: EpisodeStatus

    # -- the contract ------------------------------------------------------------------------
    #: A ``TimeLimit``'s step limit over this env (set by :class:`TimeLimitSync`), or None.
    wrapper_step_limit: int | None = None

    @property
    def max_turns(self) -> int:
        """The step limit: ``config.max_turns``, or a smaller ``max_episode_steps`` of the
        env's spec or of a ``TimeLimit`` over it (``gym.make(id, max_episode_steps=N)``), so
        the wrapper's truncation is the env's own end too and the after-end rule applies."""
        limit = int(self.config.max_turns)
        for steps in (getattr(self.spec, "max_episode_steps", None), self.wrapper_step_limit):
            if _positive_int(steps):
                limit = min(limit, int(steps))
        return limit

    @property
    def stop_strings(self) -> tuple[str, ...]:
        """Strings after which one completion holds one whole action."""
        from reasongym.envs import actions

        return tuple(getattr(actions, "STOP_STRINGS", ("</tool>", "</answer>")))

    @property
    def tools(self) -> list[Any]:
        """The typed tools (``ToolSpec``) this env offers, including its answer tool."""
        return []

    @property
    def num_tasks(self) -> int | None:
        """How many tasks ``reset(options={"task_index": i})`` accepts; None if unbounded."""
        return None

    def is_final(self, action: Any) -> bool:
        """Would stepping ``action`` now end the episode? Never raises.

        The default asks the env itself: it steps a snapshot and restores it, so it is exact
        for any grammar. Families with expensive steps (sandboxed code) override it.
        """
        status = getattr(self, "_status", None)
        if status is None or not status.started:
            return False
        if status.terminated or status.truncated or status.turn + 1 >= self.max_turns:
            return True
        snapshot = self.get_state()
        try:
            _, _, terminated, truncated, _ = self.step(action)
            return bool(terminated or truncated)
        except Exception:  # noqa: BLE001 - a hostile action must not crash search
            return False
        finally:
            self.set_state(snapshot)

    def task_row(self, index: int) -> dict[str, Any]:
        """Task ``index`` as a plain-data row: ``prompt``, ``messages``, ``answer``,
        ``task_id``, ``task_index`` and ``tools`` (OpenAI tool dicts). The current episode
        is left as it was."""
        saved = self.get_state() if getattr(self, "_status", None) is not None else None
        try:
            obs, info = self.reset(options={"task_index": index})
            prompt = self._prompt_text(obs)
            return {
                "prompt": prompt,
                "messages": [{"role": "user", "content": prompt}],
                "answer": self._row_answer(),
                "task_id": str(info["task_id"]),
                "task_index": int(index),
                "tools": [spec.to_openai() for spec in self.tools],
            }
        finally:
            if saved is not None:
                self.set_state(saved)

    # -- gymnasium API (the bookkeeping of the contract) ---------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if type(self)._reset is ReasonEnv._reset:
            # an env written before these hooks overrides reset() and calls super() to seed
            return super().reset(seed=seed)
        index = self._task_index_option(options)  # before seeding: a bad call changes nothing
        super().reset(seed=seed)
        self._status = EpisodeStatus(started=True, task_index=index)
        obs, info = self._reset(index)
        return obs, self._fresh_info(info, verdict=None)

    def step(self, action: Any):
        status = getattr(self, "_status", None)
        if status is None or not status.started:
            raise gym.error.ResetNeeded("call reset() before step()")
        if status.terminated or status.truncated:
            info = self._fresh_info({"episode_over": True}, verdict=None)
            obs = self._ended_observation(EPISODE_OVER)
            return obs, 0.0, status.terminated, status.truncated, info
        status.turn += 1
        outcome = self._step(action)
        terminated = bool(outcome.terminated)
        truncated = not terminated and status.turn >= self.max_turns
        status.terminated, status.truncated = terminated, truncated
        status.is_success = bool(outcome.is_success)
        if terminated or truncated:
            self._episode_ended(status.is_success)
        reward = float(outcome.reward)
        if not np.isfinite(reward):  # a configured or computed term went wrong: pay nothing
            reward = 0.0
        info = self._fresh_info(outcome.info, verdict=outcome.verdict)
        if self.render_mode == "human":
            self.render()
        return outcome.observation, reward, terminated, truncated, info

    # -- hooks a family implements -------------------------------------------------------------
    def _reset(self, task_index: int | None) -> tuple[Any, dict[str, Any]]:
        """Pose task ``task_index`` (or draw one from ``self.np_random`` when None); set
        ``self._status.task_id``; return the first observation and extra info."""
        raise NotImplementedError

    def _step(self, action: Any) -> StepOutcome:
        """Apply one action of a running episode (the turn counter is already advanced)."""
        raise NotImplementedError

    def _snapshot(self) -> Any:
        """The family's part of ``get_state`` (plain data, deep-copied)."""
        raise NotImplementedError

    def _restore(self, data: Any) -> None:
        """Restore a ``_snapshot``."""
        raise NotImplementedError

    def _episode_ended(self, success: bool) -> None:
        """Called once when a step ends the episode (terminated or truncated); curricula
        count episodes here. The default does nothing."""

    def _ended_observation(self, message: str) -> Any:
        """The observation of a step after the end: ``message`` in text modes."""
        return message

    def _task_index_bound(self) -> int:
        """``task_index`` must be below this: ``num_tasks``, or a large index space."""
        total = self.num_tasks
        return MAX_TASK_INDEX if total is None else total

    def _prompt_text(self, observation: Any) -> str:
        """The text of a reset observation (for ``task_row``)."""
        if isinstance(observation, dict):
            observation = observation.get("text", "")
        return observation if isinstance(observation, str) else ""

    def _row_answer(self) -> str:
        """The gold answer of the current task, as text (for ``task_row``)."""
        return ""

    # -- search support -------------------------------------------------------------------------
    def get_state(self) -> EnvSnapshot:
        """A deep, plain-data snapshot of the episode: ``{"status", "data", "rng"}`` (the base
        bookkeeping, the family's part, the RNG state); see ``set_state``."""
        status = getattr(self, "_status", None) or EpisodeStatus()
        rng = self._rng_state() if self._np_random is not None else None
        return EnvSnapshot(status=asdict(status), data=self._snapshot(), rng=rng)

    def set_state(self, state: EnvSnapshot) -> None:
        """Restore a snapshot taken by ``get_state`` (the snapshot is not aliased)."""
        if not isinstance(state, dict) or set(state) != {"status", "data", "rng"}:
            raise TypeError(
                "set_state expects the dict that get_state() returned "
                f"(keys status, data, rng), got {type(state).__name__}"
            )
        self._status = EpisodeStatus(**state["status"])
        self._restore(copy.deepcopy(state["data"]))
        if state["rng"] is not None:
            self._set_rng_state(state["rng"])

    def oracle_action(self) -> Any:
        """An action on the way to the gold solution (for the ``oracle`` agent)."""
        raise NotImplementedError(f"{type(self).__name__} has no oracle")

    # -- helpers for subclasses -------------------------------------------------------------
    def _configure(self, render_mode: str | None, kwargs: dict[str, Any]) -> None:
        """Check ``render_mode`` against ``metadata["render_modes"]`` and validate ``kwargs``
        into ``self.config`` (a ``ConfigError`` names the bad key and the fix)."""
        modes = self.metadata.get("render_modes", [])
        if render_mode is not None and render_mode not in modes:
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; use one of {modes} or None"
            )
        self.render_mode = render_mode
        try:
            self.config = self.Config.model_validate(kwargs)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                key = ".".join(str(part) for part in err["loc"])
                msg = str(err["msg"]).removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    msg = f"unknown key; valid keys: {sorted(self.Config.model_fields)}"
                problems.append((key, msg))
            raise ConfigError(f"{type(self).__name__} kwargs", problems) from None
        self._status = EpisodeStatus()

    def _task_index_option(self, options: Any) -> int | None:
        """Check ``reset``'s ``options`` (see the module docstring) and return the index."""
        if options is None:
            return None
        if not isinstance(options, dict):
            raise TypeError(
                f"reset(options=...) takes a dict such as {{'task_index': 0}} or None, "
                f"got {type(options).__name__}"
            )
        unknown = sorted(str(key) for key in options if key != "task_index")
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; the only option is 'task_index'")
        if "task_index" not in options:
            return None
        index = options["task_index"]
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"task_index must be an int, got {index!r} ({type(index).__name__})")
        index = int(index)
        bound = self._task_index_bound()
        if not 0 <= index < bound:
            raise ValueError(f"task_index {index} is out of range [0, {bound})")
        return index

    def _fresh_info(self, extra: dict[str, Any], verdict: dict[str, Any] | None) -> dict:
        """The info of one reset/step: the common keys, never sharing an object with an
        earlier info or with the env (users keep infos; a policy must not edit the env)."""
        return _fresh_copy(self._common_info(extra, verdict))

    def _common_info(self, extra: dict[str, Any], verdict: dict[str, Any] | None) -> dict:
        status = self._status
        info = dict(extra)
        info.update(
            task_id=status.task_id,
            turn=status.turn,
            verdict=verdict,
            is_success=status.is_success,
        )
        return info

    def _rng_state(self) -> dict[str, Any]:
        return copy.deepcopy(self.np_random.bit_generator.state)

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        generator = getattr(np.random, state["bit_generator"])()
        generator.state = copy.deepcopy(state)
        self._np_random = np.random.Generator(generator)


class TimeLimitSync(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Tells the reasongym env beneath the step limit of the wrappers between them.

    gymnasium's ``make(id, max_episode_steps=N)`` puts a ``TimeLimit`` over the env and leaves
    the env's own spec without ``N``, so the env would not know that the episode ended there,
    and later steps would still pay. Registration lists this wrapper in every reasongym id's
    ``additional_wrappers``, which ``make`` applies over the ``TimeLimit``: it reads the limit
    from the spec of the chain beneath (the ``TimeLimit`` writes it there) and hands it to
    the env (``ReasonEnv.wrapper_step_limit``), whose ``max_turns`` is then the smaller one.
    It changes no step or reset.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        inner = env.unwrapped
        steps = getattr(env.spec, "max_episode_steps", None)
        if isinstance(inner, ReasonEnv) and _positive_int(steps):
            inner.wrapper_step_limit = int(steps)


def _positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


_IMMUTABLE = (str, int, float, bool, bytes, type(None), np.generic)


def _fresh_copy(value: Any) -> Any:
    """A copy of plain data that shares no container with ``value`` (faster than deepcopy:
    immutable leaves are kept, arrays copied, anything else deep-copied)."""
    if isinstance(value, _IMMUTABLE):
        return value
    if type(value) is dict:
        return {key: _fresh_copy(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_fresh_copy(item) for item in value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)
