"""Helpers for the bridge tests: an OpenEnv-protocol server on 127.0.0.1 in a thread, and a
stand-in env whose steps block until the test lets them go."""

from __future__ import annotations

import contextlib
import functools
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(app, port: int | None = None, **options: Any):
    """Serve ``app`` with uvicorn on 127.0.0.1 until the block ends; yields the base URL.

    ``options`` go to ``uvicorn.Config`` (``served`` passes ``uvicorn_options(config)``, what
    ``reasongym serve`` runs with); without any, WebSocket messages are capped at 4 MiB."""
    import uvicorn

    port = port or free_port()
    options = options or {"ws_max_size": 4 * 2**20}
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **options)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def served(env_id: str, **options):
    """``reasongym serve`` for ``env_id`` (ServeConfig ``options``) on a free port, with the
    same uvicorn options as ``serve()`` (header deadline, message cap, pings)."""
    pytest.importorskip("fastapi")
    from reasongym.integrations.openenv.server import ServeConfig, create_app, uvicorn_options

    config = ServeConfig(env_id=env_id, **options)
    app = create_app(config)
    with running(app, **uvicorn_options(config)) as url:
        yield url, app


class Gate:
    """Where a :class:`GatedEnv`'s blocking steps wait: each step on ``action`` is counted in
    (``wait_held``) and then waits until the test calls ``release`` (at most ``max_hold_s``,
    so a failing test cannot leave a worker thread blocked for good)."""

    def __init__(self, action: str, max_hold_s: float = 20.0):
        self.action = action
        self.max_hold_s = max_hold_s
        self._held = threading.Semaphore(0)
        self._open = threading.Event()

    def hold(self) -> None:
        """Called by the env in a step on ``action``: wait for the gate to open."""
        self._held.release()
        self._open.wait(timeout=self.max_hold_s)

    def wait_held(self, count: int = 1, timeout_s: float = 10.0) -> bool:
        """True once ``count`` more steps on ``action`` have reached the gate."""
        return all(self._held.acquire(timeout=timeout_s) for _ in range(count))

    def release(self) -> None:
        """Let every held step (and every later one) through."""
        self._open.set()


class GatedEnv(gym.Env):
    """A text env echoing its action as the observation (reward 0, never done), whose step on
    ``gate.action`` blocks until the test releases the gate: a stand-in for a sandboxed test
    run or a hard verifier call that takes its time."""

    def __init__(self, gate: Gate):
        self.gate = gate
        self.observation_space = gym.spaces.Text(32)
        self.action_space = gym.spaces.Text(32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return "ready", {}

    def step(self, action):
        if action == self.gate.action:
            self.gate.hold()
        return action, 0.0, False, False, {}


_gated_ids = itertools.count()


@contextlib.contextmanager
def gated_env(action: str = "hold") -> Iterator[tuple[str, Gate]]:
    """A freshly registered :class:`GatedEnv` id and its gate, for ``served(env_id)``; the gate
    is released and the id unregistered when the block ends."""
    gate = Gate(action)
    env_id = f"reasongym-test/Gated{next(_gated_ids)}-v0"
    gym.register(env_id, entry_point=functools.partial(GatedEnv, gate), disable_env_checker=True)
    try:
        yield env_id, gate
    finally:
        gate.release()
        gym.registry.pop(env_id, None)
