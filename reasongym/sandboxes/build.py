"""``reasongym sandbox build``: the sandbox image from the Dockerfile in ``image/``.

The base is any image with ``python3`` (default ``python:3.12-slim``). When it is not in the
engine and cannot be pulled (no registry, as on air-gapped machines), or with
``offline=True``, the base is a Debian rootfs made by ``mmdebstrap --variant=essential
--include=python3`` (from Debian's package mirror, not a container registry), brought in
with ``docker import``. The rootfs tarball is cached, so rebuilding is a matter of seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reasongym.sandboxes import engine
from reasongym.sandboxes.errors import BuildError

IMAGE_DIR = Path(__file__).with_name("image")
DEFAULT_BASE = "python:3.12-slim"
DEFAULT_SUITE = "bookworm"
OFFLINE_BASE_REPO = "reasongym-base"
LABEL_RECIPE = "org.reasongym.recipe"  # hash of the Dockerfile the image was built from
MMDEBSTRAP_TIMEOUT_S = 900
# Docs, man pages and translations: a third of the rootfs, useless in a sandbox.
_SLIM = [
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
]


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "reasongym" / "sandbox"


def recipe_hash() -> str:
    """Hash of the shipped Dockerfile: an image with another hash was built from an older one."""
    return hashlib.sha256((IMAGE_DIR / "Dockerfile").read_bytes()).hexdigest()[:16]


def image_is_current(tag: str = engine.DEFAULT_IMAGE, client: Any = None) -> bool:
    """True when ``tag`` exists and was built from this version's Dockerfile."""
    docker = engine.docker_sdk()
    client = client if client is not None else engine.connect()
    try:
        labels = client.images.get(tag).labels or {}
    except docker.errors.ImageNotFound:
        return False
    return labels.get(LABEL_RECIPE) == recipe_hash()


def build_image(
    tag: str = engine.DEFAULT_IMAGE,
    base: str = DEFAULT_BASE,
    offline: bool = False,
    suite: str = DEFAULT_SUITE,
    mirror: str | None = None,
    cache_dir: Path | None = None,
    client: Any = None,
    say: Callable[[str], None] = print,
) -> str:
    """Build the sandbox image; returns its id.

    Args:
        tag: the image to make.
        base: the base image (any image with python3).
        offline: do not try to pull ``base``; use a local one or build a Debian rootfs.
        suite, mirror: Debian suite and mirror for mmdebstrap (mirror: mmdebstrap's default).
        cache_dir: where the rootfs tarball is kept (default ``~/.cache/reasongym/sandbox``).
        client: a ``docker.DockerClient`` (default: ``docker.from_env()``).
        say: progress messages go here.

    Raises:
        BuildError: with the failing step's output; EngineUnavailable: no engine.
    """
    docker = engine.docker_sdk()
    client = client if client is not None else engine.connect(timeout=600)
    dockerfile = IMAGE_DIR / "Dockerfile"
    if not dockerfile.is_file():
        raise BuildError(
            f"{dockerfile} is missing: reinstall reasongym (package data 'sandboxes/image/*')"
        )
    base_ref = _resolve_base(client, docker, base, offline, suite, mirror, cache_dir, say)
    say(f"building {tag} FROM {base_ref} (network off during the build)")
    t0 = time.monotonic()
    log_lines: list[str] = []
    image_id = None
    try:
        for chunk in client.api.build(
            path=str(IMAGE_DIR),
            tag=tag,
            buildargs={"BASE": base_ref},
            labels={LABEL_RECIPE: recipe_hash()},
            rm=True,
            forcerm=True,
            pull=False,
            network_mode="none",
            decode=True,
        ):
            if "error" in chunk:
                raise BuildError(
                    f"docker build failed: {chunk['error'].strip()}\n" + "".join(log_lines[-20:])
                )
            if "stream" in chunk:
                log_lines.append(chunk["stream"])
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
    except docker.errors.APIError as exc:
        raise BuildError(f"docker build failed: {exc}") from None
    image = client.images.get(tag)
    say(f"built {tag} ({image.short_id}) in {time.monotonic() - t0:.1f} s")
    return image_id or image.id


def _resolve_base(
    client: Any,
    docker: Any,
    base: str,
    offline: bool,
    suite: str,
    mirror: str | None,
    cache_dir: Path | None,
    say: Callable[[str], None],
) -> str:
    if _has_image(client, docker, base):
        say(f"base image {base} is in the engine")
        return base
    if not offline:
        say(f"pulling base image {base} ...")
        try:
            client.images.pull(base)
            return base
        except docker.errors.APIError as exc:
            say(
                f"cannot pull {base} ({_first_line(exc)}); building a Debian base with mmdebstrap instead"
            )
    offline_base = f"{OFFLINE_BASE_REPO}:{suite}"
    if _has_image(client, docker, offline_base):
        say(f"offline base image {offline_base} is in the engine")
        return offline_base
    tarball = debian_rootfs(suite, mirror, cache_dir, say)
    say(f"importing {tarball} as {offline_base}")
    try:
        client.api.import_image_from_file(str(tarball), repository=OFFLINE_BASE_REPO, tag=suite)
    except docker.errors.APIError as exc:
        raise BuildError(f"docker import of {tarball} failed: {exc}") from None
    if not _has_image(client, docker, offline_base):
        raise BuildError(f"docker import of {tarball} did not produce {offline_base}")
    return offline_base


def debian_rootfs(
    suite: str = DEFAULT_SUITE,
    mirror: str | None = None,
    cache_dir: Path | None = None,
    say: Callable[[str], None] = print,
) -> Path:
    """A cached tarball of a minimal Debian with python3, made by mmdebstrap if missing."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    tarball = cache / f"rootfs-{suite}-python3.tar"
    if tarball.is_file() and tarball.stat().st_size > 0:
        say(f"using cached rootfs {tarball}")
        return tarball
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise BuildError(
            "the base image cannot be pulled and mmdebstrap is not installed: "
            "`sudo apt-get install mmdebstrap` (Debian/Ubuntu), or pass --base with an image "
            "that is already in the engine (`docker images`)."
        )
    cache.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial.tar")
    cmd = [mmdebstrap, "--variant=essential", "--include=python3", *_SLIM, suite, str(partial)]
    if mirror:
        cmd.append(mirror)
    say(f"making a Debian {suite} rootfs with python3: {' '.join(cmd)} (about a minute)")
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,  # with no stdin, mmdebstrap would read sources from it
            capture_output=True,
            text=True,
            timeout=MMDEBSTRAP_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        partial.unlink(missing_ok=True)
        raise BuildError(f"mmdebstrap took longer than {MMDEBSTRAP_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BuildError(
            f"mmdebstrap failed ({proc.returncode}); is a Debian mirror reachable and are you "
            f"root (or are unprivileged user namespaces allowed)?\n{proc.stderr[-2000:]}"
        )
    partial.replace(tarball)
    say(f"rootfs ready in {time.monotonic() - t0:.0f} s: {tarball}")
    return tarball


def _has_image(client: Any, docker: Any, ref: str) -> bool:
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
