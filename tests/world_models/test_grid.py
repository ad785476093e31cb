"""GridDynamicsModel: learns the puzzles' rules, in either observation form, and persists."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import reasongym  # noqa: F401
from reasongym.world_models.base import load_world_model
from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig, GridSpec


def test_fitted_model_predicts_held_out_steps_exactly(sliding_model, sliding_val):
    next_obs, reward, terminated = sliding_model.predict(sliding_val.obs, sliding_val.action)
    exact = (next_obs == sliding_val.next_obs).all(axis=1)
    assert exact.mean() >= 0.97
    assert np.mean(np.abs(reward - sliding_val.reward) < 1e-6) >= 0.97
    assert (terminated == sliding_val.terminated).mean() >= 0.97


def test_grid_and_onehot_observations_give_the_same_prediction(sliding_model, sliding_val):
    spec = sliding_model.spec
    onehot = sliding_val.obs[:50]
    grid = spec.to_codes(onehot)
    pred_onehot, r1, t1 = sliding_model.predict(onehot, sliding_val.action[:50])
    pred_grid, r2, t2 = sliding_model.predict(grid, sliding_val.action[:50])
    assert pred_grid.shape == (50, 3, 3) and pred_grid.dtype == grid.dtype
    assert pred_onehot.dtype == np.float32
    np.testing.assert_array_equal(spec.to_codes(pred_onehot), pred_grid)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(t1, t2)


def test_single_step_and_batch_agree(sliding_model, sliding_val):
    batch, _, _ = sliding_model.predict(sliding_val.obs[:5], sliding_val.action[:5])
    for i in range(5):
        one, _, _ = sliding_model.predict_one(sliding_val.obs[i], int(sliding_val.action[i]))
        np.testing.assert_array_equal(one, batch[i])


def test_save_and_load_round_trip(sliding_model, sliding_val, tmp_path):
    sliding_model.save(tmp_path / "m")
    loaded = load_world_model(tmp_path / "m")
    assert isinstance(loaded, GridDynamicsModel)
    assert loaded.env_id == sliding_model.env_id and loaded.spec == sliding_model.spec
    a = sliding_model.predict(sliding_val.obs[:100], sliding_val.action[:100])
    b = loaded.predict(sliding_val.obs[:100], sliding_val.action[:100])
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_wrong_observation_shape_names_the_board():
    spec = GridSpec((3, 3), 9, 4)
    with pytest.raises(ValueError, match="3x3 board"):
        spec.to_codes(np.zeros((2, 84, 84, 3)))


def test_new_reward_values_grow_the_reward_head(sliding_data):
    model = GridDynamicsModel.for_dataset(
        sliding_data, GridModelConfig(epochs=1, min_epoch_samples=128, patience=None)
    )
    no_wins = sliding_data.subset(np.flatnonzero(sliding_data.reward < 0.5))
    model.fit(no_wins)
    assert 1.0 not in model.reward_values
    model.fit(sliding_data)
    assert 1.0 in model.reward_values and model.version == 2


def test_mlp_baseline_has_the_same_interface(sliding_data):
    model = GridDynamicsModel.for_dataset(
        sliding_data, GridModelConfig(arch="mlp", channels=64, epochs=1, min_epoch_samples=256)
    )
    summary = model.fit(sliding_data.subset(np.arange(300)))
    assert 0.0 <= summary["val_all_exact"] <= 1.0
    nxt, _, _ = model.predict(sliding_data.obs[:3], sliding_data.action[:3])
    assert nxt.shape == (3, 81)


def test_non_puzzle_env_is_refused():
    with pytest.raises(TypeError, match="grid puzzle"):
        GridSpec.from_env(gym.make("reasongym/Arithmetic-v0"))
