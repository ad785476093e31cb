"""How well a world model simulates its env, measured on transitions it was not trained on.

For dynamics models (:func:`dynamics_fidelity`):

* one-step accuracy: the predicted next observation equals the real one exactly
  (``obs_exact``), and so do reward and termination too (``all_exact``);
* reward: exact rate, mean absolute error, precision/recall of positive-reward steps (the
  puzzle's solving reward); termination precision/recall;
* k-step open-loop rollouts (k = 1, 5, 20 by default): from a real state, feed the model its
  own predictions for the next k recorded actions and compare the final state with the real
  one. Windows run to the end of an episode that terminates sooner; windows cut off by a
  time limit or the end of the data are left out (``windows`` says how many were scored).

Evaluate on held-out data of the training policy *and* of a different policy: the second is
the distribution shift a planner or a learning policy causes (the o1 roadmap's reward-model
challenge). For outcome models (:func:`outcome_fidelity`): AUROC, accuracy, Brier score,
expected calibration error and a reliability table. Plots: :func:`plot_rollout_accuracy`,
:func:`plot_calibration`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reasongym.world_models.base import WorldModel
from reasongym.world_models.data import TransitionDataset

DEFAULT_KS = (1, 5, 20)


def _rows_equal(pred: Any, true: Any) -> np.ndarray:
    """Per-row exact equality of two batches (arrays or lists): ``(B,)`` bool."""
    if isinstance(true, np.ndarray):
        pred = np.asarray(pred)
        return (pred.reshape(len(true), -1) == true.reshape(len(true), -1)).all(axis=1)
    return np.array([p == t for p, t in zip(pred, true, strict=True)], bool)


def _take(column: Any, rows: np.ndarray) -> Any:
    if isinstance(column, np.ndarray):
        return column[rows]
    return [column[i] for i in rows.tolist()]


def _put(batch: Any, rows: np.ndarray, values: Any) -> Any:
    if isinstance(batch, np.ndarray):
        batch[rows] = values
        return batch
    for i, v in zip(rows.tolist(), values, strict=True):
        batch[i] = v
    return batch


def precision_recall(pred: np.ndarray, true: np.ndarray) -> tuple[float | None, float | None]:
    """(precision, recall) of boolean predictions; None where undefined (no positives)."""
    tp = int((pred & true).sum())
    precision = tp / int(pred.sum()) if pred.any() else None
    recall = tp / int(true.sum()) if true.any() else None
    return precision, recall


def dynamics_fidelity(
    model: WorldModel,
    data: TransitionDataset,
    ks: Sequence[int] = DEFAULT_KS,
    max_windows: int = 4000,
    seed: int = 0,
) -> dict[str, Any]:
    """One-step and k-step fidelity of a Markov dynamics model on ``data`` (see the module
    docstring). At most ``max_windows`` rollout starts are scored per k (a seeded sample)."""
    if not model.markov:
        raise ValueError(
            f"{type(model).__name__} is not a dynamics model; use outcome_fidelity for it"
        )
    if len(data) == 0:
        raise ValueError("no transitions to evaluate on")
    next_obs, reward, terminated = model.predict(data.obs, data.action)
    obs_ok = _rows_equal(next_obs, data.next_obs)
    reward_ok = np.abs(np.asarray(reward) - data.reward) < 1e-4
    term_ok = np.asarray(terminated, bool) == data.terminated
    positive_p, positive_r = precision_recall(np.asarray(reward) > 0, data.reward > 0)
    term_p, term_r = precision_recall(np.asarray(terminated, bool), data.terminated)
    report: dict[str, Any] = {
        "env_id": data.meta.env_id,
        "policy": data.meta.policy,
        "transitions": len(data),
        "episodes": int(len(np.unique(data.episode))),
        "obs_exact": float(obs_ok.mean()),
        "all_exact": float((obs_ok & reward_ok & term_ok).mean()),
        "reward_exact": float(reward_ok.mean()),
        "reward_mae": float(np.abs(np.asarray(reward) - data.reward).mean()),
        "reward_positive_precision": positive_p,
        "reward_positive_recall": positive_r,
        "termination_precision": term_p,
        "termination_recall": term_r,
        "terminations": int(data.terminated.sum()),
        "rollout": {},
    }
    rng = np.random.default_rng(seed)
    for k in ks:
        report["rollout"][str(k)] = _rollout_accuracy(model, data, int(k), max_windows, rng)
    return report


def _rollout_accuracy(
    model: WorldModel, data: TransitionDataset, k: int, max_windows: int, rng: np.random.Generator
) -> dict[str, Any]:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    starts, lengths = [], []
    for rows in data.episodes():
        ended = bool(data.terminated[rows[-1]])
        for j, row in enumerate(rows.tolist()):
            left = len(rows) - j
            if left >= k or ended:
                starts.append(row)
                lengths.append(min(k, left))
    if not starts:
        return {"accuracy": None, "windows": 0}
    starts_a, lengths_a = np.array(starts), np.array(lengths)
    if len(starts_a) > max_windows:
        pick = np.sort(rng.choice(len(starts_a), max_windows, replace=False))
        starts_a, lengths_a = starts_a[pick], lengths_a[pick]
    state = _take(data.obs, starts_a)
    state = state.copy() if isinstance(state, np.ndarray) else list(state)
    for j in range(int(lengths_a.max())):
        live = np.flatnonzero(lengths_a > j)
        rows = starts_a[live] + j
        predicted, _, _ = model.predict(_take(state, live), _take(data.action, rows))
        state = _put(state, live, predicted)
    final = _take(data.next_obs, starts_a + lengths_a - 1)
    ok = _rows_equal(state, final)
    return {"accuracy": float(ok.mean()), "windows": int(len(ok))}


# -- outcome models ------------------------------------------------------------------------------
def auroc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    labels = np.asarray(labels, bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = np.asarray(scores)[order]
    i = 0
    while i < len(order):  # average ranks over ties
        j = i
        while j + 1 < len(order) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def calibration_table(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict]:
    """Reliability bins: ``[{"lo", "hi", "count", "mean_p", "frac_correct"}, ...]``."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = []
    for b in range(bins):
        lo, hi = edges[b], edges[b + 1]
        mask = (probs >= lo) & ((probs < hi) if b < bins - 1 else (probs <= hi))
        count = int(mask.sum())
        table.append(
            {
                "lo": float(lo),
                "hi": float(hi),
                "count": count,
                "mean_p": float(probs[mask].mean()) if count else None,
                "frac_correct": float(labels[mask].mean()) if count else None,
            }
        )
    return table


def outcome_fidelity(
    probs: np.ndarray, labels: np.ndarray, threshold: float = 0.5, bins: int = 10
) -> dict[str, Any]:
    """AUROC, accuracy, precision/recall at ``threshold``, Brier score, ECE and the
    reliability table of predicted P(correct) against the real verdicts."""
    probs, labels = np.asarray(probs, np.float64), np.asarray(labels, bool)
    table = calibration_table(probs, labels, bins)
    ece = sum(
        row["count"] * abs(row["mean_p"] - row["frac_correct"]) for row in table if row["count"]
    ) / max(1, len(probs))
    precision, recall = precision_recall(probs >= threshold, labels)
    return {
        "pairs": int(len(probs)),
        "positives": float(labels.mean()) if len(labels) else None,
        "auroc": auroc(probs, labels),
        "accuracy": float(((probs >= threshold) == labels).mean()) if len(labels) else None,
        "precision": precision,
        "recall": recall,
        "brier": float(np.mean((probs - labels) ** 2)) if len(labels) else None,
        "ece": float(ece),
        "calibration": table,
    }


# -- plots ---------------------------------------------------------------------------------------
def plot_rollout_accuracy(
    reports: dict[str, dict[str, Any]], path: str | Path, title: str = ""
) -> Path:
    """Save accuracy vs rollout length k, one line per labelled report (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for label, report in reports.items():
        points = [
            (int(k), v["accuracy"])
            for k, v in report["rollout"].items()
            if v["accuracy"] is not None
        ]
        if points:
            ks, acc = zip(*sorted(points), strict=True)
            ax.plot(ks, acc, "o-", label=label)
    ax.set(xlabel="open-loop rollout length k", ylabel="exact-state accuracy", ylim=(-0.02, 1.02))
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_calibration(reports: dict[str, dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Save a reliability diagram (predicted P(correct) vs observed), one line per report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect")
    for label, report in reports.items():
        rows = [r for r in report["calibration"] if r["count"]]
        auc = report.get("auroc")
        tag = f"{label} (AUROC {auc:.3f})" if auc is not None else label
        ax.plot([r["mean_p"] for r in rows], [r["frac_correct"] for r in rows], "o-", label=tag)
    ax.set(xlabel="predicted P(correct)", ylabel="fraction correct", xlim=(0, 1), ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
