"""The ``code_tests`` verifier: run the answer's code against the task's tests in a sandbox.

Tasks carry ``meta["steps"]`` (tests and setup: ``{"name", "code", "test"}``; each step with
``test: true`` counts as one test), ``meta["entry_point"]`` and optionally ``meta["prompt"]``
(code the answer may rely on, e.g. HumanEval helpers; it runs first, and an answer that is
only an indented body is appended to it). How the verdict is kept out of the candidate's
reach is explained in :mod:`reasongym.envs.verifiers.code_runner`.
"""

from __future__ import annotations

import re
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


def build_program(task: Task, code: str) -> str:
    prompt = task.meta.get("prompt") or ""
    if prompt and code.startswith((" ", "\t")):
        return prompt + code  # a completion of the prompt's function body
    return f"{prompt}\n{code}\n" if prompt else code


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
    """

    def __init__(
        self,
        backend: str = "auto",
        timeout_s: float = 10.0,
        memory_mb: int = 512,
        step_timeout_s: float = 3.0,
        sandbox: Any = None,
    ):
        super().__init__(backend=backend, sandbox=sandbox)
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.step_timeout_s = step_timeout_s

    def __call__(self, task: Task, answer: str) -> Verdict:
        """Score ``answer`` on ``task``'s tests. Never raises for anything in ``answer``.

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
            request = RunRequest(
                solution=solution,
                steps=steps,
                entry_point=entry,
                prompt=task.meta.get("prompt") or "",
                timeout_s=self.timeout_s,
                memory_mb=self.memory_mb,
                step_timeout_s=self.step_timeout_s,
            )
            outcome, result = run_tests(self._get_sandbox(), request)
        total = len(names)
        passed = outcome.passed if total else 0
        details: dict[str, Any] = {
            "total": total,
            "passed": passed,
            "tests": outcome.tests,
            "error": outcome.error,
            "stdout": outcome.stdout,
            "timed_out": bool(getattr(result, "timed_out", False)),
            "oom_killed": bool(getattr(result, "oom_killed", False)),
            "duration_s": float(getattr(result, "duration_s", 0.0) or 0.0),
        }
        score = min(1.0, max(0.0, passed / total)) if total else 0.0
        details["feedback"] = failure_report(details)
        return Verdict(correct=total > 0 and passed == total, score=score, details=details)
