"""Code environments scored by tests (process sandbox here; Docker in tests/sandboxes)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import reasongym  # noqa: F401
from reasongym.envs.tasks.code_procedural import FAMILIES, CodeProceduralSource
from reasongym.envs.tasks.humaneval import check_steps, load_humaneval
from reasongym.envs.verifiers.code import CodeTestsVerifier, extract_code


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
    task = humaneval[0]  # has_close_elements
    wrong = "```python\ndef has_close_elements(numbers, threshold):\n    return True\n```"
    verdict = verifier(task, wrong)
    assert not verdict.correct and 0 < verdict.score < 1
    assert verdict.details["passed"] == 4 and verdict.details["total"] == 7
    assert (
        "4/7 tests passed" in verdict.details["feedback"]
        and "assertion failed" in verdict.details["feedback"]
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
