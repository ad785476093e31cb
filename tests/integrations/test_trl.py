"""The TRL bridge, proven with a real ``GRPOTrainer`` on CPU."""

from __future__ import annotations

import inspect

import pytest

import reasongym  # noqa: F401

trl = pytest.importorskip("trl")
pytest.importorskip("datasets")

from reasongym.integrations import trl as rg  # noqa: E402
from reasongym.integrations.trl.tiny_model import build_tiny_chat_model, tool_call_text  # noqa: E402

ENV = "reasongym/Arithmetic-v0"


def test_factory_class_follows_trls_protocol():
    from transformers.utils import get_json_schema

    cls = rg.environment_factory(ENV)
    env = cls()  # no arguments, as TRL builds it
    tools = [
        n
        for n, _ in inspect.getmembers(cls, inspect.isfunction)
        if not n.startswith("_") and n not in ("reset", "get_reward")
    ]
    assert set(tools) >= {"calculator", "submit_answer"}
    schema = get_json_schema(env.calculator)["function"]
    assert schema["parameters"]["required"] == ["expression"]
    assert schema["description"]
    prompt = env.reset(task_index=2, answer="not for the policy", prompt=[])
    assert "Problem" in prompt and "<tool name=" not in prompt  # native tools, no tag grammar
    assert "not for the policy" not in prompt
    assert env.calculator(expression="37*41") == "1517"
    gold = rg.dataset(ENV, [2], multi_turn=False)[0]["answer"]
    env.submit_answer(answer=gold)
    assert env.info["is_success"] is True
    assert env.get_reward() > 0
    before = env.get_reward()
    assert "over" in env.calculator(expression="1+1")  # nothing is paid after the end
    assert env.get_reward() == before


def test_hostile_tool_arguments_never_raise_and_never_pay():
    env = rg.environment_factory(ENV)()
    env.reset(task_index=0)
    for bad in (
        {"expression": "__import__('os').system('id')"},
        {"expression": "9**9**9**9"},
        {"expression": None},
        {"wrong": 1},
        {"expression": ["1"]},
    ):
        reply = env._call_tool("calculator", bad)
        assert isinstance(reply, str)
    assert env.get_reward() <= 0


def test_dataset_and_single_turn_reward_function():
    ds = rg.dataset(ENV, range(3), multi_turn=False)
    assert ds.column_names == ["prompt", "task_index", "task_id", "answer"]
    assert "Problem" in ds[0]["prompt"][-1]["content"]
    reward = rg.reward_function(ENV)
    right = [f"<answer>{a}</answer>" for a in ds["answer"]]
    conversational = [[{"role": "assistant", "content": c}] for c in right]
    assert reward(right, task_index=ds["task_index"]) == [1.0, 1.0, 1.0]
    assert reward(conversational, task_index=ds["task_index"]) == [1.0, 1.0, 1.0]
    assert max(reward(["<answer>nope</answer>"] * 3, task_index=ds["task_index"])) < 1.0
    multi = rg.dataset(ENV, range(2), environment="math")
    assert multi[0]["environment"] == "math" and multi[0]["prompt"][-1]["content"] == ""


@pytest.mark.slow
def test_grpo_trainer_runs_through_environment_factory(tmp_path):
    from trl import GRPOConfig, GRPOTrainer

    call = tool_call_text("calculator", {"expression": "2+3"})
    model_dir = build_tiny_chat_model(tmp_path / "tiny", calls=[call])
    base = rg.environment_factory(ENV, reward={"tool_success": 0.5})
    seen: dict[str, list] = {"calls": [], "rewards": []}

    class CountingEnv(base):
        def _call_tool(self, name, arguments):
            seen["calls"].append((name, dict(arguments)))
            return super()._call_tool(name, arguments)

        def get_reward(self) -> float:
            value = super().get_reward()
            seen["rewards"].append(value)
            return value

    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=12,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        learning_rate=1e-3,
        max_tool_calling_iterations=2,
        seed=0,
        dataloader_num_workers=0,
    )
    trainer = GRPOTrainer(
        model=str(model_dir),
        args=args,
        train_dataset=rg.dataset(ENV, range(16)),
        environment_factory=CountingEnv,
    )
    trainer.train()
    assert trainer.state.global_step == 2
    assert ("calculator", {"expression": "2+3"}) in seen["calls"]  # tool calls reached the env
    logged = [h for h in trainer.state.log_history if "rewards/CountingEnv/mean" in h]
    assert len(logged) == 2
    assert max(seen["rewards"]) > 0  # the env paid for its tool calls ...
    total = sum(h["rewards/CountingEnv/mean"] for h in logged) * 4
    assert total == pytest.approx(sum(seen["rewards"]))  # ... and TRL logged what it paid


def test_puzzle_tools_return_images_as_content_blocks():
    from PIL import Image

    cls = rg.environment_factory("reasongym/Maze-v0", multimodal=True)
    tools = {n for n, _ in inspect.getmembers(cls, inspect.isfunction)} - {"reset", "get_reward"}
    assert {t for t in tools if not t.startswith("_")} == {"move"}  # the puzzle's own typed tool
    env = cls()
    first = env.reset(seed=0)
    assert isinstance(first[0]["image"], Image.Image) and first[1]["type"] == "text"
    reply = env.move(move="up")
    assert [block["type"] for block in reply] == ["image", "text"]
    assert isinstance(rg.environment_factory("reasongym/Maze-v0")().reset(seed=0), str)
