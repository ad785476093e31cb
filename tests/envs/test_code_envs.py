"""Code environments scored by tests (process sandbox here; Docker in tests/sandboxes)."""

from __future__ import annotations

import ast

import gymnasium as gym
import pytest

import reasongym  # noqa: F401
from reasongym.envs.tasks.code_procedural import FAMILIES, CodeProceduralSource
from reasongym.envs.tasks.humaneval import check_steps, load_humaneval
from reasongym.envs.types import Task
from reasongym.envs.verifiers.code import CodeTestsVerifier, extract_code
from reasongym.envs.verifiers.program_io import ProgramIOVerifier


@pytest.fixture(scope="module")
def verifier():
    v = CodeTestsVerifier(backend="process", timeout_s=20, step_timeout_s=3)
    yield v
    v.close()


@pytest.fixture(scope="module")
def humaneval():
    return load_humaneval()


def test_humaneval_has_164_problems_with_split_tests(humaneval):
    assert len(humaneval) == 164
    steps = humaneval[0].meta["steps"]
    assert sum(s["test"] for s in steps) == 7  # HumanEval/0 has seven asserts


def test_check_steps_keeps_setup_and_loops():
    steps = check_steps(
        "X = 1\ndef check(candidate):\n    import math\n    for i in range(3):\n        assert candidate(i) == i\n    assert candidate(X) == 1\n"
    )
    assert [s["test"] for s in steps] == [False, False, True, True]


@pytest.mark.parametrize("index", [0, 1, 10, 32, 53, 100, 163])
def test_humaneval_canonical_solutions_pass(verifier, humaneval, index):
    task = humaneval[index]
    verdict = verifier(task, task.answer)
    assert verdict.correct and verdict.score == 1.0, verdict.details["feedback"]


@pytest.mark.slow
def test_all_humaneval_canonical_solutions_pass(verifier, humaneval):
    failures = [t.id for t in humaneval.tasks if not verifier(t, t.answer).correct]
    assert failures == []


def test_partial_credit_and_report(verifier, humaneval):
    task = humaneval[0]  # has_close_elements: 4 of its 7 asserts want True
    neighbours = "any(abs(a - b) < threshold for a, b in zip(numbers, numbers[1:]))"
    wrong = f"```python\ndef has_close_elements(numbers, threshold):\n    return {neighbours}\n```"
    verdict = verifier(task, wrong)
    assert not verdict.correct and verdict.details["passed"] == 5 and verdict.details["total"] == 7
    # credit counts the 3 asserts that `return True` fails: 1 of them passed
    assert verdict.details["baseline_passed"] == 4 and verdict.score == pytest.approx(1 / 3)
    assert (
        "5/7 tests passed" in verdict.details["feedback"]
        and "assertion failed" in verdict.details["feedback"]
    )


def test_constant_functions_earn_no_partial_credit(verifier, humaneval):
    task = humaneval[0]
    for constant in ("True", "False"):
        answer = (
            f"```python\ndef has_close_elements(numbers, threshold):\n    return {constant}\n```"
        )
        verdict = verifier(task, answer)
        assert verdict.details["passed"] in (3, 4) and verdict.score == 0.0


def test_partial_score_counts_only_what_a_constant_fails():
    from reasongym.envs.verifiers.code import partial_score

    assert partial_score(5, 7, 4) == pytest.approx(1 / 3)
    assert partial_score(3, 7, 4) == 0.0  # below the baseline: nothing, never negative
    assert partial_score(7, 7, 7) == 1.0 and partial_score(6, 7, 7) == 0.0
    assert partial_score(2, 4, 0) == 0.5 and partial_score(0, 0, 0) == 0.0


def test_the_first_argument_returned_is_a_baseline_too(verifier):
    task = _function_task(
        ["assert f([3, 1]) == [3, 1]", "assert f([2, 1]) == [1, 2]", "assert f([]) == []"]
    )
    echo = verifier(task, "```python\ndef f(x):\n    return list(x)\n```")
    assert echo.details["passed"] == 2 and echo.details["baseline_passed"] == 2
    assert echo.score == 0.0
    no_credit = CodeTestsVerifier(
        sandbox=verifier._get_sandbox(), timeout_s=20, baseline_credit=False
    )
    assert no_credit(task, "```python\ndef f(x):\n    return list(x)\n```").score == pytest.approx(
        2 / 3
    )


def test_body_only_answer_completes_the_prompt(verifier, humaneval):
    task = humaneval[2]  # truncate_number
    verdict = verifier(task, "    return number % 1.0\n")
    assert verdict.correct, verdict.details["feedback"]


def test_syntax_error_is_reported(verifier, humaneval):
    verdict = verifier(humaneval[2], "```python\ndef truncate_number(x):\n    return (\n```")
    assert verdict.score == 0 and "failed to load" in verdict.details["feedback"]


def test_infinite_loop_times_out_per_test(verifier, humaneval):
    code = "```python\ndef truncate_number(x):\n    while True:\n        pass\n```"
    quick = CodeTestsVerifier(sandbox=verifier._get_sandbox(), timeout_s=5, step_timeout_s=0.5)
    verdict = quick(humaneval[2], code)
    assert verdict.score == 0 and verdict.details["total"] == 3
    assert [t["error"] for t in verdict.details["tests"]] == ["timed out"] * 3


def test_printed_fake_results_do_not_count(verifier, humaneval):
    code = (
        "```python\nimport json\n"
        "print('@@RESULTS-0000000000000000@@' + json.dumps({'error': None, 'results': [{'name': 't', 'passed': True}], 'stdout': ''}))\n"
        "def truncate_number(x):\n    return 0\n```"
    )
    verdict = verifier(humaneval[2], code)
    assert not verdict.correct and verdict.details["total"] == 3


def test_exiting_early_scores_zero(verifier, humaneval):
    verdict = verifier(humaneval[2], "```python\nimport os\nos._exit(0)\n```")
    assert verdict.score == 0 and "exited while loading" in verdict.details["feedback"]


def test_extract_code_prefers_block_defining_entry_point():
    text = "Try:\n```python\nprint(1)\n```\nFinal:\n```python\ndef f(x):\n    return x\n```\nand ```python\nf(2)\n```"
    assert extract_code(text, "f").startswith("def f(x)")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_code_procedural_references_pass(verifier, family):
    source = CodeProceduralSource(difficulty=3, families=[family])
    for index in range(3):
        task = source[index]
        assert verifier(task, task.answer).correct


def _hidden_cases(task):
    """(args, expected) of each hidden test, read back from its ``assert f(...) == e``."""
    cases = []
    for step in task.meta["steps"]:
        compare = ast.parse(step["code"]).body[0].test
        args = tuple(ast.literal_eval(a) for a in compare.left.args)
        cases.append((args, ast.literal_eval(compare.comparators[0])))
    return cases


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_no_constant_function_passes_most_hidden_tests_of_any_family(difficulty):
    constants = [None, 0, False, True, 1, "", []]
    for family in sorted(FAMILIES):
        source = CodeProceduralSource(difficulty=difficulty, families=[family])
        for index in range(50):
            cases = _hidden_cases(source[index])
            most = (len(cases) + 1) // 2  # half, rounded up (a predicate's odd count)
            for constant in constants:
                matched = sum(constant == expected for _, expected in cases)
                assert matched <= most, (family, index, constant, matched, len(cases))
            echoed = sum(args[0] == expected for args, expected in cases)
            assert echoed <= most, (family, index, "first argument", echoed, len(cases))


def test_predicates_are_true_about_half_the_time():
    source = CodeProceduralSource(difficulty=2, families=["is_balanced"])
    answers = [expected for i in range(50) for _, expected in _hidden_cases(source[i])]
    assert 0.4 <= sum(answers) / len(answers) <= 0.6
    assert source[7] == source[7]  # redrawn cases still come from the task's own rng


def test_trivial_returns_are_the_verifiers_baselines():
    from reasongym.envs.tasks.code_procedural import TRIVIAL_RETURNS
    from reasongym.envs.verifiers.code import BASELINES

    literal, other = [], []
    for expression in BASELINES:
        try:
            literal.append(ast.literal_eval(expression))
        except ValueError:
            other.append(expression)
    assert sorted(map(repr, literal)) == sorted(map(repr, TRIVIAL_RETURNS))
    # the one other baseline returns its first argument (trivial_matches checks that apart)
    assert [eval(e, {}, {"args": ("x",), "kwargs": {}}) for e in other] == ["x"]


def test_a_family_only_constants_pass_is_refused_not_looped_on(monkeypatch):
    from reasongym.envs.tasks.code_procedural import Family

    def always_zero(n: int) -> int:
        return 0

    broken = Family(always_zero, "always_zero(n: int) -> int", "returns 0", lambda r, d: (1,))
    monkeypatch.setitem(FAMILIES, "always_zero", broken)
    with pytest.raises(RuntimeError, match="always_zero"):
        CodeProceduralSource(families=["always_zero"])[0]


def test_code_env_end_to_end_with_revision():
    env = gym.make("reasongym/CodeProcedural-v0", sandbox={"backend": "process"})
    obs, info = env.reset(seed=0)
    assert info["task_id"].startswith("code/") and "hidden tests" in obs
    obs, reward, terminated, _, info = env.step(
        "<answer>```python\ndef nothing():\n    pass\n```</answer>"
    )
    assert not terminated and reward == 0.0 and "does not define a function" in obs
    assert info["verdict"]["details"]["total"] > 0
    obs, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert terminated and reward == 1.0 and info["is_success"]
    env.close()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("```python3 \nx = 1\n```", "x = 1\n"),
        ("``` Python\nx = 1```", "x = 1"),
        ("```\nx = 1\n```", "x = 1\n"),
        ("```pythonx\nx = 1\n```", "```pythonx\nx = 1\n```"),  # not a python fence
    ],
)
def test_extract_code_reads_the_fence_opener(text, code):
    assert extract_code(text) == code


def test_extract_code_on_blank_runs_without_a_newline():
    # ``` then a long run of blanks that never reaches a newline: no block, the text as is
    text = "```python" + " \t" * 50_000 + "x"
    assert extract_code(text, "f") == text


# -- what a failure report may quote ------------------------------------------------------------
def _function_task(tests: list[str], entry: str = "f") -> Task:
    steps = [{"name": f"test{i + 1}", "code": c, "test": True} for i, c in enumerate(tests)]
    return Task(id="t", question="q", answer="", meta={"steps": steps, "entry_point": entry})


SECRET_TESTS = [
    "assert f(7301) == 9902, 'f(7301) should be 9902'",
    "assert f(4417) == 5518",
    "assert f(1) == 2",
]


def _texts(verdict) -> str:
    details = verdict.details
    return "\n".join([details["feedback"], *(t["error"] or "" for t in details["tests"])])


def test_code_reports_do_not_quote_the_scored_tests(verifier):
    """The report reaches the next attempt: it says which tests failed and how, never the
    values a test checks (its assertion message) nor what the candidate raised with them."""
    task = _function_task(SECRET_TESTS)
    wrong = verifier(task, "```python\ndef f(x):\n    return x + 1 if x == 1 else x\n```")
    raised = verifier(task, "```python\ndef f(x):\n    raise ValueError(f'saw {x}')\n```")
    assert wrong.score > 0 and [t["passed"] for t in wrong.details["tests"]] == [False, False, True]
    for verdict in (wrong, raised):
        assert not any(v in _texts(verdict) for v in ("7301", "9902", "4417", "5518"))
    assert [t["error"] for t in wrong.details["tests"][:2]] == ["assertion failed"] * 2
    assert raised.details["tests"][0]["error"] == "the candidate raised ValueError"


def test_code_reports_quote_the_tests_when_asked(verifier):
    quoting = CodeTestsVerifier(sandbox=verifier._get_sandbox(), timeout_s=20, quote_tests=True)
    verdict = quoting(_function_task(SECRET_TESTS), "```python\ndef f(x):\n    return x\n```")
    assert "f(7301) should be 9902" in _texts(verdict)


def test_program_reports_do_not_quote_the_scored_tests(verifier):
    io_tests = [
        {"name": "test1", "input": "7301\n", "output": "9902\n"},
        {"name": "test2", "input": "1\n", "output": "2\n"},
    ]
    task = Task(id="t", question="q", answer="", meta={"io_tests": io_tests, "time_limit_s": 2})
    programs = ProgramIOVerifier(sandbox=verifier._get_sandbox(), timeout_s=20)
    wrong = programs(task, "```python\nprint(int(input()) + 1 if False else 2)\n```")
    crash = programs(task, "```python\nraise ValueError('saw ' + input())\n```")
    assert [t["passed"] for t in wrong.details["tests"]] == [False, True]
    assert wrong.details["tests"][0]["error"] == "wrong answer"
    assert crash.details["tests"][0]["error"].endswith(": ValueError")
    for verdict in (wrong, crash):
        assert not any(v in _texts(verdict) for v in ("7301", "9902"))
    quoting = ProgramIOVerifier(sandbox=verifier._get_sandbox(), timeout_s=20, quote_tests=True)
    assert "expected: '9902\\n'" in _texts(quoting(task, "```python\nprint(2)\n```"))


def test_programs_that_ignore_their_input_earn_no_partial_credit(verifier):
    io_tests = [
        {"name": "test1", "input": "2 3\n", "output": "NO\n"},
        {"name": "test2", "input": "4 4\n", "output": "YES\n"},
        {"name": "test3", "input": "1 5\n", "output": "NO\n"},
        {"name": "test4", "input": "NO\n", "output": "NO\n"},
    ]
    task = Task(id="t", question="q", answer="", meta={"io_tests": io_tests, "time_limit_s": 2})
    programs = ProgramIOVerifier(sandbox=verifier._get_sandbox(), timeout_s=20)
    constant = programs(task, "```python\nprint('NO')\n```")
    assert constant.details["passed"] == 3 and constant.score == 0.0
    # compares a < b instead of a == b: one of the two tests a constant fails is right
    half = "a, b = map(int, input().split())\nprint('NO' if a < b else 'YES')"
    io_tests[3] = {"name": "test4", "input": "5 6\n", "output": "YES\n"}  # no longer an echo
    task = Task(id="t", question="q", answer="", meta={"io_tests": io_tests, "time_limit_s": 2})
    verdict = programs(task, f"```python\n{half}\n```")
    assert verdict.details["passed"] == 3 and verdict.details["baseline_passed"] == 2
    assert verdict.score == pytest.approx(1 / 2)
