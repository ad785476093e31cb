"""The ``calculator`` tool: exact arithmetic with a bounded cost and a hard time limit.

Two layers keep a call bounded whatever the expression:

1. **Estimate first** (:mod:`reasongym.envs.tools.arithmetic`): every operation whose result
   or work can explode (``**``, ``factorial``, ``comb``, ``perm``, ``lcm``, ``round``, huge
   numbers, float overflow) has its size estimated before it runs and is refused when too
   big, so a call normally takes microseconds.
2. **Hard backstop**: a single big-number operation in C cannot be interrupted inside the
   interpreter (a thread cannot stop it, nor can a signal), so by default expressions are
   evaluated in one small helper process per interpreter (standard library only, started
   on the first call, shared by every calculator of the process, restarted after a fork).
   A call that has no answer within ``timeout_s`` kills the helper and comes back as a tool
   error; the next call starts a fresh one. ``isolated=False`` evaluates in-process (layer 1
   only), as does any machine where the helper cannot start.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time

from reasongym.envs.tools.arithmetic import CalculatorError, calculate, evaluate, format_number
from reasongym.envs.tools.base import Tool
from reasongym.envs.types import ToolResult

__all__ = ["Calculator", "CalculatorError", "evaluate", "format_number"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
STARTUP_GRACE_S = 10.0  # extra time for the first call of a fresh helper process


class Calculator(Tool):
    """Exact arithmetic: integers and fractions stay exact; functions give floats.

    Args:
        timeout_s: wall-clock bound of one call (the helper process is killed after it).
        isolated: evaluate in the helper process (the hard backstop); False: in-process.
    """

    name = "calculator"
    argument = "expression"
    max_argument_chars = 2000
    summary = (
        "evaluates an arithmetic expression (+ - * / // % ** ^, parentheses, sqrt, log, sin, "
        "factorial, gcd, comb, pi, e)."
    )
    example = "(37*41 + 3)/4"

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, isolated: bool = True) -> None:
        if not 0 < timeout_s <= 600:
            raise ValueError(f"timeout_s={timeout_s}: use a number of seconds in (0, 600]")
        self.timeout_s = float(timeout_s)
        self.isolated = bool(isolated)

    def __call__(self, argument: str) -> ToolResult:
        if type(argument) is not str:
            return ToolResult("Error: the expression must be a string", ok=False)
        if len(argument) > self.max_argument_chars:
            return ToolResult(
                f"Error: expression longer than {self.max_argument_chars} characters", ok=False
            )
        budget = self.timeout_s / 2  # the evaluator stops itself well before the kill
        if self.isolated:
            reply = _HELPER.calculate(argument, budget, self.timeout_s)
            if reply is not None:
                return ToolResult(reply[1], ok=reply[0])
        ok, output = calculate(argument, budget)
        return ToolResult(output, ok=ok)


class _Helper:
    """The helper process shared by the calculators of this interpreter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pid = 0  # the process that started ``_proc`` (a forked child needs its own)
        self._buffer = b""
        self._broken = False  # the helper cannot start here: evaluate in-process

    def calculate(
        self, expression: str, budget_s: float, timeout_s: float
    ) -> tuple[bool, str] | None:
        """``(ok, text)`` from the helper, or None when no helper can run (use in-process)."""
        if self._broken:
            return None
        with self._lock:
            proc, fresh = self._process()
            if proc is None:
                return None
            # a loaded machine may take a while to start a fresh helper's interpreter
            wait_s = timeout_s + (STARTUP_GRACE_S if fresh else 0.0)
            request = json.dumps({"expression": expression, "budget_s": budget_s}) + "\n"
            try:
                proc.stdin.write(request.encode("ascii"))
                proc.stdin.flush()
                line = self._read_line(proc, time.monotonic() + wait_s)
            except (OSError, ValueError):
                line = None
            if line is None:
                self._kill()
                return (
                    False,
                    f"Error: the calculation took longer than {timeout_s:g} s and was stopped",
                )
            try:
                reply = json.loads(line)
                return bool(reply["ok"]), str(reply["output"])
            except (ValueError, KeyError, TypeError):
                self._kill()
                return False, "Error: the calculator failed on this expression"

    def _process(self) -> tuple[subprocess.Popen | None, bool]:
        """The running helper (started now if needed) and whether it was just started."""
        if self._proc is not None and self._pid == os.getpid() and self._proc.poll() is None:
            return self._proc, False
        if self._pid != os.getpid():
            self._proc = None  # inherited from the parent through fork: not ours to use
        else:
            self._kill()
        from reasongym.envs.tools import arithmetic

        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", arithmetic.__file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError as exc:
            logger.warning("calculator: no helper process (%s); evaluating in-process", exc)
            self._broken = True
            return None, False
        self._pid, self._buffer = os.getpid(), b""
        return self._proc, True

    def _read_line(self, proc: subprocess.Popen, deadline: float) -> bytes | None:
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None  # the helper died
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _kill(self) -> None:
        proc, self._proc, self._buffer = self._proc, None, b""
        if proc is None or self._pid != os.getpid():
            return
        try:
            proc.kill()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            self._kill()


_HELPER = _Helper()


def _after_fork_in_child() -> None:
    # the parent's helper (and a lock another thread may hold) are not the child's to use
    _HELPER._lock = threading.Lock()
    _HELPER._proc, _HELPER._pid, _HELPER._buffer = None, 0, b""


os.register_at_fork(after_in_child=_after_fork_in_child)


def _shutdown() -> None:
    _HELPER.close()


atexit.register(_shutdown)
