"""Plain data of a distributed run: what to run (``EpisodeSpec``), what came back
(``EpisodeOutcome``, ``Trajectory``) and the whole run (``DistributedRun``).

Everything here pickles, so it travels between Ray workers and the driver unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reasongym.evaluation import EpisodeResult, RunSummary


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode to run.

    Attributes:
        episode_id: unique within a run; results are keyed (and deduplicated) by it.
        seed: the ``env.reset`` seed.
        task_index: when set, ``reset(options={"task_index": i})`` poses task ``i`` of the
            env's task source (evaluation over a fixed set) instead of a seeded sample.
    """

    episode_id: int
    seed: int
    task_index: int | None = None


def episode_specs(
    episodes: int, seed: int = 0, task_indices: Sequence[int] | None = None
) -> list[EpisodeSpec]:
    """Episodes ``0..episodes-1`` seeded ``seed, seed+1, ...`` (as ``reasongym run``), or one
    per task index when ``task_indices`` is given."""
    if task_indices is not None:
        return [EpisodeSpec(i, seed + i, int(t)) for i, t in enumerate(task_indices)]
    if episodes < 0:
        raise ValueError(f"episodes={episodes} must be >= 0")
    return [EpisodeSpec(i, seed + i) for i in range(episodes)]


@dataclass
class Step:
    """One env step: the action and what the env returned (``info`` without ``messages``,
    which ``Trajectory.messages`` holds once)."""

    action: Any
    observation: Any
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


@dataclass
class Trajectory:
    """A whole episode, for training data and debugging.

    Attributes:
        reset_observation, reset_info: what ``env.reset`` returned.
        steps: every step in order.
        messages: the final chat (text envs' ``info["messages"]``; empty for other envs).
    """

    episode_id: int
    seed: int
    task_id: str | None
    reset_observation: Any
    reset_info: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)


@dataclass
class EpisodeOutcome:
    """What a rollout worker returns for one episode.

    Attributes:
        result: the ``reasongym run`` per-episode line.
        trajectory: the steps (None when the run does not record them).
        agent_name: ``agent.name``.
        agent_stats: how much each numeric ``agent.stats()`` counter grew during this episode
            (other entries as they were at its end), so that summing over episodes counts
            each episode once however often it was attempted.
        worker: ``name@host:pid`` of the worker that ran it.
        attempt: 1 for a first run, 2 after one retry, ...
        duration_s: wall time of the episode on the worker.
    """

    spec: EpisodeSpec
    result: EpisodeResult
    trajectory: Trajectory | None
    agent_name: str
    agent_stats: dict[str, Any]
    worker: str
    attempt: int
    duration_s: float


@dataclass
class DistributedRun:
    """A finished run: the ``reasongym run`` summary, plus what happened on the way.

    Attributes:
        summary: same fields as :func:`reasongym.evaluation.run_episodes` returns.
        trajectories: one per episode, by episode id (empty when not recorded).
        outcomes: one per episode, by episode id.
        workers: workers started, replacements included.
        worker_failures: workers lost (died, unreachable, or killed for a hung episode).
        retried: episode ids that ran more than once.
        duplicates_dropped: results that arrived for an episode already done (dropped).
    """

    summary: RunSummary
    trajectories: list[Trajectory]
    outcomes: list[EpisodeOutcome]
    workers: int
    worker_failures: int
    retried: list[int]
    duplicates_dropped: int


def stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Growth of numeric counters from ``before`` to ``after``; other values as in ``after``."""
    out = {}
    for key, value in after.items():
        if _is_number(value) and _is_number(before.get(key, 0)):
            out[key] = value - before.get(key, 0)
        else:
            out[key] = value
    return out


def merge_stats(deltas: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum numeric counters; a non-numeric entry keeps its value when all episodes agree,
    else becomes the sorted list of the values seen."""
    sums: dict[str, Any] = {}
    others: dict[str, list[Any]] = {}
    for delta in deltas:
        for key, value in delta.items():
            if _is_number(value):
                sums[key] = sums.get(key, 0) + value
            elif value not in others.setdefault(key, []):
                others[key].append(value)
    for key, values in others.items():
        sums[key] = values[0] if len(values) == 1 else sorted(values, key=repr)
    return sums


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
