"""How the code harness keeps the verdict out of the candidate's reach, checked directly:
what the candidate's process can see, what crosses back, how tests treat its failures, and
how the host treats reports."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs.tasks.humaneval import load_humaneval
from reasongym.envs.types import Task
from reasongym.envs.verifiers import code_harness as wire
from reasongym.envs.verifiers import code_runner
from reasongym.envs.verifiers.code import CodeTestsVerifier
from reasongym.envs.verifiers.code_runner import read_report


def _task(*tests: str, setup: tuple[str, ...] = (), entry: str = "f", prompt: str = "") -> Task:
    steps = [{"name": f"setup{i}", "code": c, "test": False} for i, c in enumerate(setup)]
    steps += [{"name": f"t{i + 1}", "code": c, "test": True} for i, c in enumerate(tests)]
    return Task(
        id="synthetic",
        question="",
        answer="",
        meta={"entry_point": entry, "prompt": prompt, "steps": steps},
    )


def _verify(sandbox, task: Task, code: str, timeout_s: float = 4, step_timeout_s: float = 1):
    return CodeTestsVerifier(sandbox=sandbox, timeout_s=timeout_s, step_timeout_s=step_timeout_s)(
        task, f"```python\n{code}\n```"
    )


PROBE = r"""
import ctypes, os
ppid = os.getppid()
for path in (f"/proc/{ppid}/fd/0", f"/proc/{ppid}/mem", f"/proc/{ppid}/environ", f"/proc/{ppid}/fd"):
    try:
        (os.listdir if path.endswith("/fd") else lambda p: open(p, "rb").read(1))(path)
        print("OPEN", path)
    except OSError:
        print("DENIED", path)
print("PTRACE", ctypes.CDLL(None).ptrace(16, ppid, 0, 0))
print("FDS", sorted(int(x) for x in os.listdir("/proc/self/fd")))
print("STDIN", repr(os.read(0, 100)))
def f(x):
    return x
"""


def test_the_candidate_cannot_reach_the_harness(code_sandbox):
    verdict = _verify(code_sandbox, _task("assert candidate(1) == 1"), PROBE)
    out = verdict.details["stdout"]
    assert verdict.correct, verdict.details["feedback"]
    assert "OPEN" not in out and out.count("DENIED") == 4, out
    assert "PTRACE -1" in out, out
    fds = json.loads(out.split("FDS ")[1].splitlines()[0])
    assert fds[:3] == [0, 1, 2] and len(fds) <= 6, out  # stdio, its two pipe ends, the listing
    assert "STDIN b''" in out, out  # fd 0 is /dev/null: the tests are not there


MEMORY_SCAN = r"""
import base64, ctypes, re
raw = re.compile(("SEC" + "RET_").encode() + rb"(\d{8})")
found = set()
for parts in [line.split() for line in open("/proc/self/maps")]:
    lo, hi = (int(x, 16) for x in parts[0].split("-"))
    if not parts[1].startswith("r") or hi - lo > (256 << 20) or parts[-1].startswith("[v"):
        continue
    blob = ctypes.string_at(lo, hi - lo)
    found.update(m.group(1) for m in raw.finditer(blob))
    for run in re.findall(rb"[A-Za-z0-9+/]{40,}", blob):
        for k in range(4):
            chunk = run[k:][: (len(run) - k) // 4 * 4]
            found.update(m.group(1) for m in raw.finditer(base64.b64decode(chunk)))
print("FOUND", sorted(x.decode() for x in found))
def f(x):
    return None
"""


def test_the_candidates_own_memory_holds_no_test_data(code_sandbox):
    # Its process is forked from the harness (and, under Docker, from the sandbox's server):
    # neither copy may carry the tests, raw or base64-encoded. The prompt's secret must show.
    task = _task("assert candidate(1) == 'SECRET_48151623'", prompt="X = 'SECRET_' + '12345678'\n")
    verdict = _verify(code_sandbox, task, MEMORY_SCAN, timeout_s=10, step_timeout_s=6)
    assert "FOUND ['12345678']" in verdict.details["stdout"], verdict.details


def test_plain_data_round_trips_exactly(code_sandbox):
    values = (
        "(1, [2, 3]), {4, 5}, frozenset({6}), {'k': (7,), 8: None}, b'\\x00\\xff', "
        "True, False, 1.5, -0.0, complex(1, -2), 10 ** 5000, -(2 ** 70), 'caf\\u00e9'"
    )
    check = (
        f"r = candidate(({values}))\n"
        f"assert r == ({values}) and [type(x) for x in r] == [type(x) for x in ({values})]\n"
        "assert type(r[0][1]) is list and type(r[0]) is tuple and math.copysign(1, r[8]) == -1"
    )
    nan = "r = candidate(float('nan'))\nassert type(r) is float and r != r\nassert candidate(float('-inf')) == -math.inf"
    verdict = _verify(
        code_sandbox, _task(check, nan, setup=("import math",)), "def f(x):\n    return x"
    )
    assert verdict.correct, verdict.details["feedback"]


def test_candidate_exceptions_keep_their_builtin_class(code_sandbox):
    expects_value_error = "try:\n    candidate(-1)\n    raise AssertionError('no error')\nexcept ValueError:\n    pass"
    task = _task(expects_value_error, expects_value_error)
    honest = "class Neg(ValueError):\n    pass\ndef f(x):\n    if x < 0:\n        raise Neg('negative')\n    return x"
    assert _verify(code_sandbox, task, honest).correct
    wrong = _verify(code_sandbox, task, "def f(x):\n    raise TypeError('x')")
    assert wrong.score == 0 and "TypeError" in wrong.details["feedback"]


def test_stop_iteration_cannot_end_a_test_loop_early(code_sandbox):
    task = _task("for r in map(candidate, [1, 2, 3]):\n    assert r == 0")
    verdict = _verify(code_sandbox, task, "def f(x):\n    raise StopIteration")
    assert verdict.score == 0, verdict.details["feedback"]


def test_harness_failures_are_not_swallowed_by_except_exception(code_sandbox):
    lenient = "try:\n    assert candidate(1) == 2\nexcept Exception:\n    pass"
    task = _task(lenient, lenient)
    for code in (
        "def f(x):\n    while True:\n        pass",
        "class X:\n    pass\ndef f(x):\n    return X()",
        "import os\ndef f(x):\n    os._exit(1)",
    ):
        verdict = _verify(code_sandbox, task, code, timeout_s=5)
        assert verdict.score == 0, (code, verdict.details["feedback"])


def test_a_hang_fails_one_test_and_the_next_ones_still_count(code_sandbox):
    task = _task(
        "assert candidate(1) == 10", "assert candidate(2) == 20", "assert candidate(3) == 30"
    )
    code = "def f(x):\n    while x == 2:\n        pass\n    return 10 * x"
    verdict = _verify(code_sandbox, task, code, timeout_s=6)
    results = [(t["passed"], t["error"]) for t in verdict.details["tests"]]
    assert results == [(True, None), (False, "timed out"), (True, None)], results
    assert verdict.score == pytest.approx(2 / 3)


def test_announced_answers_nobody_took_do_not_block_a_later_live_call(code_sandbox):
    # t1's second call is announced but never made (the first raises), and its answer is
    # bigger than a pipe; t2's call is live with arguments bigger than a pipe.
    task = _task("assert candidate(0) + candidate(1) == 0", "assert candidate([0] * 50000) == 3")
    code = "def f(x):\n    if x == 0:\n        raise ValueError\n    return 'x' * 100000 if x == 1 else 3"
    verdict = _verify(code_sandbox, task, code, timeout_s=6, step_timeout_s=2)
    assert [t["passed"] for t in verdict.details["tests"]] == [False, True], verdict.details


def test_a_call_with_set_arguments_is_answered_once(code_sandbox):
    # The host plans the call with its own string hash order, the harness makes it with the
    # sandbox's: both must name the same announced answer, so the candidate runs once per call.
    words = "{'apple', 'banana', 'cherry', 'date', 'elder', 'fig'}"
    task = _task(
        f"assert candidate({words}) == 6",
        f"assert candidate(frozenset({words})) == 6",
        "assert candidate({'x': {1, 2, 3}, 'y': frozenset({'a', 'b'})}) == 2",
    )
    code = "def f(x):\n    print('called')\n    return len(x)"
    verdict = _verify(code_sandbox, task, code)
    assert verdict.score == 1.0, verdict.details
    assert verdict.details["stdout"].split() == ["called"] * 3, verdict.details["stdout"]


def test_call_keys_do_not_depend_on_set_order():
    items = [wire.encode(w) for w in ("a", "b", "c")]
    for tag in ("S", "z"):
        one = wire._call_key("f", [[tag, items]], ["d", []])
        other = wire._call_key("f", [[tag, items[::-1]]], ["d", []])
        assert one == other
    assert wire._call_key("f", [["l", items]], ["d", []]) != wire._call_key(
        "f", [["l", items[::-1]]], ["d", []]
    )  # a list's order is its value


def test_a_report_of_many_long_failures_still_fits_the_output_cap(code_sandbox):
    tests = [f"assert candidate({i}) == {i}" for i in range(200)]
    code = "def f(x):\n    if x % 2:\n        raise ValueError('\u00e9' * 5000)\n    return x"
    verdict = _verify(code_sandbox, _task(*tests), code, timeout_s=10)
    assert verdict.details["passed"] == 100 and verdict.details["total"] == 200, verdict.details[
        "error"
    ]


def test_modules_planted_on_import_paths_do_not_reach_the_harness(code_sandbox):
    # The test imports a module only after the candidate ran; a planted copy that the harness
    # imported would mark every step passed.
    task = _task(
        "import colorsys\nassert candidate(1) == 2", "import colorsys\nassert candidate(1) == 3"
    )
    plant = (
        "import os, sys\n"
        "src = 'import sys\\nsys.modules[\"__main__\"]._run_code = lambda *a, **k: None\\n'\n"
        "for d in {os.getcwd(), '/tmp', *[p for p in sys.path if p]}:\n"
        "    try:\n        open(os.path.join(d, 'colorsys.py'), 'w').write(src)\n"
        "    except OSError:\n        pass\n"
        "def f(x):\n    return 0"
    )
    verdict = _verify(code_sandbox, task, plant)
    assert verdict.score == 0, verdict.details["feedback"]


def test_prompt_helpers_run_in_the_harness_not_the_candidate(code_sandbox):
    prompt = 'def helper(s):\n    return s[::-1]\n\ndef f(s):\n    """Undo helper."""\n'
    task = _task("assert candidate(helper('abc')) == 'abc'", prompt=prompt)
    # The candidate redefines helper; the test must still use the task's own.
    cheat = "def helper(s):\n    return s\ndef f(s):\n    return s"
    assert _verify(code_sandbox, task, cheat).score == 0
    assert _verify(
        code_sandbox, task, "    return s[::-1]\n"
    ).correct  # a body completing the prompt


@pytest.mark.parametrize("host_side", [True, False], ids=["host-compiled", "harness-compiled"])
def test_steps_compiled_on_the_host_or_in_the_harness_give_the_same_verdicts(
    code_sandbox, host_side, monkeypatch
):
    # The host ships the steps compiled and the call plan; a sandbox whose interpreter has
    # other bytecode (here: a tag that matches nothing) compiles and plans them itself.
    if not host_side:
        monkeypatch.setattr(code_runner, "compiled_task", lambda *a: {"tag": "other", "code": ""})
        monkeypatch.setattr(code_runner, "plan_for", lambda *a: None)
    task = _task(
        "assert candidate(1) == 1 + k",
        "assert candidate(2) == 5",
        "assert candidate(3) ==",  # does not compile: fails with the compiler's message
        setup=("k = 1",),
        prompt='def f(x):\n    """Add one."""\n',
    )
    verdict = _verify(code_sandbox, task, "    return x + 1\n")
    results = [(t["passed"], (t["error"] or "")[:11]) for t in verdict.details["tests"]]
    assert results == [(True, ""), (False, "assertion f"), (False, "SyntaxError")], verdict.details


def test_a_sandbox_that_claims_a_warm_harness_it_lost_still_grades_right(bare_code_sandbox):
    class Forgetful(type(bare_code_sandbox)):  # says it keeps the harness, keeps nothing
        def warm_module(self, name: str, source: str) -> bool:
            return True

    sandbox = Forgetful(use_bwrap=False)
    try:
        task = _task("assert candidate(1) == 2", "assert candidate(2) == 4")
        verdict = _verify(sandbox, task, "def f(x):\n    return x + 1")
    finally:
        sandbox.close()
    assert [t["passed"] for t in verdict.details["tests"]] == [True, False], verdict.details


ENV_AND_LIMITS = (
    "import os, resource\n"
    "print(resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_FSIZE),"
    " sorted(os.environ.items()), os.getcwd())\n"
)


@pytest.mark.docker
def test_a_worker_forked_ahead_has_the_runs_limits_and_leaves_nothing_for_other_runs():
    # On Docker, after a graded run the next spare forks the next run's worker ahead of time
    # (held until the harness, non-dumpable, releases it with the run's limits).
    from sandbox_helpers import IMAGE

    from reasongym.sandboxes import DockerSandbox, Limits

    with DockerSandbox(image=IMAGE, pool_size=1, launch="fork") as sb:
        task = _task("assert candidate(1) == 1")
        code = ENV_AND_LIMITS + "def f(x):\n    return x"
        seen = [_verify(sb, task, code).details for _ in range(3)]
        assert all(d["passed"] == 1 for d in seen), seen
        plain = sb.run(ENV_AND_LIMITS, limits=Limits(timeout_s=4, memory_mb=512))
        assert [d["stdout"] for d in seen] == [plain.stdout] * 3, (seen, plain)
        # A plain run after a graded one (its spare had a worker ready): only its own pipes,
        # no other process, and the container is not replaced.
        (before,) = sb.container_ids
        # (The others are root's: the runner and the next run's seed.)
        probe = (
            "import os\n"
            "others = [os.stat('/proc/' + p).st_uid for p in os.listdir('/proc')\n"
            "          if p.isdigit() and int(p) != os.getpid()]\n"
            "print(sorted(os.listdir('/proc/self/fd')), others.count(os.getuid()), set(others))"
        )
        _verify(sb, task, code)
        assert sb.run(probe).stdout == "['0', '1', '2', '3'] 0 {0}\n"
        # A spare dropped with its worker (a warm request re-forks it) takes the worker along.
        _verify(sb, task, code)
        assert sb.warm_module("rg_after_graded", "x = 1")
        assert sb.run(probe).stdout == "['0', '1', '2', '3'] 0 {0}\n"
        assert sb.container_ids == [before]


# --- codec (the harness's decoder is the trust boundary) --------------------------------------

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(plain)
def test_codec_round_trips_exact_types(value):
    back = wire.decode(wire.loads(json.dumps(wire.encode(value)).encode()))
    assert back == value and _types(back) == _types(value)


def _types(v):
    if isinstance(v, (list, tuple)):
        return (type(v), [_types(x) for x in v])
    if isinstance(v, dict):
        return (dict, sorted((repr(k), _types(x)) for k, x in v.items()))
    return type(v)


@pytest.mark.parametrize(
    "frame",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'["i", 12345]',
        b'["i", "' + b"f" * 100 + b'", 1]',
        b'["f", "' + b"1" * 100 + b'"]',
        b'["f", NaN]',
        b'["X"]',
        b'["d", [[["l", []], ["N"]]]]',
        b'["S", [["l", []]]]',
        b'["b", "not base64!"]',
        b'["s", 5]',
        b"\xff\xfe",
        b'["l", [' + b",".join([b'["N"]'] * (wire.MAX_NODES + 1)) + b"]]",
    ],
)
def test_decoder_rejects_malformed_values(frame):
    with pytest.raises(wire.CodecError):
        wire.decode(wire.loads(frame))


def test_encoder_refuses_anything_but_exact_builtins():
    class L(list):
        pass

    for value in (L(), type("X", (), {})(), iter([]), [L()], {1: object()}, math):
        with pytest.raises(wire.CodecError):
            wire.encode(value)


# --- host: the report is checked against the task's own tests ---------------------------------

NONCE = "@@N@@"
NAMES = ["test1", "test2"]
GOOD = {
    "error": None,
    "stdout": "",
    "results": [{"name": n, "passed": True, "error": None} for n in NAMES],
}


def _line(report) -> str:
    return "noise\n" + NONCE + (report if isinstance(report, str) else json.dumps(report)) + "\n"


def test_a_well_formed_report_is_accepted():
    outcome = read_report(_line(GOOD), NONCE, NAMES)
    assert not isinstance(outcome, str) and outcome.passed == 2


@pytest.mark.parametrize(
    "stdout",
    [
        "",
        _line(GOOD) + _line(GOOD),
        _line("{not json"),
        _line("[1]"),
        _line({**GOOD, "results": GOOD["results"] * 500}),
        _line({**GOOD, "results": GOOD["results"][:1]}),
        _line({**GOOD, "results": [dict(r, name="x") for r in GOOD["results"]]}),
        _line(
            {
                **GOOD,
                "results": [
                    dict(r, name=n) for r, n in zip(GOOD["results"], NAMES[::-1], strict=True)
                ],
            }
        ),
        _line({**GOOD, "results": [dict(r, passed=1) for r in GOOD["results"]]}),
        _line({**GOOD, "results": [dict(r, passed="yes") for r in GOOD["results"]]}),
        _line({**GOOD, "results": [dict(r, error="x") for r in GOOD["results"]]}),
        _line({**GOOD, "extra": 1}),
        _line({**GOOD, "stdout": 5}),
        _line("[" * 100_000),
    ],
)
def test_a_bad_report_is_refused(stdout):
    assert isinstance(read_report(stdout, NONCE, NAMES), str)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda x: st.lists(x, max_size=3) | st.dictionaries(st.text(max_size=6), x, max_size=4),
    )
)
def test_report_parsing_never_raises_and_never_overcounts(report):
    outcome = read_report(_line(report), NONCE, NAMES)
    assert isinstance(outcome, str) or 0 <= outcome.passed <= len(NAMES)


# --- honest code keeps its full score on every backend ----------------------------------------


@pytest.mark.slow
def test_all_164_canonical_humaneval_solutions_pass(any_code_sandbox):
    verifier = CodeTestsVerifier(sandbox=any_code_sandbox, timeout_s=20)
    failures = {}
    for task in load_humaneval().tasks:
        verdict = verifier(task, task.answer)
        if not (verdict.correct and verdict.score == 1.0):
            failures[task.id] = verdict.details["feedback"]
    assert failures == {}


# --- host: whatever the sandbox hands back, the verifier returns a bounded verdict ------------


class _FakeSandbox:
    """Answers each run with ``reply(spec)``, where ``spec`` is what the harness would read."""

    def __init__(self, reply):
        self.reply = reply

    def run(self, code, stdin=None, files=None, limits=None):
        from reasongym.sandboxes import ExecResult

        if stdin is None:  # the one-off compile run of the harness
            return ExecResult(stdout="", stderr="", exit_code=1)
        return self.reply(json.loads(stdin))

    def close(self):
        pass


def _reported(results, error=None):
    from reasongym.sandboxes import ExecResult

    def reply(spec):
        report = {"error": error, "stdout": "", "results": results(spec)}
        return ExecResult(stdout=spec["nonce"] + json.dumps(report) + "\n", stderr="", exit_code=0)

    return reply


def _passed(names):
    return [{"name": n, "passed": True, "error": None} for n in names]


def test_the_host_accepts_a_faithful_report_and_refuses_any_other():
    task = load_humaneval()[0]
    names = [s["name"] for s in task.meta["steps"] if s["test"]]
    faithful = CodeTestsVerifier(sandbox=_FakeSandbox(_reported(lambda spec: _passed(names))))
    assert faithful(task, task.answer).score == 1.0  # so the refusals below are real
    forged = [
        lambda spec: _passed(names) * 143,
        lambda spec: _passed(names[:-1]),
        lambda spec: _passed([f"t{i}" for i in range(len(names))]),
        lambda spec: _passed(names[::-1]),
        lambda spec: [dict(r, passed=1) for r in _passed(names)],
    ]
    for results in forged:
        verdict = CodeTestsVerifier(sandbox=_FakeSandbox(_reported(results)))(task, task.answer)
        assert verdict.score == 0.0 and not verdict.correct
        assert "before the tests finished" in verdict.details["feedback"]


def test_a_sandbox_that_raises_fails_the_tests_instead():
    def boom(spec):
        raise RuntimeError("engine fell over")

    task = load_humaneval()[0]
    verdict = CodeTestsVerifier(sandbox=_FakeSandbox(boom))(task, task.answer)
    assert (
        verdict.score == 0.0 and "the sandbox failed: RuntimeError" in verdict.details["feedback"]
    )
