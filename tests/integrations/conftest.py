"""Helpers for the bridge tests: an OpenEnv-protocol server on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(app, port: int | None = None):
    """Serve ``app`` with uvicorn on 127.0.0.1 until the block ends; yields the base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", ws_max_size=4 * 2**20)
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
    """``reasongym serve`` for ``env_id`` (ServeConfig ``options``) on a free port."""
    pytest.importorskip("fastapi")
    from reasongym.integrations.openenv.server import ServeConfig, create_app

    app = create_app(ServeConfig(env_id=env_id, **options))
    with running(app) as url:
        yield url, app
