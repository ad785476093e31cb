"""Baseline agents: ``random`` (samples the action space) and ``oracle`` (the gold answer)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from reasongym.agents.base import Agent


class RandomAgent(Agent):
    """Samples ``env.action_space``, seeded so a run is reproducible."""

    name = "random"

    def __init__(self, seed: int | None = None):
        self.seed = seed

    def bind(self, env: gym.Env) -> None:
        super().bind(env)
        env.action_space.seed(self.seed)

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        return self.env.action_space.sample()


class OracleAgent(Agent):
    """Asks the env for an action on the way to its gold solution (``oracle_action``).

    A smoke test of the whole loop: it should score 1.0 on every env with a working verifier.
    """

    name = "oracle"

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        return self.env.unwrapped.oracle_action()
