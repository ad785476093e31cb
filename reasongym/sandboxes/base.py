"""The sandbox contract: run a Python program under limits, get an ``ExecResult`` back."""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from collections.abc import Mapping

from reasongym.sandboxes.types import ExecResult, Limits

#: Name of the file the program's code is written to, in the work dir (tracebacks show it).
MAIN_FILE = "main.py"

Files = Mapping[str, "str | bytes"]


class Sandbox(ABC):
    """Runs untrusted Python code. Thread-safe; use as a context manager or call ``close``.

    Every run starts in a fresh, empty work dir holding ``main.py`` (the code) and ``files``,
    runs ``python3 main.py`` there, and leaves no process behind.
    """

    #: Short name reported in ``ExecResult.backend``.
    name: str = ""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()

    @abstractmethod
    def run(
        self,
        code: str,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        """Run ``code`` as ``main.py``.

        Args:
            code: Python source.
            stdin: fed to the program's standard input (empty when None).
            files: extra files for the work dir, ``{relative_path: text or bytes}``.
            limits: this run's limits; the sandbox's own ``limits`` when None.

        Raises:
            ValueError: a file path is absolute, leaves the work dir, or is ``main.py``.
            SandboxError: the sandbox itself failed (never for the program's own failures).
        """

    def close(self) -> None:  # noqa: B027 - a no-op is a valid default
        """Release everything (containers, processes). Idempotent."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_files(files: Files | None) -> dict[str, bytes]:
    """Validate file paths and encode contents; returns ``{normalised_path: bytes}``."""
    out: dict[str, bytes] = {}
    for name, content in (files or {}).items():
        norm = posixpath.normpath(name) if isinstance(name, str) else ""
        if not norm or norm.startswith(("/", "..")) or norm == "." or "\0" in norm:
            raise ValueError(f"files: {name!r} must be a relative path inside the work dir")
        if norm == MAIN_FILE:
            raise ValueError(f"files: {MAIN_FILE!r} is reserved for the code itself; rename it")
        if isinstance(content, str):
            content = content.encode()
        elif not isinstance(content, bytes | bytearray):
            raise ValueError(
                f"files: content of {name!r} must be str or bytes, not {type(content).__name__}"
            )
        out[norm] = bytes(content)
    for name in out:
        parent = posixpath.dirname(name)
        while parent:
            if parent in out:
                raise ValueError(f"files: {parent!r} is a file and also a directory of {name!r}")
            parent = posixpath.dirname(parent)
    return out


def to_bytes(data: str | bytes | None) -> bytes:
    if data is None:
        return b""
    return data.encode() if isinstance(data, str) else bytes(data)


def clip_output(data: bytes, limit: int) -> tuple[str, bool]:
    """Decode at most ``limit`` bytes; returns ``(text, was_clipped)``."""
    clipped = len(data) > limit
    return data[:limit].decode("utf-8", errors="replace"), clipped
