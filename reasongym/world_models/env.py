"""``WorldModelEnv``: a fitted world model exposed as a gymnasium env with the real env's spaces.

    from reasongym.world_models import WorldModelEnv, load_world_model
    env = WorldModelEnv(load_world_model("models/maze"), "reasongym/MazeDiscrete-v0")
    obs, info = env.reset(seed=0)          # a real reset: start states come from the real env
    obs, reward, terminated, truncated, info = env.step(1)   # the model's prediction

* Spaces, time limit and start states are the reference env's (``gym.make(reference_env_id)``
  with the model's kwargs, overridden by ``env_kwargs``), so Stable-Baselines3 trains in it
  unchanged; ``real_resets`` counts the real resets it used.
* Steps come from ``model.predict``; the model is deterministic, so predictions are memoised
  (``cache_size`` entries) and replaying a branch costs nothing. The cache is dropped when the
  model is refitted (its ``version`` changes).
* ``get_state`` / ``set_state`` snapshot the simulated episode (:class:`WorldModelState`), and
  ``set_state`` also accepts a snapshot of the *real* env (``real.get_state()``): the search
  agents (BoN, beam, MCTS) pass ``search_env=WorldModelEnv(...)`` and plan inside the model
  from the real env's current state, unchanged.
* Rewards keep the reference env's contract, so a model error is never a farmable cycle.
  On a grid puzzle whose predicted board is known (a grid model, or grid/one-hot
  observations), reward and termination come from the env's own rules on that board
  (solved, illegal move = board unchanged, potential-based shaping), not from the model's
  reward head. Otherwise the predicted reward is clipped: a step the model does not end pays
  at most ``per_step`` (no partial credit, tool or shaping reward that a loop could
  collect), and ``correct`` (plus the shaping an episode can earn) only with predicted
  termination; nothing pays less than the sum of the env's penalties.
* ``info["is_success"]`` is True when the episode ends with a positive reward (solved
  puzzles, correct answers).
* Any observation mode: a grid model predicts the puzzle's *latent* board (cell codes). When
  the reference env shows something else (``multimodal``, ``text``, ``image``), the predicted
  board is rendered through the env's own observation function
  (``observation_from_latent``), so an LLM agent sees the world model as it sees the env.
  Actions are read by the env's own parser (``latent_moves``): one that is not a move is the
  env's format error (board unchanged, the env's ``format_error`` reward) without asking the
  model; an action of several moves is predicted move by move.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from reasongym.envs.base import ReasonEnv
from reasongym.envs.puzzles.base import PuzzleEnv
from reasongym.world_models.base import WorldModel


@dataclass
class WorldModelState:
    """A snapshot of a simulated episode.

    Attributes:
        obs: the latest observation (a numpy array or a string; copied on get/set).
        context: what the model conditions on: ``obs`` for Markov models, the episode's
            first observation (the task prompt) for outcome models.
        steps: steps taken in the episode.
        done: the episode ended (terminated or truncated).
        rng: the env's ``np_random`` state.
        latent: the predicted board (grid codes) when the model simulates the latent state
            of an env that shows another observation; else None.
        task_id: the task of the real reset the episode started from.
    """

    obs: Any
    context: Any
    steps: int = 0
    done: bool = False
    rng: dict[str, Any] | None = None
    latent: Any = None
    task_id: str = ""


class WorldModelEnv(ReasonEnv):
    """A gymnasium env whose steps come from a world model (see the module docstring).

    Args:
        model: a fitted :class:`~reasongym.world_models.base.WorldModel`.
        reference_env_id: the real env it stands in for (spaces, time limit, start states).
        env_kwargs: overrides for ``gym.make(reference_env_id)``; when the id is the model's
            own, they are applied over the model's recorded kwargs (e.g.
            ``{"observation_mode": "grid"}`` to plan on grid codes with a model fitted on
            one-hot data).
        max_episode_steps: time limit (default: the reference env's).
        cache_size: memoised predictions (0: no cache).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        model: WorldModel,
        reference_env_id: str,
        *,
        env_kwargs: dict[str, Any] | None = None,
        max_episode_steps: int | None = None,
        cache_size: int = 200_000,
    ):
        import reasongym  # noqa: F401 - registers the ids

        if not isinstance(model, WorldModel):
            raise TypeError(f"model must be a WorldModel, not {type(model).__name__}")
        kwargs = dict(env_kwargs or {})
        if reference_env_id == model.env_id:
            kwargs = {**model.env_kwargs, **kwargs}
        self.model = model
        self.reference_env_id = reference_env_id
        self.reference = gym.make(reference_env_id, **kwargs)
        self.observation_space = self.reference.observation_space
        self.action_space = self.reference.action_space
        spec = self.reference.spec
        self.max_episode_steps = (
            max_episode_steps
            or (spec.max_episode_steps if spec else None)
            or getattr(self.reference.unwrapped, "max_turns", None)  # the env's own step limit
        )
        self._check_model_fits()
        self.latent = self._simulates_latent()
        self._board_spec = self._board_of_observations()
        # the reference env's rules judge each predicted board (see ``_judge``)
        self._has_rules = _judges_boards(self.reference.unwrapped) and (
            self.latent or self._board_spec is not None
        )
        self.cache_size = cache_size
        self._cache: dict[tuple[Any, Any], tuple[Any, float, bool]] = {}
        self._cache_version = getattr(model, "version", 0)
        self.real_resets = 0
        self.model_steps = 0
        self._state: WorldModelState | None = None

    def _check_model_fits(self) -> None:
        spec = getattr(self.model, "spec", None)
        if spec is None:
            return
        from reasongym.world_models.grid import GridSpec

        ours = GridSpec.from_env(self.reference)
        if ours != spec:
            raise ValueError(
                f"the model simulates a {spec.grid_shape} board with {spec.num_codes} codes and "
                f"{spec.num_actions} actions, but {self.reference_env_id} has {ours.grid_shape}, "
                f"{ours.num_codes} and {ours.num_actions}; pass env_kwargs matching the "
                f"training data (the model was fitted on {self.model.env_id} "
                f"{self.model.env_kwargs})"
            )

    def _simulates_latent(self) -> bool:
        """A grid model on an env whose observations are not its grid codes (or one-hot)."""
        spec = getattr(self.model, "spec", None)
        if spec is None or not hasattr(spec, "grid_shape"):
            return False
        h, w = spec.grid_shape
        space = self.observation_space
        if isinstance(space, gym.spaces.Box) and space.shape in ((h, w), (h * w * spec.num_codes,)):
            return False
        inner = self.reference.unwrapped
        if not callable(getattr(inner, "observation_from_latent", None)):
            raise TypeError(
                f"{self.reference_env_id} shows {space}, and {type(inner).__name__} has no "
                "observation_from_latent() to render the model's predicted board"
            )
        return True

    def _board_of_observations(self) -> Any:
        """The :class:`GridSpec` that reads a board out of the observations, when the reference
        env is a puzzle that can judge a board given as codes and shows grid/one-hot codes."""
        inner = self.reference.unwrapped
        if not _judges_boards(inner):
            return None
        from reasongym.world_models.grid import GridSpec

        spec = GridSpec.from_env(inner)
        h, w = spec.grid_shape
        space = self.observation_space
        if isinstance(space, gym.spaces.Box) and space.shape in ((h, w), (h * w * spec.num_codes,)):
            return spec
        return None

    # -- gymnasium API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        gym.Env.reset(self, seed=seed)  # seeding only: the episode is the model's, not ReasonEnv's
        # The real reset is seeded from our own generator, so a seeded world-model episode
        # replays exactly.
        real_seed = int(self.np_random.integers(2**31 - 1))
        obs, info = self.reference.reset(seed=real_seed, options=options)
        self.real_resets += 1
        inner = self.reference.unwrapped
        self._state = WorldModelState(
            obs=_copy(obs),
            context=_copy(obs),
            latent=inner.latent_state() if self.latent else None,
            task_id=str(info.get("task_id", "")),
        )
        return obs, dict(info)

    def step(self, action: Any):
        state = self._state
        if state is None:
            raise RuntimeError("call reset() before step()")
        if state.done:
            info = self._info(state, success=False, episode_over=True)
            return _copy(state.obs), 0.0, True, False, info
        if self.latent:
            next_obs, reward, terminated = self._latent_step(state, action)
        else:
            if isinstance(self.action_space, gym.spaces.Discrete):
                move = int(action)
                if not 0 <= move - int(self.action_space.start) < int(self.action_space.n):
                    raise ValueError(f"action {action!r} is outside {self.action_space}")
                action = move
            source = state.obs if self.model.markov else state.context
            next_obs, reward, terminated = self._predict(source, action)
            judged = None
            if self._board_spec is not None:
                before, after = (
                    self._board_spec.to_codes(np.asarray(x)[None])[0] for x in (state.obs, next_obs)
                )
                judged = self._judge(before, after, legal=not np.array_equal(before, after))
            reward, terminated = judged or self._clip(reward, terminated)
        state.steps += 1
        self.model_steps += 1
        truncated = (
            not terminated
            and self.max_episode_steps is not None
            and state.steps >= self.max_episode_steps
        )
        state.obs = next_obs
        state.done = terminated or truncated
        info = self._info(state, success=bool(terminated and reward > 0))
        return _copy(next_obs), float(reward), bool(terminated), bool(truncated), info

    def _info(self, state: WorldModelState, success: bool, **extra: Any) -> dict[str, Any]:
        return {
            "task_id": state.task_id,
            "turn": state.steps,
            "verdict": None,
            "is_success": success,
            "world_model": True,
            **extra,
        }

    def _latent_step(self, state: WorldModelState, action: Any) -> tuple[Any, float, bool]:
        """One step on the predicted board, rendered in the reference env's observation mode."""
        inner = self.reference.unwrapped
        moves = inner.latent_moves(action)
        turn = state.steps + 1
        if isinstance(moves, str):  # the env's format-error rule: nothing moves, no model call
            reward = inner.config.reward
            obs = inner.observation_from_latent(state.latent, action=action, turn=turn)
            return obs, float(reward.per_step + reward.format_error), False
        board, total, terminated, legal = state.latent, 0.0, False, True
        for move in moves:
            after, reward, terminated = self._predict(board, int(move))
            legal = legal and not np.array_equal(after, board)  # a no-op move is illegal
            board, total = after, total + reward
            if terminated and not self._has_rules:
                break
        # The env's rules judge the whole action on the final board (as its own step does).
        judged = self._judge(state.latent, board, legal) if self._has_rules else None
        total, terminated = judged or self._clip(total, terminated)
        changed = not np.array_equal(board, state.latent)
        obs = inner.observation_from_latent(board, action=action, legal=changed, turn=turn)
        state.latent = board
        return obs, total, bool(terminated)

    # -- the reference env's reward contract ------------------------------------------------
    def _judge(self, before: Any, after: Any, legal: bool) -> tuple[float, bool] | None:
        """``(reward, terminated)`` of the reference env's own rules for a step from board
        ``before`` to board ``after`` (cell codes), or None when it cannot judge them. The
        reference episode is left as it was."""
        inner = self.reference.unwrapped
        if not _judges_boards(inner):
            return None
        spec = inner.config.reward
        saved = inner._board_state()
        try:

            def load(codes: Any) -> None:
                codes = np.asarray(codes, np.int64).reshape(inner.grid_shape)
                inner._load_codes(np.clip(codes, 0, inner.num_codes - 1))

            load(after)
            solved = bool(inner._solved())
            reward = spec.per_step + (spec.correct if solved else 0.0)
            if not legal:
                reward += spec.illegal_move
            if spec.shaping:
                distance_after = float(inner._distance())
                load(before)
                reward += spec.shaping_weight * (float(inner._distance()) - distance_after)
        except Exception:  # noqa: BLE001 - a predicted board the rules cannot read: clip instead
            return None
        finally:
            inner._load_board(saved)
        return float(reward), solved

    def _clip(self, reward: float, terminated: bool) -> tuple[float, bool]:
        """The model's reward held to the reference env's contract (see the module docstring):
        a step it does not end pays at most ``per_step``; ``correct`` only when it ends."""
        bounds = _reward_bounds(self.reference.unwrapped)
        reward = float(reward)
        if bounds is None:  # not a reasongym env: no contract to hold it to
            return (reward if np.isfinite(reward) else 0.0), bool(terminated)
        least, most_unended, most_ended = bounds
        most = most_ended if terminated else most_unended
        if not np.isfinite(reward):
            reward = least
        return float(min(most, max(least, reward))), bool(terminated)

    def _predict(self, source: Any, action: Any) -> tuple[Any, float, bool]:
        version = getattr(self.model, "version", 0)
        if version != self._cache_version:
            self._cache.clear()
            self._cache_version = version
        key = None
        if self.cache_size:
            key = (_key(source), action if isinstance(action, int | str) else repr(action))
            hit = self._cache.get(key)
            if hit is not None:
                return _copy(hit[0]), hit[1], hit[2]
        next_obs, reward, terminated = self.model.predict_one(source, action)
        if isinstance(next_obs, np.ndarray) and not self.latent:
            next_obs = next_obs.astype(self.observation_space.dtype, copy=False)
        if key is not None:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()  # simple and bounded; hot entries come back quickly
            self._cache[key] = (_copy(next_obs), reward, terminated)
        return next_obs, reward, terminated

    def render(self) -> None:
        return None

    def close(self) -> None:
        self.reference.close()

    # -- ReasonEnv API ----------------------------------------------------------------------
    def is_final(self, action: Any) -> bool:
        """Would the model end the episode on ``action`` now (predicted termination, or the
        step limit)? Asked on a snapshot that is restored; never raises."""
        if self._state is None:
            return False
        if self._state.done:
            return True
        saved, steps = self.get_state(), self.model_steps
        try:
            _, _, terminated, truncated, _ = self.step(action)
            return bool(terminated or truncated)
        except Exception:  # noqa: BLE001 - a policy's action must not crash a search
            return False
        finally:
            self.set_state(saved)
            self.model_steps = steps

    def get_state(self) -> WorldModelState:
        if self._state is None:
            raise RuntimeError("call reset() before get_state()")
        state = copy.copy(self._state)
        state.obs, state.context = _copy(state.obs), _copy(state.context)
        state.latent = _copy(state.latent)
        state.rng = self._rng_state()
        return state

    def set_state(self, state: Any) -> None:
        """Restore a :class:`WorldModelState`, or start from a real env's ``get_state()``."""
        if isinstance(state, WorldModelState):
            new = copy.copy(state)
            new.obs, new.context = _copy(state.obs), _copy(state.context)
            new.latent = _copy(state.latent)
            if state.rng is not None:
                self._set_rng_state(state.rng)
            new.rng = None
            self._state = new
            return
        self._state = self._from_real_state(state)

    def _from_real_state(self, state: Any) -> WorldModelState:
        """Our snapshot of the real env's ``state`` (the reference env decodes it)."""
        inner = self.reference.unwrapped
        inner.set_state(state)
        # ReasonEnv snapshots: {"status": {turn, terminated, truncated, ...}, "data", "rng"}
        status = state.get("status", {}) if isinstance(state, dict) else {}
        data = state.get("data") if isinstance(state, dict) else None
        steps = int(status.get("turn", 0))
        done = bool(status.get("terminated") or status.get("truncated"))
        if isinstance(data, dict) and "messages" in data:  # a text env
            messages = data["messages"]
            if not messages:
                raise ValueError("the text env state has no messages (was it reset?)")
            return WorldModelState(
                obs=messages[-1]["content"],
                context=messages[0]["content"],
                steps=steps,
                done=done,
                task_id=str(status.get("task_id", "")),
            )
        observe = getattr(inner, "observe", None)
        if observe is None:
            raise TypeError(
                f"cannot read an observation out of a {type(inner).__name__} state; pass a "
                "WorldModelState (from WorldModelEnv.get_state) instead"
            )
        obs = observe()
        return WorldModelState(
            obs=_copy(obs),
            context=_copy(obs),
            steps=steps,
            done=done,
            latent=inner.latent_state() if self.latent else None,
            task_id=str(status.get("task_id", "")),
        )

    def observe(self) -> Any:
        """The observation of the current state (e.g. after ``set_state``)."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return _copy(self._state.obs)


def _judges_boards(inner: Any) -> bool:
    """A puzzle that can load a board given as cell codes (so its rules can judge it)."""
    return isinstance(inner, PuzzleEnv) and type(inner)._load_codes is not PuzzleEnv._load_codes


def _reward_bounds(inner: Any) -> tuple[float, float, float] | None:
    """``(least, most without ending, most when ending)`` one step of ``inner`` can pay (None
    when ``inner`` has no reward spec).

    Not ending pays at most ``per_step``: whatever else a real step pays without ending (partial
    credit of an answer with attempts left, a tool call, shaping) is paid by the real env at
    most once per episode, a rule a model's single-step prediction cannot keep, so a loop in
    the model would collect it again and again.
    """
    spec = getattr(inner, "config", None)
    spec = getattr(spec, "reward", None)
    if spec is None:
        return None
    values = spec.model_dump()
    per_step = float(values.get("per_step", 0.0))
    shaping = 0.0
    if values.get("shaping"):
        # potential-based: an episode earns at most weight * its start board's distance (the
        # reference env holds the start: it is not stepped by the model)
        start = float(getattr(inner, "_distance_before", 0.0))
        shaping = float(values.get("shaping_weight", 0.0)) * max(0.0, start)
    penalties = sum(
        float(v)
        for k, v in values.items()
        if k != "per_step" and isinstance(v, int | float) and not isinstance(v, bool) and v < 0
    )
    least = per_step + penalties - shaping
    most_ended = per_step + max(0.0, float(values.get("correct", 1.0))) + shaping
    return least, per_step, most_ended


def _copy(obs: Any) -> Any:
    return obs.copy() if isinstance(obs, np.ndarray) else obs


def _key(obs: Any) -> Any:
    if isinstance(obs, np.ndarray):
        return (obs.shape, obs.tobytes())
    return obs if isinstance(obs, str) else repr(obs)
