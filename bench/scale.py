"""Scale-out throughput: HumanEval-v0 episodes/s with the oracle agent, 1 and 2 workers.

In one run, on the same env (each episode: a reset, then the gold solution checked by the
code verifier in the sandbox, Docker when an engine answers):

  * ``serial``: one env in this process, the ``reasongym run`` loop (the baseline);
  * ``sync vector``: ``gymnasium.vector.SyncVectorEnv`` with N sub-envs, stepped in this process;
  * ``async vector``: ``AsyncVectorEnv``, N sub-envs in N worker processes;
  * ``ray``: ``reasongym.distributed.RayRolloutPool`` with N actors on a local Ray instance
    (2 CPUs, loopback only), the agent inside each actor.

Vector envs autoreset in the same step (an episode is one ``step``); their oracle actions come
from ``vec.call("oracle_action")`` (the gold answer lives in the env). Every setup (making
envs, starting workers, one warm-up episode per worker so each has its sandbox container)
is timed apart from the measured episodes. Speed-up is against the same method at 1 worker,
and against ``serial``; every episode must succeed.

    python bench/scale.py [--episodes 60] [--workers 1 2] [--json OUT] [--no-ray] [--env ID]

``--env reasongym/Arithmetic-v0`` (no sandbox, microseconds of env work) measures what each
method itself costs per episode.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

import reasongym  # noqa: F401 - registers the ids
from reasongym.agents import OracleAgent
from reasongym.distributed import RayRolloutPool, WorkerConfig, episode_specs, init_ray

ENV_ID = "reasongym/HumanEval-v0"  # --env replaces it


def bench_serial(episodes: int, workers: int) -> dict:
    assert workers == 1
    t0 = time.perf_counter()
    env = gym.make(ENV_ID)
    agent = OracleAgent()
    agent.bind(env)
    cpu_before = None

    def episode(seed: int) -> float:
        obs, info = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            total += reward
            done = terminated or truncated
        return total

    try:
        assert episode(10_000) == 1.0  # warm-up: starts the sandbox
        setup = time.perf_counter() - t0
        cpu_before = sandbox_cpu_s()
        start = time.perf_counter()
        rewards = [episode(seed) for seed in range(episodes)]
        wall = time.perf_counter() - start
        cpu_after = sandbox_cpu_s()
    finally:
        env.close()
    row = _row(len(rewards), sum(r == 1.0 for r in rewards), wall, setup)
    if cpu_before is not None and cpu_after is not None:
        row["sandbox_cpu_ms_per_episode"] = 1000 * (cpu_after - cpu_before) / len(rewards)
    return row


def sandbox_cpu_s() -> float | None:
    """CPU seconds used so far by this process's sandbox containers (cgroup v1 or v2), or
    None when the cgroup files are not where Docker usually puts them."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        ids = [
            c.id
            for c in client.containers.list(
                filters={"label": f"org.reasongym.owner.pid={os.getpid()}"}
            )
        ]
        client.close()
    except Exception:  # noqa: BLE001 - no engine: the process backend has no cgroup to read
        return None
    total = 0.0
    for cid in ids:
        v1 = f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage"
        v2 = [f"/sys/fs/cgroup/system.slice/docker-{cid}.scope", f"/sys/fs/cgroup/docker/{cid}"]
        if os.path.exists(v1):
            total += int(Path(v1).read_text()) / 1e9
            continue
        for path in v2:
            if os.path.exists(f"{path}/cpu.stat"):
                stat = dict(line.split() for line in Path(path, "cpu.stat").open())
                total += int(stat["usage_usec"]) / 1e6
                break
        else:
            return None
    return total if ids else None


def bench_vector(kind: str, episodes: int, workers: int) -> dict:
    cls = SyncVectorEnv if kind == "sync" else AsyncVectorEnv
    t0 = time.perf_counter()
    vec = cls(
        [functools.partial(gym.make, ENV_ID)] * workers, autoreset_mode=AutoresetMode.SAME_STEP
    )
    try:
        vec.reset(seed=0)
        _, reward, *_ = vec.step(vec.call("oracle_action"))  # warm-up: one episode per sub-env
        assert np.all(reward == 1.0), reward
        setup = time.perf_counter() - t0
        done = solved = 0
        start = time.perf_counter()
        while done < episodes:
            _, reward, terminated, truncated, _ = vec.step(vec.call("oracle_action"))
            ended = terminated | truncated
            done += int(ended.sum())
            solved += int((reward[ended] == 1.0).sum())
        wall = time.perf_counter() - start
    finally:
        vec.close()
    return _row(done, solved, wall, setup)


def bench_ray(episodes: int, workers: int) -> dict:
    t0 = time.perf_counter()
    config = WorkerConfig(ENV_ID, "oracle", record_trajectories=False)
    with RayRolloutPool(config, workers) as pool:
        pool.wait_ready()
        warm, _ = pool.run(episode_specs(workers, seed=10_000))  # one episode per worker, about
        assert all(o.result.success for o in warm)
        setup = time.perf_counter() - t0
        start = time.perf_counter()
        outcomes, counters = pool.run(episode_specs(episodes))
        wall = time.perf_counter() - start
    assert counters["worker_failures"] == 0
    return _row(len(outcomes), sum(o.result.success for o in outcomes), wall, setup)


def _row(episodes: int, solved: int, wall: float, setup: float) -> dict:
    return {
        "episodes": episodes,
        "solved": solved,
        "wall_s": wall,
        "episodes_per_s": episodes / wall,
        "setup_s": setup,
    }


def sandbox_backend() -> str:
    from reasongym.sandboxes import engine

    kwargs = gym.spec(ENV_ID).kwargs
    if kwargs.get("verifier") != "code_tests" and "python" not in kwargs.get("tools", []):
        return "none"
    return "docker" if engine.engine_answers() else "process (no Docker engine answers)"


def main() -> None:
    global ENV_ID
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=60, help="measured episodes per row")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray rows")
    parser.add_argument("--env", default=ENV_ID, help=f"env id (default {ENV_ID})")
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON")
    args = parser.parse_args()
    ENV_ID = args.env

    methods = [("serial", bench_serial), ("sync vector", functools.partial(bench_vector, "sync"))]
    methods.append(("async vector", functools.partial(bench_vector, "async")))
    ray_start_s = None
    if not args.no_ray:
        t0 = time.perf_counter()
        init_ray(num_cpus=os.cpu_count())
        ray_start_s = time.perf_counter() - t0
        methods.append(("ray", bench_ray))

    load_before = os.getloadavg()
    rows = []
    for name, fn in methods:
        for workers in args.workers:
            if name == "serial" and workers != 1:
                continue
            print(f"[scale] {name}, {workers} worker(s) ...", file=sys.stderr, flush=True)
            row = {"method": name, "workers": workers, **fn(args.episodes, workers)}
            if row["solved"] != row["episodes"]:
                raise SystemExit(f"{name}: only {row['solved']}/{row['episodes']} episodes solved")
            rows.append(row)
    serial = next(r["episodes_per_s"] for r in rows if r["method"] == "serial")
    for row in rows:
        one = next((r for r in rows if r["method"] == row["method"] and r["workers"] == 1), row)
        row["speedup_vs_1_worker"] = row["episodes_per_s"] / one["episodes_per_s"]
        row["per_worker_efficiency"] = row["speedup_vs_1_worker"] / row["workers"]
        row["speedup_vs_serial"] = row["episodes_per_s"] / serial

    result = {
        "env_id": ENV_ID,
        "agent": "oracle",
        "sandbox": sandbox_backend(),
        "ray_start_s": ray_start_s,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "rows": rows,
    }
    _print_table(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.json}")
    if ray_start_s is not None:
        import ray

        ray.shutdown()


def _print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    title = (
        f"{result['env_id']}, oracle agent, sandbox: {result['sandbox']}, "
        f"{result['machine']['cpus']} CPUs"
    )
    table = Table(title=title)
    for column in ("method", "workers", "episodes", "episodes/s", "speed-up vs 1 worker"):
        table.add_column(column, justify="right")
    for column in ("per-worker efficiency", "vs serial", "setup s"):
        table.add_column(column, justify="right")
    for r in result["rows"]:
        table.add_row(
            r["method"],
            str(r["workers"]),
            str(r["episodes"]),
            f"{r['episodes_per_s']:.2f}",
            f"{r['speedup_vs_1_worker']:.2f}x",
            f"{r['per_worker_efficiency']:.0%}",
            f"{r['speedup_vs_serial']:.2f}x",
            f"{r['setup_s']:.1f}",
        )
    Console(width=140).print(table)
    machine = result["machine"]
    print(
        f"load average (1 min) before/after: {machine['loadavg_before'][0]:.1f} / "
        f"{machine['loadavg_after'][0]:.1f} on {machine['cpus']} CPUs"
    )
    cpu_ms = result["rows"][0].get("sandbox_cpu_ms_per_episode")
    if cpu_ms:
        ceiling = 1000 * machine["cpus"] / cpu_ms
        print(
            f"sandbox CPU per episode: {cpu_ms:.1f} ms, so at most ~{ceiling:.0f} episodes/s "
            f"on {machine['cpus']} idle CPUs (host-side work not counted)"
        )
    if result["ray_start_s"] is not None:
        print(f"ray local instance start: {result['ray_start_s']:.1f} s (not in any row)")


if __name__ == "__main__":
    main()
