"""The ``code_tests`` verifier: run the answer's code against the task's tests in a sandbox.

Tasks carry ``meta["steps"]`` (tests and setup, see :mod:`code_runner`), ``meta["entry_point"]``
and optionally ``meta["prompt"]`` (code the answer may rely on, e.g. HumanEval helpers; it
runs first, and an answer that is only an indented body is appended to it).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from reasongym.envs.types import Task, Verdict
from reasongym.envs.verifiers.code_runner import RUNNER

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.S | re.I)


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


class CodeTestsVerifier:
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
        self.backend = backend
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.step_timeout_s = step_timeout_s
        self._sandbox = sandbox
        self._owns_sandbox = sandbox is None

    def _get_sandbox(self):
        if self._sandbox is None:
            from reasongym.sandboxes import get_sandbox

            self._sandbox = get_sandbox(self.backend)
        return self._sandbox

    def __call__(self, task: Task, answer: str) -> Verdict:
        from reasongym.sandboxes import Limits

        steps = task.meta.get("steps")
        if not steps:
            raise ValueError(
                f"task {task.id} has no tests (meta['steps']); use verifier: math or exact"
            )
        entry = task.meta.get("entry_point")
        code = extract_code(answer, entry)
        nonce = f"@@RESULTS-{secrets.token_hex(8)}@@"
        spec = {"entry_point": entry, "steps": steps, "step_timeout_s": self.step_timeout_s}
        result = self._get_sandbox().run(
            RUNNER,
            stdin=nonce + "\n",
            files={"solution.py": build_program(task, code), "tests.json": json.dumps(spec)},
            limits=Limits(timeout_s=self.timeout_s, memory_mb=self.memory_mb),
        )
        total = sum(1 for s in steps if s["test"])
        details: dict[str, Any] = {
            "total": total,
            "passed": 0,
            "tests": [],
            "error": None,
            "stdout": "",
            "timed_out": bool(result.timed_out),
            "oom_killed": bool(getattr(result, "oom_killed", False)),
            "duration_s": result.duration_s,
        }
        report = None
        for line in reversed(result.stdout.splitlines()):
            if line.startswith(nonce):
                report = json.loads(line[len(nonce) :])
                break
        if report is None:
            why = (
                "timed out"
                if result.timed_out
                else "ran out of memory"
                if details["oom_killed"]
                else f"exited with code {result.exit_code}"
            )
            tail = (result.stderr or "").strip()[-500:]
            details["error"] = f"the program {why} before the tests finished" + (
                f"\n{tail}" if tail else ""
            )
        else:
            details["error"] = report["error"]
            details["tests"] = report["results"]
            details["stdout"] = report["stdout"]
            details["passed"] = sum(1 for t in report["results"] if t["passed"])
        score = details["passed"] / total if total else 0.0
        details["feedback"] = failure_report(details)
        return Verdict(
            correct=total > 0 and details["passed"] == total, score=score, details=details
        )

    def close(self) -> None:
        if self._sandbox is not None and self._owns_sandbox:
            self._sandbox.close()
            self._sandbox = None
