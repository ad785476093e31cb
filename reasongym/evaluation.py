"""Run an agent for N episodes on an env id and summarise (``reasongym run``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym

from reasongym.agents.base import Agent


@dataclass
class EpisodeResult:
    """One episode: its task, return, length and whether it was solved."""

    seed: int
    task_id: str | None
    reward: float
    turns: int
    success: bool
    terminated: bool
    truncated: bool


@dataclass
class RunSummary:
    """The summary ``reasongym run`` prints and writes with ``--json``."""

    env_id: str
    agent: str
    episodes: int
    seed: int
    success_rate: float
    mean_reward: float
    mean_turns: float
    env_steps: int
    steps_per_s: float
    wall_time_s: float
    agent_stats: dict[str, Any] = field(default_factory=dict)
    results: list[EpisodeResult] = field(default_factory=list)

    def to_dict(self, with_episodes: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not with_episodes:
            data.pop("results")
        return data


def run_episodes(
    env_id: str,
    agent: Agent,
    episodes: int = 10,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = False,
    *,
    task_indices: Sequence[int] | None = None,
) -> RunSummary:
    """Run ``episodes`` episodes seeded ``seed, seed+1, ...`` and summarise them.

    With ``task_indices``, run exactly those tasks once each instead (``reset(options=
    {"task_index": i})``, episode ``k`` seeded ``seed + k``); ``episodes`` is then unused.
    Success is ``info["is_success"]`` on the last step. ``steps_per_s`` counts env steps per
    second of wall time, agent time included.
    """
    env = gym.make(env_id, **(env_kwargs or {}))
    indices = None if task_indices is None else [int(i) for i in task_indices]
    if indices is not None:
        from reasongym.agents.contract import check_task_indices

        try:
            check_task_indices(env, indices)
        except ValueError:
            env.close()
            raise
        episodes = len(indices)
    agent.bind(env)
    results: list[EpisodeResult] = []
    steps = 0
    start = time.perf_counter()
    bar = _progress(progress, episodes, env_id, agent.name)
    try:
        for episode in range(episodes):
            options = None if indices is None else {"task_index": indices[episode]}
            obs, info = env.reset(seed=seed + episode, options=options)
            agent.reset(obs, info)
            total, turns, terminated, truncated = 0.0, 0, False, False
            while not (terminated or truncated):
                action = agent.act(obs, info)
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                turns += 1
            steps += turns
            results.append(
                EpisodeResult(
                    seed=seed + episode,
                    task_id=info.get("task_id"),
                    reward=total,
                    turns=turns,
                    success=bool(info.get("is_success", False)),
                    terminated=bool(terminated),
                    truncated=bool(truncated),
                )
            )
            if bar is not None:
                bar[0].update(bar[1], advance=1)
    finally:
        if bar is not None:
            bar[0].stop()
        env.close()
    wall = time.perf_counter() - start
    n = max(1, len(results))
    return RunSummary(
        env_id=env_id,
        agent=agent.name,
        episodes=len(results),
        seed=seed,
        success_rate=sum(r.success for r in results) / n,
        mean_reward=sum(r.reward for r in results) / n,
        mean_turns=sum(r.turns for r in results) / n,
        env_steps=steps,
        steps_per_s=steps / wall if wall > 0 else float("inf"),
        wall_time_s=wall,
        agent_stats=agent.stats(),
        results=results,
    )


def _progress(enabled: bool, total: int, env_id: str, agent: str):
    if not enabled:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
    )
    task = progress.add_task(f"{env_id} / {agent}", total=total)
    progress.start()
    return progress, task
