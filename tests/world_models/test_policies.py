"""Behaviour policies for collection."""

from __future__ import annotations

import gymnasium as gym
import pytest

import reasongym  # noqa: F401
from reasongym.world_models.policies import make_policy


def test_oracle_policy_solves_and_random_is_seeded():
    env = gym.make("reasongym/SlidingPuzzleDiscrete-v0")
    obs, info = env.reset(seed=0)
    act = make_policy("oracle", env)
    for _ in range(30):
        obs, _, terminated, _, info = env.step(act(obs, info))
        if terminated:
            break
    assert info["is_success"]
    a = [make_policy("random", env, seed=5)(obs, info) for _ in range(1)]
    b = [make_policy("random", env, seed=5)(obs, info) for _ in range(1)]
    assert a == b


@pytest.mark.parametrize(
    "spec, message",
    [("oracle:2", "not in"), ("oracle:x", "number"), ("nonsense", "unknown policy")],
)
def test_bad_specs_say_what_is_accepted(spec, message):
    env = gym.make("reasongym/MazeDiscrete-v0")
    with pytest.raises(ValueError, match=message):
        make_policy(spec, env)


def test_random_text_policy_is_refused():
    env = gym.make("reasongym/Arithmetic-v0")
    with pytest.raises(ValueError, match="text"):
        make_policy("random", env)
