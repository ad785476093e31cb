"""Guidance: how a search scores the branches it explores.

Named as in the o1 roadmap (Zeng et al., 2024, "Scaling of Search and Learning"):

* **External guidance** — signals from outside the policy:
  :class:`EnvReward` (the env's verifier reward and step feedback on branches run through
  ``get_state``/``set_state``; ``uses_verifier=True``, so eval mode refuses it) and
  :class:`ProcessRewardModel` (any callable scoring a partial trajectory; allowed in eval mode
  because it does not read the env's ground truth — do not pass one that does).
* **Internal guidance** — the policy judging itself: :class:`LogProbConfidence` (mean token
  log-prob), :class:`SelfEvaluation` (the model asked "Is this correct? Yes/No", scored by the
  probability of "Yes" via ``LanguageModel.score``) and :class:`MajorityVote`
  (self-consistency: how many explored answers agree).

:class:`Weighted` mixes them. A guidance may have no opinion on a node (``None``: majority vote
on a tool call, env reward on an answer that was not executed); ``Weighted`` then averages over
the guidances that have one. Scores are in [0, 1] except env rewards, which are the env's.

``parse_guidance("verifier:1,logprob:0.5", policy)`` builds guidance from a CLI string.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from reasongym.agents.models.base import LanguageModel, Message
from reasongym.agents.search.chat import PromptFn
from reasongym.agents.search.tree import Node, SearchStats, SearchTree


@dataclass
class GuidanceContext:
    """What a guidance may use besides the nodes: the whole tree (majority vote), the policy
    and its prompt format (self-evaluation), and the stats to count its calls in."""

    tree: SearchTree
    policy: LanguageModel
    prompt_fn: PromptFn
    stats: SearchStats


class Guidance(ABC):
    """Scores search nodes; see the module docstring.

    Attributes:
        name: key of the score in ``Node.scores``.
        kind: ``"internal"`` (the policy judging itself) or ``"external"``.
        uses_verifier: reads env rewards/verdicts (forbidden in eval mode).
        cacheable: a node's score does not depend on the rest of the tree, so it is
            computed once per node.
    """

    name: str = "guidance"
    kind: Literal["internal", "external"] = "internal"
    uses_verifier: bool = False
    cacheable: bool = True

    @abstractmethod
    def score(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        """One score per node (None: no opinion)."""

    def evaluate(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        """Scores, reusing cached ones, recorded in ``node.scores[self.name]``."""
        todo = [n for n in nodes if not (self.cacheable and self.name in n.scores)]
        for node, value in zip(todo, self.score(todo, ctx) if todo else [], strict=True):
            node.scores[self.name] = value
        return [n.scores[self.name] for n in nodes]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class EnvReward(Guidance):
    """External: the return the env paid along the node's path (the verifier's reward for an
    answer, format penalties, process rewards for tools). None when the node was not executed
    (a withheld answer in eval mode, which refuses this guidance anyway)."""

    kind = "external"
    uses_verifier = True

    def __init__(self, name: str = "verifier"):
        self.name = name

    def score(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        out: list[float | None] = []
        for node in nodes:
            path = ctx.tree.path(node.id)
            if not path or not all(n.executed for n in path):
                out.append(None)
            else:
                out.append(float(sum(n.reward or 0.0 for n in path)))
        return out


class ProcessRewardModel(Guidance):
    """External: any callable scoring a partial trajectory.

    Args:
        fn: ``fn(messages) -> float`` where ``messages`` is the chat up to and including the
            node's action (and the env's reply, when the action was executed).
        name: key of its score.
    """

    kind = "external"

    def __init__(self, fn: Callable[[list[Message]], float], name: str = "prm"):
        if not callable(fn):
            raise TypeError("ProcessRewardModel needs a callable fn(messages) -> float")
        self.fn = fn
        self.name = name

    def score(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        ctx.stats.prm_calls += len(nodes)
        return [float(self.fn([dict(m) for m in node.context])) for node in nodes]


class LogProbConfidence(Guidance):
    """Internal: ``exp(mean token log-prob)`` of the node's path (``per="path"``) or of its
    last action only (``per="step"``): the policy's own confidence, in (0, 1]."""

    def __init__(self, per: Literal["path", "step"] = "path", name: str = "logprob"):
        if per not in ("path", "step"):
            raise ValueError(f"per must be 'path' or 'step', got {per!r}")
        self.per = per
        self.name = name

    def score(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        out: list[float | None] = []
        for node in nodes:
            steps = ctx.tree.path(node.id) if self.per == "path" else [node]
            steps = [n for n in steps if n.logprob is not None]
            tokens = sum(n.num_tokens for n in steps)
            out.append(math.exp(sum(n.logprob for n in steps) / tokens) if tokens else None)
        return out


class SelfEvaluation(Guidance):
    """Internal: asks the model whether the node's last step (or answer) is right and scores
    it by ``P(Yes) / (P(Yes) + P(No))`` from ``LanguageModel.score``.

    Args:
        model: the judge; default the search's policy.
        answer_question: asked after a final answer.
        step_question: asked after any other step.
        yes, no: the continuations compared.
    """

    def __init__(
        self,
        model: LanguageModel | None = None,
        answer_question: str = "Is the answer above correct? Answer Yes or No.",
        step_question: str = "Is the last step above correct and useful? Answer Yes or No.",
        yes: str = "Yes",
        no: str = "No",
        name: str = "self_eval",
    ):
        self.model = model
        self.answer_question = answer_question
        self.step_question = step_question
        self.yes, self.no = yes, no
        self.name = name

    def score(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        model = self.model or ctx.policy
        out: list[float | None] = []
        for node in nodes:
            question = self.answer_question if node.final else self.step_question
            prompt = ctx.prompt_fn([*node.context, {"role": "user", "content": question}])
            yes, no = model.score(prompt, [self.yes, self.no])
            ctx.stats.self_eval_calls += 1
            top = max(yes, no)
            out.append(math.exp(yes - top) / (math.exp(yes - top) + math.exp(no - top)))
        return out


def answer_text(action: Any) -> str | None:
    """What a final action answers, for comparing answers across branches: the content of an
    ``<answer>``/``\\boxed{}`` when the action has one, else the whole action (a puzzle move,
    an ARC grid), stripped; a prose conclusion ("so the answer is 12") counts as its answer
    (envs with ``answer_mode: free_text`` grade it). None for a non-string action."""
    if not isinstance(action, str):
        return None
    from reasongym.envs.actions import Answer, free_text_answer, parse_action

    parsed = parse_action(action)
    if isinstance(parsed, Answer):
        return parsed.text
    return free_text_answer(action) or action.strip()


def normalize_answer(text: str) -> str:
    """A canonical form for comparing answers: no spaces, ``$`` or trailing period; numbers as
    exact fractions (``"229.0"``, ``"229"`` and ``"458/2"`` agree)."""
    t = text.strip().strip("$").strip().rstrip(".").replace(" ", "")
    try:
        return str(Fraction(t))
    except (ValueError, ZeroDivisionError):
        return t.lower()


class MajorityVote(Guidance):
    """Internal (self-consistency): the share of all final answers explored so far in the
    tree that agree with the node's answer. None for nodes that are not final answers."""

    cacheable = False

    def __init__(self, name: str = "majority"):
        self.name = name

    def score(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        answers = [answer_text(n.action) for n in ctx.tree.finals()]
        votes = Counter(normalize_answer(a) for a in answers if a is not None)
        total = sum(votes.values())
        out: list[float | None] = []
        for node in nodes:
            answer = answer_text(node.action) if node.final else None
            out.append(
                votes[normalize_answer(answer)] / total if answer is not None and total else None
            )
        return out


class Weighted(Guidance):
    """A weighted mean of guidances over those with an opinion on each node.

    Args:
        parts: ``(guidance, weight)`` pairs, weights > 0.
    """

    def __init__(self, parts: list[tuple[Guidance, float]]):
        if not parts:
            raise ValueError("Weighted needs at least one (guidance, weight) pair")
        for guidance, weight in parts:
            if weight <= 0:
                raise ValueError(f"weight of {guidance.name!r} must be > 0, got {weight}")
        self.parts = parts
        self.name = ",".join(f"{g.name}:{w:g}" for g, w in parts)
        self.kind = "external" if any(g.kind == "external" for g, _ in parts) else "internal"
        self.uses_verifier = any(g.uses_verifier for g, _ in parts)
        self.cacheable = all(g.cacheable for g, _ in parts)

    def score(self, nodes: list[Node], ctx: GuidanceContext) -> list[float | None]:
        columns = [(guidance.evaluate(nodes, ctx), weight) for guidance, weight in self.parts]
        out: list[float | None] = []
        for i in range(len(nodes)):
            pairs = [(scores[i], w) for scores, w in columns if scores[i] is not None]
            weight = sum(w for _, w in pairs)
            out.append(sum(s * w for s, w in pairs) / weight if pairs else None)
        return out


GUIDANCE_NAMES = {
    "verifier": "external: the env's verifier reward (train mode only)",
    "env_reward": "external: same as verifier, named for non-answer feedback",
    "prm": "external: a process reward model (needs prm=callable)",
    "logprob": "internal: mean token log-prob of the path",
    "self_eval": "internal: the policy's P(Yes) that the step/answer is right",
    "majority": "internal: self-consistency vote over explored answers",
}


def build_guidance(
    name: str,
    policy: LanguageModel | None = None,
    prm: Callable[[list[Message]], float] | None = None,
) -> Guidance:
    """One guidance by name (see ``GUIDANCE_NAMES``)."""
    if name in ("verifier", "env_reward"):
        return EnvReward(name=name)
    if name == "prm":
        if prm is None:
            raise ValueError(
                "guidance 'prm' needs a process reward model: pass prm=callable(messages) -> float"
            )
        return ProcessRewardModel(prm)
    if name in ("logprob", "confidence"):
        return LogProbConfidence()
    if name == "self_eval":
        return SelfEvaluation(policy)
    if name in ("majority", "self_consistency"):
        return MajorityVote()
    raise ValueError(f"unknown guidance {name!r}; choose from {sorted(GUIDANCE_NAMES)}")


def parse_guidance(
    spec: str,
    policy: LanguageModel | None = None,
    prm: Callable[[list[Message]], float] | None = None,
) -> Guidance:
    """Guidance from a string: ``"logprob"`` or a weighted mix ``"verifier:1,self_eval:0.5"``."""
    parts = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, weight = item.partition(":")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(
                f"bad weight in guidance {item!r}: write NAME or NAME:WEIGHT"
            ) from None
        parts.append((build_guidance(name.strip(), policy, prm), value))
    if not parts:
        raise ValueError("empty guidance spec; e.g. 'verifier' or 'logprob:1,self_eval:0.5'")
    return parts[0][0] if len(parts) == 1 and parts[0][1] == 1.0 else Weighted(parts)


def default_guidance(mode: str) -> Guidance:
    """The verifier when it may be used (train mode), the policy's confidence otherwise."""
    return EnvReward() if mode == "train" else LogProbConfidence()
