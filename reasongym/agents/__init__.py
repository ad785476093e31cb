"""Agents acting in reasongym envs, built by name for ``reasongym run --agent NAME``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from reasongym.agents.base import Agent
from reasongym.agents.llm import make_llm_agent
from reasongym.agents.search.factory import SEARCH_AGENTS, make_search_agent
from reasongym.agents.simple import OracleAgent, RandomAgent

AGENT_FACTORIES: dict[str, Callable[..., Agent]] = {
    "random": lambda seed=None, **_: RandomAgent(seed=seed),
    "oracle": lambda **_: OracleAgent(),
    "llm": make_llm_agent,
}
# bon, beam, mcts, revision: search over the env with get_state/set_state (reasongym.agents.search)
AGENT_FACTORIES.update({name: functools.partial(make_search_agent, name) for name in SEARCH_AGENTS})


def build_agent(name: str, **options: Any) -> Agent:
    """Build an agent by name; options the agent does not use are ignored by design
    (the CLI passes one set of options to every agent)."""
    try:
        factory = AGENT_FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown agent {name!r}; choose from {sorted(AGENT_FACTORIES)}") from None
    return factory(**options)


__all__ = ["AGENT_FACTORIES", "Agent", "OracleAgent", "RandomAgent", "build_agent"]
