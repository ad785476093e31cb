"""Beam search, MCTS and sequential revision on a real env with a scripted policy."""

from __future__ import annotations

from scripted_lm import ScriptedLM, gold, last_assistant, play, question, tool_output

from reasongym.agents.models.base import GenerationConfig
from reasongym.agents.search import MCTS, BeamSearch, BestOfN, SequentialRevision


def calc(expr: str) -> str:
    return f'<tool name="calculator">{expr}</tool>'


def test_beam_keeps_the_top_k_children(counting_env):
    def respond(chat):
        if tool_output(chat) is not None:
            return [(f"<answer>{tool_output(chat)}</answer>", -0.1)]
        q = question(chat)  # three tool calls; the least likely is dropped from a 2-wide beam
        return [(calc(q), -0.1), (calc(f"({q})"), -0.2), (calc(f"{q}+0"), -3.0)]

    agent = BeamSearch(ScriptedLM(respond), beam_width=2, expand=3, guidance="logprob")
    agent.bind(counting_env.env)
    success, steps = play(counting_env.env, agent, seed=0)
    assert success and steps == 2
    tree = agent.last_tree
    best, second, worst = tree.children(tree.root)
    assert worst.action.endswith("+0</tool>") and worst.value < second.value < best.value
    assert best.children and second.children and not worst.children  # only the top 2 expanded
    assert tree.nodes[tree.chosen].parent == best.id  # the most confident path wins


def test_beam_with_verifier_keeps_the_verified_answer(counting_env):
    def respond(chat):
        g = gold(chat)
        return [(f"<answer>{g + 1}</answer>", -0.1), (f"<answer>{g}</answer>", -4.0)]

    agent = BeamSearch(
        ScriptedLM(respond), beam_width=1, expand=2, guidance="verifier", mode="train"
    )
    agent.bind(counting_env.env)
    assert play(counting_env.env, agent, seed=4)[0]


def trap(chat):
    """The likeliest first action is a wrong answer; the calculator path is right."""
    if tool_output(chat) is not None:
        return [(f"<answer>{tool_output(chat)}</answer>", -0.1)]
    return [(f"<answer>{gold(chat) + 10}</answer>", -0.1), (calc(question(chat)), -2.5)]


def test_mcts_finds_a_rewarded_path_that_greedy_misses(counting_env):
    env = counting_env.env
    greedy = BestOfN(ScriptedLM(trap), n=1, generation=GenerationConfig(temperature=0.0))
    greedy.bind(env)
    assert not play(env, greedy, seed=5)[0]

    mcts = MCTS(ScriptedLM(trap), simulations=8, expand=2, guidance="verifier", mode="train")
    mcts.bind(env)
    success, steps = play(env, mcts, seed=5)
    assert success and steps == 2
    tree = mcts.last_tree
    root_kids = tree.children(tree.root)
    assert root_kids[0].prior > root_kids[1].prior  # priors follow the completions' log-probs
    assert tree.root.visits >= 2 and mcts.stats()["verifier_calls"] >= 2


def test_mcts_value_mode_and_visit_choice_in_eval_mode(counting_env):
    mcts = MCTS(
        ScriptedLM(trap),
        simulations=6,
        expand=2,
        evaluation="value",
        final="visits",
        guidance="logprob",
    )
    mcts.bind(counting_env.env)
    play(counting_env.env, mcts, seed=5)
    tree = mcts.last_tree
    assert sum(c.visits for c in tree.children(tree.root)) == tree.root.visits
    assert mcts.stats()["verifier_calls"] == 0 and counting_env.verifier_calls == 1


def test_revision_fixes_the_answer_after_env_feedback(counting_env):
    def respond(chat):
        fixed = any("Incorrect." in m["content"] for m in chat if m["role"] == "user")
        return [(f"<answer>{gold(chat) + (0 if fixed else 1)}</answer>", -0.5)]

    agent = SequentialRevision(
        ScriptedLM(respond), max_revisions=2, guidance="verifier", mode="train"
    )
    agent.bind(counting_env.env)
    success, steps = play(counting_env.env, agent, seed=6)
    assert success and steps == 1  # only the revised answer is replayed
    tree = agent.last_tree
    first, second = tree.children(tree.root)
    assert not first.success and second.success and tree.chosen == second.id
    assert any("Revise your answer" in m["content"] for m in second.context)
    assert len(tree.messages(second.id)) == 2  # the exported chat leaves the failed attempt out
    assert agent.stats()["verifier_calls"] == 2


def test_revision_in_eval_mode_uses_self_evaluation(counting_env):
    def respond(chat):
        critiqued = any("may be wrong" in m["content"] for m in chat)
        return [(f"<answer>{gold(chat) + (0 if critiqued else 7)}</answer>", -0.5)]

    def judge(chat):
        return 0.9 if str(gold(chat)) in last_assistant(chat) else 0.1

    agent = SequentialRevision(ScriptedLM(respond, judge), max_revisions=3, guidance="self_eval")
    agent.bind(counting_env.env)
    assert play(counting_env.env, agent, seed=7)[0]
    stats = agent.stats()
    assert stats["self_eval_calls"] == 2 and stats["verifier_calls"] == 0
    assert counting_env.verifier_calls == 1


def test_no_search_calls_the_verifier_in_eval_mode(counting_env):
    policy = ScriptedLM(trap, judge=lambda chat: 0.5)
    agents = [
        BestOfN(policy, n=4, guidance="majority"),
        BeamSearch(policy, beam_width=2, guidance="logprob:1,self_eval:1"),
        MCTS(policy, simulations=6, expand=2, guidance="self_eval"),
        SequentialRevision(policy, max_revisions=2, guidance="logprob", accept_threshold=2.0),
    ]
    for i, agent in enumerate(agents):
        agent.bind(counting_env.env)
        before = counting_env.verifier_calls
        play(counting_env.env, agent, seed=10 + i)
        assert agent.stats()["verifier_calls"] == 0, agent.name
        assert counting_env.verifier_calls - before == 1, agent.name  # the replayed answer only


def test_mcts_widening_resamples_a_node_a_bounded_number_of_times(counting_env):
    def respond(chat):
        return [
            (f"<answer>{gold(chat)}</answer>", -0.3),
            (f"<answer>{gold(chat) + 1}</answer>", -0.5),
        ]

    mcts = MCTS(ScriptedLM(respond), simulations=16, expand=2, guidance="logprob")
    mcts.bind(counting_env.env)
    assert play(counting_env.env, mcts, seed=3)[0]
    tree = mcts.last_tree
    # expansions while fewer than sqrt(visits): at visits 0, 2, 5 and 10; duplicates merged
    assert mcts.stats()["model_calls"] == 4 and len(tree.root.children) == 2
    assert tree.root.visits == 16
