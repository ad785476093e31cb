"""Fidelity metrics: exact one-step and k-step accuracy, P/R, AUROC and calibration."""

from __future__ import annotations

import numpy as np
import pytest

from reasongym.world_models.base import WorldModel
from reasongym.world_models.fidelity import (
    auroc,
    calibration_table,
    dynamics_fidelity,
    outcome_fidelity,
    plot_calibration,
    plot_rollout_accuracy,
    precision_recall,
)


class TableModel(WorldModel):
    """Looks transitions up in the data it was given (perfect there); ``frozen`` predicts
    that nothing ever changes."""

    kind = "table"

    def __init__(self, data, frozen: bool = False):
        self.frozen = frozen
        self.table = {
            (o.tobytes(), int(a)): (n, r, t)
            for o, a, n, r, t in zip(
                data.obs, data.action, data.next_obs, data.reward, data.terminated, strict=True
            )
        }

    def fit(self, dataset, validation=None):
        return {}

    def predict(self, obs, actions):
        if self.frozen:
            return obs.copy(), np.zeros(len(obs)), np.zeros(len(obs), bool)
        rows = [self.table[(o.tobytes(), int(a))] for o, a in zip(obs, actions, strict=True)]
        return (
            np.stack([r[0] for r in rows]),
            np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]),
        )

    def save(self, folder):
        raise NotImplementedError

    @classmethod
    def load(cls, folder):
        raise NotImplementedError


def test_a_perfect_model_scores_one_everywhere(sliding_val):
    report = dynamics_fidelity(TableModel(sliding_val), sliding_val, ks=(1, 5, 20))
    assert report["obs_exact"] == report["all_exact"] == 1.0
    assert report["termination_precision"] == report["termination_recall"] == 1.0
    for k in ("1", "5", "20"):
        assert report["rollout"][k]["accuracy"] == 1.0
        assert report["rollout"][k]["windows"] > 0
    assert report["rollout"]["1"]["windows"] == len(sliding_val)


def test_a_model_that_predicts_no_change_is_caught(sliding_val):
    report = dynamics_fidelity(TableModel(sliding_val, frozen=True), sliding_val)
    moved = np.mean(
        [(o != n).any() for o, n in zip(sliding_val.obs, sliding_val.next_obs, strict=True)]
    )
    assert report["obs_exact"] == pytest.approx(1 - moved)
    assert report["termination_recall"] == 0.0
    assert report["rollout"]["20"]["accuracy"] < report["rollout"]["1"]["accuracy"]


def test_rollout_windows_stop_at_termination_and_skip_cut_episodes(sliding_val):
    report = dynamics_fidelity(TableModel(sliding_val), sliding_val, ks=(1000,))
    ended = sum(1 for rows in sliding_val.episodes() if sliding_val.terminated[rows[-1]])
    windows = report["rollout"]["1000"]["windows"]
    assert 0 < windows <= len(sliding_val)
    assert ended > 0  # every start of an episode that terminated is a window


def test_trained_model_report(sliding_model, sliding_val):
    report = dynamics_fidelity(sliding_model, sliding_val, ks=(1, 5))
    assert report["obs_exact"] >= 0.97
    assert report["env_id"] == "reasongym/SlidingPuzzleDiscrete-v0"


def test_auroc_known_values():
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert auroc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    assert auroc(np.array([0.2, 0.3]), np.array([1, 1])) is None


def test_precision_recall_and_calibration():
    assert precision_recall(np.array([1, 1, 0], bool), np.array([1, 0, 1], bool)) == (0.5, 0.5)
    assert precision_recall(np.zeros(2, bool), np.zeros(2, bool)) == (None, None)
    probs = np.array([0.05, 0.15, 0.95, 0.9])
    table = calibration_table(probs, np.array([0, 0, 1, 1], bool), bins=10)
    assert sum(row["count"] for row in table) == 4
    report = outcome_fidelity(probs, np.array([0, 0, 1, 1], bool))
    assert report["auroc"] == 1.0 and report["accuracy"] == 1.0 and report["ece"] < 0.15


def test_plots_are_written(sliding_val, tmp_path):
    report = dynamics_fidelity(TableModel(sliding_val), sliding_val, ks=(1, 5))
    assert plot_rollout_accuracy({"held-out": report}, tmp_path / "k.png").stat().st_size > 0
    outcome = outcome_fidelity(np.array([0.2, 0.8]), np.array([0, 1], bool))
    assert plot_calibration({"code": outcome}, tmp_path / "c.png").stat().st_size > 0
