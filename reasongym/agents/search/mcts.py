"""Monte Carlo tree search over env steps, PUCT with priors from the policy's log-probs.

One simulation: descend from the root by PUCT,
``Q(c) + c_puct * P(c) * sqrt(N(parent)) / (1 + N(c))``, to a node that is terminal or may
take new children; expand it with ``expand`` sampled actions (run on env snapshots; priors are
a softmax of the completions' log-probs); estimate the value of the most likely new child —
with a rollout to the end of the episode scored by guidance (``evaluation="rollout"``) or with
guidance on the partial trajectory (``evaluation="value"``) — and back it up along the path.

LLM action spaces are unbounded, so a node is re-expanded with fresh samples as it is visited
(progressive widening: a node gets another batch of ``expand`` samples while it has had fewer
than ``visits ** widen`` batches; duplicates of existing children are merged, so a confident
policy costs few tokens).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from reasongym.agents.models.base import LanguageModel
from reasongym.agents.search.base import SearchAgent
from reasongym.agents.search.tree import Node, SearchTree, best


class MCTS(SearchAgent):
    """PUCT tree search.

    Args:
        policy: the proposing language model.
        simulations: select-expand-evaluate-backup rounds.
        expand: actions sampled per expansion.
        c_puct: exploration weight.
        evaluation: ``"rollout"`` (play to the end, score the end) or ``"value"`` (score the
            new node itself with guidance).
        prior_temperature: priors are ``softmax(logprob / prior_temperature)`` over siblings
            (uniform when the backend gives no log-probs).
        fpu: the value assumed for unvisited children (first-play urgency); guidance values are
            mostly in [0, 1] (a failed answer scores 0), so the default 0.5 is neutral: a
            sibling of a known failure gets tried before the failure is revisited.
        widen: progressive-widening exponent (None: a node is expanded once): a node is
            expanded again while its expansions < ``visits ** widen``.
        final: choose the best-valued terminal node found (``"value"``) or follow the most
            visited children (``"visits"``).
        stop_when_solved: (train mode) stop once a verified success is found.
        **kwargs: see :class:`~reasongym.agents.search.base.SearchAgent`.
    """

    name = "mcts"

    def __init__(
        self,
        policy: LanguageModel,
        simulations: int = 16,
        expand: int = 4,
        c_puct: float = 1.5,
        evaluation: Literal["rollout", "value"] = "rollout",
        prior_temperature: float = 1.0,
        fpu: float = 0.5,
        widen: float | None = 0.5,
        final: Literal["value", "visits"] = "value",
        stop_when_solved: bool = True,
        **kwargs: Any,
    ):
        if simulations < 1 or expand < 1:
            raise ValueError(f"need simulations >= 1 and expand >= 1, got {simulations}, {expand}")
        if evaluation not in ("rollout", "value"):
            raise ValueError(f"evaluation must be 'rollout' or 'value', got {evaluation!r}")
        if final not in ("value", "visits"):
            raise ValueError(f"final must be 'value' or 'visits', got {final!r}")
        if prior_temperature <= 0:
            raise ValueError(f"prior_temperature must be > 0, got {prior_temperature}")
        super().__init__(policy, **kwargs)
        self.simulations = simulations
        self.expand = expand
        self.c_puct = c_puct
        self.evaluation = evaluation
        self.prior_temperature = prior_temperature
        self.fpu = fpu
        self.widen = widen
        self.final = final
        self.stop_when_solved = stop_when_solved

    # -- one simulation ------------------------------------------------------------------------
    def _search(self, tree: SearchTree) -> None:
        self._expansions: dict[int, int] = {}
        for _ in range(self.simulations):
            self._simulate(tree)
            if self.stop_when_solved and any(n.success for n in tree.nodes):
                break
        tree.chosen = self._choose(tree)

    def _simulate(self, tree: SearchTree) -> None:
        node = tree.root
        path = [node]
        while not self.is_terminal(node) and node.children and not self._may_widen(node):
            node = self._select(tree, node)
            path.append(node)
        if self.is_terminal(node):
            leaf, value = node, self._value(tree, node)
        else:
            [new] = self._expand(tree, [node], self.expand)
            self._expansions[node.id] = self._expansions.get(node.id, 0) + 1
            self._set_priors(tree, node)
            fresh = [c for c in new if c.visits == 0]
            leaf = max(fresh, key=lambda c: c.prior) if fresh else self._select(tree, node)
            path.append(leaf)
            if self.is_terminal(leaf) or self.evaluation == "value":
                value = self._value(tree, leaf)
            else:
                end = self._rollout(tree, leaf, rollout=True)
                value = self._value(tree, end)
        for n in path:
            n.visits += 1
            n.value_sum += value

    def _may_widen(self, node: Node) -> bool:
        if self.widen is None:
            return False
        return self._expansions.get(node.id, 0) < max(1, node.visits) ** self.widen

    def _select(self, tree: SearchTree, node: Node) -> Node:
        total = math.sqrt(max(1, node.visits))

        def puct(child: Node) -> float:
            q = child.q if child.visits else self.fpu
            return q + self.c_puct * child.prior * total / (1 + child.visits)

        return max(tree.children(node), key=puct)

    def _set_priors(self, tree: SearchTree, node: Node) -> None:
        children = tree.children(node)
        if any(c.logprob is None for c in children):
            for c in children:
                c.prior = 1.0 / len(children)
            return
        logits = [c.logprob / self.prior_temperature for c in children]
        top = max(logits)
        weights = [math.exp(x - top) for x in logits]
        for c, w in zip(children, weights, strict=True):
            c.prior = w / sum(weights)

    def _value(self, tree: SearchTree, node: Node) -> float:
        [value] = self._evaluate(tree, [node])
        return 0.0 if value is None else float(value)

    # -- the answer ----------------------------------------------------------------------------
    def _choose(self, tree: SearchTree) -> int | None:
        if self.final == "value":
            ends = [n for n in tree.nodes[1:] if self.is_terminal(n)]
            if ends:
                self._evaluate(tree, ends)
                return best(ends).id
        node = tree.root
        while node.children:
            node = max(tree.children(node), key=lambda c: (c.visits, c.q, c.prior))
        return None if node is tree.root else node.id
