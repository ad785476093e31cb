"""A puzzle curriculum's rung may set the step limit, so the first rung is the easiest setting."""

from __future__ import annotations

import gymnasium as gym
import pytest

import reasongym  # noqa: F401  (registers the ids)

LEVELS = [{"empty_cells": 1, "max_turns": 2}, {"empty_cells": 3, "max_turns": 6}]


def _env(**spec):
    curriculum = {"levels": LEVELS, "schedule": "episodes", "episodes_per_level": 2, **spec}
    return gym.make("reasongym/SudokuDiscrete-v0", curriculum=curriculum)


def _steps_until_truncated(env, seed: int) -> int:
    env.reset(seed=seed)
    given = next(c for c in range(16) if env.unwrapped._given[c])
    for step in range(1, 100):
        *_, terminated, truncated, _ = env.step(given * 5 + 1)  # a no-op write on a given
        assert not terminated
        if truncated:
            return step
    raise AssertionError("never truncated")


def test_each_rung_has_its_own_step_limit():
    env = _env()
    assert [_steps_until_truncated(env, seed) for seed in range(4)] == [2, 2, 6, 6]
    _, info = env.reset(seed=9)
    assert info["curriculum"]["value"] == LEVELS[1]


def test_the_step_limit_comes_back_with_set_state():
    env = _env()
    env.reset(seed=0)
    early = env.unwrapped.get_state()
    for seed in range(2):
        _steps_until_truncated(env, seed)
    env.reset(seed=5)
    assert env.unwrapped.max_turns == 6
    env.unwrapped.set_state(early)
    assert env.unwrapped.max_turns == 2


def test_a_bad_step_limit_in_a_rung_names_the_rung():
    with pytest.raises(ValueError, match=r"levels\[1\]\.max_turns"):
        gym.make(
            "reasongym/SudokuDiscrete-v0",
            curriculum={"levels": [{"empty_cells": 1}, {"max_turns": 0}]},
        )
