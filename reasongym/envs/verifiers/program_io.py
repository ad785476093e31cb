"""The ``program_io`` verifier: run a whole program per test with that test's stdin, and
compare its stdout with the expected output **on the host**.

Why this cannot be forged: the candidate program only ever sees one test's input, in a fresh
sandbox run that holds nothing but its own code (no expected outputs, no harness, no report
channel). What crosses back is the captured stdout text of that run, which the host compares
with the expected output it kept to itself; the verdict is computed here, from the host's own
list of tests, so a program can at best print the right answers. Everything a hostile program
can do (print megabytes, never end, crash, read files, print lone surrogates, exit early) ends
as a failed test with a reason, never as an exception and never as a pass.

Tasks carry ``meta["io_tests"]`` (``[{"name", "input", "output"}]``), ``meta["compare"]``
(``{"mode": "exact" | "whitespace" | "float", "tolerance": t}``) and ``meta["time_limit_s"]``
(per test); see :mod:`reasongym.envs.tasks.code_rows`.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

from reasongym.envs.types import Task, Verdict
from reasongym.envs.verifiers.sandboxed import SandboxedVerifier

#: Characters of input / expected / actual output quoted in the failure report.
QUOTE_CHARS = 200
MAX_TIME_LIMIT_S = 60.0
_EXCEPTION_TYPE = re.compile(r"[A-Za-z_][\w.]*(?=: |$)")  # "ValueError: ..." -> "ValueError"
#: What programs that ignore their input print (and the input echoed back, see
#: ``baseline_passed``). A test one of them passes checks nothing, so partial credit skips it.
BASELINE_OUTPUTS = ("", "0\n", "1\n", "-1\n", "YES\n", "NO\n", "Yes\n", "No\n", "True\n", "False\n")


def _clip(text: str, limit: int = QUOTE_CHARS) -> str:
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _float_token(token: str) -> float | None:
    if len(token) > 64:
        return None
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def outputs_match(got: str, want: str, mode: str = "exact", tolerance: float = 1e-6) -> bool:
    """Compare a program's stdout with the expected output.

    ``exact``: the same text, except line endings (CRLF = LF) and trailing newlines.
    ``whitespace``: the same whitespace-separated tokens. ``float``: the same tokens, except
    that where the *expected* token is a finite number, the got token must be a number within
    ``tolerance * max(1, |expected|)`` of it (the tolerance comes from the gold only).
    """
    if mode == "exact":
        return _lines(got).rstrip("\n") == _lines(want).rstrip("\n")
    got_tokens, want_tokens = got.split(), want.split()
    if len(got_tokens) != len(want_tokens):
        return False
    if mode == "whitespace":
        return got_tokens == want_tokens
    for g, w in zip(got_tokens, want_tokens, strict=True):
        if g == w:
            continue
        expected = _float_token(w)
        actual = _float_token(g)
        if expected is None or actual is None:
            return False
        if abs(actual - expected) > tolerance * max(1.0, abs(expected)):
            return False
    return True


def baseline_passed(tests: list[dict[str, Any]], compare: dict[str, Any]) -> int:
    """The most of ``tests`` that one trivial program passes: one that prints a constant of
    ``BASELINE_OUTPUTS`` or echoes its input. Their output is known, so this is worked out on
    the host with the same comparison as any answer, without running anything."""
    best = 0
    for output in BASELINE_OUTPUTS:
        best = max(best, sum(outputs_match(output, str(t["output"]), **compare) for t in tests))
    echoed = sum(outputs_match(str(t.get("input", "")), str(t["output"]), **compare) for t in tests)
    return max(best, echoed)


class ProgramIOVerifier(SandboxedVerifier):
    """Scores a program by the stdin/stdout tests it passes: all of them 1.0, some of them the
    share of the tests no trivial program passes (``baseline_passed``, ``code.partial_score``).

    Args:
        backend: "auto" | "docker" | "process" (see ``reasongym.sandboxes.get_sandbox``).
        timeout_s: wall-clock budget for all of one answer's tests together; tests not run
            when it is spent fail with that reason.
        memory_mb: memory limit of each run.
        step_timeout_s: default per-test limit when a task names none.
        sandbox: an existing sandbox to use (shared, not closed here); else one is made on
            first use and closed by ``close``.
        quote_tests: quote a failed test's input, expected output and the program's output
            (and the message of the error it raised) in the report. Off by default: the
            report reaches the agent (revision feedback, ``info``), and the scored tests
            quoted to a second attempt make it a lookup table. Turn it on only where no later
            attempt of the same task sees the report.
    """

    def __init__(
        self,
        backend: str = "auto",
        timeout_s: float = 60.0,
        memory_mb: int = 512,
        step_timeout_s: float = 2.0,
        sandbox: Any = None,
        quote_tests: bool = False,
    ):
        super().__init__(backend=backend, sandbox=sandbox)
        self.timeout_s = float(timeout_s)
        self.memory_mb = int(memory_mb)
        self.step_timeout_s = float(step_timeout_s)
        self.quote_tests = quote_tests

    def _run_one(
        self, code: str, test: dict[str, Any], limit_s: float, compare: dict[str, Any]
    ) -> tuple[bool, str | None, float]:
        """Run one test; returns (passed, reason if failed, seconds used)."""
        from reasongym.sandboxes import Limits

        want = str(test["output"])
        # enough room for the right answer (and some noise), never unbounded
        out_bytes = min(64 << 20, max(64 * 1024, 2 * len(want.encode("utf-8", "replace")) + 4096))
        limits = Limits(
            timeout_s=limit_s, memory_mb=max(32, self.memory_mb), output_bytes=out_bytes
        )
        started = time.monotonic()
        try:
            result = self._get_sandbox().run(code, stdin=str(test.get("input", "")), limits=limits)
        except Exception as exc:  # noqa: BLE001 - the sandbox failing is a failed test, never a crash
            return (
                False,
                f"could not be run ({type(exc).__name__}: {_clip(str(exc), 120)})",
                time.monotonic() - started,
            )
        used = time.monotonic() - started
        if result.timed_out:
            return False, f"time limit exceeded ({limit_s:g} s)", used
        if result.oom_killed:
            return False, "memory limit exceeded", used
        if result.truncated and len(result.stdout.encode("utf-8", "replace")) >= out_bytes * 0.9:
            # stdout was cut: what was not seen cannot be judged (a long stderr alone is fine)
            return False, "printed far more output than expected", used
        if result.exit_code != 0:
            tail = (result.stderr or "").strip().splitlines()[-1:] or [""]
            reason = f"runtime error ({result.describe()})"
            if self.quote_tests:
                return False, f"{reason}: {_clip(tail[0], 160)}", used
            kind = _EXCEPTION_TYPE.match(tail[0])  # its message may echo the input: not quoted
            return False, reason + (f": {kind.group(0)}" if kind else ""), used
        if outputs_match(result.stdout, want, **compare):
            return True, None, used
        reason = "wrong answer"
        if self.quote_tests:
            if test.get("input"):
                reason += f"; input: {_clip(str(test['input']))!r}"
            reason += f"; expected: {_clip(want)!r}; got: {_clip(result.stdout)!r}"
        return False, reason, used

    def __call__(self, task: Task, answer: str) -> Verdict:
        from reasongym.envs.verifiers.code import extract_code, failure_report, partial_score

        tests = task.meta.get("io_tests")
        if not tests:
            raise ValueError(
                f"task {task.id} has no io_tests; use verifier code_tests, math or exact"
            )
        compare = task.meta.get("compare") or {}
        compare = {
            "mode": str(compare.get("mode", "exact")),
            "tolerance": float(compare.get("tolerance", 1e-6)),
        }
        limit_s = float(task.meta.get("time_limit_s") or self.step_timeout_s)
        limit_s = min(max(limit_s, 0.05), MAX_TIME_LIMIT_S)
        total = len(tests)
        details: dict[str, Any] = {"total": total, "passed": 0, "tests": [], "error": None}
        code = extract_code(answer if isinstance(answer, str) else str(answer))
        try:
            code.encode("utf-8")
        except UnicodeEncodeError:
            details["error"] = "the program is not valid UTF-8 text (it contains a lone surrogate)"
        if not code.strip() and details["error"] is None:
            details["error"] = "the answer holds no program"
        if details["error"] is not None:
            details["tests"] = [
                {
                    "name": str(t.get("name") or f"test{i + 1}"),
                    "passed": False,
                    "error": details["error"],
                }
                for i, t in enumerate(tests)
            ]
        else:
            budget = self.timeout_s
            for i, test in enumerate(tests):
                name = str(test.get("name") or f"test{i + 1}")
                if budget <= 0.05:
                    details["tests"].append(
                        {
                            "name": name,
                            "passed": False,
                            "error": "not run: the answer's time budget is spent",
                        }
                    )
                    continue
                passed, reason, used = self._run_one(code, test, min(limit_s, budget), compare)
                budget -= used
                details["tests"].append({"name": name, "passed": passed, "error": reason})
        details["passed"] = passed = sum(1 for t in details["tests"] if t["passed"])
        details["baseline_passed"] = baseline_passed(tests, compare) if 0 < passed < total else 0
        details["feedback"] = failure_report(details)
        score = partial_score(passed, total, details["baseline_passed"])
        return Verdict(correct=details["passed"] == total, score=score, details=details)
