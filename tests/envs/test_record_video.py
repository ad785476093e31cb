"""``gymnasium.wrappers.RecordVideo`` on a puzzle (needs moviepy: the ``video`` extra)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import reasongym  # noqa: F401


def test_record_video_writes_an_mp4_of_a_puzzle_episode(tmp_path):
    pytest.importorskip("moviepy", reason="pip install 'reasongym[video]' (moviepy)")
    from gymnasium.wrappers import RecordVideo

    env = gym.make("reasongym/MazeDiscrete-v0", size=5, render_mode="rgb_array")
    env = RecordVideo(env, str(tmp_path), episode_trigger=lambda episode: True, disable_logger=True)
    env.reset(seed=0)
    for action in env.unwrapped.solve():
        *_, terminated, _, _ = env.step(action)
    assert terminated
    env.close()
    [video] = list(tmp_path.glob("*.mp4"))
    assert video.stat().st_size > 1000
