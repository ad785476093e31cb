"""Generated code candidates: valid Python, right or planted-wrong, labelled by real tests."""

from __future__ import annotations

import ast

import numpy as np

from reasongym.envs.tasks.code_procedural import CodeProceduralSource
from reasongym.world_models.code_candidates import candidate_answer, candidate_code, plant_bug


def _passes(task, code: str) -> bool:
    scope: dict = {}
    exec(code, scope)  # test-only: the candidates are rewrites of our own gold solutions
    try:
        for step in task.meta["steps"]:
            exec(step["code"], scope)
    except Exception:
        return False
    return True


def test_clean_candidates_are_rewritten_but_still_pass():
    source = CodeProceduralSource(difficulty=2)
    rng = np.random.default_rng(0)
    rewritten = 0
    for i in range(20):
        task = source[i]
        code = candidate_code(task, rng, bug_rate=0.0)
        ast.parse(code)
        assert f"def {task.meta['entry_point']}(" in code
        assert _passes(task, code)
        rewritten += code.strip() not in task.answer
    assert rewritten >= 15


def test_planted_bugs_mostly_fail_and_always_parse():
    source = CodeProceduralSource(difficulty=2)
    rng = np.random.default_rng(1)
    results = []
    for i in range(30):
        code = candidate_code(source[i], rng, bug_rate=1.0)
        ast.parse(code)
        results.append(_passes(source[i], code))
    assert np.mean(results) < 0.4


def test_plant_bug_changes_the_tree():
    tree = ast.parse("def f(x):\n    if x < 3:\n        return x + 1\n    return -x")
    rng = np.random.default_rng(0)
    changed = {ast.unparse(plant_bug(tree, rng)) for _ in range(20)}
    assert ast.unparse(tree) not in changed and len(changed) > 3


def test_answers_use_the_action_grammar():
    task = CodeProceduralSource(difficulty=1)[0]
    answer = candidate_answer(task, np.random.default_rng(0))
    assert answer.startswith("<answer>") and "```python" in answer
