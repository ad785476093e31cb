"""Step-level beam search: one env step (a reasoning step, a tool call or an answer) per level.

Each level expands every beam node into ``expand`` proposed actions (run on env snapshots),
scores the children with guidance, and keeps the ``beam_width`` best. Kept children that end
the episode (answers) leave the beam as finished hypotheses, so the beam narrows as answers
arrive; the best finished hypothesis is the answer.
"""

from __future__ import annotations

from typing import Any

from reasongym.agents.models.base import LanguageModel
from reasongym.agents.search.base import SearchAgent
from reasongym.agents.search.tree import Node, SearchTree, rank_key


class BeamSearch(SearchAgent):
    """Step-level beam search.

    Args:
        policy: the proposing language model.
        beam_width: nodes kept per level.
        expand: actions proposed per beam node per level (default: ``beam_width``).
        stop_when_solved: (train mode) stop as soon as a kept node is a verified success.
        **kwargs: see :class:`~reasongym.agents.search.base.SearchAgent`.
    """

    name = "beam"

    def __init__(
        self,
        policy: LanguageModel,
        beam_width: int = 4,
        expand: int | None = None,
        stop_when_solved: bool = True,
        **kwargs: Any,
    ):
        if beam_width < 1:
            raise ValueError(f"beam_width must be >= 1, got {beam_width}")
        super().__init__(policy, **kwargs)
        self.beam_width = beam_width
        self.expand = expand or beam_width
        if self.expand < 1:
            raise ValueError(f"expand must be >= 1, got {expand}")
        self.stop_when_solved = stop_when_solved

    def _search(self, tree: SearchTree) -> None:
        beam: list[Node] = [tree.root]
        finished: list[Node] = []
        while beam:
            rows = self._expand(tree, beam, self.expand)
            children = [child for row in rows for child in row]
            self._evaluate(tree, children)
            kept = sorted(children, key=rank_key, reverse=True)[: self.beam_width]
            finished += [n for n in kept if self.is_terminal(n)]
            beam = [n for n in kept if not self.is_terminal(n)]
            if self.stop_when_solved and any(n.success for n in finished):
                break
        candidates = finished or [n for n in tree.nodes[1:] if not n.children]
        self._evaluate(tree, candidates)  # again: majority vote sees every finished answer now
        # at equal guidance, a hypothesis that ends the episode beats one cut by the depth limit
        chosen = max(
            candidates,
            key=lambda n: (rank_key(n)[0], n.final or n.done, rank_key(n)[1]),
            default=None,
        )
        tree.chosen = None if chosen is None else chosen.id
