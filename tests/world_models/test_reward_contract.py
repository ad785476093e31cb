"""WorldModelEnv holds a model's rewards to the reference env's reward contract.

A model error must not become reward a policy can farm inside the simulator (Dyna, planning):
on a puzzle with a readable board the env's own rules judge each predicted board; otherwise a
step the model does not end pays at most ``per_step``, and ``correct`` only with termination.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import reasongym  # noqa: F401
from reasongym.world_models.base import WorldModel
from reasongym.world_models.env import WorldModelEnv

SLIDING = "reasongym/SlidingPuzzleDiscrete-v0"


class ScriptedModel(WorldModel):
    """Predicts ``rule(obs, action) -> (next_obs, reward, terminated)``: a model whose errors
    the test chooses."""

    kind = "scripted"

    def __init__(self, rule: Callable[[Any, Any], tuple[Any, float, bool]], markov: bool = True):
        self.rule = rule
        self.markov = markov
        self.env_kwargs = {}

    def fit(self, dataset, validation=None):
        return {}

    def predict(self, obs, actions):
        rows = [self.rule(o, a) for o, a in zip(obs, actions, strict=True)]
        next_obs = [r[0] for r in rows]
        if isinstance(obs, np.ndarray):
            next_obs = np.stack(next_obs)
        return next_obs, np.array([r[1] for r in rows], float), np.array([r[2] for r in rows])

    def save(self, folder):
        raise NotImplementedError

    @classmethod
    def load(cls, folder):
        raise NotImplementedError


def _solved_observation() -> np.ndarray:
    real = gym.make(SLIDING)
    real.reset(seed=0)
    try:
        for _ in range(200):
            obs, _, terminated, _, _ = real.step(real.unwrapped.oracle_action())
            if terminated:
                return obs
    finally:
        real.close()
    raise AssertionError("the oracle did not solve the puzzle")


@pytest.mark.parametrize("claims_the_end", [False, True])
def test_a_model_paying_a_board_it_does_not_change_gets_the_illegal_move(claims_the_end):
    """Every move predicted as a no-op paid 1.0 (or even 'solved'): the env's rules pay an
    illegal move and do not end the episode, however the model's heads disagree."""
    env = WorldModelEnv(ScriptedModel(lambda o, a: (o.copy(), 1.0, claims_the_end)), SLIDING)
    spec = env.reference.unwrapped.config.reward
    try:
        env.reset(seed=0)
        for move in (0, 1, 2, 3, 0, 1):
            _, reward, terminated, truncated, info = env.step(move)
            assert reward == pytest.approx(spec.per_step + spec.illegal_move)
            assert not terminated and not truncated and not info["is_success"]
    finally:
        env.close()


def test_a_predicted_solved_board_ends_the_episode_with_correct():
    """The model's heads say 'nothing happened', its board is solved: the rules pay the solve."""
    goal = _solved_observation()
    env = WorldModelEnv(ScriptedModel(lambda o, a: (goal.copy(), 0.0, False)), SLIDING)
    spec = env.reference.unwrapped.config.reward
    try:
        env.reset(seed=3)
        _, reward, terminated, _, info = env.step(0)
        assert terminated and info["is_success"]
        assert reward == pytest.approx(spec.per_step + spec.correct)
        assert env.step(1)[1:3] == (0.0, True)  # after the end nothing is paid
    finally:
        env.close()


def test_shaping_of_predicted_boards_is_the_envs_potential_so_cycles_pay_nothing():
    """A model that swings between two boards and pays 1.0 each time: each step pays the
    real env's shaped reward for that move, and a cycle sums to its step costs only."""
    kwargs = {"reward": {"shaping": True, "per_step": -0.01}}
    real = gym.make(SLIDING, **kwargs)
    start, _ = real.reset(seed=2)
    snapshot = real.unwrapped.get_state()
    spec = real.unwrapped.config.reward
    for move in range(4):
        real.unwrapped.set_state(snapshot)
        after, real_reward, *_ = real.step(move)
        if not np.array_equal(after, start):
            break
    real.close()
    assert real_reward != pytest.approx(spec.per_step)  # the shaping term is not zero here

    def swing(obs, action):
        return (after if np.array_equal(obs, start) else start).copy(), 1.0, False

    env = WorldModelEnv(ScriptedModel(swing), SLIDING, env_kwargs=kwargs)
    try:
        env.reset(seed=0)
        env.set_state(snapshot)  # plan from the real env's state
        np.testing.assert_array_equal(env.observe(), start)
        rewards = [env.step(move)[1] for _ in range(10)]
        assert rewards[0] == pytest.approx(real_reward)
        assert sum(rewards) == pytest.approx(10 * spec.per_step)
    finally:
        env.close()


@pytest.mark.parametrize(
    ("env_id", "env_kwargs"),
    [("reasongym/Arithmetic-v0", {}), ("reasongym/SlidingPuzzle-v0", {"observation_mode": "text"})],
)
def test_without_a_readable_board_predicted_rewards_are_clipped_to_the_contract(env_id, env_kwargs):
    """No board to judge (text observations, a non-grid model): a step the model does not end
    pays at most per_step, an ending one at most per_step + correct, and a non-finite
    prediction pays the least the env can pay (never a success)."""
    predictions = iter([(1.0, False), (0.5, False), (5.0, True), (float("nan"), True)])

    def rule(obs, action):
        reward, terminated = next(predictions)
        return "The model's next observation.", reward, terminated

    env = WorldModelEnv(
        ScriptedModel(rule, markov=False), env_id, env_kwargs=env_kwargs, cache_size=0
    )
    spec = env.reference.unwrapped.config.reward
    try:
        for _ in range(2):
            env.reset(seed=0)
            _, reward, terminated, _, info = env.step("some action")
            assert reward == pytest.approx(spec.per_step) and not terminated
            assert not info["is_success"]
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step("another action")
        assert terminated and info["is_success"]
        assert reward == pytest.approx(spec.per_step + spec.correct)
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step("a third action")
        assert terminated and not info["is_success"]
        assert np.isfinite(reward) and reward <= spec.per_step + min(0.0, spec.format_error)
    finally:
        env.close()
