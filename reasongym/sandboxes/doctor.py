"""``reasongym sandbox doctor``: what works here, one check per row.

Engine, image, pool start, a test run, then each limit proven by a small hostile program,
then the process backend. Every failed check says how to fix it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from reasongym.sandboxes import engine
from reasongym.sandboxes.errors import SandboxError
from reasongym.sandboxes.types import ExecResult, Limits

OK, FAIL, WARN, SKIP = "ok", "FAIL", "warn", "skip"


@dataclass(frozen=True)
class Check:
    """One row of the report."""

    backend: str
    name: str
    status: str  # ok | FAIL | warn | skip
    detail: str


# (name, code, limits overrides, predicate, what it proves)
_LIMIT_PROBES: list[tuple[str, str, dict, Callable[[ExecResult], bool], str]] = [
    (
        "non-root user",
        "import os; print(os.getuid())",
        {},
        lambda r: r.ok and r.stdout.strip() not in ("", "0"),
        "runs as uid {out}",
    ),
    (
        "network off",
        "import socket; print(sorted(n for _, n in socket.if_nameindex()))",
        {},
        lambda r: r.ok and r.stdout.strip() == "['lo']",
        "interfaces: {out}",
    ),
    (
        "read-only root",
        "import os\ntry:\n    open('/usr/x', 'w')\n    print('writable')\nexcept OSError as e:\n    print(type(e).__name__)",
        {},
        lambda r: r.ok and "writable" not in r.stdout,
        "writing /usr: {out}",
    ),
    (
        "timeout",
        "import time; time.sleep(30)",
        {"timeout_s": 1.0},
        lambda r: r.timed_out,
        "sleep(30) under a 1 s limit: timed_out={timed_out} after {duration:.2f} s",
    ),
    (
        "memory",
        "x = []\nwhile True: x.append(bytearray(8 << 20))",
        {"memory_mb": 64},
        lambda r: r.oom_killed,
        "allocating past 64 MB: oom_killed={oom}, exit {code}",
    ),
    (
        "pids",
        "import os, time\nn = 0\ntry:\n    for _ in range(200):\n        if os.fork() == 0:\n            time.sleep(5); os._exit(0)\n        n += 1\nexcept OSError:\n    pass\nprint(n)",
        {"pids": 32, "timeout_s": 3.0},
        lambda r: r.stdout.strip().isdigit() and int(r.stdout) < 200,
        "forking 200 children under pids=32: {out} started",
    ),
    (
        "output cap",
        "import sys; sys.stdout.write('x' * 200_000)",
        {"output_bytes": 1024},
        lambda r: r.truncated and len(r.stdout) == 1024,
        "200 kB printed, 1 KiB kept: truncated={truncated}",
    ),
]


def _probe_rows(backend: str, sandbox, base: Limits) -> list[Check]:
    rows = []
    for name, code, overrides, passed, detail in _LIMIT_PROBES:
        limits = Limits(**{**asdict(base), **overrides})
        try:
            r = sandbox.run(code, limits=limits)
        except SandboxError as exc:
            rows.append(Check(backend, name, FAIL, str(exc)))
            continue
        text = detail.format(
            out=r.stdout.strip()[:60],
            timed_out=r.timed_out,
            duration=r.duration_s,
            oom=r.oom_killed,
            code=r.exit_code,
            truncated=r.truncated,
        )
        if not passed(r):
            text += f" (stderr: {r.stderr.strip()[-160:]!r})"
        rows.append(Check(backend, name, OK if passed(r) else FAIL, text))
    return rows


def docker_checks(image: str = engine.DEFAULT_IMAGE) -> list[Check]:
    rows: list[Check] = []
    b = "docker"
    try:
        docker = engine.docker_sdk()
        rows.append(Check(b, "docker SDK", OK, f"docker {docker.__version__}"))
    except SandboxError as exc:
        return [Check(b, "docker SDK", FAIL, str(exc))]
    try:
        client = engine.connect(timeout=5)
        version = client.version()
        rows.append(
            Check(
                b,
                "engine",
                OK,
                f"Docker {version.get('Version')} (API {version.get('ApiVersion')})",
            )
        )
    except SandboxError as exc:
        return rows + [Check(b, "engine", FAIL, str(exc))]
    try:
        img = client.images.get(image)
        size = img.attrs.get("Size", 0) / 1e6
        rows.append(Check(b, "image", OK, f"{image} {img.short_id}, {size:.0f} MB"))
    except docker.errors.ImageNotFound:
        return rows + [
            Check(b, "image", FAIL, f"{image} missing: run `reasongym sandbox build --offline`")
        ]
    from reasongym.sandboxes.docker import DockerSandbox

    base = Limits(timeout_s=5.0, memory_mb=128, pids=64)
    t0 = time.monotonic()
    try:
        sandbox = DockerSandbox(image=image, pool_size=1, limits=base, client=client)
    except SandboxError as exc:
        return rows + [Check(b, "pool start", FAIL, str(exc))]
    rows.append(Check(b, "pool start", OK, f"1 warm container in {time.monotonic() - t0:.2f} s"))
    try:
        rows += _first_run(b, sandbox)
        rows += _probe_rows(b, sandbox, base)
    finally:
        pool_id = sandbox.pool_id
        sandbox.close()
    left = client.containers.list(
        all=True, filters={"label": f"{engine.LABEL_POOL}={pool_id}"}, ignore_removed=True
    )
    rows.append(
        Check(b, "nothing left", FAIL if left else OK, f"{len(left)} container(s) left after close")
    )
    return rows


def _first_run(backend: str, sandbox) -> list[Check]:
    try:
        sandbox.run("print(1)")  # warm the interpreter's file cache
        t0 = time.monotonic()
        r = sandbox.run("print(1)")
        elapsed = time.monotonic() - t0
    except SandboxError as exc:
        return [Check(backend, "test run", FAIL, str(exc))]
    good = r.ok and r.stdout == "1\n"
    return [
        Check(
            backend,
            "test run",
            OK if good else FAIL,
            f"print(1) in {elapsed * 1000:.0f} ms"
            + ("" if good else f": {r.describe()} {r.stderr[-200:]!r}"),
        )
    ]


def process_checks() -> list[Check]:
    from reasongym.sandboxes.process import ProcessSandbox

    b = "process"
    rows = []
    bwrap = shutil.which("bwrap")
    try:
        sandbox = ProcessSandbox(limits=Limits(timeout_s=5.0, memory_mb=256, pids=64))
    except SandboxError as exc:
        return [Check(b, "start", FAIL, str(exc))]
    if sandbox.isolated:
        rows.append(Check(b, "bubblewrap", OK, f"{bwrap}: namespaces, read-only system dirs"))
    else:
        why = (
            "not installed (apt install bubblewrap)"
            if bwrap is None
            else "installed but fails here"
        )
        rows.append(
            Check(b, "bubblewrap", WARN, f"{why}: the process backend is NOT a security boundary")
        )
    rows.append(Check(b, "interpreter", OK, sandbox.python))
    rows += _first_run(b, sandbox)
    for row in _probe_rows(b, sandbox, sandbox.limits):
        if row.name == "network off" and not sandbox.isolated:
            row = Check(b, row.name, WARN, "not isolated without bubblewrap: " + row.detail)
        rows.append(row)
    sandbox.close()
    return rows


def run_doctor(backend: str = "all", image: str = engine.DEFAULT_IMAGE) -> list[Check]:
    """All checks for ``backend`` ("docker", "process" or "all")."""
    rows = []
    if backend in ("docker", "all"):
        rows += docker_checks(image)
    if backend in ("process", "all"):
        rows += process_checks()
    return rows


def print_report(rows: list[Check]) -> None:
    from rich.console import Console
    from rich.table import Table

    style = {OK: "green", FAIL: "bold red", WARN: "yellow", SKIP: "dim"}
    table = Table(title="reasongym sandbox doctor")
    for column in ("backend", "check", "status", "detail"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.backend, r.name, f"[{style[r.status]}]{r.status}[/]", r.detail)
    Console().print(table)
