"""Stable-Baselines3 works on the discrete puzzles unchanged, and PPO learns the easiest Maze."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import reasongym

pytest.importorskip("stable_baselines3")
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402

from reasongym.envs.puzzles.lights_out import LightsOutEnv  # noqa: E402
from reasongym.envs.puzzles.maze import MazeEnv  # noqa: E402
from reasongym.envs.puzzles.sliding import SlidingPuzzleEnv  # noqa: E402
from reasongym.envs.puzzles.sokoban import SokobanEnv  # noqa: E402
from reasongym.envs.puzzles.sudoku import SudokuEnv  # noqa: E402

PUZZLE_MODULE = "reasongym.envs.puzzles."
DISCRETE_IDS = sorted(
    env_id
    for env_id in reasongym.list_envs()
    if gym.spec(env_id).entry_point.startswith(PUZZLE_MODULE)
    and gym.spec(env_id).kwargs.get("action_mode") == "discrete"
)


def test_every_puzzle_has_a_discrete_id():
    names = {env_id.split("/")[1].split("Discrete")[0] for env_id in DISCRETE_IDS}
    assert names == {"Maze", "SlidingPuzzle", "Sokoban", "LightsOut", "Sudoku"}


@pytest.mark.parametrize("env_id", DISCRETE_IDS)
def test_sb3_check_env_on_discrete_ids(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env)
    assert not [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("cls", [MazeEnv, SlidingPuzzleEnv, SokobanEnv, LightsOutEnv, SudokuEnv])
@pytest.mark.parametrize("observation_mode", ["image", "onehot"])
def test_sb3_check_env_on_array_observations(cls, observation_mode):
    env = cls(observation_mode=observation_mode, action_mode="discrete")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env)
    assert not [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _random_success(env_id: str, seeds: range, **kwargs) -> float:
    env = gym.make(env_id, **kwargs)
    rng = np.random.default_rng(0)
    wins = 0
    for seed in seeds:
        env.reset(seed=seed)
        while True:
            _, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
            if terminated or truncated:
                wins += info["is_success"]
                break
    return wins / len(seeds)


@pytest.mark.slow
def test_ppo_learns_the_easiest_maze(tmp_path):
    from reasongym.train.sb3 import SB3Config, train

    config = SB3Config(
        env_id="reasongym/MazeDiscrete-v0",
        env_kwargs={"size": 5, "max_turns": 20},  # the easiest maze, a short limit
        steps=6_000,
        seed=0,
        out=tmp_path,
        eval_episodes=100,
        progress_bar=False,
    )
    result = train(config)
    eval_seeds = range(1_000_000, 1_000_100)  # the seeds train() evaluates on (seed 0)
    random = _random_success(config.env_id, eval_seeds, size=5, max_turns=20)
    assert 0.1 < random < 0.8  # the task is not trivial for a random policy
    assert result.eval_success >= random + 0.2, (result.eval_success, random)
