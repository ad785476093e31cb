"""``reasongym wm collect|train|eval`` and ``train dyna`` wiring."""

from __future__ import annotations

import argparse
import json

import pytest

from reasongym.world_models.cli import add_subcommands


def _parser(with_train: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reasongym")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    if with_train:
        from reasongym.train.cli import add_subcommands as add_train

        add_train(sub)
    return parser


def _run(*argv: str) -> int:
    args = _parser().parse_args(list(argv))
    return args.func(args)


def test_collect_train_eval_end_to_end(tmp_path, capsys):
    data, model = tmp_path / "data", tmp_path / "model"
    env = "reasongym/SlidingPuzzleDiscrete-v0"
    assert _run("wm", "collect", env, "--policy", "oracle:0.5", "--steps", "1500",
                "--out", str(data), "--no-progress") == 0  # fmt: skip
    assert _run("wm", "train", str(data), "--model", "grid", "--out", str(model),
                "--epochs", "3", "--no-progress") == 0  # fmt: skip
    assert (model / "model.json").exists() and (model / "fit.json").exists()
    assert _run("wm", "eval", str(model), "--policy", "oracle:0.5", "--steps", "300",
                "--ks", "1", "5", "--no-progress") == 0  # fmt: skip
    report = json.loads((model / "fidelity.json").read_text())["reports"]
    assert set(report) == {"held-out (oracle:0.5)", "shift (random)"}
    assert (model / "fidelity.png").stat().st_size > 0
    assert "world model fidelity" in capsys.readouterr().out


def test_outcome_model_from_collected_answers(tmp_path):
    data, model = tmp_path / "data", tmp_path / "model"
    env = "reasongym/Arithmetic-v0"  # answers graded in-process: no sandbox needed
    assert _run("wm", "collect", env, "--policy", "oracle", "--steps", "40", "--out", str(data),
                "--no-progress") == 0  # fmt: skip
    assert _run("wm", "train", str(data), "--model", "outcome", "--out", str(model),
                "--epochs", "2", "--no-progress") == 0  # fmt: skip
    assert json.loads((model / "model.json").read_text())["kind"] == "outcome"


def test_dyna_is_a_trainer_of_the_train_command():
    parser = _parser(with_train=True)
    args = parser.parse_args(["train", "dyna", "reasongym/MazeDiscrete-v0", "--model-steps", "64"])
    assert args.model_steps == 64 and args.func.__name__ == "_cmd_dyna"
    args = parser.parse_args(["train", "sb3", "reasongym/MazeDiscrete-v0"])
    assert args.func.__name__ == "_cmd_train_sb3"


def test_unknown_model_choice_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        _run("wm", "train", str(tmp_path), "--model", "transformer", "--out", str(tmp_path))


def test_plugs_into_the_reasongym_command(monkeypatch):
    import reasongym.cli

    modules = list(reasongym.cli.SUBCOMMAND_MODULES)
    if "reasongym.world_models.cli" not in modules:
        modules.append("reasongym.world_models.cli")
    monkeypatch.setattr(reasongym.cli, "SUBCOMMAND_MODULES", modules)
    parser = reasongym.cli.build_parser()
    args = parser.parse_args(["wm", "collect", "reasongym/MazeDiscrete-v0", "--out", "x"])
    assert args.func.__name__ == "_cmd_collect"
    args = parser.parse_args(["train", "dyna", "reasongym/MazeDiscrete-v0"])
    assert args.func.__name__ == "_cmd_dyna"


def test_world_model_configs_say_learning_rate_like_the_training_configs(tmp_path, sliding_model):
    from pydantic import BaseModel

    from reasongym.train.grpo import GRPOConfig
    from reasongym.world_models.base import load_world_model
    from reasongym.world_models.grid import GridModelConfig
    from reasongym.world_models.outcome import OutcomeModelConfig

    for cls in (GridModelConfig, OutcomeModelConfig, GRPOConfig):  # one style, one name
        assert issubclass(cls, BaseModel) and "learning_rate" in cls.model_fields
        assert "lr" not in cls.model_fields
    # a model saved before the rename still loads
    folder = sliding_model.save(tmp_path / "old")
    manifest = json.loads((folder / "model.json").read_text())
    manifest["config"]["lr"] = manifest["config"].pop("learning_rate")
    (folder / "model.json").write_text(json.dumps(manifest))
    assert load_world_model(folder).config.learning_rate == sliding_model.config.learning_rate
    with pytest.raises(SystemExit, match="lr is no longer a key: use learning_rate"):
        _run("wm", "train", str(tmp_path), "--out", str(tmp_path / "m"), "--config", '{"lr": 0.1}')
