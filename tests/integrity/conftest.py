"""Fixtures of the integrity suite: the code sandboxes, one per backend.

The Docker rule of tests/sandboxes holds here too: a backend that cannot run is skipped with
the reason on a developer machine and FAILS in CI (``CI=true``), where scripts/setup_docker.sh
provides the engine, the image and bubblewrap.
"""

from __future__ import annotations

import os
import shutil
from functools import cache

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE = "reasongym-sandbox:py3"


def unavailable(reason: str) -> None:
    """Skip here, fail in CI."""
    if IN_CI:
        pytest.fail(
            f"{reason} (CI=true: this must work in CI; see scripts/setup_docker.sh)", pytrace=False
        )
    pytest.skip(reason)


@cache
def docker_problem() -> str | None:
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
    from reasongym.sandboxes import ProcessSandbox

    try:
        ProcessSandbox(use_bwrap=True)
    except Exception as exc:  # noqa: BLE001
        return str(exc)
    return None


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
