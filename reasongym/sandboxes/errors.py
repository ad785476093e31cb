"""Sandbox errors: infrastructure failures, never the executed program's own faults.

A program that crashes, times out or runs out of memory comes back as an ``ExecResult``.
These exceptions mean the sandbox itself could not do its job; each message says how to fix it.
"""

from __future__ import annotations

from reasongym.errors import ReasonGymError

START_ENGINE_HINT = (
    "Start a Docker engine (`sudo systemctl start docker`, or `sudo dockerd &`; "
    "`scripts/setup_docker.sh` installs and starts one on Debian), point DOCKER_HOST at a "
    'remote one, or use get_sandbox("process").'
)
BUILD_IMAGE_HINT = (
    "Build it with `reasongym sandbox build` (add `--offline` when no registry is reachable)."
)


class SandboxError(ReasonGymError):
    """Base class: the sandbox could not run the program (not: the program failed)."""


class DockerSDKMissing(SandboxError):
    """The ``docker`` Python package is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "The Docker backend needs the `docker` Python package: "
            "`pip install 'reasongym[docker]'` (or `pip install docker`)."
        )


class EngineUnavailable(SandboxError):
    """No Docker engine answers (not running, no permission, or it went away mid-run)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"Docker engine unavailable: {detail}. {START_ENGINE_HINT}")


class ImageMissing(SandboxError):
    """The sandbox image is not present in the engine."""

    def __init__(self, image: str) -> None:
        self.image = image
        super().__init__(
            f"Sandbox image {image!r} not found in the Docker engine. {BUILD_IMAGE_HINT}"
        )


class SandboxStartError(SandboxError):
    """A sandbox container or process could not be started or did not answer its handshake."""


class SandboxCrashed(SandboxError):
    """The sandbox died in the middle of a run (not the program's doing); it was replaced."""


class SandboxClosed(SandboxError):
    """``run`` was called on a sandbox after ``close``."""

    def __init__(self) -> None:
        super().__init__("This sandbox is closed; create a new one with get_sandbox(...).")


class BuildError(SandboxError):
    """``reasongym sandbox build`` failed."""
