"""The data a search produces: :class:`Node`, :class:`SearchTree` and :class:`SearchStats`.

Plain data with no search logic, so guidance, export and the search agents all read the same
types without importing each other.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from reasongym.agents.models.base import Message


@dataclass
class SearchStats:
    """Budget a search (or all searches of an agent) used. Counted honestly: every generated
    token, every env step taken while searching, every answer the env graded while searching.

    Attributes:
        searches: searches run (one per episode, plus re-plans).
        model_calls: ``LanguageModel.generate`` calls (each may return many completions).
        tokens_generated: tokens of all completions, including discarded branches and rollouts.
        env_steps: env steps taken on snapshots while searching (the replayed steps that the
            runner counts are not included).
        verifier_calls: answers the env graded while searching (0 in eval mode). The replayed
            final answer is graded once more by the env, as part of the episode.
        self_eval_calls: ``LanguageModel.score`` calls made by self-evaluation.
        prm_calls: calls of a process reward model.
    """

    searches: int = 0
    model_calls: int = 0
    tokens_generated: int = 0
    env_steps: int = 0
    verifier_calls: int = 0
    self_eval_calls: int = 0
    prm_calls: int = 0

    def add(self, other: SearchStats) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(eq=False)
class Node:
    """One state of a search: the env after ``action`` was taken from ``parent``.

    Attributes:
        id: index in ``SearchTree.nodes``.
        parent: id of the node whose env state this action was taken from (None for the root).
        depth: env steps from the root.
        action: the action (None for the root).
        observation: the env's reply (None if the action was not executed).
        observation_role: chat role of the reply (``"tool"`` for tool output, else ``"user"``).
        reward: env reward of this step (None if not executed).
        done: the episode ended here (terminated or truncated), or this is a final answer
            withheld from the env in eval mode.
        executed: the action was run on the env during search.
        final: the action is a final answer (``is_final``).
        success: ``info["is_success"]`` of the step (None if not executed).
        state: env snapshot after the action (``get_state()``; None if not executed).
        context: the chat the policy saw for this action, plus the action and its reply:
            the prompt of this node's children.
        logprob: sum of the completion's token log-probs (None if the backend gave none).
        num_tokens: tokens of the completion.
        scores: guidance scores by guidance name.
        value: the combined guidance score (None until scored).
        children: ids of the search children (rollout nodes are not listed).
        visits, value_sum, prior: MCTS statistics.
        rollout: created by an MCTS rollout (outside the search tree proper).
        verdict: the env's verdict dict when an answer was graded during search.
    """

    id: int
    parent: int | None
    depth: int
    action: str | None
    observation: Any
    observation_role: str
    reward: float | None
    done: bool
    executed: bool
    final: bool
    success: bool | None
    state: Any
    context: list[Message]
    logprob: float | None = None
    num_tokens: int = 0
    scores: dict[str, float | None] = field(default_factory=dict)
    value: float | None = None
    children: list[int] = field(default_factory=list)
    visits: int = 0
    value_sum: float = 0.0
    prior: float = 0.0
    rollout: bool = False
    verdict: dict[str, Any] | None = None

    @property
    def mean_token_logprob(self) -> float | None:
        if self.logprob is None or self.num_tokens == 0:
            return None
        return self.logprob / self.num_tokens

    @property
    def q(self) -> float:
        """Mean backed-up value (MCTS); 0 before the first visit."""
        return self.value_sum / self.visits if self.visits else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data without the env snapshot and the context (for logs and JSON)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data.pop("state")
        data.pop("context")
        if not isinstance(data["observation"], str | type(None)):
            data["observation"] = repr(data["observation"])
        return data


@dataclass
class SearchTree:
    """What one search explored and chose.

    Attributes:
        method: the search's name (``bon``, ``beam``, ``mcts``, ``revision``).
        mode: ``"eval"`` or ``"train"``.
        guidance: the guidance's name.
        task_id: ``info["task_id"]`` at the root, when the env gives one.
        nodes: all nodes; ``nodes[0]`` is the root.
        chosen: id of the node whose path from the root is the plan (None if nothing found).
        stats: the budget this search used.
    """

    method: str
    mode: str
    guidance: str
    task_id: str | None
    nodes: list[Node]
    chosen: int | None = None
    stats: SearchStats = field(default_factory=SearchStats)

    @property
    def root(self) -> Node:
        return self.nodes[0]

    def path(self, node_id: int) -> list[Node]:
        """Nodes from the root's first action to ``node_id`` (env lineage; root excluded)."""
        out = []
        node = self.nodes[node_id]
        while node.parent is not None:
            out.append(node)
            node = self.nodes[node.parent]
        return out[::-1]

    def actions(self, node_id: int) -> list[str]:
        """The actions that lead from the root to ``node_id``."""
        return [node.action for node in self.path(node_id)]

    def children(self, node: Node) -> list[Node]:
        return [self.nodes[i] for i in node.children]

    def leaves(self) -> list[Node]:
        """Nodes with no search children (rollout ends included), root excluded."""
        return [n for n in self.nodes[1:] if not n.children]

    def finals(self) -> list[Node]:
        """Nodes whose action is a final answer (rollout ends included)."""
        return [n for n in self.nodes if n.final]

    def messages(self, node_id: int, final_reply: bool = False) -> list[Message]:
        """The clean chat of the env lineage from the root to ``node_id``: the root context,
        then each action with the env's reply (the last reply only if ``final_reply``).
        Unlike ``Node.context`` it leaves out revision feedback from discarded attempts."""
        chat = [dict(m) for m in self.root.context]
        path = self.path(node_id)
        for i, node in enumerate(path):
            chat.append({"role": "assistant", "content": node.action})
            if node.executed and (final_reply or i < len(path) - 1):
                chat.append(
                    {"role": node.observation_role, "content": observation_text(node.observation)}
                )
        return chat

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "mode": self.mode,
            "guidance": self.guidance,
            "task_id": self.task_id,
            "chosen": self.chosen,
            "stats": self.stats.to_dict(),
            "nodes": [n.to_dict() for n in self.nodes],
        }


def observation_text(observation: Any) -> str:
    """The text of an observation (the ``text`` part of a multimodal one)."""
    if isinstance(observation, str):
        return observation
    if isinstance(observation, dict) and isinstance(observation.get("text"), str):
        return observation["text"]  # multimodal envs: the text part (images are not replayed)
    return str(observation)


def rank_key(node: Node) -> tuple[float, float]:
    """Sort key of "better" nodes: guidance value, then the policy's confidence."""
    value = node.value if node.value is not None else -math.inf
    confidence = node.mean_token_logprob
    return (value, confidence if confidence is not None else -math.inf)


def best(nodes: list[Node]) -> Node | None:
    """The best node by ``rank_key`` (the first one among equals)."""
    return max(nodes, key=rank_key, default=None)
