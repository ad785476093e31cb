"""Distributed rollouts on a local Ray instance: same summary as ``reasongym run``, and a
worker killed mid-run loses nothing and counts nothing twice."""

from __future__ import annotations

import os
import signal
import time

import pytest

from reasongym.agents import OracleAgent, build_agent
from reasongym.distributed import (
    EpisodeSpec,
    RolloutError,
    RolloutWorker,
    WorkerConfig,
    merge_stats,
    run_ray,
)
from reasongym.evaluation import run_episodes

ENV_ID = "reasongym/Arithmetic-v0"


def counting_oracle(marker: str | None = None, die_on: int = 0, sleep_s: float = 0.0):
    """A factory of oracle agents that count their episodes (a numeric stat). With a marker
    path, the first agent (across all workers) to start its ``die_on``-th episode kills its
    own process in the middle of it, after writing its pid to the marker."""

    class CountingOracle(OracleAgent):
        name = "counting-oracle"

        def __init__(self):
            self.episodes = 0

        def reset(self, observation, info):
            self.episodes += 1

        def act(self, observation, info):
            time.sleep(sleep_s)
            if marker and self.episodes == die_on:
                try:
                    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    pass  # someone already died: this run is the retry
                else:
                    os.write(fd, str(os.getpid()).encode())
                    os.close(fd)
                    os.kill(os.getpid(), signal.SIGKILL)
            return super().act(observation, info)

        def stats(self):
            return {"episodes": self.episodes, "kind": "counting"}

    return CountingOracle


def _pid(worker: str) -> int:
    return int(worker.rsplit(":", 1)[1])


def _assert_exactly_once(run, n: int, seed: int = 0) -> None:
    ids = [o.spec.episode_id for o in run.outcomes]
    assert ids == list(range(n)), "every episode exactly once, in id order"
    assert [r.seed for r in run.summary.results] == [seed + i for i in range(n)]
    assert run.summary.episodes == n and run.duplicates_dropped == 0
    assert [t.episode_id for t in run.trajectories] == list(range(n))


def test_worker_without_ray():
    worker = RolloutWorker(WorkerConfig(ENV_ID, envs=2))
    try:
        outcome = worker.run_episode(EpisodeSpec(episode_id=7, seed=3))
    finally:
        worker.close()
    assert outcome.result.success and outcome.result.seed == 3 and outcome.attempt == 1
    steps = outcome.trajectory.steps
    assert len(steps) == 1 and steps[0].reward == 1.0 and "messages" not in steps[0].info
    assert outcome.trajectory.messages[-1] == {"role": "user", "content": "Correct."}


def test_merge_stats():
    merged = merge_stats([{"tokens": 3, "mode": "eval"}, {"tokens": 4, "mode": "eval"}])
    assert merged == {"tokens": 7, "mode": "eval"}
    assert merge_stats([{"m": "a"}, {"m": "b"}]) == {"m": ["a", "b"]}


def test_summary_matches_a_local_run(ray_local):
    local = run_episodes(ENV_ID, build_agent("oracle"), episodes=6, seed=4)
    run = run_ray(ENV_ID, "oracle", episodes=6, seed=4, workers=2)
    _assert_exactly_once(run, 6, seed=4)
    assert run.summary.results == local.results
    got, want = run.summary.to_dict(), local.to_dict()
    assert got.keys() == want.keys()
    for key in ("env_id", "agent", "episodes", "seed", "success_rate", "mean_reward", "env_steps"):
        assert got[key] == want[key], key
    assert run.worker_failures == 0 and run.retried == [] and run.workers == 2
    assert len({o.worker for o in run.outcomes}) == 2, "both workers took episodes"


def test_task_indices(ray_local):
    run = run_ray(ENV_ID, "oracle", task_indices=[5, 1, 5], workers=1, record_trajectories=False)
    assert [o.spec.task_index for o in run.outcomes] == [5, 1, 5]
    assert run.outcomes[0].result.task_id == run.outcomes[2].result.task_id
    assert run.trajectories == [] and run.summary.success_rate == 1.0


def test_worker_killed_mid_episode(ray_local, tmp_path):
    marker = tmp_path / "died"
    agent = counting_oracle(str(marker), die_on=3)
    run = run_ray(ENV_ID, agent, episodes=12, workers=2, max_attempts=2)
    dead = int(marker.read_text())
    _assert_exactly_once(run, 12)
    assert run.worker_failures == 1 and run.workers == 3, "the lost worker was replaced"
    assert run.retried, "the killed worker's episodes ran again"
    for episode_id in run.retried:
        outcome = run.outcomes[episode_id]
        assert outcome.attempt == 2 and _pid(outcome.worker) != dead
    assert run.summary.success_rate == 1.0
    # agent counters: per-episode growth, summed once per episode (the killed attempt is lost)
    assert run.summary.agent_stats == {"episodes": 12, "kind": "counting"}


def test_worker_killed_from_outside(ray_local):
    """An operator (or the OOM killer) kills a busy worker: its queued episodes move."""
    killed: list[int] = []

    def kill_the_producer(outcome):
        if not killed:
            killed.append(_pid(outcome.worker))
            os.kill(killed[0], signal.SIGKILL)

    run = run_ray(
        ENV_ID, counting_oracle(sleep_s=0.3), episodes=10, workers=2, on_outcome=kill_the_producer
    )
    _assert_exactly_once(run, 10)
    assert run.worker_failures == 1 and run.retried
    assert all(_pid(run.outcomes[i].worker) != killed[0] for i in run.retried)
    assert run.summary.agent_stats["episodes"] == 10


@pytest.mark.parametrize(("workers", "envs_per_worker"), [(2, 1), (1, 2)])
def test_hung_episode_is_retried_elsewhere(ray_local, tmp_path, workers, envs_per_worker):
    """A worker stuck in an episode (here: asleep) is killed after episode_timeout_s, even
    while its other env keeps finishing episodes."""
    marker = tmp_path / "hung"

    def agent():
        class Sleepy(OracleAgent):
            def act(self, observation, info):
                try:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    return super().act(observation, info)
                time.sleep(600)

        return Sleepy()

    run = run_ray(
        ENV_ID,
        agent,
        episodes=6,
        workers=workers,
        envs_per_worker=envs_per_worker,
        episode_timeout_s=5,
    )
    _assert_exactly_once(run, 6)
    assert run.worker_failures == 1 and run.retried


def test_an_episode_that_always_fails_fails_the_run(ray_local):
    def agent():
        class Broken(OracleAgent):
            def act(self, observation, info):
                raise RuntimeError("agent bug")

        return Broken()

    with pytest.raises(RolloutError, match="(?s)failed 2 times.*agent bug"):
        run_ray(ENV_ID, agent, episodes=2, workers=1, max_attempts=2)


@pytest.mark.docker
def test_code_env_sandboxes_live_in_the_workers(ray_local):
    """Each worker starts its own sandbox (a warm container it owns) and removes it on close."""
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=10)
        client.images.get("reasongym-sandbox:py3")
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Docker engine or sandbox image unavailable in CI: {exc}")
        pytest.skip(f"Docker engine or sandbox image unavailable: {exc}")
    seen: dict[int, set[str]] = {}

    def containers_of_workers(outcome):
        pid = _pid(outcome.worker)
        found = client.containers.list(
            filters={"label": f"org.reasongym.owner.pid={pid}"}, ignore_removed=True
        )
        seen.setdefault(pid, set()).update(c.id for c in found)

    run = run_ray(
        "reasongym/HumanEval-v0", "oracle", episodes=6, workers=2, on_outcome=containers_of_workers
    )
    _assert_exactly_once(run, 6)
    assert run.summary.success_rate == 1.0
    assert len(seen) == 2 and all(seen.values()), "each worker process owns a warm container"
    deadline = time.monotonic() + 30
    for pid in seen:
        while client.containers.list(
            all=True, filters={"label": f"org.reasongym.owner.pid={pid}"}, ignore_removed=True
        ):
            assert time.monotonic() < deadline, f"worker {pid} left containers behind"
            time.sleep(0.5)
    client.close()
