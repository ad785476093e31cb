"""Fixtures of the search tests: a real Arithmetic-v0 env whose verifier calls are counted."""

from __future__ import annotations

import gymnasium as gym
import pytest

import reasongym  # noqa: F401 - registers the ids


class CountingEnv:
    """``gym.make("reasongym/Arithmetic-v0")`` with ``verifier_calls`` counting every verdict
    the env hands out (an ``info["verdict"]`` dict), on the real episode and on snapshots."""

    def __init__(self, **kwargs):
        self.env = gym.make("reasongym/Arithmetic-v0", **kwargs)
        self.verifier_calls = 0
        inner = self.env.unwrapped
        step = inner.step

        def counted(action):
            out = step(action)
            self.verifier_calls += isinstance(out[4].get("verdict"), dict)
            return out

        inner.step = counted


def play(env: gym.Env, agent, seed: int):
    """One episode as ``reasongym.evaluation.run_episodes`` plays it; returns (success, steps)."""
    obs, info = env.reset(seed=seed)
    agent.reset(obs, info)
    steps, done = 0, False
    while not done:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        steps += 1
        done = terminated or truncated
    return bool(info["is_success"]), steps


@pytest.fixture
def counting_env():
    wrapped = CountingEnv()
    yield wrapped
    wrapped.env.close()
