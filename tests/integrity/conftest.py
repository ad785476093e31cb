"""Fixtures of the integrity suite: the code sandboxes, one per backend.

The Docker rule of tests/sandboxes holds here too: a backend that cannot run is skipped with
the reason on a developer machine and FAILS in CI (``CI=true``), where scripts/setup_docker.sh
provides the engine, the image and bubblewrap.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The availability probes and the skip-here/fail-in-CI rule are the sandbox suite's own.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandboxes"))
from sandbox_helpers import IMAGE, bwrap_problem, docker_problem, unavailable  # noqa: E402


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None and docker_problem():
        unavailable(docker_problem())


@pytest.fixture(scope="session")
def docker_code_sandbox():
    if docker_problem():
        unavailable(docker_problem())
    from reasongym.sandboxes import DockerSandbox

    sb = DockerSandbox(image=IMAGE, pool_size=2)
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def bwrap_code_sandbox():
    if bwrap_problem():
        unavailable(bwrap_problem())
    from reasongym.sandboxes import ProcessSandbox

    sb = ProcessSandbox(use_bwrap=True)
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def bare_code_sandbox():
    from reasongym.sandboxes import ProcessSandbox

    sb = ProcessSandbox(use_bwrap=False)
    yield sb
    sb.close()


_ISOLATING = [
    pytest.param("docker", marks=pytest.mark.docker, id="docker"),
    pytest.param("bwrap", id="process+bwrap"),
]


@pytest.fixture(params=_ISOLATING)
def code_sandbox(request):
    """Each isolating backend in turn (Docker, process+bwrap): every attack must be held."""
    return request.getfixturevalue(f"{request.param}_code_sandbox")


@pytest.fixture(params=[*_ISOLATING, pytest.param("bare", id="process-bare")])
def any_code_sandbox(request):
    """Every backend, the bare process one too: honest code keeps its full score."""
    return request.getfixturevalue(f"{request.param}_code_sandbox")
