"""Best-of-N and the SearchAgent contract: selection, honest replay, budgets, eval mode."""

from __future__ import annotations

import pytest
from scripted_lm import ScriptedLM, gold, play, tool_output

from reasongym.agents.models.base import GenerationConfig
from reasongym.agents.search import BestOfN
from reasongym.evaluation import run_episodes


def wrong_first(chat):
    """Two confident wrong answers, then the right one (least likely)."""
    g = gold(chat)
    return [
        (f"<answer>{g + 1}</answer>", -0.1),
        (f"<answer>{g + 2}</answer>", -0.5),
        (f"<answer>{g}</answer>", -2.0),
    ]


def test_bon_with_verifier_picks_the_verified_answer(counting_env):
    agent = BestOfN(ScriptedLM(wrong_first), n=3, guidance="verifier", mode="train")
    agent.bind(counting_env.env)
    success, steps = play(counting_env.env, agent, seed=0)
    assert success and steps == 1
    tree = agent.last_tree
    assert len(tree.root.children) == 3 and tree.nodes[tree.chosen].success
    # three answers graded while searching, then the replayed one once more by the env
    assert agent.stats()["verifier_calls"] == 3
    assert counting_env.verifier_calls == 4


def test_greedy_takes_the_most_likely_answer(counting_env):
    greedy = GenerationConfig(temperature=0.0, stop=("</answer>",))
    agent = BestOfN(ScriptedLM(wrong_first), n=1, generation=greedy)
    agent.bind(counting_env.env)
    success, _ = play(counting_env.env, agent, seed=0)
    assert not success
    assert agent.stats()["tokens_generated"] == 1  # one one-word completion


def test_majority_vote_picks_the_mode_without_the_verifier(counting_env):
    def respond(chat):
        g = gold(chat)  # the likeliest answer is wrong; the right one is sampled twice of three
        return [
            (f"<answer>{g + 1}</answer>", -0.1),
            (f"<answer>{g}</answer>", -3.0),
            (f"<answer> {g}.0 </answer>", -3.0),
        ]

    agent = BestOfN(ScriptedLM(respond), n=3, guidance="majority")
    assert agent.mode == "eval"
    agent.bind(counting_env.env)
    success, _ = play(counting_env.env, agent, seed=1)
    assert success
    scores = sorted(n.scores["majority"] for n in agent.last_tree.nodes[1:])
    assert scores == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert agent.stats()["verifier_calls"] == 0 and counting_env.verifier_calls == 1


def test_eval_mode_refuses_guidance_that_reads_the_verifier():
    with pytest.raises(ValueError, match="eval mode"):
        BestOfN(ScriptedLM(wrong_first), n=4, guidance="verifier")
    with pytest.raises(ValueError, match="eval mode"):
        BestOfN(ScriptedLM(wrong_first), n=4, guidance="logprob:1,verifier:1")


def test_search_leaves_the_real_episode_untouched(counting_env):
    env = counting_env.env
    obs, info = env.reset(seed=3)
    before = env.unwrapped.get_state()
    agent = BestOfN(ScriptedLM(wrong_first), n=3, guidance="verifier", mode="train")
    agent.bind(env)
    agent.reset(obs, info)
    agent.search(obs, info)
    after = env.unwrapped.get_state()
    assert after == before  # the whole snapshot: transcript, turn, end flags and RNG
    _, _, terminated, _, info = env.step("<answer>0</answer>")
    assert info["turn"] == 1 and terminated  # the real episode was still at its first turn


def test_multi_step_trajectories_replay_through_act(counting_env):
    def respond(chat):
        if tool_output(chat) is not None:  # after the calculator: answer with its output
            return [(f"<answer>{tool_output(chat)}</answer>", -0.1)]
        return [
            (
                f'<tool name="calculator">{chat[0]["content"].split("Compute ")[1].rstrip(".")}</tool>',
                -0.2,
            )
        ]

    agent = BestOfN(ScriptedLM(respond), n=2, guidance="logprob")
    agent.bind(counting_env.env)
    success, steps = play(counting_env.env, agent, seed=2)
    assert success and steps == 2
    stats = agent.stats()
    # 2 tool steps on snapshots (answers are withheld in eval mode), verifier only at replay
    assert (
        stats["env_steps"] == 2
        and stats["verifier_calls"] == 0
        and counting_env.verifier_calls == 1
    )


def test_run_summary_records_the_budget():
    agent = BestOfN(ScriptedLM(wrong_first), n=3, guidance="verifier", mode="train")
    summary = run_episodes("reasongym/Arithmetic-v0", agent, episodes=3, seed=0)
    assert summary.success_rate == 1.0 and summary.env_steps == 3
    stats = summary.agent_stats
    assert (
        stats["verifier_calls"] == 9 and stats["tokens_generated"] == 9 and stats["searches"] == 3
    )
    assert stats["mode"] == "train" and stats["verifier_may_choose"] is True


def test_factories_take_explicit_options_and_reject_unknown_ones(counting_env, tmp_path):
    from reasongym.agents import build_agent
    from reasongym.agents.search import MCTS
    from reasongym.agents.search.factory import export_after_run, make_search_agent

    agent = build_agent(
        "bon",
        n=3,
        guidance="verifier",
        search_mode="train",
        keep_trees=True,
        seed=0,
        policy=ScriptedLM(wrong_first),
    )
    assert (
        isinstance(agent, BestOfN) and agent.n == 3 and agent.mode == "train" and agent.keep_trees
    )
    assert agent.generation.temperature == 1.0
    agent.bind(counting_env.env)
    assert set(agent.generation.stop) == set(counting_env.env.unwrapped.stop_strings)
    play(counting_env.env, agent, seed=0)
    assert export_after_run(agent, sft_path=str(tmp_path / "sft.jsonl")) == {"sft": 1}
    mcts = make_search_agent("mcts", simulations=5, policy=ScriptedLM(wrong_first))
    assert isinstance(mcts, MCTS) and mcts.simulations == 5 and mcts.mode == "eval"
    with pytest.raises(ValueError, match="unknown search agent"):
        make_search_agent("dfs", policy=ScriptedLM(wrong_first))
    # a typo, or an option of another agent, is an error that lists the valid options
    with pytest.raises(ValueError, match=r"takes no option\(s\) \['simulatoins'\].*'simulations'"):
        build_agent("mcts", simulatoins=5, policy=ScriptedLM(wrong_first))
    with pytest.raises(ValueError, match=r"'beam_width'"):
        build_agent("bon", beam_width=2, policy=ScriptedLM(wrong_first))
    with pytest.raises(ValueError, match="did you mean 'beam'"):
        build_agent("bean")
    with pytest.raises(ValueError, match="needs a search agent"):
        export_after_run(build_agent("oracle"), sft_path=str(tmp_path / "x.jsonl"))
