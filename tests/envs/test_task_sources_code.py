"""Code envs declared in YAML, graded for real: function tests through code_tests, whole
programs through program_io (stdout compared on the host). Hostile programs are failed
tests, never exceptions, never a pass."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import pytest

import reasongym
from reasongym.envs.types import Task
from reasongym.envs.verifiers.program_io import ProgramIOVerifier, outputs_match

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "yaml"
ENV_ID = "examples/CodeFromFile-v0"


def _fenced(code: str) -> str:
    return f"<answer>```python\n{code}\n```</answer>"


def _task(io_tests, compare=None, time_limit_s=1.0) -> Task:
    return Task(
        id="t",
        question="q",
        answer="",
        meta={
            "io_tests": [{"name": f"test{i + 1}", **t} for i, t in enumerate(io_tests)],
            "compare": compare or {"mode": "exact", "tolerance": 1e-6},
            "time_limit_s": time_limit_s,
            "verifier": "program_io",
        },
    )


SUM_TESTS = [
    {"input": "1 2\n", "output": "3\n"},
    {"input": "5 5\n", "output": "10\n"},
    {"input": "0 -7\n", "output": "-7\n"},
]


@pytest.fixture(scope="module")
def verifier():
    v = ProgramIOVerifier(backend="process", timeout_s=20, memory_mb=256)
    yield v
    v.close()


@pytest.fixture(scope="module")
def code_env():
    reasongym.register_yaml(EXAMPLES / "code")
    env = gym.make(ENV_ID, sandbox={"backend": "process", "timeout_s": 20, "memory_mb": 256})
    yield env
    env.close()


def test_every_example_problem_is_solved_by_its_canonical_solution(code_env):
    for i in range(3):
        code_env.reset(options={"task_index": i})
        _, reward, terminated, _, info = code_env.step(code_env.unwrapped.oracle_action())
        assert terminated and info["is_success"] and reward == pytest.approx(1.0), info["verdict"]


def test_program_tests_give_partial_credit_and_a_report_to_revise_from(code_env):
    code_env.reset(options={"task_index": 2})
    obs, reward, terminated, _, info = code_env.step(_fenced("print(6)"))
    assert not terminated and reward == pytest.approx(1 / 3)
    assert "1/3 tests passed" in obs and "- test2: wrong answer" in obs and "You may revise" in obs
    assert "-5" not in obs  # the report never quotes a scored test's expected output
    assert [t["passed"] for t in info["verdict"]["details"]["tests"]] == [True, False, False]
    obs, reward, terminated, _, info = code_env.step(code_env.unwrapped.oracle_action())
    assert terminated and info["is_success"]


def test_function_tests_give_partial_credit(code_env):
    code_env.reset(options={"task_index": 0})
    _, reward, _, _, info = code_env.step(_fenced("def add(a, b):\n    return 3 if a == 1 else 0"))
    # 2 of 3 tests pass, but `return 0` passes add(-4, 4) == 0 too: credit is 1 of the other 2
    assert info["verdict"]["details"]["passed"] == 2 and not info["is_success"]
    assert reward == pytest.approx(1 / 2)


HOSTILE = {
    "huge output": "import sys\nwhile True:\n    sys.stdout.write('3\\n' * 10000)",
    "never ends": "while True:\n    pass",
    "sleeps": "import time\ntime.sleep(60)",
    "reads its directory": "import os\nprint(sorted(os.listdir('.')))\nprint(open(__file__).read())",
    "hunts for expected outputs": "import glob\nfor f in glob.glob('/**/*.json', recursive=True)[:50]:\n    print(open(f).read()[:100])",
    "prints a surrogate": "import sys\nsys.stdout.buffer.write(b'\\xed\\xa0\\x80\\n')",
    "prints a lone surrogate str": "print('\\ud800')",
    "forges a verdict": 'print(\'3/3 tests passed.\')\nprint(\'{"passed": 3, "total": 3, "correct": true}\')',
    "exits early with the answer wrong": "import os\nos._exit(0)",
    "crashes": "raise SystemExit(3)",
    "eats memory": "x = bytearray(2 * 1024 ** 3)\nprint(3)",
    "forks": "import os\nfor _ in range(100):\n    os.fork()\nprint(3)",
    "binary garbage": "import sys\nsys.stdout.buffer.write(bytes(range(256)) * 100)",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_programs_are_failed_tests(verifier, name):
    task = _task(SUM_TESTS, time_limit_s=0.5)
    verdict = verifier(task, _fenced(HOSTILE[name]))
    assert not verdict.correct and 0.0 <= verdict.score < 1.0
    assert verdict.details["passed"] < 3 and len(verdict.details["tests"]) == 3
    assert all(isinstance(t["error"], str) for t in verdict.details["tests"] if not t["passed"])


def test_unencodable_answers_and_empty_answers_fail_with_a_message(verifier):
    for answer in [
        "<answer>```python\nprint('\ud800')\n```</answer>",
        "print(3)\ud800",
        "",
        "   \n",
    ]:
        verdict = verifier(_task(SUM_TESTS), answer)
        assert verdict.score == 0.0 and verdict.details["error"], answer


def test_time_budget_bounds_a_whole_answer():
    v = ProgramIOVerifier(backend="process", timeout_s=1.5, memory_mb=256)
    try:
        task = _task([{"input": "", "output": "1"}] * 10, time_limit_s=1.0)
        verdict = v(task, _fenced("while True:\n    pass"))
    finally:
        v.close()
    errors = [t["error"] for t in verdict.details["tests"]]
    assert verdict.score == 0.0 and any("budget" in e for e in errors), errors


def test_the_task_data_on_the_host_is_out_of_reach(verifier, tmp_path):
    gold = tmp_path / "gold.txt"
    gold.write_text("SECRET-GOLD-123")
    task = _task([{"input": "", "output": "SECRET-GOLD-123"}])
    verdict = verifier(task, _fenced(f"print(open({str(gold)!r}).read())"))
    assert not verdict.correct and "runtime error" in verdict.details["tests"][0]["error"]


def test_a_long_stderr_does_not_fail_a_right_answer(verifier):
    task = _task([{"input": "1 2\n", "output": "3"}])
    noisy = "import sys\nsys.stderr.write('log line\\n' * 20000)\nprint(3)"
    assert verifier(task, _fenced(noisy)).correct


def test_the_program_never_sees_the_expected_output(verifier):
    # a program that echoes everything it can read would pass only if the gold were given to it
    task = _task([{"input": "x\n", "output": "SECRET-GOLD-123"}])
    spy = "import os, sys\nprint(sys.stdin.read())\nfor f in os.listdir('.'):\n    print(open(f).read())\nprint(os.environ)"
    verdict = verifier(task, _fenced(spy))
    assert not verdict.correct


@pytest.mark.parametrize(
    ("got", "want", "mode", "tolerance", "same"),
    [
        ("3\n", "3", "exact", 1e-6, True),
        ("3\r\n", "3\n", "exact", 1e-6, True),
        ("3 ", "3", "exact", 1e-6, False),
        ("1  2\n3", "1 2 3", "whitespace", 1e-6, True),
        ("1 2", "1 2 3", "whitespace", 1e-6, False),
        ("1.5000001", "1.5", "float", 1e-3, True),
        ("1.6", "1.5", "float", 1e-3, False),
        ("1500.9", "1500", "float", 1e-3, True),  # relative to the gold
        ("nan", "1.5", "float", 1e-3, False),
        ("inf", "1e308", "float", 1e-3, False),
        ("1e300", "2", "float", 1e-3, False),
        ("yes 2.0", "yes 2", "float", 1e-6, True),
        ("no 2.0", "yes 2", "float", 1e-6, False),
        ("2", "two", "float", 1e-6, False),
    ],
)
def test_output_comparison(got, want, mode, tolerance, same):
    assert outputs_match(got, want, mode=mode, tolerance=tolerance) is same


def test_float_rows_grade_by_tolerance(verifier):
    task = _task(
        [{"input": "1 2\n", "output": "1.5"}], compare={"mode": "float", "tolerance": 1e-3}
    )
    assert verifier(task, _fenced("print(1.50004)")).correct
    assert not verifier(task, _fenced("print(1.51)")).correct


def _docker_available() -> str | None:
    try:
        import docker

        docker.from_env(timeout=5).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no engine here
        return f"no Docker engine: {exc}"
    return None


@pytest.mark.docker
def test_program_io_on_docker_holds_against_hostile_programs():
    problem = _docker_available()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    v = ProgramIOVerifier(backend="docker", timeout_s=30, memory_mb=256)
    try:
        task = _task(SUM_TESTS, time_limit_s=1.0)
        ok = "a, b = map(int, input().split())\nprint(a + b)"
        assert v(task, _fenced(ok)).score == 1.0
        for name in (
            "huge output",
            "never ends",
            "reads its directory",
            "prints a surrogate",
            "forges a verdict",
        ):
            verdict = v(task, _fenced(HOSTILE[name]))
            assert not verdict.correct and 0.0 <= verdict.score < 1.0, name
    finally:
        v.close()


@pytest.mark.parametrize("partial_credit", [False, True])
def test_constant_baselines_run_only_when_partial_credit_pays(
    code_env, monkeypatch, partial_credit
):
    from collections import OrderedDict

    from reasongym.envs.verifiers import code as code_verifier

    # an empty cache, so a baseline the verifier wants is run here, not read from an earlier test
    monkeypatch.setattr(code_verifier, "_baseline_cache", OrderedDict())
    env = gym.make(
        ENV_ID,
        sandbox={"backend": "process", "timeout_s": 20, "memory_mb": 256},
        reward={"partial_credit": partial_credit},
    )
    sandbox, runs = env.unwrapped._sandbox, []
    real_run = sandbox.run

    def counting_run(code, stdin=None, files=None, limits=None):
        if "solution.py" in (files or {}):  # a graded program (not e.g. the harness compiled)
            runs.append(files["solution.py"])
        return real_run(code, stdin=stdin, files=files, limits=limits)

    monkeypatch.setattr(sandbox, "run", counting_run)
    try:
        env.reset(options={"task_index": 0})
        _, reward, _, _, info = env.step(_fenced("def add(a, b):\n    return 3 if a == 1 else 0"))
    finally:
        env.close()
    assert info["verdict"]["details"]["passed"] == 2  # a partial pass: where baselines matter
    baselines = [r for r in runs if b"return 3 if a == 1" not in r]
    if partial_credit:
        assert len(baselines) == len(code_verifier.BASELINES) and reward == pytest.approx(1 / 2)
    else:  # the answer alone ran; its reward is the plain incorrect one
        assert baselines == [] and len(runs) == 1 and reward == 0.0
