"""THE INSECURE BASELINE: the code-test runner as it was before issue 12, kept only so that
``bench/integrity.py`` can measure the new harness against it in the same run (speed) and show
that the attacks it checks really break something (held/broken). Never use it to score code:
the candidate runs in the same interpreter as the tests and can forge its own report.

``legacy_verify(sandbox, task, answer)`` is the old ``CodeTestsVerifier.__call__`` (without
the ``Verdict`` wrapper): it returns ``(score, details)``.
"""

from __future__ import annotations

import json
import secrets

from reasongym.envs.verifiers.code import build_program, extract_code
from reasongym.sandboxes import Limits

RUNNER = r"""
import io, json, signal, sys, traceback
nonce = sys.stdin.readline().strip()
spec = json.load(open("tests.json"))
source = open("solution.py").read()
real_stdout = sys.stdout
captured = io.StringIO()
results, error = [], None

class _StepTimeout(BaseException):
    pass

def _alarm(signum, frame):
    raise _StepTimeout()

signal.signal(signal.SIGALRM, _alarm)

def _short(exc):
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[-600:]

ns = {"__name__": "__main__"}
sys.stdout = captured
try:
    signal.setitimer(signal.ITIMER_REAL, spec["step_timeout_s"])
    exec(compile(source, "solution.py", "exec"), ns)
    signal.setitimer(signal.ITIMER_REAL, 0)
except _StepTimeout:
    error = "the solution timed out while loading"
except BaseException as exc:
    signal.setitimer(signal.ITIMER_REAL, 0)
    error = "the solution failed to load: " + _short(exc)
entry = spec.get("entry_point")
if error is None and entry and not callable(ns.get(entry)):
    error = "the solution does not define a function named %r" % entry
if error is None:
    ns["candidate"] = ns[entry] if entry else None
    broken = None
    for step in spec["steps"]:
        if broken is not None:
            if step["test"]:
                results.append({"name": step["name"], "passed": False, "error": broken})
            continue
        try:
            signal.setitimer(signal.ITIMER_REAL, spec["step_timeout_s"])
            exec(compile(step["code"], step["name"], "exec"), ns)
            signal.setitimer(signal.ITIMER_REAL, 0)
            outcome = {"passed": True, "error": None}
        except _StepTimeout:
            outcome = {"passed": False, "error": "timed out"}
        except AssertionError as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            outcome = {"passed": False, "error": "assertion failed" + (": " + str(exc)[:300] if str(exc) else "")}
        except BaseException as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            outcome = {"passed": False, "error": _short(exc)}
        if step["test"]:
            outcome["name"] = step["name"]
            results.append(outcome)
        elif not outcome["passed"]:
            broken = "setup step %s failed: %s" % (step["name"], outcome["error"])
sys.stdout = real_stdout
out = captured.getvalue()
real_stdout.write("\n" + nonce + json.dumps({"error": error, "results": results, "stdout": out[-2000:]}) + "\n")
real_stdout.flush()
"""


def legacy_verify(sandbox, task, answer, timeout_s=10.0, memory_mb=512, step_timeout_s=3.0):
    """The old verdict: raises on malformed reports and does not clamp (as it did)."""
    steps = task.meta["steps"]
    entry = task.meta.get("entry_point")
    code = extract_code(answer, entry)
    nonce = f"@@RESULTS-{secrets.token_hex(8)}@@"
    spec = {"entry_point": entry, "steps": steps, "step_timeout_s": step_timeout_s}
    result = sandbox.run(
        RUNNER,
        stdin=nonce + "\n",
        files={"solution.py": build_program(task, code), "tests.json": json.dumps(spec)},
        limits=Limits(timeout_s=timeout_s, memory_mb=memory_mb),
    )
    total = sum(1 for s in steps if s["test"])
    report = None
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(nonce):
            report = json.loads(line[len(nonce) :])
            break
    if report is None:
        return 0.0, {"error": "no report", "total": total}
    passed = sum(1 for t in report["results"] if t["passed"])
    return (passed / total if total else 0.0), {"total": total, "passed": passed}
