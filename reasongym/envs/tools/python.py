"""The ``python`` tool: run a snippet in a sandbox and see what it printed."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from reasongym.envs.tools.base import Tool
from reasongym.envs.types import ToolResult
from reasongym.sandboxes import BACKENDS, ExecResult, Limits, Sandbox
from reasongym.sandboxes.errors import SandboxError

logger = logging.getLogger(__name__)

DEFAULT_LIMITS = Limits(timeout_s=10.0, memory_mb=512)


class PythonTool(Tool):
    """Runs the agent's code with ``python3`` in a sandbox; returns stdout, stderr and status.

    Each call is a fresh program (no state carries over between calls). The sandbox is made
    on the first call and released by ``close``.

    Args:
        backend: "auto" (Docker when an engine answers, else a local process),
            "docker" or "process"; ignored when ``sandbox`` is given.
        limits: limits of each call.
        timeout_s, memory_mb: shortcuts overriding those fields of ``limits`` (the env's
            ``sandbox:`` YAML block passes them).
        max_output_chars: the reply is clipped to this many characters (head and tail kept).
        sandbox: an existing sandbox to share (e.g. with the code verifier); the tool does not
            close it.
    """

    name = "python"
    argument = "code"
    summary = (
        "runs Python 3 code and shows its output (stdout/stderr; use print). Each call is a "
        "fresh process with no network."
    )
    example = "print(sum(range(10)))"

    def __init__(
        self,
        backend: str = "auto",
        limits: Limits | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
        max_output_chars: int = 4000,
        sandbox: Sandbox | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}: choose one of {', '.join(BACKENDS)}")
        if max_output_chars < 64:
            raise ValueError(f"max_output_chars={max_output_chars} is too small (>= 64)")
        limits = limits if limits is not None else DEFAULT_LIMITS
        if timeout_s is not None:
            limits = replace(limits, timeout_s=timeout_s)
        if memory_mb is not None:
            limits = replace(limits, memory_mb=memory_mb)
        self.backend = backend
        self.limits = limits
        self.max_output_chars = max_output_chars
        self._sandbox = sandbox
        self._owns_sandbox = sandbox is None
        self._lock = threading.Lock()

    def __reduce__(self):
        # a pickled copy gets its own sandbox unless it shares one (which pickles itself)
        shared = None if self._owns_sandbox else self._sandbox
        return (type(self), (self.backend, self.limits, None, None, self.max_output_chars, shared))

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox, created on first use."""
        with self._lock:
            if self._sandbox is None:
                from reasongym.sandboxes import get_sandbox

                self._sandbox = get_sandbox(self.backend, limits=self.limits, pool_size=1)
            return self._sandbox

    def __call__(self, argument: str) -> ToolResult:
        if type(argument) is not str:
            return ToolResult("Error: the code must be a string.", ok=False)
        if len(argument) > self.max_argument_chars:
            return ToolResult(
                f"Error: the code has {len(argument)} characters; at most "
                f"{self.max_argument_chars} are run.",
                ok=False,
            )
        code = _strip_fence(argument)
        if not code.strip():
            return ToolResult("No code given: put Python code inside the tool call.", ok=False)
        problem = _unencodable(code)
        if problem:
            return ToolResult(f"Error: {problem}; the code was not run.", ok=False)
        try:
            result = self.sandbox.run(code, limits=self.limits)
        except ValueError as exc:  # the sandbox refused this input before running it
            return ToolResult(f"Error: the code was not run: {exc}", ok=False)
        except SandboxError as exc:  # infrastructure, not the agent: say so, never raise
            logger.warning("python tool: sandbox failure: %s", exc)
            return ToolResult(
                f"Error: the sandbox failed ({type(exc).__name__}); try again.", ok=False
            )
        return ToolResult(format_result(result, self.max_output_chars), ok=result.ok)

    def close(self) -> None:
        with self._lock:
            sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None and self._owns_sandbox:
            sandbox.close()


def format_result(result: ExecResult, max_chars: int) -> str:
    """What the agent reads: the output, then how the run ended when it did not end well."""
    parts = []
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
    if result.stderr:
        parts.append("[stderr]\n" + result.stderr.rstrip("\n"))
    if result.truncated:
        parts.append("[output truncated]")
    if not result.ok:
        parts.append(f"[{result.describe()}]")
    text = "\n".join(parts) if parts else "[no output]"
    return clip_middle(text, max_chars)


def clip_middle(text: str, max_chars: int) -> str:
    """Keep the head and the tail (where tracebacks end) of a long text."""
    if len(text) <= max_chars:
        return text
    marker = "\n... [{} characters clipped] ...\n"
    room = max_chars - len(marker.format(len(text)))
    head = room * 2 // 3
    tail = room - head
    return text[:head] + marker.format(len(text) - head - tail) + text[len(text) - tail :]


def _unencodable(code: str) -> str | None:
    """Why ``code`` cannot be sent as UTF-8 source (a lone surrogate), or None."""
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"the code holds a character that is not valid Unicode at position {exc.start}"
    return None


def _strip_fence(code: str) -> str:
    """Accept code wrapped in a Markdown fence, as models often send it."""
    stripped = code.strip()
    if stripped.startswith("```") and stripped.endswith("```") and stripped.count("\n") >= 1:
        body = stripped[3:-3]
        first, _, rest = body.partition("\n")
        return rest if first.strip().lower() in ("", "python", "py", "python3") else body
    return code
