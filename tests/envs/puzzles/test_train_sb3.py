"""`reasongym train sb3`: a short real run leaves a model, TensorBoard logs and a curve."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

from reasongym.train import sb3  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reasongym")
    sb3.add_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_train_sb3_command_writes_the_artefacts(tmp_path, algo):
    args = _parser().parse_args(
        ["train", "sb3", "reasongym/MazeDiscrete-v0", "--algo", algo, "--steps", "512"]
        + ["--out", str(tmp_path), "--env-kwargs", '{"size": 5}', "--eval-episodes", "5"]
        + ["--hp", '{"learning_starts": 100}' if algo == "dqn" else "{}", "--no-progress"]
    )
    assert args.func(args) == 0
    assert (tmp_path / "model.zip").is_file()
    assert (tmp_path / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["result"]["steps"] >= 512 and summary["config"]["algo"] == algo


def test_text_envs_are_refused_with_the_fix(tmp_path):
    config = sb3.SB3Config("reasongym/Maze-v0", steps=100, out=tmp_path, progress_bar=False)
    with pytest.raises(ValueError, match="Discrete-v0"):
        sb3.train(config)


def test_config_checks():
    with pytest.raises(ValueError, match="algo"):
        sb3.SB3Config("reasongym/MazeDiscrete-v0", algo="a2c")
    with pytest.raises(ValueError, match="eval_episodes"):
        sb3.SB3Config("reasongym/MazeDiscrete-v0", target_success=0.9, eval_episodes=0)


def test_sb3_is_a_trainer_of_the_one_train_command():
    parser = argparse.ArgumentParser(prog="reasongym")
    sb3.add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["train", "sb3", "reasongym/MazeDiscrete-v0", "--steps", "10"])
    assert args.steps == 10 and args.func is sb3._cmd_train_sb3


@pytest.mark.slow
def test_example_script_runs(tmp_path):
    script = Path(__file__).parents[3] / "examples" / "train_maze_ppo.py"
    out = subprocess.run(
        [sys.executable, str(script), "--steps", "300", "--out", str(tmp_path), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "learning curve" in out.stdout and (tmp_path / "learning_curve.png").is_file()
