"""Rollouts on Ray: rollout workers as actors, a driver that hands out episodes, survives
lost workers, and gathers trajectories and the ``reasongym run`` summary.

```python
from reasongym.distributed import run_ray

run = run_ray("reasongym/HumanEval-v0", agent="oracle", episodes=164, workers=8)
run.summary.success_rate, len(run.trajectories), run.worker_failures
```

Fault tolerance: each episode has an id; a worker that dies (or stops answering, or runs one
episode longer than ``episode_timeout_s``) is killed and replaced, results it had already
returned are kept, and its unfinished episodes go back to the queue for any worker. Results
are keyed by episode id, so none is lost or counted twice. An episode that raises is retried
too (an infrastructure hiccup, e.g. a sandbox engine going away), up to ``max_attempts``.

``ray`` is imported on first use (``pip install 'reasongym[ray]'``).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasongym.agents.base import Agent
from reasongym.distributed.types import (
    DistributedRun,
    EpisodeOutcome,
    EpisodeSpec,
    episode_specs,
    merge_stats,
)
from reasongym.distributed.worker import RolloutWorker, WorkerConfig
from reasongym.errors import ReasonGymError
from reasongym.evaluation import RunSummary

log = logging.getLogger("reasongym.distributed")

# A local instance listens on loopback only (Ray's default asks the routing table for a
# public address) and sends no usage statistics. Set before ``import ray``; only used when
# this process starts the instance.
LOCAL_RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


class RolloutError(ReasonGymError):
    """A distributed run could not finish (an episode kept failing, or no worker is left)."""


def ray_module() -> Any:
    """The ``ray`` module, imported on first use (with local-instance defaults)."""
    for key, value in LOCAL_RAY_ENV.items():
        os.environ.setdefault(key, value)
    try:
        import ray
    except ImportError:
        raise ReasonGymError(
            "distributed rollouts need Ray: `pip install 'reasongym[ray]'` (or `pip install ray`)"
        ) from None
    return ray


def init_ray(
    address: str | None = None,
    num_cpus: int | None = None,
    *,
    skip_cloud_detection: bool = True,
    **ray_init_kwargs: Any,
) -> Any:
    """Connect to Ray once per process and return the module.

    Args:
        address: a cluster (``"auto"``, ``"ray://head:10001"``, ``"head:6379"``); None
            starts a local instance on this machine (loopback only, no dashboard).
        num_cpus: CPUs of a local instance (default: all).
        skip_cloud_detection: local instance only. Ray's dashboard process asks the cloud
            metadata endpoints (169.254.169.254, metadata.google.internal) which cloud it
            runs on, usage statistics or not, unless ``~/ray_bootstrap_config.yaml`` exists.
            By default the Ray processes get a private ``HOME`` that holds an empty one and
            links to everything in yours (caches and configs resolve as before), so a local
            instance talks to nothing but loopback.
        ray_init_kwargs: passed to ``ray.init`` (e.g. ``runtime_env={"env_vars": {...}}``).

    Returns the ``ray`` module. A process already connected stays connected as it is.
    """
    ray = ray_module()
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    if address is None:
        options["num_cpus"] = num_cpus
    else:
        options["address"] = address
    home = os.environ.get("HOME")
    if address is None and skip_cloud_detection:
        os.environ["HOME"] = _private_home(home)  # inherited by the processes ray.init starts
    try:
        ray.init(**{**options, **ray_init_kwargs})
    finally:
        if home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = home
    return ray


def _private_home(home: str | None) -> str:
    """A temporary HOME: links to every entry of ``home`` plus an empty Ray autoscaler config
    (whose presence stops Ray's cloud-provider probing)."""
    private = Path(tempfile.mkdtemp(prefix="reasongym-ray-home-"))
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    if home and Path(home).is_dir():
        for entry in Path(home).iterdir():
            if entry.name != "ray_bootstrap_config.yaml":
                (private / entry.name).symlink_to(entry)
    (private / "ray_bootstrap_config.yaml").write_text("{}\n")
    return str(private)


@dataclass
class _Slot:
    """One worker position: the current actor in it and the episodes queued on it."""

    index: int
    name: str
    actor: Any
    queue: deque[Any] = field(default_factory=deque)  # object refs, in dispatch order
    started: dict[Any, float] = field(default_factory=dict)  # refs running now -> since when
    alive: bool = True

    def promote(self, capacity: int, now: float) -> None:
        """Mark the oldest queued refs as running, up to the actor's concurrency."""
        for ref in self.queue:
            if len(self.started) >= capacity:
                break
            self.started.setdefault(ref, now)

    def finish(self, ref: Any, capacity: int) -> None:
        self.queue.remove(ref)
        self.started.pop(ref, None)
        self.promote(capacity, time.monotonic())


class RayRolloutPool:
    """Rollout workers as Ray actors; ``run`` hands them episodes until every one is done.

    Args:
        config: what each worker builds (env, agent, ...).
        workers: actors to start (they stay up across ``run`` calls until ``close``).
        num_cpus_per_worker: the CPUs Ray reserves for each actor.
        in_flight_per_worker: episodes queued on an actor at once (> ``config.envs`` hides
            the driver's round trip).
        max_attempts: runs of one episode before the run fails (worker losses count).
        max_worker_failures: workers that may be lost (and replaced) in one ``run``;
            default ``2 * workers + 2``.
        episode_timeout_s: a worker whose episode runs longer is killed and replaced, and the
            episode retried (None: no limit).
        actor_options: extra ``ray.remote`` options (``resources``, ``runtime_env``, ...).

    Raises:
        RolloutError: from ``run``, when an episode fails ``max_attempts`` times or no worker
            can be (re)started.
    """

    def __init__(
        self,
        config: WorkerConfig,
        workers: int,
        *,
        num_cpus_per_worker: float = 1.0,
        in_flight_per_worker: int | None = None,
        max_attempts: int = 3,
        max_worker_failures: int | None = None,
        episode_timeout_s: float | None = None,
        actor_options: dict[str, Any] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers={workers} must be >= 1")
        if max_attempts < 1:
            raise ValueError(f"max_attempts={max_attempts} must be >= 1")
        self.ray = ray_module()
        if not self.ray.is_initialized():
            init_ray()
        self.config = config
        self.in_flight_per_worker = in_flight_per_worker or config.envs + 1
        self.max_attempts = max_attempts
        self.max_worker_failures = (
            2 * workers + 2 if max_worker_failures is None else max_worker_failures
        )
        self.episode_timeout_s = episode_timeout_s
        options = {
            "num_cpus": num_cpus_per_worker,
            "max_restarts": 0,  # the driver replaces lost workers itself, with fresh envs
            "max_task_retries": 0,
            "max_concurrency": config.envs,
            "scheduling_strategy": "SPREAD",
            **(actor_options or {}),
        }
        self._actor_cls = self.ray.remote(RolloutWorker).options(**options)
        self._started = 0
        self.worker_failures = 0
        self._slots = [self._new_slot(i) for i in range(workers)]

    # --- public API -------------------------------------------------------------------

    @property
    def workers_started(self) -> int:
        return self._started

    def wait_ready(self, timeout: float | None = None) -> list[str]:
        """Wait until every worker has built its envs; returns their names."""
        return self.ray.get([s.actor.ready.remote() for s in self._slots], timeout=timeout)

    def run(
        self,
        specs: Sequence[EpisodeSpec],
        *,
        on_outcome: Callable[[EpisodeOutcome], None] | None = None,
    ) -> tuple[list[EpisodeOutcome], dict[str, Any]]:
        """Run every episode of ``specs`` exactly once (retrying lost ones).

        Args:
            specs: the episodes; their ids must be unique.
            on_outcome: called in the driver with each accepted outcome, as it arrives.

        Returns:
            ``(outcomes by episode id, counters)``; counters: ``worker_failures``,
            ``retried`` (episode ids), ``duplicates_dropped``.
        """
        ids = [s.episode_id for s in specs]
        if len(set(ids)) != len(ids):
            raise ValueError("episode ids must be unique within a run")
        ray = self.ray
        failures_before = self.worker_failures
        pending: deque[tuple[EpisodeSpec, int]] = deque((s, 1) for s in specs)
        attempts: Counter[int] = Counter()
        done: dict[int, EpisodeOutcome] = {}
        duplicates = 0
        in_flight: dict[Any, tuple[_Slot, EpisodeSpec, int]] = {}
        last_error: BaseException | None = None

        def requeue(spec: EpisodeSpec, attempt: int, error: BaseException) -> None:
            nonlocal last_error
            last_error = error
            if spec.episode_id in done:
                return
            if attempt >= self.max_attempts:
                raise RolloutError(
                    f"episode {spec.episode_id} (seed {spec.seed}) failed {attempt} times; "
                    f"last error: {error}"
                ) from error
            pending.appendleft((spec, attempt + 1))

        def accept(outcome: EpisodeOutcome) -> None:
            nonlocal duplicates
            if outcome.spec.episode_id in done:
                duplicates += 1
                return
            done[outcome.spec.episode_id] = outcome
            if on_outcome is not None:
                on_outcome(outcome)

        def lose(slot: _Slot, error: BaseException) -> None:
            """The worker in ``slot`` is gone: keep what it finished, requeue the rest."""
            if not slot.alive:
                return
            slot.alive = False
            self.worker_failures += 1
            log.warning("rollout worker %s lost: %s", slot.name, _short(error))
            try:
                ray.kill(slot.actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already dead
                pass
            for ref in list(slot.queue):
                _, spec, attempt = in_flight.pop(ref)
                try:
                    accept(ray.get(ref, timeout=0))  # finished before the worker went
                except Exception:  # noqa: BLE001 - not finished: run it again elsewhere
                    requeue(spec, attempt, error)
            slot.queue.clear()
            slot.started.clear()
            if self.worker_failures - failures_before > self.max_worker_failures:
                return  # the slot stays empty
            self._slots[slot.index] = self._new_slot(slot.index)

        while len(done) < len(specs):
            now = time.monotonic()
            for slot in self._slots:  # fill every live worker's queue
                while slot.alive and pending and len(slot.queue) < self.in_flight_per_worker:
                    spec, attempt = pending.popleft()
                    if spec.episode_id in done:
                        continue
                    attempts[spec.episode_id] += 1
                    ref = slot.actor.run_episode.remote(spec, attempt)
                    slot.queue.append(ref)
                    slot.promote(self.config.envs, now)
                    in_flight[ref] = (slot, spec, attempt)
            if not in_flight:
                if not pending:
                    break
                raise RolloutError(
                    f"no rollout worker left after {self.worker_failures - failures_before} "
                    f"failures; last error: {last_error}"
                ) from last_error
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
            for ref in ready:
                if ref not in in_flight:
                    continue  # handled with its worker's loss
                slot, spec, attempt = in_flight[ref]
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the episode itself raised
                    del in_flight[ref]
                    slot.finish(ref, self.config.envs)
                    log.warning(
                        "episode %d failed on %s: %s", spec.episode_id, slot.name, _short(exc)
                    )
                    requeue(spec, attempt, exc)
                except ray.exceptions.RayError as exc:  # the worker died or is unreachable
                    lose(slot, exc)
                else:
                    del in_flight[ref]
                    slot.finish(ref, self.config.envs)
                    accept(outcome)
            if self.episode_timeout_s is not None:
                now = time.monotonic()
                for slot in list(self._slots):
                    oldest = min(slot.started.values(), default=now)
                    if slot.alive and now - oldest > self.episode_timeout_s:
                        lose(slot, TimeoutError(f"episode ran over {self.episode_timeout_s} s"))

        retried = sorted(i for i, n in attempts.items() if n > 1)
        counters = {
            "worker_failures": self.worker_failures - failures_before,
            "retried": retried,
            "duplicates_dropped": duplicates,
        }
        return [done[i] for i in sorted(done)], counters

    def close(self, timeout: float = 60.0) -> None:
        """Close every worker's envs (removing their sandboxes), then end the actors."""
        ray = self.ray
        live = [s for s in self._slots if s.alive]
        refs = [s.actor.close.remote() for s in live]
        try:
            ray.wait(refs, num_returns=len(refs), timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - a dead worker's sandbox went with it
            log.debug("closing rollout workers: %s", exc)
        for slot in live:
            try:
                ray.kill(slot.actor, no_restart=True)
            except Exception:  # noqa: BLE001
                pass
            slot.alive = False

    def __enter__(self) -> RayRolloutPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _new_slot(self, index: int) -> _Slot:
        name = f"w{self._started}"
        self._started += 1
        return _Slot(index=index, name=name, actor=self._actor_cls.remote(self.config, name))


def summarize(
    env_id: str, seed: int, outcomes: Sequence[EpisodeOutcome], wall_time_s: float
) -> RunSummary:
    """The ``reasongym run`` summary of a set of episode outcomes."""
    results = [o.result for o in outcomes]
    n = max(1, len(results))
    steps = sum(r.turns for r in results)
    return RunSummary(
        env_id=env_id,
        agent=outcomes[0].agent_name if outcomes else "",
        episodes=len(results),
        seed=seed,
        success_rate=sum(r.success for r in results) / n,
        mean_reward=sum(r.reward for r in results) / n,
        mean_turns=sum(r.turns for r in results) / n,
        env_steps=steps,
        steps_per_s=steps / wall_time_s if wall_time_s > 0 else float("inf"),
        wall_time_s=wall_time_s,
        agent_stats=merge_stats(o.agent_stats for o in outcomes),
        results=results,
    )


def run_ray(
    env_id: str,
    agent: str | Callable[[], Agent] = "oracle",
    episodes: int = 10,
    seed: int = 0,
    *,
    task_indices: Sequence[int] | None = None,
    agent_options: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    register: Sequence[str] = (),
    workers: int | None = None,
    envs_per_worker: int = 1,
    address: str | None = None,
    num_cpus_per_worker: float = 1.0,
    max_attempts: int = 3,
    episode_timeout_s: float | None = None,
    record_trajectories: bool = True,
    progress: bool = False,
    on_outcome: Callable[[EpisodeOutcome], None] | None = None,
) -> DistributedRun:
    """Run an agent for ``episodes`` episodes on Ray, like ``reasongym run`` does locally.

    Args:
        env_id: a registered id.
        agent: an agent name (``build_agent``) or a zero-argument factory of an ``Agent``.
        episodes: episodes seeded ``seed, seed+1, ...`` (ignored with ``task_indices``).
        seed: the first seed.
        task_indices: run exactly these tasks of the env's source, one episode each.
        agent_options: ``build_agent`` keyword options (plain data, as the CLI builds them).
        env_kwargs: env kwarg overrides.
        register: YAML files each worker registers first (``reasongym run --register``).
        workers: rollout actors (default: the cluster's CPUs / ``num_cpus_per_worker``,
            at most one per episode).
        envs_per_worker: (env, agent) pairs per actor, run in threads: worth it when
            episodes wait on I/O (sandbox runs, a model server).
        address: the Ray cluster when this process is not connected yet (None: start a
            local instance; see :func:`init_ray`).
        num_cpus_per_worker, max_attempts, episode_timeout_s: see :class:`RayRolloutPool`.
        record_trajectories: keep every step (``DistributedRun.trajectories``).
        progress: show a progress bar.
        on_outcome: called with each episode's outcome as it arrives.

    The summary's ``wall_time_s`` and ``steps_per_s`` include starting the workers.
    Stochastic agents draw from one stream per worker, so which worker ran an episode can
    change their actions (deterministic agents, e.g. ``oracle`` or greedy decoding, give the
    same results as a local run).
    """
    ray = init_ray(address)
    specs = episode_specs(episodes, seed, task_indices)
    if workers is None:
        cpus = ray.cluster_resources().get("CPU", 1)
        workers = max(1, min(len(specs), int(cpus // num_cpus_per_worker)))
    config = WorkerConfig(
        env_id=env_id,
        agent=agent,
        agent_options=dict(agent_options or {}),
        env_kwargs=dict(env_kwargs or {}),
        register=tuple(str(Path(p).resolve()) for p in register),
        envs=envs_per_worker,
        record_trajectories=record_trajectories,
    )
    bar = (
        _Progress(len(specs), f"{env_id} / {agent if isinstance(agent, str) else 'agent'}")
        if progress
        else None
    )

    def arrived(outcome: EpisodeOutcome) -> None:
        if bar is not None:
            bar.advance()
        if on_outcome is not None:
            on_outcome(outcome)

    start = time.perf_counter()
    try:
        with RayRolloutPool(
            config,
            workers,
            num_cpus_per_worker=num_cpus_per_worker,
            max_attempts=max_attempts,
            episode_timeout_s=episode_timeout_s,
        ) as pool:
            outcomes, counters = pool.run(specs, on_outcome=arrived)
            started = pool.workers_started
    finally:
        if bar is not None:
            bar.stop()
    wall = time.perf_counter() - start
    return DistributedRun(
        summary=summarize(env_id, seed, outcomes, wall),
        trajectories=[o.trajectory for o in outcomes if o.trajectory is not None],
        outcomes=outcomes,
        workers=started,
        worker_failures=counters["worker_failures"],
        retried=counters["retried"],
        duplicates_dropped=counters["duplicates_dropped"],
    )


class _Progress:
    def __init__(self, total: int, title: str):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        self._task = self._progress.add_task(title, total=total)
        self._progress.start()

    def advance(self) -> None:
        self._progress.update(self._task, advance=1)

    def stop(self) -> None:
        self._progress.stop()


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
