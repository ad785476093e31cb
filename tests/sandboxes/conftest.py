"""Sandbox test fixtures and the Docker rule: a ``@pytest.mark.docker`` test that cannot run
(no SDK, no engine, no image) is skipped with the reason on a developer machine, and FAILS in
CI (``CI=true``), where ``scripts/setup_docker.sh`` must have provided all three. The same rule
applies to tests that need bubblewrap (the setup script installs it too)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from sandbox_helpers import (
    HOSTILE_LIMITS,
    IMAGE,
    bwrap_problem,
    docker_problem,
    docker_ps,
    unavailable,
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None:
        problem = docker_problem()
        if problem:
            unavailable(problem)


@pytest.fixture(scope="session")
def docker_pool():
    """A shared warm pool (2 containers) for tests that do not break it on purpose."""
    problem = docker_problem()
    if problem:
        unavailable(problem)
    from reasongym.sandboxes import DockerSandbox

    sb = DockerSandbox(image=IMAGE, pool_size=2, limits=HOSTILE_LIMITS)
    yield sb
    sb.close()
    assert docker_ps(f"org.reasongym.pool={sb.pool_id}") == []


@pytest.fixture(scope="session")
def docker_exec_pool():
    """The same pool on the fallback path: each run starts ``python3 main.py``."""
    problem = docker_problem()
    if problem:
        unavailable(problem)
    from reasongym.sandboxes import DockerSandbox

    sb = DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="exec")
    yield sb
    sb.close()
    assert docker_ps(f"org.reasongym.pool={sb.pool_id}") == []


@pytest.fixture(scope="session")
def run_dirs_root():
    """A private parent for the process backend's run dirs, so that tests can check that none
    is left behind (other processes on the machine may use the system temp dir too)."""
    root = tempfile.mkdtemp(prefix="reasongym-test-runs-")
    os.chmod(root, 0o711)  # when root, runs execute as nobody and must reach their dir
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def bwrap_sandbox(run_dirs_root):
    problem = bwrap_problem()
    if problem:
        unavailable(problem)
    from reasongym.sandboxes import ProcessSandbox

    sb = ProcessSandbox(limits=HOSTILE_LIMITS, use_bwrap=True, tmp_root=run_dirs_root)
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def bare_sandbox(run_dirs_root):
    from reasongym.sandboxes import ProcessSandbox

    sb = ProcessSandbox(limits=HOSTILE_LIMITS, use_bwrap=False, tmp_root=run_dirs_root)
    yield sb
    sb.close()


BACKENDS = [
    pytest.param("docker", marks=pytest.mark.docker, id="docker"),  # the fork path (default)
    pytest.param("docker-exec", marks=pytest.mark.docker, id="docker-exec"),
    pytest.param("bwrap", id="process+bwrap"),
    pytest.param("bare", id="process-bare"),
]


@pytest.fixture(params=BACKENDS)
def sandbox(request):
    """Each backend in turn: the Docker pool (fork path, then exec path), the process backend
    in bwrap, and without."""
    fixture = {
        "docker": "docker_pool",
        "docker-exec": "docker_exec_pool",
        "bwrap": "bwrap_sandbox",
        "bare": "bare_sandbox",
    }[request.param]
    return request.getfixturevalue(fixture)
