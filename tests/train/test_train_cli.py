from __future__ import annotations

import argparse
import json

from reasongym.train import cli


def _parser():
    parser = argparse.ArgumentParser(prog="reasongym")
    cli.add_subcommands(parser.add_subparsers(dest="command"))
    return parser


def test_one_train_command_holds_every_trainer_in_a_fixed_order(tmp_path):
    parser = _parser()
    args = parser.parse_args(["train", "grpo", "--config", "x.yaml", "--out", str(tmp_path)])
    assert args.trainer_name == "grpo" and args.out == tmp_path
    assert parser.parse_args(["train", "sb3", "reasongym/MazeDiscrete-v0"]).env_id
    assert (
        parser.parse_args(["train", "dyna", "reasongym/MazeDiscrete-v0"]).func.__name__
        == "_cmd_dyna"
    )
    train = parser._subparsers._group_actions[0].choices["train"]  # test-only introspection
    trainers = list(train._subparsers._group_actions[0].choices)
    assert trainers == ["sb3", "dyna", "expert-iteration", "grpo", "dpo"]


def test_the_reasongym_command_builds_train_once_whatever_the_import_order():
    import importlib
    import sys

    import reasongym.cli

    for name in ("reasongym.world_models.cli", "reasongym.train.sb3", "reasongym.train.dyna"):
        importlib.import_module(name)  # imported first, as another entry point might
    parser = reasongym.cli.build_parser()
    for trainer in ("sb3", "dyna"):
        args = parser.parse_args(["train", trainer, "reasongym/MazeDiscrete-v0"])
        assert args.func.__module__ == f"reasongym.train.{trainer}"
    assert "reasongym.train.cli" in sys.modules


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


def test_sb3_and_dyna_read_a_run_yaml_like_the_other_trainers(tmp_path, monkeypatch):
    import pytest

    from reasongym.errors import ConfigError
    from reasongym.train import dyna, sb3

    seen = []

    def capture(config):
        seen.append(config)
        raise _Stop

    monkeypatch.setattr(sb3, "train", capture)
    monkeypatch.setattr(dyna, "train_dyna", capture)
    run = tmp_path / "sb3.yaml"
    run.write_text(
        "env_id: reasongym/MazeDiscrete-v0\nalgo: dqn\nsteps: 1000\nhyperparams: {gamma: 0.9}\n"
    )
    parser = _parser()
    with pytest.raises(_Stop):  # flags given override the YAML; the rest keeps it
        args = parser.parse_args(["train", "sb3", "--config", str(run), "--steps", "64"])
        args.func(args)
    config = seen[-1]
    assert (config.algo, config.steps, config.hyperparams, config.n_envs) == (
        "dqn",
        64,
        {"gamma": 0.9},
        4,
    )
    with pytest.raises(_Stop):  # no YAML: the model's defaults, not argparse's
        args = parser.parse_args(
            ["train", "dyna", "reasongym/MazeDiscrete-v0", "--model", '{"epochs": 2}']
        )
        args.func(args)
    assert seen[-1].model == {"epochs": 2} and seen[-1].initial_steps == 256
    run.write_text("env_id: reasongym/MazeDiscrete-v0\nlearning_rat: 0.1\n")
    with pytest.raises(ConfigError, match="learning_rat"):
        args = parser.parse_args(["train", "sb3", "--config", str(run)])
        args.func(args)
    with pytest.raises(SystemExit, match="give an ENV_ID"):
        args = parser.parse_args(["train", "sb3", "--steps", "5"])
        args.func(args)
    with pytest.raises(SystemExit, match="--hp is not JSON"):
        args = parser.parse_args(["train", "dyna", "reasongym/MazeDiscrete-v0", "--hp", "{"])
        args.func(args)


class _Stop(Exception):
    """Raised instead of training: the test only looks at the config."""
