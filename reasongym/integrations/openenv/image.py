"""``reasongym serve --build-image``: a container image that serves any reasongym id, built
offline like the sandbox image.

No registry is needed: the base is the sandbox build's Debian rootfs with ``python3``
(``reasongym-base:bookworm``, made by ``mmdebstrap`` and ``docker import`` when missing; see
``reasongym.sandboxes.build``), and reasongym with its ``serve`` and ``docker`` dependencies
arrives as wheels that ``pip wheel`` collects on the host (from whatever index the host's pip
uses). The build itself runs with the network off; the wheels are unpacked into
``/opt/reasongym/site`` (the Debian base has no pip, and a wheel is a zip of its files).

Run it (``ENV_ID`` defaults to ``reasongym/Math-v0``)::

    docker run --rm -p 8000:8000 reasongym-serve:latest reasongym/Maze-v0 --max-sessions 256

Code envs inside the container keep running candidate code in a sandbox. The image takes the
**sibling-socket** route: mount the host engine's socket
(``-v /var/run/docker.sock:/var/run/docker.sock``) and the server starts its sandbox
containers next to itself, on the host engine, with all of the sandbox's limits. We do not
use Docker-in-Docker: it needs ``--privileged``, which would weaken exactly the boundary the
sandbox exists for. Without the socket, ``backend: auto`` falls back to the process sandbox
(no bubblewrap in the image), which is not a security boundary beyond the container itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

DEFAULT_TAG = "reasongym-serve:latest"
REPO_ROOT = Path(__file__).resolve().parents[3]

DOCKERFILE = """\
ARG BASE=reasongym-serve-base:bookworm
FROM ${BASE}
USER 0
COPY wheels /tmp/wheels
COPY unpack_wheels.py /tmp/unpack_wheels.py
RUN python3 /tmp/unpack_wheels.py /tmp/wheels /opt/reasongym/site \\
 && rm -rf /tmp/wheels /tmp/unpack_wheels.py \\
 && (grep -q '^serve:' /etc/passwd || echo 'serve:x:1001:1001::/tmp:/usr/sbin/nologin' >> /etc/passwd)
ENV PYTHONPATH=/opt/reasongym/site LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
LABEL org.reasongym.serve="1"
EXPOSE 8000
USER 1001
ENTRYPOINT ["python3", "-m", "reasongym.cli", "serve", "--host", "0.0.0.0", "--port", "8000"]
CMD ["reasongym/Math-v0"]
"""

UNPACK = """\
import sys, zipfile, pathlib
src, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dest.mkdir(parents=True, exist_ok=True)
for wheel in sorted(src.glob("*.whl")):
    with zipfile.ZipFile(wheel) as z:
        z.extractall(dest)
print("unpacked", len(list(src.glob("*.whl"))), "wheels into", dest)
"""


def collect_wheels(directory: Path, say: Callable[[str], None] = print) -> None:
    """``pip wheel`` reasongym (from this checkout or install) with ``serve``/``docker``."""
    source = REPO_ROOT if (REPO_ROOT / "pyproject.toml").is_file() else Path("reasongym")
    target = f"{source}[docker]" if source != Path("reasongym") else "reasongym[docker]"
    extra = ["fastapi>=0.110", "uvicorn>=0.30", "websockets>=13", "pillow>=10", "orjson>=3.9"]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--disable-pip-version-check",
        "--wheel-dir",
        str(directory),
        target,
        *extra,
    ]
    say("collecting wheels: " + " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip wheel failed:\n{proc.stderr[-3000:]}")


BASE_REPO = "reasongym-serve-base"
# numpy, pydantic-core and friends need the C++ runtime, which the sandbox's minimal rootfs
# (python3 only) leaves out.
BASE_PACKAGES = "python3,libstdc++6,libgcc-s1,ca-certificates"


def _base_image(client, docker, say: Callable[[str], None]) -> str:
    """``reasongym-serve-base:bookworm``: a Debian rootfs (mmdebstrap, cached) with python3
    and the C++ runtime, imported without a registry."""
    from reasongym.sandboxes import build as sandbox_build

    suite = sandbox_build.DEFAULT_SUITE
    ref = f"{BASE_REPO}:{suite}"
    try:
        client.images.get(ref)
        say(f"base image {ref} is in the engine")
        return ref
    except docker.errors.ImageNotFound:
        pass
    cache = sandbox_build.default_cache_dir().parent / "serve"
    tarball = cache / f"rootfs-{suite}-serve.tar"
    if not tarball.is_file() or tarball.stat().st_size == 0:
        mmdebstrap = shutil.which("mmdebstrap")
        if mmdebstrap is None:
            raise RuntimeError(
                "building the serve image offline needs mmdebstrap: "
                "`sudo apt-get install mmdebstrap`"
            )
        cache.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial.tar")
        cmd = [
            mmdebstrap,
            "--variant=essential",
            f"--include={BASE_PACKAGES}",
            *sandbox_build._SLIM,
            suite,
            str(partial),
        ]
        say("making the base rootfs: " + " ".join(cmd))
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=sandbox_build.MMDEBSTRAP_TIMEOUT_S,
        )
        if proc.returncode != 0:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"mmdebstrap failed:\n{proc.stderr[-3000:]}")
        partial.rename(tarball)
    say(f"importing {tarball} as {ref}")
    client.api.import_image_from_file(str(tarball), repository=BASE_REPO, tag=suite)
    return ref


def build_image(
    tag: str = DEFAULT_TAG, offline: bool = True, say: Callable[[str], None] = print
) -> str:
    """Build the serving image; returns its id (see the module docstring)."""
    from reasongym.sandboxes import engine

    docker = engine.docker_sdk()
    client = engine.connect(timeout=600)
    base = _base_image(client, docker, say)
    context = Path(tempfile.mkdtemp(prefix="reasongym-serve-image-"))
    try:
        (context / "Dockerfile").write_text(DOCKERFILE)
        (context / "unpack_wheels.py").write_text(UNPACK)
        collect_wheels(context / "wheels", say)
        say(f"building {tag} FROM {base} (network off during the build)")
        image, logs = client.images.build(
            path=str(context),
            tag=tag,
            buildargs={"BASE": base},
            rm=True,
            forcerm=True,
            pull=False,
            network_mode="none",
        )
        for chunk in logs:
            if "error" in chunk:
                raise RuntimeError(chunk["error"])
        say(f"built {tag} ({image.short_id})")
        return image.id
    finally:
        shutil.rmtree(context, ignore_errors=True)
