"""``RolloutWorker``: envs and agents in one process, running episodes on request.

Plain Python: :mod:`reasongym.distributed.ray_runner` makes it a Ray actor, and it runs as is
in a single process (tests, benchmarks). Each of its ``envs`` slots is an (env, agent) pair,
so a threaded actor can run that many episodes at once; code envs start their sandbox
lazily, in this process, on their first run.
"""

from __future__ import annotations

import os
import queue
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from reasongym.agents.base import Agent
from reasongym.distributed.types import (
    EpisodeOutcome,
    EpisodeSpec,
    Step,
    Trajectory,
    stats_delta,
)
from reasongym.evaluation import EpisodeResult


@dataclass(frozen=True)
class WorkerConfig:
    """What every rollout worker builds.

    Attributes:
        env_id: a registered id (``reasongym/HumanEval-v0``).
        agent: an agent name for :func:`reasongym.agents.build_agent`, or a zero-argument
            callable returning an :class:`Agent` (pickled to the workers).
        agent_options: keyword options of ``build_agent`` (plain data, e.g. ``{"seed": 0,
            "n": 4}``); the CLI passes the same ones as for a local run.
        env_kwargs: overrides of the env's registered kwargs.
        register: YAML files to register in each worker before making the env.
        envs: (env, agent) pairs per worker, i.e. episodes it can run at once.
        record_trajectories: return every step (else only the per-episode result).
    """

    env_id: str
    agent: str | Callable[[], Agent] = "oracle"
    agent_options: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    register: Sequence[str] = ()
    envs: int = 1
    record_trajectories: bool = True

    def __post_init__(self) -> None:
        if self.envs < 1:
            raise ValueError(f"envs={self.envs} must be >= 1")


class RolloutWorker:
    """Owns ``config.envs`` (env, agent) pairs and runs one episode per ``run_episode`` call
    (thread-safe: concurrent calls use different pairs)."""

    def __init__(self, config: WorkerConfig, name: str = "w0"):
        import reasongym

        for path in config.register:
            reasongym.register_yaml(path)
        self.config = config
        self.name = f"{name}@{socket.gethostname()}:{os.getpid()}"
        self._slots: queue.Queue[tuple[gym.Env, Agent]] = queue.Queue()
        self._all: list[tuple[gym.Env, Agent]] = []
        for _ in range(config.envs):
            env = gym.make(config.env_id, **config.env_kwargs)
            agent = _build_agent(config)
            agent.bind(env)
            self._all.append((env, agent))
            self._slots.put((env, agent))

    def ready(self) -> str:
        """The worker's name (a cheap call that waits for the constructor)."""
        return self.name

    def run_episode(self, spec: EpisodeSpec, attempt: int = 1) -> EpisodeOutcome:
        env, agent = self._slots.get()
        try:
            return self._run(env, agent, spec, attempt)
        finally:
            self._slots.put((env, agent))

    def _run(self, env: gym.Env, agent: Agent, spec: EpisodeSpec, attempt: int) -> EpisodeOutcome:
        record = self.config.record_trajectories
        start = time.perf_counter()
        stats_before = agent.stats()
        options = None if spec.task_index is None else {"task_index": spec.task_index}
        obs, info = env.reset(seed=spec.seed, options=options)
        agent.reset(obs, info)
        trajectory = None
        if record:
            trajectory = Trajectory(
                spec.episode_id, spec.seed, info.get("task_id"), obs, _without_messages(info)
            )
        total, turns, terminated, truncated = 0.0, 0, False, False
        while not (terminated or truncated):
            action = agent.act(obs, info)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            turns += 1
            if trajectory is not None:
                trajectory.steps.append(
                    Step(action, obs, float(reward), terminated, truncated, _without_messages(info))
                )
        if trajectory is not None:
            trajectory.messages = list(info.get("messages", []))
        result = EpisodeResult(
            seed=spec.seed,
            task_id=info.get("task_id"),
            reward=total,
            turns=turns,
            success=bool(info.get("is_success", False)),
            terminated=bool(terminated),
            truncated=bool(truncated),
        )
        return EpisodeOutcome(
            spec=spec,
            result=result,
            trajectory=trajectory,
            agent_name=agent.name,
            agent_stats=stats_delta(stats_before, agent.stats()),
            worker=self.name,
            attempt=attempt,
            duration_s=time.perf_counter() - start,
        )

    def close(self) -> None:
        """Close every env (and so its sandbox: containers removed now, not at exit)."""
        envs, self._all = self._all, []
        for env, _ in envs:
            env.close()


def _build_agent(config: WorkerConfig) -> Agent:
    if callable(config.agent):
        return config.agent()
    from reasongym.agents import build_agent

    return build_agent(config.agent, **config.agent_options)


def _without_messages(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if k != "messages"}
