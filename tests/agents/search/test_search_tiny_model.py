"""Search with a real (tiny, untrained) transformers policy: the whole loop, real budgets."""

from __future__ import annotations

import pytest
from scripted_lm import play

tiny = pytest.importorskip("reasongym.agents.models.tiny")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def policy():
    torch.set_num_threads(1)
    config = tiny.TinyModelConfig(hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64)
    model, tokenizer = tiny.build_tiny_model(config, seed=0)
    return tiny.tiny_lm(model, tokenizer, config)


def test_search_agents_run_with_a_real_model(policy, counting_env):
    from reasongym.agents.models.base import GenerationConfig
    from reasongym.agents.search import MCTS, BeamSearch, BestOfN

    generation = GenerationConfig(temperature=1.0, max_tokens=8, stop=("</answer>",))
    agents = [
        BestOfN(policy, n=4, guidance="self_eval", generation=generation, seed=0),
        BeamSearch(policy, beam_width=2, guidance="logprob", generation=generation, seed=0),
        MCTS(
            policy,
            simulations=3,
            expand=2,
            guidance="verifier",
            mode="train",
            generation=generation,
            seed=0,
        ),
    ]
    for agent in agents:
        agent.bind(counting_env.env)
        _, steps = play(counting_env.env, agent, seed=0)
        stats = agent.stats()
        tree = agent.last_tree
        completions = [n for n in tree.nodes[1:]]
        assert stats["tokens_generated"] == sum(n.num_tokens for n in completions) > 0
        assert all(n.logprob is not None and n.logprob <= 0 for n in completions)
        assert 1 <= steps <= 4
    assert agents[0].stats()["self_eval_calls"] == 4


def test_sampling_with_a_seed_is_reproducible(policy, counting_env):
    from reasongym.agents.models.base import GenerationConfig
    from reasongym.agents.search import BestOfN

    generation = GenerationConfig(temperature=1.0, max_tokens=8, stop=("</answer>",))
    actions = []
    for _ in range(2):
        agent = BestOfN(policy, n=3, guidance="logprob", generation=generation, seed=7)
        agent.bind(counting_env.env)
        play(counting_env.env, agent, seed=1)
        actions.append([n.action for n in agent.last_tree.nodes[1:]])
    assert actions[0] == actions[1]
