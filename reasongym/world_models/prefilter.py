"""An ``OutcomeModel`` as a pre-filter for best-of-N: rank candidates, verify only the top.

Best-of-N with a verifier runs every candidate in the sandbox. With a pre-filter the
candidates are ranked by the model's P(correct) and run best-first; the search stops at the
first one that passes (``top_k`` caps how many may run). Success is unchanged when
``top_k`` is None (every candidate can still be tried); the sandbox runs saved are the ones
after the first pass.

    result = prefiltered_best_of_n(prompt, answers, model, verify=lambda a: env_verdict(a))
    result.runs, result.success, result.chosen

Inside the search agents, :func:`outcome_guidance` scores answers with the model (internal
to the agent, so eval mode allows it): ``BestOfN(policy, n=8, guidance=outcome_guidance(m))``
sends only the best-ranked answer to the env.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from reasongym.world_models.outcome import OutcomeModel


@dataclass
class PrefilterResult:
    """One pre-filtered best-of-N.

    Attributes:
        order: candidate indices, best-ranked first.
        scores: P(correct) per candidate (in the original order).
        runs: candidates sent to the verifier.
        success: one of them passed.
        chosen: index of the first candidate that passed (None if none did).
    """

    order: list[int]
    scores: list[float]
    runs: int
    success: bool
    chosen: int | None


def prefiltered_best_of_n(
    prompt: str,
    answers: Sequence[str],
    model: OutcomeModel,
    verify: Callable[[str], bool],
    top_k: int | None = None,
) -> PrefilterResult:
    """Verify ``answers`` best-ranked first until one passes (at most ``top_k`` of them).

    Args:
        prompt: the task prompt (the env's first observation).
        answers: candidate answer actions (``<answer>...</answer>``).
        model: a fitted outcome model.
        verify: runs one answer for real (sandbox, env step) and says whether it passed.
        top_k: the most candidates to verify (None: all, so success equals plain best-of-N).
    """
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
    scores = model.score_answers([prompt] * len(answers), list(answers))
    order = np.argsort(-scores, kind="stable").tolist()
    limit = len(order) if top_k is None else min(top_k, len(order))
    runs = 0
    for index in order[:limit]:
        runs += 1
        if verify(answers[index]):
            return PrefilterResult(order, scores.tolist(), runs, True, index)
    return PrefilterResult(order, scores.tolist(), runs, False, None)


def outcome_guidance(model: OutcomeModel, name: str = "outcome_model"):
    """A search guidance scoring final answers by the model's P(correct) (None for other
    steps), reading the task from the chat's first message."""
    from reasongym.agents.search.guidance import ProcessRewardModel

    def score(messages: list[dict]) -> float:
        prompt = next((m["content"] for m in messages if m["role"] == "user"), "")
        answer = next((m["content"] for m in reversed(messages) if m["role"] == "assistant"), "")
        return float(model.score_answers([prompt], [answer])[0])

    return ProcessRewardModel(score, name=name)
