"""Guidance scores and mixes, and the SFT / DPO exports of search trees."""

from __future__ import annotations

import json
import math

import pytest
from scripted_lm import ScriptedLM, gold, last_assistant, play, question, tool_output

from reasongym.agents.search import (
    MCTS,
    BestOfN,
    LogProbConfidence,
    MajorityVote,
    ProcessRewardModel,
    Weighted,
    export_trees,
    label_finals,
    parse_guidance,
    preference_pairs,
    sft_records,
)


def one_right(chat):
    g = gold(chat)
    return [
        (f"<answer>{g + 1}</answer>", -0.1),
        (f"<answer>{g}</answer>", -1.0),
        (f"<answer>{g - 1}</answer>", -2.0),
    ]


def test_parse_guidance_builds_weighted_mixes():
    mix = parse_guidance("verifier:1,logprob:0.5")
    assert isinstance(mix, Weighted) and mix.uses_verifier and mix.kind == "external"
    assert mix.name == "verifier:1,logprob:0.5"
    assert isinstance(parse_guidance("majority"), MajorityVote)
    internal = parse_guidance("logprob,majority")
    assert internal.kind == "internal" and not internal.uses_verifier
    with pytest.raises(ValueError, match="unknown guidance"):
        parse_guidance("oracle")
    with pytest.raises(ValueError, match="prm"):
        parse_guidance("prm")


def test_weighted_mix_averages_over_guidances_with_an_opinion(counting_env):
    # majority has no opinion on tool calls, so there the mix is the confidence alone
    mix = Weighted([(LogProbConfidence(), 1.0), (MajorityVote(), 3.0)])
    agent = BestOfN(ScriptedLM(one_right), n=3, guidance=mix)
    agent.bind(counting_env.env)
    play(counting_env.env, agent, seed=0)
    for node in agent.last_tree.nodes[1:]:
        conf, vote = node.scores["logprob"], node.scores["majority"]
        assert conf == pytest.approx(math.exp(node.logprob))  # one-token completions
        assert node.value == pytest.approx((conf + 3 * vote) / 4)


def test_self_evaluation_scores_p_yes_and_a_prm_sees_the_chat(counting_env):
    seen = []

    def prm(messages):
        seen.append(messages)
        return 1.0 if str(gold(messages)) in messages[-1]["content"] else 0.0

    judge = ScriptedLM(
        one_right, judge=lambda chat: 0.8 if str(gold(chat)) in last_assistant(chat) else 0.3
    )
    agent = BestOfN(
        judge,
        n=3,
        guidance=Weighted(
            [(parse_guidance("self_eval", judge), 1.0), (ProcessRewardModel(prm), 1.0)]
        ),
    )
    agent.bind(counting_env.env)
    assert play(counting_env.env, agent, seed=1)[
        0
    ]  # PRM (allowed in eval mode) and the judge agree
    scores = sorted(n.scores["self_eval"] for n in agent.last_tree.nodes[1:])
    assert scores == pytest.approx([0.3, 0.3, 0.8])
    assert judge.score_prompts[0][-1]["content"].startswith("Is the answer above correct?")
    assert seen[0][-1]["role"] == "assistant" and agent.stats()["prm_calls"] == 3


def test_sft_and_dpo_exports_have_the_right_shapes(tmp_path, counting_env):
    agent = BestOfN(ScriptedLM(one_right), n=3, guidance="verifier", mode="train", keep_trees=True)
    agent.bind(counting_env.env)
    for seed in range(2):
        play(counting_env.env, agent, seed=seed)
    sft = sft_records(agent.trees)
    assert len(sft) == 2
    messages = sft[0]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["content"] == f"<answer>{gold(messages)}</answer>"
    assert sft[0]["reward"] == 1.0 and sft[0]["task_id"].startswith("arithmetic/")

    pairs = preference_pairs(agent.trees)
    assert len(pairs) == 4  # per tree: the verified answer against each of two failed siblings
    for pair in pairs:
        assert [m["role"] for m in pair["prompt"]] == ["user"]
        assert pair["chosen"] == [
            {"role": "assistant", "content": f"<answer>{gold(pair['prompt'])}</answer>"}
        ]
        assert pair["rejected"][0]["role"] == "assistant" and pair["rejected"] != pair["chosen"]

    counts = export_trees(agent.trees, tmp_path / "sft.jsonl", tmp_path / "dpo.jsonl")
    assert counts == {"sft": 2, "dpo": 4}
    rows = [json.loads(line) for line in (tmp_path / "dpo.jsonl").read_text().splitlines()]
    assert set(rows[0]) >= {"prompt", "chosen", "rejected"}


def test_multi_step_export_and_labelling_an_eval_tree(counting_env):
    def trap(chat):
        if tool_output(chat) is not None:
            return [(f"<answer>{tool_output(chat)}</answer>", -0.1)]
        return [
            (f"<answer>{gold(chat) + 10}</answer>", -0.1),
            (f'<tool name="calculator">{question(chat)}</tool>', -2.5),
        ]

    agent = MCTS(ScriptedLM(trap), simulations=8, expand=2, guidance="verifier", mode="train")
    agent.bind(counting_env.env)
    play(counting_env.env, agent, seed=5)
    [record] = sft_records([agent.last_tree])
    roles = [m["role"] for m in record["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]  # tool output as a user turn
    assert record["messages"][2]["content"].startswith("Tool output:\n")
    raw = sft_records([agent.last_tree], tool_role="tool")[0]["messages"]
    assert [m["role"] for m in raw] == ["user", "assistant", "tool", "assistant"]
    [pair] = preference_pairs([agent.last_tree])
    assert (
        "calculator" in pair["chosen"][0]["content"]
        and "<answer>" in pair["rejected"][0]["content"]
    )

    evaluator = BestOfN(ScriptedLM(trap), n=2, guidance="logprob")
    evaluator.bind(counting_env.env)
    play(counting_env.env, evaluator, seed=5)
    tree = evaluator.last_tree
    assert sft_records([tree]) == []  # nothing graded in eval mode
    graded = label_finals(tree, counting_env.env.unwrapped)
    assert graded == 2 and tree.stats.verifier_calls == graded
    assert len(sft_records([tree])) == 1
