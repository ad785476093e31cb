"""The in-repo loops with native tool calls: a Hugging Face chat model's ``<tool_call>``
output reaches the env as the contract's tool-call JSON, and GRPO trains on it."""

from __future__ import annotations

import json
import random

import pytest

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from reasongym.agents.models.base import Completion, GenerationConfig, LanguageModel  # noqa: E402
from reasongym.agents.models.transformers_lm import (  # noqa: E402
    TransformersLM,
    native_messages,
    parse_tool_calls,
)
from reasongym.integrations.trl.tiny_model import (  # noqa: E402
    build_tiny_chat_model,
    tool_call_parts,
    tool_call_text,
)
from reasongym.train import grpo  # noqa: E402
from reasongym.train.expert_iteration import ExpertIterationConfig, fine_tune  # noqa: E402
from reasongym.train.policy import Policy  # noqa: E402
from reasongym.train.rollouts import Turn, play_episodes  # noqa: E402
from reasongym.train.run_config import PolicyConfig, TaskConfig  # noqa: E402
from reasongym.train.tokens import encode_turn  # noqa: E402

ENV = "reasongym/Arithmetic-v0"
NATIVE = {"action_format": "native"}
CALL = tool_call_text("calculator", {"expression": "2+3"})
GUESS = tool_call_text("submit_answer", {"answer": "0"})


def _env(**kwargs):
    import gymnasium as gym

    import reasongym  # noqa: F401

    return gym.make(ENV, **{**NATIVE, **kwargs})


@pytest.fixture(scope="module")
def calling_model(tmp_path_factory):
    """A tiny HF chat model fine-tuned for a few steps to open an episode with a native
    call: the calculator on half its demonstrations, a guessed answer on the others (each
    whole call is one token of its vocabulary), so sampled groups disagree."""
    import torch

    from reasongym.agents import contract

    torch.manual_seed(0)
    directory = build_tiny_chat_model(
        tmp_path_factory.mktemp("tiny") / "m",
        calls=[CALL, GUESS, *tool_call_parts("x", "y")],
        skip_tool_signatures=True,  # short prompts: a fast test
    )
    env = _env()
    tools = tuple(contract.openai_tools(env))
    turns = []
    for i in range(8):
        _, info = env.reset(options={"task_index": 100 + i})
        turns.append(Turn([dict(m) for m in info["messages"]], (CALL, GUESS)[i % 2], tools))
    policy = Policy(TransformersLM(str(directory), batch_size=16), tool_calls="native")
    sft = ExpertIterationConfig(
        steps_per_round=20, batch_size=8, learning_rate=1e-2, warmup_steps=0, progress=False
    )
    fine_tune(policy, turns, sft, random.Random(0))
    saved = directory.parent / "calling"
    policy.save(saved)
    env.close()
    return saved


def test_parse_tool_calls_reads_template_calls_and_never_raises_on_junk():
    calls = parse_tool_calls("thinking...\n" + CALL)
    assert calls == (
        {
            "type": "function",
            "function": {"name": "calculator", "arguments": {"expression": "2+3"}},
        },
    )
    string_args = (
        '<tool_call>{"name": "calculator", "arguments": "{\\"expression\\": \\"1\\"}"}</tool_call>'
    )
    assert parse_tool_calls(string_args)[0]["function"]["arguments"] == {"expression": "1"}
    for junk in (
        "",
        "<tool_call>",
        "<tool_call>{not json</tool_call>",
        '<tool_call>{"arguments": {}}</tool_call>',  # no name
        '<tool_call>{"name": 3, "arguments": {}}</tool_call>',
        '<tool_call>{"name": "calculator", "arguments": [1]}</tool_call>',
        '<tool_call>{"name": "calculator", "arguments": "nope"}</tool_call>',
        "<tool_call>[" * 10_000 + "</tool_call>",
        '<tool_call>"just a string"</tool_call>',
        CALL + "<tool_call>{broken</tool_call>",  # one bad block: no calls at all, it is text
    ):
        assert parse_tool_calls(junk) == (), junk


def test_native_messages_turn_recorded_actions_back_into_template_calls():
    action = json.dumps(
        {
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "calculator", "arguments": {"expression": "1+1"}},
                }
            ]
        }
    )
    chat = [
        {"role": "user", "content": "Compute 1 + 1."},
        {"role": "assistant", "content": action},
        {"role": "tool", "content": "2"},
        {"role": "assistant", "content": '{"tool_calls": oops'},
    ]
    out = native_messages(chat)
    assert out[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "type": "function",
                "function": {"name": "calculator", "arguments": {"expression": "1+1"}},
            }
        ],
    }
    assert out[2]["role"] == "tool" and out[3]["content"] == '{"tool_calls": oops'


def test_transformers_lm_renders_tools_and_returns_native_calls(calling_model):
    from reasongym.agents import contract

    lm = TransformersLM(str(calling_model))
    env = _env()
    _, info = env.reset(options={"task_index": 3})
    tools = tuple(contract.openai_tools(env))
    shown = lm.prompt_text(info["messages"], tools=tools)
    assert '"name": "calculator"' in shown and '"name": "submit_answer"' in shown
    assert "calculator" not in lm.prompt_text(info["messages"])  # no tools: not rendered
    config = GenerationConfig(temperature=0.0, max_tokens=4, tools=tools, logprobs=False)
    [[completion]] = lm.generate([info["messages"]], config)
    assert completion.text in (CALL, GUESS)
    assert completion.finish_reason == "tool_calls"
    assert completion.tool_calls == parse_tool_calls(completion.text)
    assert completion.tool_calls[0]["function"]["name"] in ("calculator", "submit_answer")
    [[plain]] = lm.generate([info["messages"]], GenerationConfig(max_tokens=4, logprobs=False))
    assert plain.tool_calls == ()  # calls are parsed only when tools were offered
    env.close()


class _Scripted(LanguageModel):
    """Replies with fixed texts, parsed the way TransformersLM parses them."""

    def __init__(self, texts):
        super().__init__()
        self.texts = list(texts)
        self.seen_tools = []

    def native_tools(self, config):
        return tuple(config.tools)

    def generate(self, prompts, config):
        self.seen_tools.append(config.tools)
        out = []
        for _ in prompts:
            text = self.texts.pop(0) if self.texts else "<tool_call>{"
            out.append([Completion(text=text, tool_calls=parse_tool_calls(text), tokens=("x",))])
        return out


def test_native_episodes_step_tool_calls_and_hostile_text_is_graded_not_raised():
    env = _env()
    hostile = [
        CALL,
        tool_call_text("submit_answer", {"answer": "5"}),
        tool_call_text("rm_rf", {"path": "/"}),
        '<tool_call>{"name": "calculator", "arguments": {"expression": "9**9**9**9"}}</tool_call>',
        '<tool_call>{"name": "calculator", "arguments": {"expression": ["1"]}}</tool_call>',
        "<tool_call>{" + '"a":' * 5000,
        '{"tool_calls": [{"function": {"name": "submit_answer", "arguments": {"answer": "0"}}}]}',
        "\x00" * 100,
    ]
    lm = _Scripted(hostile)
    episodes = play_episodes(
        lm, env, [7] * len(hostile), GenerationConfig(max_tokens=8), 1, tool_calls="native"
    )
    assert {t["function"]["name"] for t in lm.seen_tools[0]} == {"calculator", "submit_answer"}
    first = episodes[0]
    assert first.tool_calls == 1 and first.turns[0].action == CALL  # the model's own text
    assert first.turns[0].tools == lm.seen_tools[0]
    assert first.reward >= 0  # a successful calculator call, no format penalty
    for episode in episodes[2:6]:
        assert episode.reward <= 0 and not episode.success
    tags = play_episodes(_Scripted([CALL]), env, [7], GenerationConfig(max_tokens=8), 1)
    assert tags[0].tool_calls == 0 and tags[0].turns[0].tools == ()  # tag mode: text only
    env.close()


def test_grpo_trains_a_hf_chat_model_with_native_tool_calls(tmp_path, calling_model):
    config = grpo.GRPOConfig(
        out=tmp_path / "grpo-native",
        policy=PolicyConfig(model=str(calling_model), tool_calls="native", batch_size=16),
        tasks=TaskConfig(
            env_kwargs={**NATIVE, "reward": {"tool_success": 0.5}},
            eval_tasks=4,
            max_turns=2,
            max_tokens=4,
        ),
        steps=2,
        tasks_per_step=2,
        group_size=4,
        learning_rate=1e-3,
        eval_every=2,
        checkpoint_every=2,
        progress=False,
    )
    result = grpo.train(config)
    steps = [r for r in result.rows if r["step"] >= 1]
    assert [r["step"] for r in steps] == [1, 2]
    assert all(r["tool_calls_per_episode"] > 0 for r in steps)  # the model called natively
    assert max(r["reward"] for r in steps) > 0  # the env ran them (tool_success is paid)
    assert all(r["env_seconds"] > 0 for r in steps)
    before = TransformersLM(str(calling_model)).model.state_dict()
    after = TransformersLM(str(result.out / "checkpoints" / "step-2")).model.state_dict()
    assert any((before[k] != after[k]).any() for k in before)  # the update changed weights


def test_encode_turn_scores_the_prompt_as_it_was_sampled(calling_model):
    from reasongym.agents import contract

    lm = TransformersLM(str(calling_model))
    env = _env()
    _, info = env.reset(options={"task_index": 1})
    tools = tuple(contract.openai_tools(env))
    turn = Turn([dict(m) for m in info["messages"]], CALL, tools)
    prompt, target = encode_turn(lm, turn, add_eos=False)
    assert prompt == lm.encode_prompt(turn.prompt, reserve=len(target), tools=tools)
    assert lm.tokenizer.decode(target) == CALL
    env.close()
