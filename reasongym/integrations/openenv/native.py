"""A reasongym env as an ``openenv`` ``Environment``, for ``openenv``'s own ``create_app``.

``reasongym serve`` is the recommended server (state restore, typed tools over MCP, lower
overhead); this adapter is for users who mount envs into their own ``openenv`` apps, and it
is the peer that ``bench/serve.py`` measures against. Observations carry the same fields as
``reasongym serve`` sends (see ``codec.py``), so either server feeds the same clients.
"""

from __future__ import annotations

from typing import Any

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field

from reasongym.integrations.openenv import codec


class ReasonGymAction(Action):
    """One env action: text for text-facing envs, an integer for discrete ones."""

    action: str | int = Field(description="the action (text, or an index for discrete envs)")


class ReasonGymObservation(Observation):
    """One observation; ``image`` is PNG/base64 as in ``codec.encode_array``."""

    text: str | None = None
    image: dict[str, Any] | None = None
    array: Any = None
    extra: dict[str, Any] | None = None
    info: dict[str, Any] = Field(default_factory=dict)
    terminated: bool = False
    truncated: bool = False


class ReasonGymEnvironment(Environment):
    """``openenv`` ``Environment`` around ``gym.make(env_id, **env_kwargs)``."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, env_id: str, **env_kwargs: Any):
        super().__init__()
        import gymnasium as gym

        import reasongym  # noqa: F401 - registers the built-in ids

        self.env_id = env_id
        self.env = gym.make(env_id, **env_kwargs)
        self._state = State(episode_id=None, step_count=0)

    def _observation(
        self, obs: Any, reward: Any, terminated: bool, truncated: bool, info: dict
    ) -> ReasonGymObservation:
        data = codec.payload(obs, reward, terminated, truncated, info)
        return ReasonGymObservation(**data["observation"], reward=data["reward"], done=data["done"])

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> ReasonGymObservation:
        options = dict(kwargs.get("options") or {})
        if "task_index" in kwargs:
            options["task_index"] = kwargs["task_index"]
        obs, info = self.env.reset(seed=seed, options=options or None)
        self._state = State(episode_id=episode_id, step_count=0)
        return self._observation(obs, None, False, False, info)

    def step(
        self, action: ReasonGymAction, timeout_s: float | None = None, **kwargs: Any
    ) -> ReasonGymObservation:
        obs, reward, terminated, truncated, info = self.env.step(action.action)
        self._state.step_count += 1
        return self._observation(obs, reward, terminated, truncated, info)

    @property
    def state(self) -> State:
        return self._state

    def close(self) -> None:
        self.env.close()


def create_openenv_app(env_id: str, max_sessions: int = 64, **env_kwargs: Any):
    """``openenv``'s ``create_app`` serving ``env_id`` through :class:`ReasonGymEnvironment`."""
    from openenv.core.env_server.http_server import create_app

    return create_app(
        lambda: ReasonGymEnvironment(env_id, **env_kwargs),
        ReasonGymAction,
        ReasonGymObservation,
        env_name=env_id,
        max_concurrent_envs=max_sessions,
    )
