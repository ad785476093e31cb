"""Best-of-N: sample N whole trajectories, keep the one guidance likes best.

With ``guidance="verifier"`` (train mode) this is rejection sampling against the env's
verifier; with ``guidance="majority"`` it is self-consistency; with ``n=1`` and temperature 0
it is the greedy policy, counted the same way (the baseline of ``bench/search_scaling.py``).
"""

from __future__ import annotations

from typing import Any

from reasongym.agents.models.base import LanguageModel
from reasongym.agents.search.base import SearchAgent
from reasongym.agents.search.tree import Node, SearchTree, best


class BestOfN(SearchAgent):
    """Samples ``n`` trajectories from the root (one batched generate call per depth) and
    chooses the best-scored end node.

    Args:
        policy: the proposing language model.
        n: trajectories sampled.
        **kwargs: see :class:`~reasongym.agents.search.base.SearchAgent`.
    """

    name = "bon"

    def __init__(self, policy: LanguageModel, n: int = 4, **kwargs: Any):
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        super().__init__(policy, **kwargs)
        self.n = n

    def _search(self, tree: SearchTree) -> None:
        root = tree.root
        [ends] = self._expand(tree, [root], self.n, dedupe=False)
        limit = self.depth_limit
        while True:
            active = [i for i, node in enumerate(ends) if not node.done and node.depth < limit]
            if not active:
                break
            rows = self._generate([ends[i].context for i in active], 1)
            for i, [completion] in zip(active, rows, strict=True):
                child = self._child(tree, ends[i], completion)
                ends[i].children.append(child.id)
                ends[i] = child
        self._evaluate(tree, ends)
        chosen: Node | None = best(ends)
        tree.chosen = None if chosen is None else chosen.id
