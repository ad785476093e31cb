"""Code execution sandboxes: Docker (a warm container pool) and a local-process fallback.

```python
from reasongym.sandboxes import get_sandbox, Limits
with get_sandbox("docker") as sb:
    r = sb.run("print(input()[::-1])", stdin="abc", limits=Limits(timeout_s=5, memory_mb=256))
    r.stdout, r.exit_code, r.timed_out, r.oom_killed, r.truncated, r.duration_s
```

Several engines: ``REASONGYM_DOCKER_HOSTS="unix:///var/run/docker.sock ssh://user@host ..."``
makes the Docker backend a :class:`~reasongym.sandboxes.multi.MultiEngineSandbox` (balanced
over the engines, failing over when one goes away).

Nothing heavy is imported here: the ``docker`` SDK loads when a Docker sandbox is made.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from reasongym.sandboxes.base import Sandbox
from reasongym.sandboxes.errors import (
    BuildError,
    DockerSDKMissing,
    EngineUnavailable,
    ImageMissing,
    SandboxClosed,
    SandboxCrashed,
    SandboxError,
    SandboxStartError,
)
from reasongym.sandboxes.types import ExecResult, Limits

if TYPE_CHECKING:
    from reasongym.sandboxes.docker import DockerSandbox
    from reasongym.sandboxes.multi import MultiEngineSandbox
    from reasongym.sandboxes.process import ProcessSandbox

__all__ = [
    "BACKENDS",
    "BuildError",
    "DockerSDKMissing",
    "DockerSandbox",
    "EngineUnavailable",
    "ExecResult",
    "ImageMissing",
    "Limits",
    "MultiEngineSandbox",
    "ProcessSandbox",
    "Sandbox",
    "SandboxClosed",
    "SandboxCrashed",
    "SandboxError",
    "SandboxStartError",
    "get_sandbox",
]

BACKENDS = ("auto", "docker", "process")
log = logging.getLogger("reasongym.sandboxes")


def get_sandbox(
    backend: str = "auto",
    limits: Limits | None = None,
    pool_size: int = 2,
    image: str | None = None,
) -> Sandbox:
    """Make a sandbox.

    Args:
        backend: ``"docker"`` (a warm container pool), ``"process"`` (a local subprocess,
            inside bubblewrap when installed), or ``"auto"``: Docker when an engine answers
            and the image is there, else the process backend (with a warning saying why).
        limits: default limits of each run.
        pool_size: Docker only: containers kept warm (= runs at once), per engine.
        image: Docker only: the image (default ``reasongym-sandbox:py3``).

    Raises:
        ValueError: unknown backend.
        SandboxError: ``"docker"`` asked for and unusable (the message says how to fix it).
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"unknown sandbox backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        )
    if backend == "process":
        from reasongym.sandboxes.process import ProcessSandbox

        return ProcessSandbox(limits=limits)
    from reasongym.sandboxes import engine
    from reasongym.sandboxes.docker import DockerSandbox
    from reasongym.sandboxes.multi import MultiEngineSandbox, hosts_from_env

    image = image or engine.DEFAULT_IMAGE
    hosts = hosts_from_env()  # REASONGYM_DOCKER_HOSTS: a pool on each of several engines
    if backend == "docker":
        if hosts:
            return MultiEngineSandbox(hosts, image=image, pool_size=pool_size, limits=limits)
        return DockerSandbox(image=image, pool_size=pool_size, limits=limits)
    try:
        if hosts:
            return MultiEngineSandbox(hosts, image=image, pool_size=pool_size, limits=limits)
        engine.connect(timeout=3.0).close()  # a quick probe; the pool gets a normal client
        return DockerSandbox(image=image, pool_size=pool_size, limits=limits)
    except SandboxError as exc:
        reason = str(exc)
    from reasongym.sandboxes.process import ProcessSandbox

    log.warning(
        "sandbox backend 'auto': using the process backend because Docker is unusable: %s", reason
    )
    return ProcessSandbox(limits=limits)


def __getattr__(name: str) -> object:
    # DockerSandbox / ProcessSandbox on first access, keeping this module light.
    if name == "DockerSandbox":
        from reasongym.sandboxes.docker import DockerSandbox

        return DockerSandbox
    if name == "MultiEngineSandbox":
        from reasongym.sandboxes.multi import MultiEngineSandbox

        return MultiEngineSandbox
    if name == "ProcessSandbox":
        from reasongym.sandboxes.process import ProcessSandbox

        return ProcessSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
