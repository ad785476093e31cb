"""World models over any observation mode: the grid model predicts the board, and
WorldModelEnv shows it through the env's own observation function (multimodal and text)."""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import pytest

import reasongym  # noqa: F401 - registers the ids
from reasongym.world_models.env import WorldModelEnv

SLIDING_TEXT = "reasongym/SlidingPuzzle-v0"  # multimodal by default, moves in words


def same_observation(a, b) -> bool:
    if isinstance(a, dict):
        return a["text"] == b["text"] and np.array_equal(a["image"], b["image"])
    return a == b


@pytest.mark.parametrize("mode", ["multimodal", "text"])
def test_world_model_env_renders_the_predicted_board_like_the_env(sliding_model, mode):
    kwargs = {"scramble": 10, "observation_mode": mode}
    wm = WorldModelEnv(sliding_model, SLIDING_TEXT, env_kwargs=kwargs)
    real = gym.make(SLIDING_TEXT, **kwargs)
    assert wm.latent and wm.observation_space == real.observation_space
    board_right = obs_right = 0
    for episode in range(4):
        obs, _ = real.reset(seed=500 + episode)
        wm_obs, _ = wm.reset(seed=0)
        wm.set_state(real.unwrapped.get_state())  # start from the real episode's state
        assert same_observation(wm.observe(), obs)
        for t in range(6):
            action = (
                real.unwrapped.oracle_action() if t % 2 else real.unwrapped.action_of_move(t % 4)
            )
            obs, reward, terminated, _, _ = real.step(action)
            wm_obs, wm_reward, wm_terminated, _, info = wm.step(action)
            board_ok = np.array_equal(wm.get_state().latent, real.unwrapped.latent_state())
            board_right += board_ok
            obs_right += same_observation(wm_obs, obs)
            if board_ok:  # a right board is shown exactly as the env shows it
                assert same_observation(wm_obs, obs)
            assert info["world_model"] and set(info) >= {"task_id", "turn", "verdict", "is_success"}
            wm.set_state(real.unwrapped.get_state())
            if terminated:
                break
    assert board_right >= 0.8 * obs_right > 0 and obs_right >= 15  # the model is good, not vacuous


def test_a_non_move_is_the_envs_format_error_without_asking_the_model(sliding_model):
    wm = WorldModelEnv(sliding_model, SLIDING_TEXT, env_kwargs={"observation_mode": "text"})
    real = gym.make(SLIDING_TEXT, observation_mode="text")
    real.reset(seed=3)
    wm.reset(seed=0)
    wm.set_state(real.unwrapped.get_state())
    before = wm.get_state().latent.copy()

    def refuse(*_):
        raise AssertionError("a format error must not reach the model")

    predict, sliding_model.predict_one = sliding_model.predict_one, refuse
    try:
        for hostile in ("", "rm -rf /", {"name": "x"}, 10**100, "<answer>" * 1000):
            obs, reward, terminated, truncated, _ = real.step(hostile)
            wm_obs, wm_reward, wm_terminated, wm_truncated, _ = wm.step(hostile)
            assert (wm_obs, wm_reward, wm_terminated) == (obs, reward, terminated)
            assert np.array_equal(wm.get_state().latent, before)
    finally:
        sliding_model.predict_one = predict


def test_wm_collect_on_the_default_multimodal_maze(tmp_path):
    """Used to raise a raw TypeError: the default Maze-v0 shows text + image."""
    from reasongym.world_models.cli import add_subcommands
    from reasongym.world_models.data import TransitionDataset

    parser = argparse.ArgumentParser(prog="reasongym")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        [
            "wm",
            "collect",
            "reasongym/Maze-v0",
            "--policy",
            "random",
            "--steps",
            "200",
            "--out",
            str(tmp_path),
            "--no-progress",
        ]  # fmt: skip
    )
    assert args.func(args) == 0
    data = TransitionDataset.load(tmp_path)
    assert data.meta.latent and data.obs.shape[1:] == (9, 9) and len(data) == 200
    assert set(np.unique(data.action).tolist()) <= {0, 1, 2, 3}


def test_world_model_env_answers_is_final_like_the_env(sliding_model):
    """Search inside the model asks it which actions end the episode (the env contract)."""
    real = gym.make(SLIDING_TEXT, scramble=1, observation_mode="text")
    wm = WorldModelEnv(
        sliding_model, SLIDING_TEXT, env_kwargs={"scramble": 1, "observation_mode": "text"}
    )
    real.reset(seed=11)
    wm.reset(seed=0)
    wm.set_state(real.unwrapped.get_state())
    before = wm.get_state()
    finals = []
    for move in range(4):
        action = real.unwrapped.action_of_move(move)
        finals.append(real.unwrapped.is_final(action))
        assert wm.is_final(action) == finals[-1]
    assert any(finals) and not all(finals)  # one move solves a one-move scramble
    assert (
        np.array_equal(wm.get_state().latent, before.latent)
        and wm.get_state().steps == before.steps
    )
    assert wm.is_final({"not": "a move"}) is False
