"""The ``code_tests`` verifier: run the answer's code against the task's tests in a sandbox.

Tasks carry ``meta["steps"]`` (tests and setup: ``{"name", "code", "test"}``; each step with
``test: true`` counts as one test), ``meta["entry_point"]`` and optionally ``meta["prompt"]``
(code the answer may rely on, e.g. HumanEval helpers; it runs first, and an answer that is
only an indented body is appended to it). How the verdict is kept out of the candidate's
reach is explained in :mod:`reasongym.envs.verifiers.code_runner`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from typing import Any

from reasongym.envs.types import Task, Verdict
from reasongym.envs.verifiers.code_runner import RunRequest, all_failed, run_tests
from reasongym.envs.verifiers.sandboxed import SandboxedVerifier

# One quantifier per run of blanks (the optional language tag takes its own leading blanks):
# two adjacent ``[ \t]*`` would split a long run every way before failing, O(n^2) on the host.
_FENCE = re.compile(r"```(?:[ \t]*(?:python3|python|py)\b)?[ \t]*\n(.*?)```", re.S | re.I)


def extract_code(answer: str, entry_point: str | None = None) -> str:
    """The code in an answer: the last fenced block defining ``entry_point`` (else the last
    fenced block, else the whole text)."""
    blocks = _FENCE.findall(answer)
    if not blocks:
        return answer.strip("\n")
    if entry_point:
        defining = [b for b in blocks if re.search(rf"\bdef\s+{re.escape(entry_point)}\s*\(", b)]
        if defining:
            return defining[-1]
    return blocks[-1]


#: What functions that ignore their arguments return (the last: the first argument back). A test
#: one of them passes checks nothing a policy has to work out, so partial credit skips it.
BASELINES = (
    "None",
    "0",
    "False",
    "''",
    "[]",
    "1",
    "True",
    "args[0] if args else next(iter(kwargs.values()), None)",
)
_BASELINE_CACHE_SIZE = 4096
_baseline_cache: OrderedDict[str, int] = OrderedDict()  # task content -> best baseline's passes
_baseline_lock = threading.Lock()


def baseline_program(task: Task, entry: str, returns: str) -> str:
    """The task's program with ``entry`` a function that returns ``returns`` whatever it gets."""
    return build_program(task, f"def {entry}(*args, **kwargs):\n    return {returns}\n")


def _task_key(task: Task, entry: str) -> str:
    steps = [[str(s["name"]), str(s["code"]), bool(s["test"])] for s in task.meta["steps"]]
    text = json.dumps([entry, str(task.meta.get("prompt") or ""), steps], ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def partial_score(passed: int, total: int, floor: int) -> float:
    """Partial credit above what a constant function earns: ``(passed - floor) / (total -
    floor)`` clipped to [0, 1], where ``floor`` tests are passed by the best baseline; a
    full pass is 1.0 whatever the floor."""
    if total <= 0:
        return 0.0
    if passed >= total:
        return 1.0
    if floor >= total:
        return 0.0
    return min(1.0, max(0.0, (passed - floor) / (total - floor)))


def build_program(task: Task, code: str) -> str:
    prompt = task.meta.get("prompt") or ""
    if prompt and code.startswith((" ", "\t")):
        return prompt + code  # a completion of the prompt's function body
    return f"{prompt}\n{code}\n" if prompt else code


# "Type: message" of an exception (the test's or the candidate's): the message may carry values.
_EXCEPTION = re.compile(r"([A-Za-z_][\w.]*): ")
_KEPT_PREFIXES = ("assertion failed", "the candidate raised ")


def unquoted(reason: str | None) -> str | None:
    """A failed test's reason without the values it may quote: an assertion's message (tests
    often name the input, or the expected value) and an exception's message (the candidate's
    can echo its arguments) are dropped; what failed and how is kept ("assertion failed",
    "the candidate raised TypeError", "timed out", "not run: ...")."""
    if not reason:
        return reason
    for prefix in _KEPT_PREFIXES:
        if reason.startswith(prefix):
            head = reason.split(": ", 1)[0]
            return head if prefix == "the candidate raised " else prefix
    match = _EXCEPTION.match(reason)
    return match.group(1) if match else reason


def failure_report(details: dict[str, Any], max_failures: int = 3) -> str:
    """A short report an agent can act on."""
    if details.get("error"):
        return f"Error: {details['error']}"
    failed = [t for t in details.get("tests", []) if not t["passed"]]
    lines = [f"{details['passed']}/{details['total']} tests passed."]
    for test in failed[:max_failures]:
        lines.append(f"- {test['name']}: {test['error']}")
    if len(failed) > max_failures:
        lines.append(f"- ... and {len(failed) - max_failures} more failures")
    return "\n".join(lines)


class CodeTestsVerifier(SandboxedVerifier):
    """Scores code by the fraction of tests passed, in a sandbox created on first use.

    Args:
        backend: "auto" | "docker" | "process" (see ``reasongym.sandboxes.get_sandbox``).
        timeout_s: wall-clock limit for one whole run (all tests).
        memory_mb: memory limit of the run.
        step_timeout_s: limit for loading the solution and for each test.
        sandbox: an existing sandbox to use (shared, not closed here); else one is made on
            first use and closed by ``close``.
        quote_tests: keep what a failed test quotes (assertion messages, which often show the
            input or the expected value, and exception messages) in ``details``. Off by
            default: the details reach the agent (revision feedback, ``info``), and the scored
            tests quoted to a second attempt make it a lookup table. Turn it on only where no
            later attempt of the same task sees the report.
    """

    def __init__(
        self,
        backend: str = "auto",
        timeout_s: float = 10.0,
        memory_mb: int = 512,
        step_timeout_s: float = 3.0,
        sandbox: Any = None,
        quote_tests: bool = False,
        baseline_credit: bool = True,
    ):
        super().__init__(backend=backend, sandbox=sandbox)
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.step_timeout_s = step_timeout_s
        self.quote_tests = quote_tests
        self.baseline_credit = baseline_credit

    def _request(self, task: Task, solution: bytes) -> RunRequest:
        return RunRequest(
            solution=solution,
            steps=task.meta["steps"],
            entry_point=task.meta.get("entry_point"),
            prompt=task.meta.get("prompt") or "",
            timeout_s=self.timeout_s,
            memory_mb=self.memory_mb,
            step_timeout_s=self.step_timeout_s,
        )

    def baseline_passed(self, task: Task) -> int | None:
        """The most of ``task``'s tests that one function of ``BASELINES`` passes, graded like
        any answer (same sandbox, harness and limits); worked out once per task content.
        None when the sandbox failed on a baseline (not cached: asked again next time)."""
        entry = task.meta.get("entry_point")
        if not isinstance(entry, str) or not entry.isidentifier():
            return 0
        key = _task_key(task, entry)
        with _baseline_lock:
            if key in _baseline_cache:
                _baseline_cache.move_to_end(key)
                return _baseline_cache[key]
        best, complete = 0, True
        for returns in BASELINES:
            program = baseline_program(task, entry, returns).encode("utf-8", "replace")
            outcome, result = run_tests(self._get_sandbox(), self._request(task, program))
            complete = complete and result is not None  # the sandbox failed: ask again later
            best = max(best, outcome.passed)
        if not complete:
            return None
        with _baseline_lock:
            _baseline_cache[key] = best
            while len(_baseline_cache) > _BASELINE_CACHE_SIZE:
                _baseline_cache.popitem(last=False)
        return best

    def __call__(self, task: Task, answer: str) -> Verdict:
        """Score ``answer`` on ``task``'s tests. Never raises for anything in ``answer``.

        The score of a partial pass counts only the tests no constant function passes
        (:func:`partial_score`, ``details["baseline_passed"]``), so ignoring the arguments
        earns nothing; ``baseline_credit=False`` scores the plain fraction passed.

        Raises:
            ValueError: the task has no tests (a task definition error).
        """
        steps = task.meta.get("steps")
        if not steps:
            raise ValueError(
                f"task {task.id} has no tests (meta['steps']); use verifier: math or exact"
            )
        entry = task.meta.get("entry_point")
        names = [str(s["name"]) for s in steps if s["test"]]
        result = None
        text = answer if isinstance(answer, str) else ""
        code = extract_code(text, entry)
        try:
            solution = build_program(task, code).encode("utf-8")
        except UnicodeEncodeError as exc:
            outcome = all_failed(
                names,
                "the code cannot be run: it contains a character that is not valid UTF-8 "
                f"({exc.reason} at position {exc.start}, e.g. a lone surrogate)",
            )
        else:
            outcome, result = run_tests(self._get_sandbox(), self._request(task, solution))
        total = len(names)
        passed = outcome.passed if total else 0
        tests = outcome.tests
        if not self.quote_tests:
            tests = [{**t, "error": unquoted(t["error"])} for t in tests]
        details: dict[str, Any] = {
            "total": total,
            "passed": passed,
            "tests": tests,
            "error": outcome.error,
            "stdout": outcome.stdout,
            "timed_out": bool(getattr(result, "timed_out", False)),
            "oom_killed": bool(getattr(result, "oom_killed", False)),
            "duration_s": float(getattr(result, "duration_s", 0.0) or 0.0),
        }
        floor = 0
        if self.baseline_credit and 0 < passed < total:  # a baseline matters only there
            # unknown (the sandbox failed on a baseline): no partial credit rather than too much
            known = self.baseline_passed(task)
            floor = total if known is None else known
        details["baseline_passed"] = floor
        score = partial_score(passed, total, floor)
        details["feedback"] = failure_report(details)
        return Verdict(correct=total > 0 and passed == total, score=score, details=details)
