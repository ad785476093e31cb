"""Search agents built from ``reasongym run`` options (``--agent bon|beam|mcts|revision``)."""

from __future__ import annotations

from typing import Any

from reasongym.agents.models.base import GenerationConfig, LanguageModel
from reasongym.agents.search.base import SearchAgent

SEARCH_AGENTS = ("bon", "beam", "mcts", "revision")

# ``reasongym run`` option -> default, for the options search agents read
DEFAULTS: dict[str, Any] = {
    "n": 4,
    "beam_width": 4,
    "expand": None,
    "simulations": 16,
    "c_puct": 1.5,
    "max_revisions": 3,
    "guidance": None,
    "search_mode": "eval",
    "temperature": None,
    "max_tokens": None,
    "export_sft": None,
    "export_dpo": None,
}


def _option(args: Any, name: str) -> Any:
    value = getattr(args, name, None)
    return DEFAULTS[name] if value is None else value


def load_policy(args: Any) -> LanguageModel:
    """The policy named by ``--model`` (a path, ``smollm2``, ``tiny:DIR``) or served at
    ``--base-url`` (``--model`` then names the server's model)."""
    from reasongym.agents.models import load_model

    model_spec = getattr(args, "model", None)
    base_url = getattr(args, "base_url", None)
    if base_url:
        from reasongym.agents.models.openai_lm import OpenAICompatibleLM

        return OpenAICompatibleLM(base_url, model=model_spec or "default")
    return load_model(model_spec or "smollm2")


def make_search_agent(
    name: str,
    args: Any = None,
    seed: int | None = None,
    policy: LanguageModel | None = None,
    **_: Any,
) -> SearchAgent:
    """Build search agent ``name`` (one of ``SEARCH_AGENTS``) from CLI options.

    Reads ``--n`` (bon), ``--beam-width``/``--expand`` (beam, mcts), ``--simulations``/
    ``--c-puct`` (mcts), ``--max-revisions`` (revision), ``--guidance`` (e.g. ``verifier``,
    ``logprob:1,self_eval:0.5``), ``--search-mode eval|train``, ``--temperature`` (default 1:
    search needs diverse samples), ``--max-tokens`` (default 256), and keeps the trees when
    ``--export-sft``/``--export-dpo`` are given. Missing options take their defaults.
    """
    from reasongym.agents.search.beam import BeamSearch
    from reasongym.agents.search.best_of_n import BestOfN
    from reasongym.agents.search.mcts import MCTS
    from reasongym.agents.search.revision import SequentialRevision

    if name not in SEARCH_AGENTS:
        raise ValueError(f"unknown search agent {name!r}; choose from {list(SEARCH_AGENTS)}")
    policy = policy or load_policy(args)
    temperature = _option(args, "temperature")
    max_tokens = _option(args, "max_tokens")
    generation = GenerationConfig(
        temperature=1.0 if temperature is None else float(temperature),
        max_tokens=256 if max_tokens is None else int(max_tokens),
        stop=("</tool>", "</answer>"),
    )
    common: dict[str, Any] = {
        "guidance": _option(args, "guidance"),
        "mode": _option(args, "search_mode"),
        "generation": generation,
        "seed": seed,
        "keep_trees": bool(_option(args, "export_sft") or _option(args, "export_dpo")),
    }
    if name == "bon":
        return BestOfN(policy, n=int(_option(args, "n")), **common)
    if name == "beam":
        return BeamSearch(
            policy,
            beam_width=int(_option(args, "beam_width")),
            expand=_option(args, "expand"),
            **common,
        )
    if name == "mcts":
        return MCTS(
            policy,
            simulations=int(_option(args, "simulations")),
            expand=int(_option(args, "expand") or 4),
            c_puct=float(_option(args, "c_puct")),
            **common,
        )
    return SequentialRevision(policy, max_revisions=int(_option(args, "max_revisions")), **common)


def export_after_run(agent: Any, args: Any) -> dict[str, int]:
    """Write ``--export-sft``/``--export-dpo`` JSONL from the agent's kept trees (no-op for
    other agents or without those options); returns the record counts."""
    from reasongym.agents.search.export import export_trees

    sft, dpo = _option(args, "export_sft"), _option(args, "export_dpo")
    if not isinstance(agent, SearchAgent) or not (sft or dpo):
        return {}
    return export_trees(agent.trees, sft, dpo)
