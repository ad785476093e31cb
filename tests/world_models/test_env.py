"""WorldModelEnv: a real gymnasium env that SB3 and the search agents use unchanged."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import reasongym  # noqa: F401
from reasongym.world_models.env import WorldModelEnv, WorldModelState

SLIDING = "reasongym/SlidingPuzzleDiscrete-v0"


@pytest.fixture
def wm_env(sliding_model):
    env = WorldModelEnv(sliding_model, SLIDING)
    yield env
    env.close()


def test_passes_gymnasium_check_env(wm_env):
    check_env(wm_env, skip_render_check=True)


def test_spaces_and_time_limit_are_the_real_envs(wm_env):
    real = gym.make(SLIDING)
    assert wm_env.observation_space == real.observation_space
    assert wm_env.action_space == real.action_space
    assert wm_env.max_episode_steps == real.unwrapped.max_turns


def test_follows_the_real_env_from_a_real_snapshot(wm_env):
    real = gym.make(SLIDING)
    rng = np.random.default_rng(0)
    agree = total = 0
    for seed in range(5):
        obs, _ = real.reset(seed=seed)
        wm_env.set_state(real.unwrapped.get_state())
        np.testing.assert_array_equal(wm_env.observe(), obs)
        for _ in range(10):
            action = int(rng.integers(4))
            obs, reward, terminated, _, _ = real.step(action)
            pred, pred_reward, pred_terminated, _, info = wm_env.step(action)
            total += 1
            agree += bool((pred == obs).all() and abs(pred_reward - reward) < 1e-6)
            assert info["world_model"]
            if terminated:
                break
    assert agree / total >= 0.95


def test_get_and_set_state_branch_and_restore(wm_env):
    wm_env.reset(seed=1)
    snapshot = wm_env.get_state()
    assert isinstance(snapshot, WorldModelState)
    a = [wm_env.step(0)[0] for _ in range(3)]
    wm_env.set_state(snapshot)
    b = [wm_env.step(0)[0] for _ in range(3)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    snapshot.obs[:] = -1  # the env keeps its own copy
    wm_env.set_state(wm_env.get_state())
    assert wm_env.observe().min() >= 0


def test_seeded_resets_replay(wm_env):
    first = wm_env.reset(seed=7)[0]
    wm_env.reset(seed=8)
    np.testing.assert_array_equal(wm_env.reset(seed=7)[0], first)
    assert wm_env.real_resets == 3


def test_truncates_at_the_time_limit(sliding_model):
    env = WorldModelEnv(sliding_model, SLIDING, max_episode_steps=3)
    env.reset(seed=0)
    flags = []
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(0)
        flags.append((terminated, truncated))
        if terminated:
            break
    assert flags[-1][0] or flags[-1][1]


def test_plans_on_grid_codes_with_a_model_fitted_on_onehot(sliding_model):
    env = WorldModelEnv(sliding_model, SLIDING, env_kwargs={"observation_mode": "grid"})
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 3)
    assert env.step(0)[0].shape == (3, 3)


def test_mismatched_board_is_refused_with_the_fix(sliding_model):
    with pytest.raises(ValueError, match="env_kwargs"):
        WorldModelEnv(sliding_model, SLIDING, env_kwargs={"size": 4})


def test_refit_drops_cached_predictions(wm_env, sliding_model):
    wm_env.reset(seed=0)
    wm_env.step(0)
    assert wm_env._cache
    sliding_model.version += 1  # what fit() does
    try:
        wm_env.step(1)
        assert len(wm_env._cache) == 1
    finally:
        sliding_model.version -= 1


def test_stable_baselines3_trains_inside_unchanged(sliding_model):
    sb3 = pytest.importorskip("stable_baselines3")
    env = WorldModelEnv(sliding_model, SLIDING)
    model = sb3.PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(int(action))


def _mcts_episode(search_env, seed: int):
    from reasongym.agents.search import MCTS
    from reasongym.world_models.planning import UniformActionLM

    agent = MCTS(
        UniformActionLM(4, seed=0),
        simulations=24,
        expand=4,
        widen=None,
        mode="train",
        guidance="verifier",
        max_depth=6,
        search_env=search_env,
        seed=0,
    )
    real = gym.make(SLIDING, scramble=3)
    agent.bind(real)
    obs, info = real.reset(seed=seed)
    agent.reset(obs, info)
    actions = []
    for _ in range(12):
        actions.append(agent.act(obs, info))
        obs, _, terminated, truncated, info = real.step(actions[-1])
        if terminated or truncated:
            break
    return actions, info["is_success"], agent


def test_mcts_plans_inside_the_model_as_it_would_in_the_real_env(sliding_model):
    search_env = WorldModelEnv(sliding_model, SLIDING)
    in_model, solved, agent = _mcts_episode(search_env, seed=1)
    in_real, solved_real, _ = _mcts_episode(None, seed=1)
    assert solved and solved_real
    assert in_model == in_real  # an exact model gives the search the same tree
    assert search_env.model_steps > 0 and agent.totals.env_steps > 0
