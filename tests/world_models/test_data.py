"""RecordTransitions, the dataset format and its loader."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import reasongym  # noqa: F401 - registers the ids
from reasongym.world_models.collect import collect
from reasongym.world_models.data import DatasetMeta, RecordTransitions, TransitionDataset


def test_recorded_steps_match_what_the_env_returned(tmp_path):
    env = RecordTransitions(gym.make("reasongym/MazeDiscrete-v0"), tmp_path, shard_size=7)
    seen = []
    obs, _ = env.reset(seed=3)
    for action in [0, 1, 2, 3, 1, 1, 3, 3, 1, 3]:
        next_obs, reward, terminated, truncated, _ = env.step(action)
        seen.append((obs, action, reward, next_obs, terminated))
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()
    data = TransitionDataset.load(tmp_path)
    assert len(data) == 10 and len(data.meta.shards) == 2  # 7 + 3
    for i, (o, a, r, n, t) in enumerate(seen):
        np.testing.assert_array_equal(data.obs[i], o)
        np.testing.assert_array_equal(data.next_obs[i], n)
        assert data.action[i] == a and data.reward[i] == pytest.approx(r)
        assert data.terminated[i] == t
    assert data.obs.dtype == np.float32 and data.obs.shape == (10, 7 * 7 * 4)
    assert "illegal" in data.info[0] and "is_success" in data.info[0]
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["env_id"] == "reasongym/MazeDiscrete-v0" and meta["transitions"] == 10


def test_recording_again_appends_with_new_episode_ids(tmp_path):
    collect("reasongym/SlidingPuzzleDiscrete-v0", "random", 150, tmp_path, seed=0)
    first = TransitionDataset.load(tmp_path)
    collect("reasongym/SlidingPuzzleDiscrete-v0", "oracle", 50, tmp_path, seed=99)
    both = TransitionDataset.load(tmp_path)
    assert len(both) == 200
    assert both.episode[150:].min() > first.episode.max()
    assert both.meta.policy == "random+oracle"


def test_appending_another_env_is_refused(tmp_path):
    collect("reasongym/SlidingPuzzleDiscrete-v0", "random", 20, tmp_path)
    with pytest.raises(ValueError, match="new folder"):
        collect("reasongym/MazeDiscrete-v0", "random", 20, tmp_path)


def test_split_is_by_episode_and_deterministic(tmp_path):
    collect("reasongym/MazeDiscrete-v0", "random", 600, tmp_path, max_episode_steps=20)
    data = TransitionDataset.load(tmp_path)
    train, val = data.split(0.25, seed=1)
    assert len(train) + len(val) == len(data)
    assert not set(train.episode.tolist()) & set(val.episode.tolist())
    again, _ = data.split(0.25, seed=1)
    np.testing.assert_array_equal(train.episode, again.episode)
    for rows in val.episodes():  # episodes stay contiguous and ordered
        assert val.step[rows].tolist() == list(range(len(rows)))


def test_text_envs_are_recorded_as_jsonl(tmp_path):
    collect("reasongym/Arithmetic-v0", "oracle", 5, tmp_path, seed=0)
    data = TransitionDataset.load(tmp_path)
    assert data.is_text and data.meta.shards[0].endswith(".jsonl")
    assert isinstance(data.obs[0], str) and "<answer>" in data.action[0]
    assert data.success().all() and data.terminated.all()


def test_missing_dataset_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="wm collect"):
        DatasetMeta.read(tmp_path)


def test_multimodal_puzzles_record_their_board(tmp_path):
    """A multimodal observation (text + image) is recorded as the latent board it shows."""
    env = RecordTransitions(
        gym.make("reasongym/MazeDiscrete-v0", observation_mode="multimodal"), tmp_path
    )
    env.reset(seed=0)
    boards = [env.unwrapped.latent_state()]
    for move in (3, 1, 3, 1):
        env.step(move)
        boards.append(env.unwrapped.latent_state())
    env.close()
    data = TransitionDataset.load(tmp_path)
    assert data.meta.latent and data.obs.shape == (4, 7, 7) and data.obs.dtype == np.int64
    assert all(np.array_equal(a, b) for a, b in zip(data.obs, boards[:-1], strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(data.next_obs, boards[1:], strict=True))


def test_observations_that_are_neither_arrays_nor_text_need_a_latent_state(tmp_path):
    class DictObs(gym.Env):
        observation_space = gym.spaces.Dict({"a": gym.spaces.Discrete(2)})
        action_space = gym.spaces.Discrete(2)

    with pytest.raises(TypeError, match="latent_state"):
        RecordTransitions(DictObs(), tmp_path)
