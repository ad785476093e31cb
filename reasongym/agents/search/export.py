"""Search trees as training data: SFT trajectories and DPO preference pairs, as JSONL.

* :func:`sft_records` — per tree, the best *verified* trajectory (an env-graded success found
  during search) as a chat: ``{"messages": [...], "task_id", "method", "reward"}``. The chat
  is the env lineage (prompt, actions, tool replies), without the final "Correct." and without
  feedback from discarded revision attempts.
* :func:`preference_pairs` — step-level pairs in TRL's conversational DPO format: at a node
  with a child whose subtree holds a verified success and a child whose subtree holds only
  failures, ``{"prompt": [chat up to the node], "chosen": [{"role": "assistant", ...}],
  "rejected": [...], ...}``.

Only what the env graded counts: answers withheld in eval mode have no verdict. To turn an
eval-mode tree into data anyway, grade its answers first with :func:`label_finals` (verifier
calls, counted in the tree's stats).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reasongym.agents.models.base import Message
from reasongym.agents.search.base import execute
from reasongym.agents.search.chat import chat_prompt
from reasongym.agents.search.tree import Node, SearchTree


def label_finals(tree: SearchTree, env: Any) -> int:
    """Run every withheld final answer of ``tree`` on ``env`` (an unwrapped env with
    ``get_state``/``set_state``) to learn its verdict; returns how many were run. The env's
    state is restored afterwards."""
    saved = env.get_state()
    count = 0
    try:
        for node in tree.nodes:
            if node.final and not node.executed and tree.nodes[node.parent].state is not None:
                execute(env, tree.nodes[node.parent], node, tree.stats)
                count += 1
    finally:
        env.set_state(saved)
    return count


def path_return(tree: SearchTree, node: Node) -> float:
    """The env reward summed along the path to ``node`` (unexecuted steps count 0)."""
    return float(sum(n.reward or 0.0 for n in tree.path(node.id)))


def verified(tree: SearchTree) -> list[Node]:
    """Nodes where the env declared success during search."""
    return [n for n in tree.nodes if n.executed and n.success]


def best_verified(tree: SearchTree) -> Node | None:
    """The verified node with the highest return, then the fewest steps, then the policy's
    highest confidence."""

    def key(node: Node) -> tuple[float, int, float]:
        confidence = node.mean_token_logprob
        return (
            path_return(tree, node),
            -node.depth,
            confidence if confidence is not None else float("-inf"),
        )

    return max(verified(tree), key=key, default=None)


def _chat(messages: list[Message], tool_role: str) -> list[Message]:
    if tool_role == "tool":
        return [dict(m) for m in messages]
    if tool_role != "user":
        raise ValueError(f"tool_role must be 'user' or 'tool', got {tool_role!r}")
    return [dict(m) for m in chat_prompt(messages)]


def sft_records(
    trees: Iterable[SearchTree], all_verified: bool = False, tool_role: str = "user"
) -> list[dict[str, Any]]:
    """Chat-format SFT examples: the best verified trajectory of each tree (or, with
    ``all_verified``, every distinct verified trajectory). Tool output is a user turn
    ``"Tool output:\n..."`` as the search agents and ``LLMAgent`` show it to the policy
    (``tool_role="tool"`` keeps the env's ``tool`` role)."""
    records = []
    for tree in trees:
        if all_verified:
            nodes, seen = [], set()
            for node in verified(tree):
                actions = tuple(tree.actions(node.id))
                if actions not in seen:
                    seen.add(actions)
                    nodes.append(node)
        else:
            node = best_verified(tree)
            nodes = [] if node is None else [node]
        for node in nodes:
            records.append(
                {
                    "messages": _chat(tree.messages(node.id), tool_role),
                    "task_id": tree.task_id,
                    "method": tree.method,
                    "reward": path_return(tree, node),
                }
            )
    return records


def _outcomes(tree: SearchTree) -> dict[int, tuple[bool, bool]]:
    """node id -> (a verified success below it, a graded failure below it), rollouts included."""
    found: dict[int, tuple[bool, bool]] = {}
    for end in tree.nodes:
        if not (end.executed and end.parent is not None and (end.done or end.final)):
            continue
        node: Node | None = end
        while node is not None:
            good, bad = found.get(node.id, (False, False))
            found[node.id] = (good or bool(end.success), bad or not end.success)
            node = tree.nodes[node.parent] if node.parent is not None else None
    return found


def preference_pairs(
    trees: Iterable[SearchTree], max_pairs_per_node: int = 4, tool_role: str = "user"
) -> list[dict[str, Any]]:
    """Step-level DPO pairs: verified vs failed sibling actions (see the module docstring;
    ``tool_role`` as in :func:`sft_records`)."""
    records = []
    for tree in trees:
        outcomes = _outcomes(tree)
        for parent in tree.nodes:
            kids = tree.children(parent)
            if len(kids) < 2:
                continue
            chosen = [k for k in kids if outcomes.get(k.id, (False, False))[0]]
            rejected = [k for k in kids if outcomes.get(k.id, (False, False)) == (False, True)]
            pairs = [(c, r) for c in chosen for r in rejected][:max_pairs_per_node]
            prompt = (
                tree.messages(parent.id, final_reply=True)
                if parent.parent is not None
                else tree.root.context
            )
            for good, bad in pairs:
                records.append(
                    {
                        "prompt": _chat(prompt, tool_role),
                        "chosen": [{"role": "assistant", "content": good.action}],
                        "rejected": [{"role": "assistant", "content": bad.action}],
                        "task_id": tree.task_id,
                        "method": tree.method,
                        "depth": parent.depth,
                    }
                )
    return records


def write_jsonl(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write one JSON object per line (parent folders created); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def export_trees(
    trees: Iterable[SearchTree],
    sft_path: str | Path | None = None,
    dpo_path: str | Path | None = None,
) -> dict[str, int]:
    """Write SFT and/or DPO JSONL files from ``trees``; returns the record counts."""
    trees = list(trees)
    counts = {}
    if sft_path is not None:
        counts["sft"] = write_jsonl(sft_records(trees), sft_path)
    if dpo_path is not None:
        counts["dpo"] = write_jsonl(preference_pairs(trees), dpo_path)
    return counts
