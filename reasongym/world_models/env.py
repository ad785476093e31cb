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
* ``info["is_success"]`` is True when the model predicts termination with a positive reward
  (solved puzzles, correct answers).
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
        board, total, terminated = state.latent, 0.0, False
        for move in moves:
            board, reward, terminated = self._predict(board, int(move))
            total += reward
            if terminated:
                break
        legal = not np.array_equal(board, state.latent)
        obs = inner.observation_from_latent(board, action=action, legal=legal, turn=turn)
        state.latent = board
        return obs, total, bool(terminated)

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


def _copy(obs: Any) -> Any:
    return obs.copy() if isinstance(obs, np.ndarray) else obs


def _key(obs: Any) -> Any:
    if isinstance(obs, np.ndarray):
        return (obs.shape, obs.tobytes())
    return obs if isinstance(obs, str) else repr(obs)
