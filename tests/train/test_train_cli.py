from __future__ import annotations

import argparse
import json

from reasongym.train import cli, sb3


def _parser():
    parser = argparse.ArgumentParser(prog="reasongym")
    sub = parser.add_subparsers(dest="command")
    sb3.add_subcommands(sub)
    cli.add_subcommands(sub)  # joins the existing `train` command
    return parser


def test_train_subcommands_join_sb3(tmp_path):
    parser = _parser()
    args = parser.parse_args(["train", "grpo", "--config", "x.yaml", "--out", str(tmp_path)])
    assert args.trainer_name == "grpo" and args.out == tmp_path
    assert parser.parse_args(["train", "sb3", "reasongym/MazeDiscrete-v0"]).env_id


def test_train_expert_iteration_from_yaml(tmp_path, capsys):
    config = tmp_path / "ei.yaml"
    config.write_text(
        "policy: {model: tiny-fresh}\n"
        "tasks: {eval_tasks: 4, max_turns: 1, max_tokens: 6}\n"
        "rounds: 1\ntasks_per_round: 2\nn: 2\nkeep: all\nsteps_per_round: 1\nbatch_size: 2\n"
    )
    out = tmp_path / "run"
    args = _parser().parse_args(
        ["train", "expert-iteration", "--config", str(config), "--out", str(out), "--no-progress"]
    )
    assert args.func(args) == 0
    assert json.loads((out / "summary.json").read_text())["optimizer_steps"] == 1
    assert "run folder" in capsys.readouterr().out
