"""The real loops for a handful of steps on an untrained tiny model."""

from __future__ import annotations

import json

from reasongym.train import dpo, expert_iteration, grpo
from reasongym.train.tasks import make_env


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_expert_iteration_writes_its_outputs_and_resumes_to_the_same_result(
    tmp_path, tiny_policy, small_tasks
):
    config = expert_iteration.ExpertIterationConfig(
        out=tmp_path / "ei",
        policy=tiny_policy,
        tasks=small_tasks,
        rounds=2,
        tasks_per_round=3,
        n=2,
        keep="all",  # an untrained model verifies nothing; the control still has data
        steps_per_round=2,
        batch_size=4,
        progress=False,
    )
    result = expert_iteration.train(config)
    out = result.out
    for name in ("config.yaml", "metrics.jsonl", "summary.json", "learning_curve.png"):
        assert (out / name).is_file(), name
    assert any((out / "tb").iterdir())
    rows = _lines(out / "metrics.jsonl")
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert rows[1]["data_kept"] > 0 and rows[1]["train_tokens"] > 0
    assert rows[1]["search_tokens"] > 0

    # Interrupt after round 1: the rerun resumes from its checkpoint and ends the same way.
    (out / "checkpoints" / "latest").write_text("round-1")
    again = expert_iteration.train(config)
    assert [r["round"] for r in _lines(out / "metrics.jsonl")] == [0, 1, 2]
    assert again.rows[2]["loss"] == rows[2]["loss"]


def test_grpo_runs_checkpoints_and_resumes(tmp_path, tiny_policy, small_tasks):
    config = grpo.GRPOConfig(
        out=tmp_path / "grpo",
        policy=tiny_policy,
        tasks=small_tasks,
        steps=2,
        tasks_per_step=2,
        group_size=2,
        kl_beta=0.05,
        eval_every=2,
        checkpoint_every=1,
        progress=False,
    )
    result = grpo.train(config)
    rows = _lines(result.out / "metrics.jsonl")
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert "pass1" in rows[2] and rows[1]["tokens"] > 0
    assert (result.out / "checkpoints" / "step-2" / "optimizer.pt").is_file()
    (result.out / "checkpoints" / "latest").write_text("step-1")
    again = grpo.train(config)
    assert [r["step"] for r in again.rows] == [0, 1, 2]
    assert again.rows[2]["reward"] == rows[2]["reward"]


def test_dpo_on_exported_pairs_raises_chosen_over_rejected(tmp_path, tiny_policy, small_tasks):
    env = make_env(small_tasks)
    _, info = env.reset(options={"task_index": 2_000_001})
    answer = env.unwrapped.task_row(2_000_001)["answer"]
    pair = {
        "prompt": info["messages"],
        "chosen": [{"role": "assistant", "content": f"<answer>{answer}</answer>"}],
        "rejected": [{"role": "assistant", "content": "<answer>-7</answer>"}],
    }
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps(pair) + "\n")
    config = dpo.DPOConfig(
        out=tmp_path / "dpo",
        policy=tiny_policy,
        tasks=small_tasks,
        pairs_file=pairs,
        steps=6,
        batch_size=2,
        learning_rate=5e-3,
        eval_every=6,
        progress=False,
    )
    result = dpo.train(config)
    rows = [r for r in result.rows if "loss" in r]
    assert len(rows) == 6
    assert rows[-1]["margin"] > 0 and rows[-1]["loss"] < rows[0]["loss"]
    assert result.summary["pairs"] == 1
    assert (result.out / "learning_curve.png").is_file()


def test_lora_trains_adapters_only_and_saves_merged_weights(tmp_path, small_tasks):
    import pytest

    pytest.importorskip("peft")
    import torch

    from reasongym.train.policy import load_policy
    from reasongym.train.run_config import LoraConfig, PolicyConfig

    policy_config = PolicyConfig(model="tiny-fresh", lora=LoraConfig(r=4))
    config = expert_iteration.ExpertIterationConfig(
        out=tmp_path / "lora",
        policy=policy_config,
        tasks=small_tasks,
        rounds=1,
        tasks_per_round=2,
        n=2,
        keep="all",
        steps_per_round=3,
        batch_size=4,
        learning_rate=1e-2,
        progress=False,
    )
    result = expert_iteration.train(config)
    fresh = load_policy(PolicyConfig(model="tiny-fresh")).model.state_dict()
    saved = load_policy(PolicyConfig(), result.out / "checkpoints" / "round-1").model.state_dict()
    assert set(saved) == set(fresh)  # merged: a plain model again
    assert torch.equal(saved["model.embed_tokens.weight"], fresh["model.embed_tokens.weight"])
    changed = [k for k in fresh if not torch.equal(saved[k], fresh[k])]
    assert changed and all(
        any(m in k for m in ("q_proj", "k_proj", "v_proj", "o_proj")) for k in changed
    )
