"""The server image (``reasongym serve --build-image``) serves an id from a container."""

from __future__ import annotations

import subprocess
import time
import urllib.request

import pytest

from tests.integrations.conftest import free_port


@pytest.mark.docker
@pytest.mark.slow
def test_server_image_serves_a_puzzle():
    docker = pytest.importorskip("docker")
    from reasongym.integrations.openenv.image import DEFAULT_TAG, build_image

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no Docker engine: {exc}")
    try:
        client.images.get(DEFAULT_TAG)
    except docker.errors.ImageNotFound:
        build_image(say=lambda _msg: None)
    port = free_port()
    name = f"reasongym-serve-test-{port}"
    proc = subprocess.Popen(
        [
            "docker",
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "host",
            DEFAULT_TAG,
            "reasongym/Maze-v0",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.5)
        from reasongym.integrations.openenv import RemoteEnv

        env = RemoteEnv(url)
        obs, _ = env.reset(seed=0)
        assert obs["image"].shape == (84, 84, 3)
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        assert "task_id" in info
        env.close()
    finally:
        subprocess.run(["docker", "stop", name], capture_output=True)
        proc.wait(timeout=30)
