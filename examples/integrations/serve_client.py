"""A reasongym env served over OpenEnv's protocol, driven by openenv's own client and by
``RemoteEnv`` (a ``gymnasium.Env`` over the socket, with server-side ``get_state``/``set_state``).

    reasongym serve reasongym/Maze-v0 --port 8765 &
    python examples/integrations/serve_client.py --url http://127.0.0.1:8765
    python examples/integrations/serve_client.py      # starts `reasongym serve` on a free port

The code between the ``README`` markers is the README's serve example.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ENV_ID = "reasongym/Maze-v0"


@contextlib.contextmanager
def reasongym_serve(env_id: str, timeout_s: float = 120.0) -> Iterator[str]:
    """Run ``reasongym serve ENV_ID`` on a free loopback port until the block ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = shutil.which("reasongym", path=str(Path(sys.executable).parent)) or "reasongym"
    server = subprocess.Popen([exe, "serve", env_id, "--host", "127.0.0.1", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    json.loads(response.read())
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"`reasongym serve {env_id}` did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(url: str) -> dict:
    """The README example against the server at ``url``; returns what it printed, as data."""
    # README start
    from openenv.core.generic_client import GenericEnvClient

    from reasongym.integrations.openenv import RemoteEnv

    with GenericEnvClient(base_url=url).sync() as client:  # openenv's own client
        result = client.reset(seed=0)  # observation: text, image (PNG), info
        result = client.step({"action": "down"})
    print("openenv client:", result.reward, result.done, result.observation["text"][:40])

    env = RemoteEnv(url)  # a gymnasium.Env: vector envs, search agents
    obs, info = env.reset(seed=0)  # obs["image"]: the exact uint8 array
    snapshot = env.get_state()  # held by the server; an id comes back
    after, reward, terminated, truncated, info = env.step("down")
    env.set_state(snapshot)  # branch and come back: the same step, the same result
    again, *_ = env.step("down")
    print("RemoteEnv:", obs["image"].shape, reward, info["turn"], again["text"] == after["text"])
    # README end
    env.close()
    return {
        "openenv_done": result.done,
        "image_shape": obs["image"].shape,
        "turn": info["turn"],
        "replayed": bool(np.array_equal(again["image"], after["image"])),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running `reasongym serve` (else start one)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(reasongym_serve(ENV_ID))
        out = run(url)
    print(f"wall time {time.perf_counter() - start:.1f} s")
    return out


if __name__ == "__main__":
    main()
