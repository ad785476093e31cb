"""Every puzzle declares the easiest setting of its difficulty knobs (``Config.easiest``): it
validates, its instances are solvable within the step limit and short, a random policy solves
it far more often than the default, and it is the first rung of a curriculum up to the default.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import reasongym  # noqa: F401
from reasongym.envs.puzzles.variants import FIXED_KEYS

DISCRETE = sorted(
    i for i in gym.registry if i.startswith("reasongym/") and i.endswith("Discrete-v0")
)
PUZZLES = sorted(  # by entry point: making every id (code envs start sandboxes) is slow
    env_id
    for env_id, spec in gym.registry.items()
    if env_id.startswith("reasongym/")
    and str(spec.entry_point).startswith("reasongym.envs.puzzles.")
    and not str(spec.entry_point).startswith("reasongym.envs.puzzles.arc")
)


def _easiest(env_id: str) -> dict:
    return dict(type(gym.make(env_id).unwrapped.config).easiest)


def test_every_puzzle_has_a_discrete_id_to_check_its_knobs_on():
    def config_class(env_id):
        return type(gym.make(env_id).unwrapped.config)

    assert {config_class(i) for i in PUZZLES} == {config_class(i) for i in DISCRETE}


@pytest.mark.parametrize("env_id", DISCRETE)
def test_easiest_validates_and_every_instance_is_short_and_solvable(env_id):
    easy = _easiest(env_id)
    assert easy, f"{env_id}: its Config declares no easiest knobs"
    env = gym.make(env_id, **easy)
    config = env.unwrapped.config
    assert all(getattr(config, k) == v for k, v in easy.items())
    for seed in range(10):
        _, info = env.reset(seed=seed)
        plan = env.unwrapped.solve()
        assert plan is not None and len(plan) == info["optimal_steps"]
        assert 1 <= info["optimal_steps"] <= 4, (env_id, seed, info["optimal_steps"])
        for action in plan:
            *_, terminated, truncated, step_info = env.step(action)
        assert terminated and step_info["is_success"]


def _random_wins_per_1000_steps(env_id: str, kwargs: dict, steps: int = 4000) -> float:
    """How often uniform random actions win: the signal a default RL agent starts from."""
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(0)
    env.reset(seed=0)
    wins = episodes = 0
    for _ in range(steps):
        *_, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            wins += bool(info["is_success"])
            episodes += 1
            env.reset(seed=episodes)
    return 1000 * wins / steps


@pytest.mark.parametrize("env_id", DISCRETE)
def test_random_exploration_wins_often_at_easiest(env_id):
    easy = _random_wins_per_1000_steps(env_id, _easiest(env_id))
    default = _random_wins_per_1000_steps(env_id, {})
    assert easy >= 5 and easy >= 5 * default, (easy, default)


@pytest.mark.parametrize("env_id", DISCRETE)
def test_easiest_is_the_first_rung_of_a_curriculum(env_id):
    easy = {k: v for k, v in _easiest(env_id).items() if k not in FIXED_KEYS}
    if not easy:
        pytest.skip(f"{env_id}: its easiest knobs fix the observation shape (no curriculum knob)")
    base = gym.make(env_id).unwrapped.config
    levels = [easy, {k: getattr(base, k) for k in easy}]
    env = gym.make(
        env_id, curriculum={"levels": levels, "schedule": "episodes", "episodes_per_level": 2}
    )
    optimal = []
    for seed in range(6):
        _, info = env.reset(seed=seed)
        optimal.append(info["optimal_steps"])
        assert info["curriculum"]["value"] == levels[min(seed // 2, 1)]
        for action in env.unwrapped.solve():
            *_, terminated, _, _ = env.step(action)
        assert terminated
    assert np.mean(optimal[:2]) < np.mean(optimal[2:])  # the second rung is harder
