"""The test runner that executes inside a sandbox (standard library only, Python 3.8+).

It is sent as the program text; the candidate solution and the test steps arrive as files
(``solution.py``, ``tests.json``) and a per-run nonce arrives on stdin, read before any
candidate code runs, so that output printed by the candidate cannot pose as the results line.
Each step runs in the solution's namespace; a step with ``"test": true`` counts as one test
(passed, failed on an assertion, or errored), other steps are setup. Like HumanEval's own
harness, tests share the candidate's process: a hostile candidate can still sabotage its own
run (then it scores 0), which is what the sandbox is for.
"""

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
