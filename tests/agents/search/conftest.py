"""Fixtures of the search tests: a real Arithmetic-v0 env whose verifier calls are counted
(``play`` lives in ``scripted_lm``: a helper module with a unique name imports reliably)."""

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


@pytest.fixture
def counting_env():
    wrapped = CountingEnv()
    yield wrapped
    wrapped.env.close()
