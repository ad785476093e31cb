"""Agents acting in reasongym envs, built by name for ``reasongym run --agent NAME``.

Every factory takes explicit keyword arguments; :func:`build_agent` rejects an option the
named agent does not take (listing the ones it does), so a typo never passes silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from reasongym.agents.base import Agent
from reasongym.agents.llm import make_llm_agent
from reasongym.agents.search.factory import SEARCH_FACTORIES
from reasongym.agents.simple import OracleAgent, RandomAgent


def _random(*, seed: int | None = None) -> Agent:
    """Samples the action space (seeded)."""
    return RandomAgent(seed=seed)


def _oracle(*, seed: int | None = None) -> Agent:
    """Plays the env's ``oracle_action`` (``seed`` is accepted and unused: it is deterministic)."""
    return OracleAgent()


AGENT_FACTORIES: dict[str, Callable[..., Agent]] = {
    "random": _random,
    "oracle": _oracle,
    "llm": make_llm_agent,
    # bon, beam, mcts, revision: search over the env with get_state/set_state
    **SEARCH_FACTORIES,
}


def agent_options(name: str) -> list[str]:
    """The keyword options agent ``name`` takes (``ValueError`` for an unknown name)."""
    factory = _factory(name)
    return [
        p.name
        for p in inspect.signature(factory).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def build_agent(name: str, **options: Any) -> Agent:
    """Build agent ``name`` with keyword ``options``.

    Raises:
        ValueError: an unknown agent name, or an option the agent does not take (the
            message lists the valid ones).
    """
    factory = _factory(name)
    valid = agent_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"agent {name!r} takes no option(s) {unknown}; its options are {valid}")
    return factory(**options)


def _factory(name: str) -> Callable[..., Agent]:
    try:
        return AGENT_FACTORIES[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(str(name), list(AGENT_FACTORIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown agent {name!r}{hint}; choose from {sorted(AGENT_FACTORIES)}"
        ) from None


__all__ = ["AGENT_FACTORIES", "Agent", "OracleAgent", "RandomAgent", "agent_options", "build_agent"]
