"""Every attack in code_attacks.py, on each isolating backend: held, nothing raised, the
score in [0, 1], and honest code still at full score on the same sandbox afterwards."""

from __future__ import annotations

import gymnasium as gym
import pytest
from code_attacks import ATTACKS, TARGET, answer

import reasongym  # noqa: F401 - registers the envs
from reasongym.envs.tasks.humaneval import load_humaneval
from reasongym.envs.verifiers.code import CodeTestsVerifier


@pytest.fixture(scope="module")
def task():
    return load_humaneval()[TARGET]


def _verifier(sandbox) -> CodeTestsVerifier:
    return CodeTestsVerifier(sandbox=sandbox, timeout_s=2, step_timeout_s=0.5)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_held(code_sandbox, task, name):
    verifier = _verifier(code_sandbox)
    verdict = verifier(task, f"```python\n{ATTACKS[name]}```")
    details = verdict.details
    assert 0.0 <= verdict.score < 1.0 and not verdict.correct, details["feedback"]
    assert details["passed"] == 0, details["feedback"]  # the answer is wrong on every test
    assert [t["name"] for t in details["tests"]] == [f"test{i}" for i in range(1, 8)]
    assert details["total"] == 7 and details["feedback"]
    honest = verifier(task, task.answer)
    assert honest.correct and honest.score == 1.0, honest.details["feedback"]


@pytest.mark.parametrize(
    "name",
    [
        "ISSUE forged report with 1,000 passed results",
        "ISSUE returns an object whose __eq__ is always True",
        "ISSUE report marker followed by bad JSON",
        "ISSUE lone surrogate in the code",
        "reads the tests from a file, the harness's stdin or /proc/<parent>/mem",
    ],
)
def test_attack_through_the_env_step(code_sandbox, name):
    backend = "docker" if type(code_sandbox).__name__ != "ProcessSandbox" else "process"
    env = gym.make("reasongym/HumanEval-v0", sandbox={"backend": backend, "timeout_s": 3})
    try:
        env.reset(options={"task_index": TARGET})
        obs, reward, terminated, truncated, info = env.step(answer(ATTACKS[name]))
        assert 0.0 <= reward < 1.0 and not info["is_success"]
        assert "tests passed" in obs or "Error" in obs
        obs, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
        assert terminated and reward == 1.0 and info["is_success"]
    finally:
        env.close()


def test_code_procedural_shares_the_harness(code_sandbox):
    from reasongym.envs.tasks.code_procedural import CodeProceduralSource

    task = CodeProceduralSource(difficulty=2)[0]
    entry = task.meta["entry_point"]
    forged = ATTACKS["ISSUE returns an object whose __eq__ is always True"].replace(
        "has_close_elements(numbers, threshold)", f"{entry}(*args)"
    )
    verifier = _verifier(code_sandbox)
    verdict = verifier(task, f"```python\n{forged}```")
    assert verdict.score == 0.0 and "cannot be checked" in verdict.details["feedback"]
    assert verifier(task, task.answer).correct
