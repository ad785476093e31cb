"""Search over environments with internal and external guidance.

Agents (all :class:`SearchAgent`, so ``reasongym run --agent bon|beam|mcts|revision``):
:class:`BestOfN`, :class:`BeamSearch`, :class:`MCTS`, :class:`SequentialRevision`.
Guidance: :mod:`reasongym.agents.search.guidance`. Training data from the trees they return:
:mod:`reasongym.agents.search.export`.

Example::

    import gymnasium as gym, reasongym
    from reasongym.agents.search import BestOfN
    from reasongym.evaluation import run_episodes

    agent = BestOfN(policy, n=16, guidance="majority")          # eval mode: no verifier peeks
    summary = run_episodes("reasongym/Arithmetic-v0", agent, episodes=100)
    print(summary.success_rate, summary.agent_stats["tokens_generated"])
"""

from reasongym.agents.search.base import SearchAgent
from reasongym.agents.search.beam import BeamSearch
from reasongym.agents.search.best_of_n import BestOfN
from reasongym.agents.search.export import (
    export_trees,
    label_finals,
    preference_pairs,
    sft_records,
    write_jsonl,
)
from reasongym.agents.search.guidance import (
    EnvReward,
    Guidance,
    LogProbConfidence,
    MajorityVote,
    ProcessRewardModel,
    SelfEvaluation,
    Weighted,
    answer_text,
    parse_guidance,
)
from reasongym.agents.search.mcts import MCTS
from reasongym.agents.search.revision import SequentialRevision
from reasongym.agents.search.tree import Node, SearchStats, SearchTree

__all__ = [
    "MCTS",
    "BeamSearch",
    "BestOfN",
    "EnvReward",
    "Guidance",
    "LogProbConfidence",
    "MajorityVote",
    "Node",
    "ProcessRewardModel",
    "SearchAgent",
    "SearchStats",
    "SearchTree",
    "SelfEvaluation",
    "SequentialRevision",
    "Weighted",
    "answer_text",
    "export_trees",
    "label_finals",
    "parse_guidance",
    "preference_pairs",
    "sft_records",
    "write_jsonl",
]
