"""Sequential revision: answer, read feedback, revise — up to ``max_revisions`` times.

Each attempt is a trajectory from the root state (tool calls allowed) ending in an answer.
If it is not accepted, the next attempt starts again from the root *state* (``set_state``), but
the policy's prompt holds the previous attempt and the feedback on it:

* train mode: the env's own reply to the answer ("Incorrect." plus any verifier details),
  obtained by running the answer on a snapshot — a verifier call, counted;
* eval mode: no verifier; the guidance (e.g. ``self_eval``) judges the answer, and a rejected
  answer gets ``critique`` as feedback.

The chosen attempt is replayed in the real episode, where the env grades it once. Envs that
themselves allow several answers (``max_attempts > 1``) also revise *inside* the episode: after
a wrong replayed answer the env's feedback arrives as an observation and the agent searches
again from there.
"""

from __future__ import annotations

from typing import Any

from reasongym.agents.models.base import LanguageModel, Message
from reasongym.agents.search.base import SearchAgent
from reasongym.agents.search.tree import Node, SearchTree, observation_text, rank_key

DEFAULT_REVISE = "Revise your answer: find the mistake and give a corrected final answer."
DEFAULT_CRITIQUE = (
    "Your answer may be wrong. Check it step by step and give a corrected final answer."
)


class SequentialRevision(SearchAgent):
    """Answer, read feedback, revise.

    Args:
        policy: the proposing language model.
        max_revisions: attempts after the first.
        accept_threshold: (eval mode) an answer whose guidance value reaches this is kept.
        revise: instruction added after the env's feedback (train mode).
        critique: feedback given for an answer the guidance rejects (eval mode).
        **kwargs: see :class:`~reasongym.agents.search.base.SearchAgent`.
    """

    name = "revision"

    def __init__(
        self,
        policy: LanguageModel,
        max_revisions: int = 3,
        accept_threshold: float = 0.5,
        revise: str = DEFAULT_REVISE,
        critique: str = DEFAULT_CRITIQUE,
        **kwargs: Any,
    ):
        if max_revisions < 0:
            raise ValueError(f"max_revisions must be >= 0, got {max_revisions}")
        super().__init__(policy, **kwargs)
        self.max_revisions = max_revisions
        self.accept_threshold = accept_threshold
        self.revise = revise
        self.critique = critique

    def _search(self, tree: SearchTree) -> None:
        attempts: list[Node] = []
        context: list[Message] | None = None
        for _ in range(1 + self.max_revisions):
            end = self._rollout(tree, tree.root, context=context)
            self._evaluate(tree, [end])
            attempts.append(end)
            if self._accepted(end):
                break
            context = self._with_feedback(end)
        # later attempts win ties: they have seen more feedback
        tree.chosen = max(reversed(attempts), key=rank_key).id

    def _accepted(self, node: Node) -> bool:
        if node.executed and node.success is not None and (node.final or node.done):
            return bool(node.success)
        return node.value is not None and node.value >= self.accept_threshold

    def _with_feedback(self, node: Node) -> list[Message]:
        context = [dict(m) for m in node.context]
        if node.executed:  # the env's reply is the last message: add the request to revise
            reply = observation_text(node.observation)
            context[-1] = {"role": "user", "content": f"{reply}\n{self.revise}".strip()}
        else:
            context.append({"role": "user", "content": self.critique})
        return context
