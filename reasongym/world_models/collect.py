"""Collect a transition dataset by running a behaviour policy in a real env.

    reasongym wm collect reasongym/MazeDiscrete-v0 --policy random --steps 20000 --out data/maze

From Python::

    from reasongym.world_models.collect import collect
    meta = collect("reasongym/MazeDiscrete-v0", "oracle:0.5", steps=5000, out="data/maze")

Episode ``k`` of a run starts from ``reset(seed=seed + k)``, so two runs with different seeds
give disjoint instances (use far-apart seeds for training and held-out data).
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym

from reasongym.world_models.data import DEFAULT_INFO_KEYS, DatasetMeta, RecordTransitions
from reasongym.world_models.policies import make_policy
from reasongym.world_models.progress import progress_bar


def collect(
    env_id: str,
    policy: str,
    steps: int,
    out: str | os.PathLike,
    *,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    max_episode_steps: int | None = None,
    info_keys: tuple[str, ...] = DEFAULT_INFO_KEYS,
    progress: bool = False,
) -> DatasetMeta:
    """Run ``policy`` (a spec of :func:`~reasongym.world_models.policies.make_policy`) for
    ``steps`` env steps and record them into ``out`` (appending if it holds a dataset).

    The last episode is cut at ``steps`` (it ends neither terminated nor truncated).
    """
    import reasongym  # noqa: F401 - registers the ids

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    kwargs = dict(env_kwargs or {})
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    env = RecordTransitions(gym.make(env_id, **kwargs), out, policy=policy, info_keys=info_keys)
    act = make_policy(policy, env, seed=seed)
    bar = progress_bar(steps, f"collect {env_id}", progress, unit="step")
    try:
        episode = 0
        obs, info = env.reset(seed=seed + episode)
        for _ in range(steps):
            obs, _, terminated, truncated, info = env.step(act(obs, info))
            bar.update(1)
            if terminated or truncated:
                episode += 1
                obs, info = env.reset(seed=seed + episode)
    finally:
        bar.close()
        env.close()
    return env.meta
