"""Env server throughput and latency: ``reasongym serve`` next to ``openenv``'s own ``create_app``.

For ``Math-v0`` calculator steps and ``Maze-v0`` moves, with 1, 16 and 64 concurrent
WebSocket sessions, both servers serve the same env (``openenv``'s through
``reasongym.integrations.openenv.ReasonGymEnvironment``), each in its own process on
127.0.0.1, driven by the same asyncio client (``websockets``, one connection per session,
each session stepping back to back and resetting when its episode ends). Printed per row:
steps/s over wall time, p50/p99 of the per-step round trip, and the server overhead =
p50 round trip minus p50 of the same step called locally (``env.step`` in this process).

Targets (issue 14): reasongym's steps/s >= openenv's at every row, overhead p50 <= 1 ms.

    python bench/serve.py [--steps 3000] [--sessions 1,16,64] [--json OUT]

Measured here (2 shared cores, 1,500 steps per row). Run 1 (load average ~3):
reasongym/openenv steps/s, Math-v0: 1386/994 (1 session), 1845/1311 (16), 1535/932 (64);
Maze-v0: 1116/1178, 1614/1266, 1363/1004; reasongym overhead p50 0.42 ms (Math), 0.59 ms
(Maze) at 1 session. Run 2 (load average ~16, other benchmarks running): Math 318/104,
520/1015, 239/144; Maze 225/120, 197/448, 183/216; overhead p50 0.57 / 0.52 ms. At 16 and 64
sessions the p50 is queueing for the two cores, not protocol work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ENVS = {
    "reasongym/Math-v0": [
        '<tool name="calculator">37*41</tool>',
        '<tool name="calculator">2**10-1</tool>',
    ],
    "reasongym/Maze-v0": ["up", "down", "left", "right"],
}

SERVER = r"""
import sys, uvicorn
kind, env_id, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == "reasongym":
    from reasongym.integrations.openenv.server import ServeConfig, create_app
    app = create_app(ServeConfig(env_id=env_id, max_sessions=n + 4))
else:
    from reasongym.integrations.openenv.native import create_openenv_app
    app = create_openenv_app(env_id, max_sessions=n + 4)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", ws_max_size=2**24)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, env_id: str, sessions: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, kind, env_id, str(port), str(sessions)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # openenv's app imports gradio: slow on a busy machine
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server for {env_id} did not start")


async def drive(
    url: str, sessions: int, steps: int, actions: list[str]
) -> tuple[float, list[float]]:
    """Run ``steps`` steps spread over ``sessions`` sockets; (wall seconds, step latencies)."""
    from websockets.asyncio.client import connect

    per = max(1, steps // sessions)
    latencies: list[float] = []

    async def one(index: int) -> None:
        async with connect("ws" + url[4:] + "/ws", max_size=None, compression=None) as ws:
            await ws.send(json.dumps({"type": "reset", "data": {"seed": index}}))
            await ws.recv()
            for k in range(per):
                message = json.dumps(
                    {"type": "step", "data": {"action": actions[k % len(actions)]}}
                )
                t0 = time.perf_counter()
                await ws.send(message)
                reply = json.loads(await ws.recv())
                latencies.append(time.perf_counter() - t0)
                if reply["type"] != "observation":
                    raise RuntimeError(f"server error: {reply}")
                if reply["data"]["done"]:
                    await ws.send(json.dumps({"type": "reset", "data": {"seed": index + k}}))
                    await ws.recv()
            await ws.send(json.dumps({"type": "close"}))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(sessions)))
    return time.perf_counter() - t0, latencies


def local_p50(env_id: str, actions: list[str], steps: int = 500) -> float:
    import gymnasium as gym

    import reasongym  # noqa: F401
    from reasongym.integrations.openenv import codec

    env = gym.make(env_id)
    env.reset(seed=0)
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        obs, reward, terminated, truncated, info = env.step(actions[k % len(actions)])
        codec.payload(obs, reward, terminated, truncated, info)  # both servers encode too
        times.append(time.perf_counter() - t0)
        if terminated or truncated:
            env.reset(seed=k)
    env.close()
    return statistics.median(times)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="steps per row")
    parser.add_argument("--sessions", default="1,16,64")
    parser.add_argument("--json", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    counts = [int(x) for x in args.sessions.split(",")]
    rows = []
    for env_id, actions in ENVS.items():
        base = local_p50(env_id, actions)
        for kind in ("reasongym", "openenv"):
            proc, url = start(kind, env_id, max(counts))
            try:
                asyncio.run(drive(url, 1, 50, actions))  # warm-up
                for n in counts:
                    wall, lat = asyncio.run(drive(url, n, args.steps, actions))
                    rows.append(
                        {
                            "env": env_id,
                            "server": kind,
                            "sessions": n,
                            "steps_per_s": len(lat) / wall,
                            "p50_ms": 1000 * pct(lat, 0.5),
                            "p99_ms": 1000 * pct(lat, 0.99),
                            "overhead_p50_ms": 1000 * (pct(lat, 0.5) - base),
                            "local_p50_ms": 1000 * base,
                        }
                    )
                    r = rows[-1]
                    print(
                        f"{env_id:20s} {kind:10s} {n:3d} sessions  {r['steps_per_s']:8.0f} steps/s  "
                        f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                        f"overhead p50 {r['overhead_p50_ms']:6.2f} ms",
                        flush=True,
                    )
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    print()
    print(
        f"{'env':20s} {'sessions':>8s} {'reasongym st/s':>15s} {'openenv st/s':>13s} {'ratio':>6s} "
        f"{'rg p50/p99 ms':>15s} {'oe p50/p99 ms':>15s} {'rg overhead p50':>16s}"
    )
    for env_id in ENVS:
        for n in counts:
            ours = next(
                r
                for r in rows
                if r["env"] == env_id and r["server"] == "reasongym" and r["sessions"] == n
            )
            peer = next(
                r
                for r in rows
                if r["env"] == env_id and r["server"] == "openenv" and r["sessions"] == n
            )
            print(
                f"{env_id:20s} {n:8d} {ours['steps_per_s']:15.0f} {peer['steps_per_s']:13.0f} "
                f"{ours['steps_per_s'] / peer['steps_per_s']:6.2f} "
                f"{ours['p50_ms']:7.2f}/{ours['p99_ms']:<7.2f} {peer['p50_ms']:7.2f}/{peer['p99_ms']:<7.2f} "
                f"{ours['overhead_p50_ms']:13.2f} ms"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
