"""The sandbox contract: run a Python program under limits, get an ``ExecResult`` back."""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

from reasongym.sandboxes.types import ExecResult, Limits

#: Name of the file the program's code is written to, in the work dir (tracebacks show it).
MAIN_FILE = "main.py"

Files = Mapping[str, "str | bytes"]


class Sandbox(ABC):
    """Runs untrusted Python code. Thread-safe; use as a context manager or call ``close``.

    Every run starts in a fresh, empty work dir holding ``main.py`` (the code) and ``files``,
    runs it there as ``python3 main.py`` would (the Docker backend forks it from a warm
    interpreter by default), and leaves no process, file or IPC object behind for the next
    run. What the caller passes is checked first (:func:`check_input`): a mistake is a
    ``ValueError`` that costs nothing.
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
            ValueError: the caller's input is unusable (see :func:`check_input`): raised
                before anything runs, and the sandbox stays as it was.
            SandboxError: the sandbox itself failed (never for the program's own failures).
        """

    def warm_module(self, name: str, source: str) -> bool:
        """Ask for ``source`` to be already imported, as module ``name``, in every later run.

        A sandbox whose runs are forks of a warm interpreter (Docker's default launch) imports
        it once per container, so a run finds ``sys.modules[name]`` ready and pays no file, no
        compile and no module body. Pass only your own trusted code (a test harness), never a
        program's: the source runs in the sandbox's server, outside any run's limits.

        Returns:
            True when every later ``run`` has the module; False when this sandbox cannot
            (each run starts a fresh interpreter: the caller ships the code itself).
        """
        return False

    def close(self) -> None:  # noqa: B027 - a no-op is a valid default
        """Release everything (containers, processes). Idempotent."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: Caller-side input limits, checked before a run spends anything (a container, a process).
NAME_MAX = 255  # bytes in one path component (Linux)
PATH_MAX = 4000  # bytes in a file's path inside the work dir (PATH_MAX is 4096 with the prefix)
MAX_DEPTH = 64  # directory levels under the work dir
MAX_FILES = 50_000
PAGE = 4096  # a tmpfs stores each file in whole pages


@dataclass(frozen=True)
class RunInput:
    """A run's input, validated and encoded: ``code`` and ``stdin`` as bytes, ``files`` as
    ``[(normalised relative path, bytes)]``, in a stable order."""

    code: bytes
    stdin: bytes
    files: list[tuple[str, bytes]]


def _encode(what: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise ValueError(
            f"{what}: character {bad!r} at index {exc.start} cannot be encoded as UTF-8 "
            "(a lone surrogate); remove it, or pass bytes"
        ) from None


def check_input(
    code: str, stdin: str | bytes | None, files: Files | None, limits: Limits
) -> RunInput:
    """Validate everything the caller sends, so that a bad input is the caller's
    ``ValueError`` (naming what is wrong) and never a crashed or tainted sandbox.

    Raises:
        ValueError: code not a str or not encodable; stdin too big; a file path absolute,
            leaving the work dir, ``main.py``, too long, too deep; contents of the wrong type;
            files bigger than ``limits.files_bytes`` or than the work dir (``disk_mb``).
    """
    if not isinstance(code, str):
        raise ValueError(f"code must be a str of Python source, not {type(code).__name__}")
    code_bytes = _encode("code", code)
    if stdin is None:
        stdin_bytes = b""
    elif isinstance(stdin, str):
        stdin_bytes = _encode("stdin", stdin)
    elif isinstance(stdin, bytes | bytearray | memoryview):
        stdin_bytes = bytes(stdin)
    else:
        raise ValueError(f"stdin must be str or bytes, not {type(stdin).__name__}")
    if len(stdin_bytes) > limits.stdin_bytes:
        raise ValueError(
            f"stdin is {len(stdin_bytes):,} bytes, more than Limits.stdin_bytes="
            f"{limits.stdin_bytes:,}; raise the limit or pass the data as a file"
        )
    checked = check_files(files)
    total = len(code_bytes) + sum(len(v) for v in checked.values())
    if total > limits.files_bytes:
        raise ValueError(
            f"files: the code and files are {total:,} bytes, more than Limits.files_bytes="
            f"{limits.files_bytes:,}; raise the limit"
        )
    pages = sum(-(-max(len(v), 1) // PAGE) for v in [code_bytes, *checked.values()])
    if pages * PAGE > limits.disk_mb << 20:
        raise ValueError(
            f"files: the code and files take {pages * PAGE / 2**20:.1f} MiB in the work dir "
            f"(each file at least {PAGE} bytes), more than Limits.disk_mb={limits.disk_mb}; "
            "raise disk_mb"
        )
    return RunInput(code=code_bytes, stdin=stdin_bytes, files=sorted(checked.items()))


def check_files(files: Files | None) -> dict[str, bytes]:
    """Validate file paths and encode contents; returns ``{normalised_path: bytes}``."""
    if files is None:
        return {}
    if not isinstance(files, Mapping):
        raise ValueError(
            f"files must be a mapping of path -> str or bytes, not {type(files).__name__}"
        )
    if len(files) > MAX_FILES:
        raise ValueError(f"files: {len(files):,} files, more than the {MAX_FILES:,} a run accepts")
    out: dict[str, bytes] = {}
    for name, content in files.items():
        if not isinstance(name, str):
            raise ValueError(
                f"files: a path must be a str, not {type(name).__name__} ({name!r:.80})"
            )
        norm = posixpath.normpath(name) if name else ""
        shown = f"{name[:60]!r}{'...' if len(name) > 60 else ''}"
        if (
            not norm
            or norm.startswith("/")
            or norm in (".", "..")
            or norm.startswith("../")
            or "\0" in norm
        ):
            raise ValueError(f"files: {shown} must be a relative path inside the work dir")
        encoded = _encode(f"files: path {shown}", norm)
        if len(encoded) > PATH_MAX:
            raise ValueError(
                f"files: path {shown} is {len(encoded):,} bytes, longer than {PATH_MAX:,}"
            )
        parts = encoded.split(b"/")
        if len(parts) > MAX_DEPTH:
            raise ValueError(
                f"files: path {shown} is {len(parts) - 1} directories deep, more than {MAX_DEPTH}"
            )
        if any(len(part) > NAME_MAX for part in parts):
            raise ValueError(f"files: a component of {shown} is longer than {NAME_MAX} bytes")
        if norm == MAIN_FILE:
            raise ValueError(f"files: {MAIN_FILE!r} is reserved for the code itself; rename it")
        if isinstance(content, str):
            content = _encode(f"files: content of {shown}", content)
        elif not isinstance(content, bytes | bytearray | memoryview):
            raise ValueError(
                f"files: content of {shown} must be str or bytes, not {type(content).__name__}"
            )
        if norm in out:
            raise ValueError(f"files: {shown} names the same file as another entry")
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


def clip_output(data: bytes | bytearray | memoryview, limit: int) -> tuple[str, bool]:
    """Decode at most ``limit`` bytes; returns ``(text, was_clipped)``."""
    clipped = len(data) > limit
    return bytes(data[:limit]).decode("utf-8", errors="replace"), clipped
