"""The Dyna loop: real steps recorded, model refitted, PPO trained inside, real evaluation."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("stable_baselines3")


def test_dyna_iterations_use_and_log_real_steps(tmp_path):
    from reasongym.train.dyna import DynaConfig, train_dyna

    config = DynaConfig(
        "reasongym/MazeDiscrete-v0",
        out=tmp_path / "run",
        env_kwargs={"size": 5},
        max_episode_steps=20,
        initial_steps=96,
        steps_per_iter=32,
        model_steps_per_iter=256,
        max_iterations=2,
        eval_episodes=5,
        target_success=None,
        model={"epochs": 2},
        progress=False,
    )
    result = train_dyna(config)
    assert result.real_steps == 96 + 32
    assert [row["real_steps"] for row in result.iterations] == [96, 128]
    assert result.model_steps >= 512 and result.start_resets > 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["result"]["real_steps"] == 128
    assert (tmp_path / "run" / "dyna_curve.png").exists()
    assert (tmp_path / "run" / "world_model" / "model.json").exists()
    with pytest.raises(FileExistsError, match="new --out"):
        train_dyna(config)


def test_config_is_checked():
    from reasongym.train.dyna import DynaConfig

    with pytest.raises(ValueError, match="val_fraction"):
        DynaConfig("reasongym/MazeDiscrete-v0", val_fraction=1.5)
