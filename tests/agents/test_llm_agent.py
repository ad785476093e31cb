"""LLMAgent: chat handling, grammar-conformant actions from a tiny trained model, multimodal
observations, the CLI factory, and the agent over the OpenAI-compatible server."""

from __future__ import annotations

import numpy as np
import pytest

from reasongym.agents.llm import DEFAULT_SYSTEM_PROMPT, LLMAgent, make_llm_agent
from reasongym.agents.models import GenerationConfig, LanguageModel
from reasongym.agents.models.base import Completion
from reasongym.evaluation import run_episodes


class ScriptedLM(LanguageModel):
    """Answers with the next of ``replies`` (cycling) and records the chats it was given."""

    def __init__(self, *replies: str):
        super().__init__()
        self.replies, self.chats, self.configs = list(replies), [], []

    def generate(self, prompts, config):
        self.chats += prompts
        self.configs.append(config)
        text = self.replies[(len(self.chats) - 1) % len(self.replies)]
        return [[Completion(text, tuple(text), None, "stop")] * config.n for _ in prompts]


@pytest.fixture(scope="module")
def format_lm():
    """A tiny model trained for a few seconds: it has learnt the ``<answer>N</answer>`` format,
    not yet the arithmetic."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from reasongym.agents.models.tiny import TinyModelConfig, pretrain_arithmetic

    torch.set_num_threads(1)
    small = TinyModelConfig(
        hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, prompt_window=32
    )
    result = pretrain_arithmetic(
        None,
        model=small,
        difficulty=2,
        max_steps=120,
        batch_size=16,
        learning_rate=1e-2,
        warmup_steps=10,
        eval_every=10**6,
        target_accuracy=1.0,
        validation_tasks=10,
    )
    return result.lm


def test_tiny_model_acts_in_the_grammar(format_lm):
    agent = LLMAgent(format_lm, GenerationConfig(max_tokens=32))
    summary = run_episodes("reasongym/Arithmetic-v0", agent, episodes=4, seed=0)
    assert summary.episodes == 4
    assert all(r.terminated and r.turns == 1 for r in summary.results)  # an answer every time
    assert agent.last_completion.text.startswith(
        "<answer>"
    ) and agent.last_completion.text.endswith("</answer>")
    stats = summary.agent_stats
    assert stats["model_calls"] == 4 and stats["tokens_generated"] >= 4 * len("<answer>0</answer>")
    assert stats["prompt_tokens"] > 0


def test_agent_over_the_openai_server(format_lm):
    from reasongym.agents.models.openai_lm import OpenAICompatibleLM
    from reasongym.agents.models.serve import serve_in_thread

    with serve_in_thread(format_lm) as server:
        agent = LLMAgent(OpenAICompatibleLM(server.base_url), GenerationConfig(max_tokens=32))
        remote = run_episodes("reasongym/Arithmetic-v0", agent, episodes=2, seed=0)
    local = run_episodes(
        "reasongym/Arithmetic-v0", LLMAgent(format_lm, GenerationConfig(max_tokens=32)), 2, seed=0
    )
    assert [r.reward for r in remote.results] == [r.reward for r in local.results]
    assert agent.last_completion.text.endswith("</answer>")  # the stop string survives the API
    assert remote.agent_stats["tokens_generated"] == local.agent_stats["tokens_generated"]


def test_chat_follows_env_messages_and_stops_after_actions():
    lm = ScriptedLM('<tool name="calculator">2*3</tool>', "<answer>6</answer>")
    agent = LLMAgent(lm)
    prompt = "Problem: 2*3. Give <answer>ANSWER</answer>."
    info = {"messages": [{"role": "user", "content": prompt}]}
    agent.reset(prompt, info)
    assert agent.act(prompt, info) == '<tool name="calculator">2*3</tool>'
    assert set(lm.configs[0].stop) >= {"</tool>", "</answer>"} and lm.configs[0].n == 1
    info = {
        "messages": [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": '<tool name="calculator">2*3</tool>'},
            {"role": "tool", "content": "6"},
        ]
    }
    assert agent.act("6", info) == "<answer>6</answer>"
    second = lm.chats[1]
    assert [m["role"] for m in second] == [
        "user",
        "assistant",
        "user",
    ]  # no system: the prompt has the grammar
    assert second[2]["content"] == "Tool output:\n6"
    assert agent.stats()["model_calls"] == 2


def test_system_prompt_only_when_the_env_does_not_give_the_grammar():
    lm = ScriptedLM("<answer>1</answer>")
    agent = LLMAgent(lm)
    agent.reset("What is 1?", {})  # no grammar in the observation, no messages in info
    agent.act("What is 1?", {})
    agent.act("Incorrect, try again.", {})
    chat = lm.chats[-1]
    assert chat[0] == {"role": "system", "content": DEFAULT_SYSTEM_PROMPT}
    assert [m["role"] for m in chat] == [
        "system",
        "user",
        "assistant",
        "user",
    ]  # built by the agent
    assert chat[-1]["content"] == "Incorrect, try again."
    forced = LLMAgent(ScriptedLM("x"), system_prompt="")
    forced.reset("What is 1?", {})
    forced.act("What is 1?", {})
    assert forced.model.chats[0][0]["role"] == "user"


def test_multimodal_observation_sends_a_png_data_url():
    lm = ScriptedLM("<answer>red</answer>")
    agent = LLMAgent(lm)
    observation = {
        "text": "Which colour? <answer>COLOUR</answer>",
        "image": np.full((4, 4, 3), 200, dtype=np.uint8),
    }
    info = {"messages": [{"role": "user", "content": observation["text"]}]}
    agent.reset(observation, info)
    agent.act(observation, info)
    content = lm.chats[0][-1]["content"]
    assert content[0] == {"type": "text", "text": observation["text"]}
    assert content[1]["type"] == "image_url" and content[1]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )


def test_make_llm_agent_takes_explicit_options(tmp_path, format_lm):
    from reasongym.agents import build_agent
    from reasongym.agents.models.base import DEFAULT_MAX_TOKENS
    from reasongym.agents.models.openai_lm import OpenAICompatibleLM
    from reasongym.agents.models.tiny import TinyModelConfig, save_tiny

    save_tiny(
        format_lm,
        tmp_path,
        TinyModelConfig(
            hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, prompt_window=32
        ),
    )
    agent = make_llm_agent(model=f"tiny:{tmp_path}", temperature=0.7, max_tokens=16, seed=3)
    assert (
        agent.config.temperature == 0.7 and agent.config.max_tokens == 16 and agent.config.seed == 3
    )
    assert agent.act("Problem:\nCompute 1 + 2.", {}).startswith("<")
    remote = make_llm_agent(model="served", base_url="http://127.0.0.1:9/v1")
    assert isinstance(remote.model, OpenAICompatibleLM) and remote.model.model == "served"
    assert remote.config.temperature == 0.0 and remote.config.max_tokens == DEFAULT_MAX_TOKENS
    with pytest.raises(ValueError, match="takes no option.*'max_tokens'"):
        build_agent("llm", max_token=5, base_url="http://127.0.0.1:9/v1")


class NativeCaller(LanguageModel):
    """Calls the calculator, then submit_answer with its output, as native tool calls (when it
    is offered tools), recording the tools it was offered."""

    def __init__(self):
        super().__init__()
        self.offered = []

    def generate(self, prompts, config):
        import json
        import re

        self.offered.append([t["function"]["name"] for t in config.tools])
        chat = prompts[0]
        last = chat[-1]["content"]
        if "Tool output" in last or chat[-1]["role"] == "tool":
            value = last.split("\n")[-1].strip()
            call = {"name": "submit_answer", "arguments": json.dumps({"answer": value})}
        else:
            expression = re.search(r"Compute (.+)\.", last).group(1)
            call = {"name": "calculator", "arguments": json.dumps({"expression": expression})}
        completion = Completion(
            "", (), None, "tool_calls", ({"type": "function", "function": call},)
        )
        return [[completion] for _ in prompts]


def test_llm_agent_uses_native_tool_calls_with_a_native_env():
    agent = LLMAgent(NativeCaller())
    summary = run_episodes(
        "reasongym/Arithmetic-v0", agent, episodes=2, seed=0, env_kwargs={"action_format": "native"}
    )
    assert summary.success_rate == 1.0 and all(r.turns == 2 for r in summary.results)
    assert agent.model.offered[0] == ["calculator", "submit_answer"]  # from env.unwrapped.tools


def test_llm_agent_offers_no_native_tools_to_a_tag_env():
    lm = ScriptedLM("<answer>1</answer>")
    agent = LLMAgent(lm)
    run_episodes("reasongym/Arithmetic-v0", agent, episodes=1, seed=0)
    assert lm.configs[0].tools == ()
    assert set(lm.configs[0].stop) == set(agent.env.unwrapped.stop_strings)
