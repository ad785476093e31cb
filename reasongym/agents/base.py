"""The agent interface: ``act(observation, info) -> action``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import gymnasium as gym


class Agent(ABC):
    """A policy acting in one environment, one episode at a time.

    ``reset`` is called after each ``env.reset`` with its observation and info;
    ``act`` after that and after every step. Agents that need the env (oracle, search) get it
    in ``bind``.
    """

    name: str = "agent"

    def bind(self, env: gym.Env) -> None:
        """Attach to the environment the agent will act in (called once, before episodes)."""
        self.env = env

    def reset(self, observation: Any, info: dict[str, Any]) -> None:
        """Start of an episode."""

    @abstractmethod
    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        """The next action."""

    def stats(self) -> dict[str, Any]:
        """Counters to add to the run summary (tokens generated, verifier calls, ...)."""
        return {}
