"""Talking to the Docker engine: lazy SDK import, connection with clear errors, ownership
labels, and reaping the containers of owners that died.

The ``docker`` SDK is imported here, inside functions, so ``import reasongym`` stays fast and
works without it.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from reasongym.sandboxes.errors import DockerSDKMissing, EngineUnavailable

log = logging.getLogger("reasongym.sandboxes")

DEFAULT_IMAGE = "reasongym-sandbox:py3"
LABEL = "org.reasongym.sandbox"  # every container we start carries it ("1")
LABEL_POOL = "org.reasongym.pool"
LABEL_PID = "org.reasongym.owner.pid"
LABEL_START = "org.reasongym.owner.start"  # owner's start time in clock ticks: guards pid reuse
LABEL_HOST = "org.reasongym.owner.host"
LABEL_BOOT = "org.reasongym.owner.boot"


def docker_sdk() -> Any:
    """The ``docker`` module, imported on first use."""
    try:
        import docker
    except ImportError:
        raise DockerSDKMissing() from None
    return docker


def connect(timeout: float = 30.0) -> Any:
    """A ``docker.DockerClient`` for ``DOCKER_HOST`` or the local socket, checked with a ping.

    Raises:
        DockerSDKMissing: the ``docker`` package is not installed.
        EngineUnavailable: nothing answers within ``timeout`` seconds.
    """
    docker = docker_sdk()
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(_explain(exc)) from None
    except Exception as exc:  # requests' timeouts and connection errors
        raise EngineUnavailable(_explain(exc)) from None
    return client


def engine_answers(timeout: float = 3.0) -> bool:
    """True when the SDK is installed and an engine answers a ping within ``timeout``."""
    try:
        connect(timeout).close()
    except (DockerSDKMissing, EngineUnavailable):
        return False
    return True


def _explain(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if "Permission denied" in text or "PermissionError" in text:
        return f"permission denied on {where} (add your user to the 'docker' group, or run as root)"
    if "FileNotFoundError" in text or "No such file" in text:
        return f"no engine socket at {where}"
    if "timed out" in text.lower() or "timeout" in text.lower():
        return f"{where} did not answer in time ({text})"
    return f"{where}: {text}"


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> str:
    """Start time of ``pid`` in clock ticks since boot ('' when unknown or gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


@dataclass(frozen=True)
class Owner:
    """Who started a container: enough to tell later whether that process still lives."""

    pid: int
    start: str
    host: str
    boot: str

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(pid=pid, start=_start_ticks(pid), host=socket.gethostname(), boot=_boot_id())

    def labels(self, pool_id: str) -> dict[str, str]:
        return {
            LABEL: "1",
            LABEL_POOL: pool_id,
            LABEL_PID: str(self.pid),
            LABEL_START: self.start,
            LABEL_HOST: self.host,
            LABEL_BOOT: self.boot,
        }


def owner_is_dead(labels: dict[str, str], me: Owner) -> bool:
    """True when the labels name an owner on this host that no longer runs.

    Containers of other hosts (a shared remote engine) are never judged: we cannot see
    their processes.
    """
    if labels.get(LABEL_HOST) != me.host:
        return False
    if labels.get(LABEL_BOOT) != me.boot:
        return True  # started before the last reboot
    try:
        pid = int(labels.get(LABEL_PID, ""))
    except ValueError:
        return True
    start = _start_ticks(pid)
    return not start or start != labels.get(LABEL_START)


def remove_quietly(container: Any) -> None:
    """Force-remove a container; never raises (gone already, removal in progress, engine down:
    ``auto_remove`` or the next pool's reaping finishes the job)."""
    docker = docker_sdk()
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: removal already in progress (auto_remove)
            log.warning("could not remove sandbox container %s: %s", container.short_id, exc)
    except Exception as exc:  # noqa: BLE001 - engine unreachable
        log.debug("could not remove sandbox container %s: %s", container.short_id, exc)


def reap_orphans(client: Any, me: Owner | None = None, keep_pool: str | None = None) -> int:
    """Remove our containers whose owner process is dead; returns how many were removed.

    Exited containers of any owner on this host go too (after an engine restart they hold
    nothing but a name). Containers of pool ``keep_pool`` are left alone.
    """
    me = me or Owner.me()
    removed = 0
    for c in client.containers.list(all=True, filters={"label": f"{LABEL}=1"}, ignore_removed=True):
        labels = c.labels or {}
        if labels.get(LABEL_POOL) == keep_pool:
            continue
        exited = c.status in ("exited", "dead")
        if owner_is_dead(labels, me) or (exited and labels.get(LABEL_HOST) == me.host):
            log.info(
                "reaping orphaned sandbox container %s (owner pid %s)",
                c.short_id,
                labels.get(LABEL_PID),
            )
            remove_quietly(c)
            removed += 1
    return removed
