"""Helpers shared by the sandbox tests (imported by conftest.py and the test files)."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache

import pytest

from reasongym.sandboxes import Limits

IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE = "reasongym-sandbox:py3"
HOSTILE_LIMITS = Limits(timeout_s=2.0, memory_mb=128, pids=64, disk_mb=16)


def unavailable(reason: str) -> None:
    """Skip here, fail in CI."""
    if IN_CI:
        pytest.fail(
            f"{reason} (CI=true: this must work in CI; see scripts/setup_docker.sh)", pytrace=False
        )
    pytest.skip(reason)


@cache
def docker_problem() -> str | None:
    """Why the Docker tests cannot run here, or None."""
    try:
        import docker
    except ImportError:
        return "the docker SDK is not installed (pip install 'reasongym[docker]')"
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure is the reason
        return f"no Docker engine answers ({exc}); run scripts/setup_docker.sh"
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        return f"image {IMAGE} is missing; run `reasongym sandbox build --offline`"
    finally:
        client.close()
    return None


@cache
def bwrap_problem() -> str | None:
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt install bubblewrap)"
    from reasongym.sandboxes.process import ProcessSandbox

    try:
        ProcessSandbox(use_bwrap=True)
    except Exception as exc:  # noqa: BLE001
        return str(exc)
    return None


def docker_ps(label: str) -> list[str]:
    """Ids of containers (running or not) carrying ``label`` (``key=value``)."""
    out = subprocess.run(
        ["docker", "ps", "-aq", "--no-trunc", "--filter", f"label={label}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return out.split()


def host_processes_with(token: str) -> list[str]:
    """Command lines of host processes whose argv contains ``token``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if token in args and "pytest" not in args:
            found.append(f"{pid}: {args}")
    return found
