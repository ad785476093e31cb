"""Red team of the code grader (issue 16/12): the attacks in red_team_cases.py through the real
path (``CodeTestsVerifier`` on the Docker fork server and on process+bwrap), and the holes
found, each kept as a strict xfail that flips once it is fixed.

Every attack: nothing raised, 0 for wrong code, bounded time, graded once (no second run
paid for), plain UTF-8 feedback; and honest code on the same sandbox right after still 1.0.
"""

from __future__ import annotations

import time

import pytest
from red_team_cases import CASES, FAILED_RESTART, HONEST, LENIENT, TESTS

from reasongym.envs.types import Task
from reasongym.envs.verifiers.code import CodeTestsVerifier
from reasongym.envs.verifiers.code_harness import SPARE_MARKER
from reasongym.sandboxes import ExecResult, Sandbox


def _task(tests: tuple[str, ...]) -> Task:
    steps = [{"name": f"t{i + 1}", "code": c, "test": True} for i, c in enumerate(tests)]
    return Task(id="red", question="", answer="", meta={"entry_point": "f", "steps": steps})


class Counting(Sandbox):
    """Passes runs through to ``inner``; counts the graded ones (those shipping solution.py)."""

    def __init__(self, inner: Sandbox):
        super().__init__(inner.limits)
        self.inner = inner
        self.graded = 0

    def run(self, code, stdin=None, files=None, limits=None) -> ExecResult:
        if files and "solution.py" in files:
            self.graded += 1
        return self.inner.run(code, stdin=stdin, files=files, limits=limits)

    def warm_module(self, name: str, source: str) -> bool:
        return self.inner.warm_module(name, source)


def _verify(sandbox, tests, code, timeout_s=4.0, step_timeout_s=1.0):
    verifier = CodeTestsVerifier(
        sandbox=sandbox, timeout_s=timeout_s, step_timeout_s=step_timeout_s
    )
    return verifier(_task(tests), f"```python\n{code}```")


def _assert_plain_text(details) -> None:
    texts = [details["feedback"], details["stdout"], details["error"] or ""]
    texts += [t["error"] or "" for t in details["tests"]]
    for text in texts:
        assert isinstance(text, str)
        text.encode("utf-8")  # no lone surrogate reaches the agent


@pytest.mark.parametrize("name", list(CASES))
def test_attack_is_held(code_sandbox, name):
    case = CASES[name]
    counting = Counting(code_sandbox)
    start = time.monotonic()
    verdict = _verify(counting, case.tests, case.code, case.timeout_s, case.step_timeout_s)
    took = time.monotonic() - start
    details = verdict.details
    assert verdict.score == 0.0 and details["passed"] == 0, details["feedback"]
    assert [t["name"] for t in details["tests"]] == [f"t{i + 1}" for i in range(len(case.tests))]
    assert counting.graded == 1, "the run was graded more than once"
    assert took < case.timeout_s + 10, took
    _assert_plain_text(details)
    honest = _verify(code_sandbox, case.tests, HONEST)
    assert honest.correct and honest.score == 1.0, honest.details["feedback"]


def test_a_failed_restart_is_not_swallowed_by_except_exception(code_sandbox):
    # The candidate never returns nor raises: it lowers the harness's fd limit and dies.
    verdict = _verify(code_sandbox, FAILED_RESTART.tests, FAILED_RESTART.code)
    try:
        assert verdict.details["passed"] == 0, verdict.details["tests"]
    finally:
        honest = _verify(code_sandbox, LENIENT, HONEST)
        assert honest.score == 1.0, honest.details["feedback"]


def test_a_solution_that_fails_to_load_is_told_why(code_sandbox):
    tests = tuple(f"assert candidate({i}) == {7 * i + 3}" for i in range(300))
    errors = [
        _verify(code_sandbox, tests, "def f(x):\n    return (\n").details["error"]
        for _ in range(20)
    ]
    told = [e for e in errors if e.startswith("the solution failed to load: SyntaxError")]
    assert len(told) == len(errors), errors


class _Instant(Sandbox):
    """A sandbox that runs nothing: what remains of a verdict's time is the host's own."""

    def run(self, code, stdin=None, files=None, limits=None) -> ExecResult:
        return ExecResult("", "", 0)


def test_fence_extraction_is_linear_on_a_long_run_of_blanks():
    verifier = CodeTestsVerifier(sandbox=_Instant())
    start = time.monotonic()
    verdict = verifier(_task(TESTS), "```" + " " * 64_000 + "x")
    took = time.monotonic() - start
    assert verdict.score == 0.0
    assert took < 0.5, f"{took:.2f} s on the host for a 64 kB answer"  # linear: milliseconds


# The python tool runs the policy's own main.py on the sandbox the verifier uses. One that
# begins with the harness's marker keeps the worker forked ahead for a graded run, and makes
# the next spare fork one too; it may do as it likes with them, in its own run only.
POSING_AS_THE_HARNESS = (
    SPARE_MARKER.decode()
    + r"""
import os, sys, time
harness = next((m for n, m in sys.modules.items() if n.startswith("reasongym_code_harness_")), None)
print("HARNESS", harness is not None)
released = 0
if harness is not None:
    os.environ.update({"PYTHONINSPECT": "1", "PYTHONPATH": "/tmp"})  # a hostile environment
    for _ in range(3):
        harness.__prepare_spare__()
    while harness._PREPARED:  # release them with no limits
        worker = harness._PREPARED.pop()[0]
        os.write(worker.req_fd, b"g")
        released += 1
print("RELEASED", released)
for d in ("/tmp", "/dev/shm", os.getcwd()):
    with open(os.path.join(d, "json.py"), "w") as f:
        f.write("raise SystemExit(0)\n")
if os.fork() == 0:
    os.setsid()
    time.sleep(30)
    os._exit(0)
"""
)


@pytest.mark.docker
def test_a_program_posing_as_the_harness_changes_nothing_for_graded_runs(docker_code_sandbox):
    sandbox = docker_code_sandbox
    assert _verify(sandbox, TESTS, HONEST).score == 1.0  # the next spare holds a worker
    for _ in range(2):  # on each of the pool's containers
        posed = sandbox.run(POSING_AS_THE_HARNESS)
        assert posed.stdout.startswith("HARNESS True\nRELEASED "), posed
        assert int(posed.stdout.split("RELEASED ")[1]) >= 3, posed
        wrong = _verify(sandbox, TESTS, "def f(x):\n    return 0\n")
        assert wrong.score == 0.0, wrong.details["feedback"]
        honest = _verify(sandbox, TESTS, HONEST)
        assert honest.correct and honest.score == 1.0, honest.details["feedback"]


INJECT_INTO_THE_REPORT_CHANNEL = r"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for pid in (os.getppid(), 1):  # the harness, and the sandbox's init
    pidfd = libc.syscall(434, pid, 0)  # pidfd_open
    for n in (1, 2):
        fd = libc.syscall(438, pidfd, n, 0) if pidfd >= 0 else -1  # pidfd_getfd
        if fd >= 0:
            os.write(fd, b"\nINJECTED-BY-THE-CANDIDATE\n")
def f(x):
    return None
"""


def test_the_candidate_cannot_write_into_the_report_channel(code_sandbox):
    from reasongym.envs.verifiers.code_runner import RunRequest, run_tests

    steps = _task(TESTS).meta["steps"]
    run = RunRequest(
        solution=INJECT_INTO_THE_REPORT_CHANNEL.encode(),
        steps=steps,
        entry_point="f",
        prompt="",
        timeout_s=4,
        memory_mb=512,
        step_timeout_s=1,
    )
    outcome, result = run_tests(code_sandbox, run)
    assert outcome.passed == 0
    assert "INJECTED" not in result.stdout + result.stderr, (result.stdout[:200], result.stderr)
