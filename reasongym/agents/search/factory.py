"""Search agents built by name (``reasongym run --agent bon|beam|mcts|revision``).

Each factory takes explicit keyword arguments (no argparse ``Namespace``): the CLI converts its
options once, :func:`reasongym.agents.build_agent` rejects options a factory does not take,
and Ray workers receive the same plain keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reasongym.agents.models.base import (
    DEFAULT_MAX_TOKENS,
    GenerationConfig,
    LanguageModel,
    Message,
)
from reasongym.agents.search.base import SearchAgent, SearchMode

SEARCH_AGENTS = ("bon", "beam", "mcts", "revision")

SEARCH_TEMPERATURE = 1.0
"""Default sampling temperature of the search agents: search needs diverse samples."""


def load_policy(model: str | None = None, base_url: str | None = None) -> LanguageModel:
    """The policy named by ``model`` (a path, ``smollm2``, ``tiny:DIR``) or served at
    ``base_url`` (``model`` then names the server's model; default: the first it lists)."""
    from reasongym.agents.models import load_model

    if base_url:
        from reasongym.agents.models.openai_lm import OpenAICompatibleLM

        return OpenAICompatibleLM(base_url, model=model)
    return load_model(model or "smollm2")


def _common(
    *,
    policy: LanguageModel | None,
    model: str | None,
    base_url: str | None,
    temperature: float | None,
    max_tokens: int | None,
    guidance: Any,
    search_mode: SearchMode,
    keep_trees: bool,
    seed: int | None,
    prm: Callable[[list[Message]], float] | None,
) -> tuple[LanguageModel, dict[str, Any]]:
    lm = policy or load_policy(model, base_url)
    if prm is not None or (guidance is not None and "prm" in guidance):
        from reasongym.agents.search.guidance import parse_guidance

        guidance = parse_guidance(guidance or "prm", lm, prm=prm)
    generation = GenerationConfig(
        temperature=SEARCH_TEMPERATURE if temperature is None else float(temperature),
        max_tokens=DEFAULT_MAX_TOKENS if max_tokens is None else int(max_tokens),
    )
    options = {
        "guidance": guidance,
        "mode": search_mode,
        "generation": generation,
        "seed": seed,
        "keep_trees": bool(keep_trees),
    }
    return lm, options


def make_bon(
    *,
    n: int = 4,
    policy: LanguageModel | None = None,
    model: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    guidance: str | None = None,
    search_mode: SearchMode = "eval",
    keep_trees: bool = False,
    seed: int | None = None,
    prm: Callable[[list[Message]], float] | None = None,
) -> SearchAgent:
    """Best-of-N (:class:`~reasongym.agents.search.best_of_n.BestOfN`) with ``n`` samples.

    Args:
        n: trajectories sampled per search.
        policy: a loaded :class:`LanguageModel` (else ``model``/``base_url`` name one).
        model: a local path, ``smollm2``, ``tiny:DIR``, or the server's model name.
        base_url: an OpenAI-compatible server.
        temperature: sampling temperature (default :data:`SEARCH_TEMPERATURE`).
        max_tokens: new tokens per action (default ``DEFAULT_MAX_TOKENS``).
        guidance: e.g. ``"verifier"``, ``"logprob:1,self_eval:0.5"`` (default: verifier in
            train mode, logprob in eval mode).
        search_mode: ``"eval"`` (no verifier access while choosing) or ``"train"``.
        keep_trees: keep every search tree (for ``--export-sft``/``--export-dpo``).
        seed: base seed of sampling.
        prm: a process reward model ``prm(messages) -> float`` for guidance ``"prm"`` (the
            default guidance when given; ``reasongym run --prm MODULE:FUNCTION``).
    """
    from reasongym.agents.search.best_of_n import BestOfN

    lm, common = _common(**_pick(locals()))
    return BestOfN(lm, n=int(n), **common)


def make_beam(
    *,
    beam_width: int = 4,
    expand: int | None = None,
    policy: LanguageModel | None = None,
    model: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    guidance: str | None = None,
    search_mode: SearchMode = "eval",
    keep_trees: bool = False,
    seed: int | None = None,
    prm: Callable[[list[Message]], float] | None = None,
) -> SearchAgent:
    """Step-level beam search: ``beam_width`` kept, ``expand`` proposals per node (default
    ``beam_width``); the other arguments as for :func:`make_bon`."""
    from reasongym.agents.search.beam import BeamSearch

    lm, common = _common(**_pick(locals()))
    return BeamSearch(lm, beam_width=int(beam_width), expand=expand, **common)


def make_mcts(
    *,
    simulations: int = 16,
    expand: int | None = None,
    c_puct: float = 1.5,
    policy: LanguageModel | None = None,
    model: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    guidance: str | None = None,
    search_mode: SearchMode = "eval",
    keep_trees: bool = False,
    seed: int | None = None,
    prm: Callable[[list[Message]], float] | None = None,
) -> SearchAgent:
    """PUCT tree search with ``simulations`` rounds, ``expand`` samples per expansion
    (default 4) and exploration ``c_puct``; the other arguments as for :func:`make_bon`."""
    from reasongym.agents.search.mcts import MCTS

    lm, common = _common(**_pick(locals()))
    return MCTS(
        lm,
        simulations=int(simulations),
        expand=int(expand or 4),
        c_puct=float(c_puct),
        **common,
    )


def make_revision(
    *,
    max_revisions: int = 3,
    policy: LanguageModel | None = None,
    model: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    guidance: str | None = None,
    search_mode: SearchMode = "eval",
    keep_trees: bool = False,
    seed: int | None = None,
    prm: Callable[[list[Message]], float] | None = None,
) -> SearchAgent:
    """Sequential revision with up to ``max_revisions`` revisions; the other arguments as
    for :func:`make_bon`."""
    from reasongym.agents.search.revision import SequentialRevision

    lm, common = _common(**_pick(locals()))
    return SequentialRevision(lm, max_revisions=int(max_revisions), **common)


_COMMON_NAMES = (
    "policy",
    "model",
    "base_url",
    "temperature",
    "max_tokens",
    "guidance",
    "search_mode",
    "keep_trees",
    "seed",
    "prm",
)


def _pick(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in _COMMON_NAMES}


SEARCH_FACTORIES = {
    "bon": make_bon,
    "beam": make_beam,
    "mcts": make_mcts,
    "revision": make_revision,
}


def make_search_agent(name: str, **options: Any) -> SearchAgent:
    """Search agent ``name`` (one of ``SEARCH_AGENTS``) from keyword options (checked by
    :func:`reasongym.agents.build_agent`)."""
    from reasongym.agents import build_agent

    if name not in SEARCH_AGENTS:
        raise ValueError(f"unknown search agent {name!r}; choose from {list(SEARCH_AGENTS)}")
    return build_agent(name, **options)


def export_after_run(
    agent: Any, *, sft_path: str | None = None, dpo_path: str | None = None
) -> dict[str, int]:
    """Write SFT / DPO JSONL from a search agent's kept trees (no-op without paths); returns
    the record counts. Raises ``ValueError`` for an agent that keeps no search trees."""
    from reasongym.agents.search.export import export_trees

    if not (sft_path or dpo_path):
        return {}
    if not isinstance(agent, SearchAgent):
        raise ValueError(
            f"exporting SFT/DPO data needs a search agent ({', '.join(SEARCH_AGENTS)}), "
            f"not {getattr(agent, 'name', type(agent).__name__)!r}"
        )
    return export_trees(agent.trees, sft_path, dpo_path)
