from __future__ import annotations

import pytest

from reasongym.errors import ConfigError
from reasongym.train.expert_iteration import ExpertIterationConfig
from reasongym.train.grpo import group_advantages
from reasongym.train.run_config import TaskConfig, load_config, prepare_run_dir
from reasongym.train.tasks import TaskSplit, make_env


def test_unknown_keys_are_rejected_with_the_key_named(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("rounds: 2\nlearning_rat: 0.1\n")
    with pytest.raises(ConfigError, match="learning_rat"):
        load_config(ExpertIterationConfig, path)
    path.write_text("tasks:\n  eval_taks: 3\n")
    with pytest.raises(ConfigError, match="eval_taks"):
        load_config(ExpertIterationConfig, path)


def test_yaml_builds_nested_config_and_out_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("out: a\nrounds: 2\ntasks:\n  eval_tasks: 7\npolicy:\n  model: tiny-fresh\n")
    config = load_config(ExpertIterationConfig, path, out=tmp_path / "b")
    assert config.rounds == 2 and config.tasks.eval_tasks == 7
    assert config.policy.model == "tiny-fresh" and config.out == tmp_path / "b"


def test_a_run_folder_refuses_a_different_config(tmp_path):
    prepare_run_dir(ExpertIterationConfig(out=tmp_path, rounds=1))
    prepare_run_dir(ExpertIterationConfig(out=tmp_path, rounds=1, progress=False))  # same run
    with pytest.raises(ConfigError, match="rounds"):
        prepare_run_dir(ExpertIterationConfig(out=tmp_path, rounds=2))


def test_training_tasks_never_ask_held_out_questions():
    import random

    config = TaskConfig(eval_tasks=300, holdout_question_percent=20)
    env = make_env(config)
    split = TaskSplit.build(config, env)
    unseen = {env.unwrapped.task_row(i)["prompt"] for i in split.unseen_indices}
    train = split.sample_train(random.Random(0), 500)
    assert unseen and 0.05 < len(split.unseen_indices) / 300 < 0.4
    assert not unseen & {env.unwrapped.task_row(i)["prompt"] for i in train}
    assert min(train) >= config.train_start


def test_group_advantages_are_zero_without_spread():
    adv = group_advantages([1.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5], 4)
    assert adv[:4] == pytest.approx([1.0, -1.0, 1.0, -1.0])
    assert adv[4:] == [0.0] * 4
