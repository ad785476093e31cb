"""Candidate solutions for code tasks, some right and some subtly wrong, without an LLM.

An ``OutcomeModel`` learns to predict whether a candidate passes its hidden tests. Without a
capable code model on this machine, candidates come from the gold solution: its local names
are renamed and the code is re-printed (so a correct candidate is not the gold text), and with
probability ``bug_rate`` one bug of the kind people make is planted: a flipped comparison
(``<`` / ``<=``), a swapped operator, an off-by-one constant, ``and``/``or``, a negated
condition, a dropped statement, a dropped unary minus. Some planted bugs change nothing
observable (the tests still pass): labels always come from running the tests, never from
whether a bug was planted.

    answer = candidate_answer(task, np.random.default_rng(0), bug_rate=0.6)
"""

from __future__ import annotations

import ast
import builtins
import copy
from typing import Any

import numpy as np

from reasongym.envs.types import Task
from reasongym.envs.verifiers.code import extract_code

_NAMES = [
    "xs", "vals", "items", "seq", "data", "arr", "text", "word", "acc", "res", "out", "cur",
    "tmp", "idx", "pos", "cnt", "total", "best", "top", "j", "m", "q", "w", "z",
]  # fmt: skip
_COMPARE_SWAPS = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
}  # fmt: skip
_BINOP_SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Mod,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult,
}  # fmt: skip
MUTATIONS = ("compare", "binop", "constant", "boolop", "negate", "drop", "unary")


def candidate_answer(task: Task, rng: np.random.Generator, bug_rate: float = 0.6) -> str:
    """An ``<answer>`` action with a rewritten (and, with probability ``bug_rate``, bugged)
    version of ``task``'s gold solution."""
    code = candidate_code(task, rng, bug_rate)
    return f"<answer>\n```python\n{code}\n```\n</answer>"


def candidate_code(task: Task, rng: np.random.Generator, bug_rate: float = 0.6) -> str:
    entry = task.meta.get("entry_point")
    tree = ast.parse(extract_code(task.answer, entry))
    tree = rename_locals(tree, rng, keep={entry} if entry else set())
    if rng.random() < bug_rate:
        tree = plant_bug(tree, rng)
    return ast.unparse(ast.fix_missing_locations(tree))


def rename_locals(tree: ast.Module, rng: np.random.Generator, keep: set[str]) -> ast.Module:
    """Rename function arguments and assigned names (not globals, builtins or ``keep``)."""
    tree = copy.deepcopy(tree)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    bound -= keep | set(dir(builtins))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | bound | keep
    pool = [n for n in _NAMES if n not in used]
    order = rng.permutation(len(pool)).tolist()
    mapping = {}
    for name in sorted(bound):
        if order and rng.random() < 0.7:
            mapping[name] = pool[order.pop()]
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.arg in mapping:
            node.arg = mapping[node.arg]
        elif isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
    return tree


def plant_bug(tree: ast.Module, rng: np.random.Generator) -> ast.Module:
    """``tree`` with one mutation at a random applicable site (unchanged if there is none)."""
    tree = copy.deepcopy(tree)
    sites = _sites(tree)
    if not sites:
        return tree
    kind, node, extra = sites[int(rng.integers(len(sites)))]
    if kind == "compare":
        i = int(rng.integers(len(node.ops)))
        node.ops[i] = _COMPARE_SWAPS[type(node.ops[i])]()
    elif kind == "binop":
        node.op = _BINOP_SWAPS[type(node.op)]()
    elif kind == "constant":
        node.value = node.value + (1 if rng.random() < 0.5 else -1)
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "negate":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif kind == "drop":
        body, index = extra
        del body[index]
    elif kind == "unary":
        parent, field, value = extra
        setattr(parent, field, value.operand)
    return tree


def _sites(tree: ast.Module) -> list[tuple[str, Any, Any]]:
    sites: list[tuple[str, Any, Any]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(type(op) in _COMPARE_SWAPS for op in node.ops):
            if all(type(op) in _COMPARE_SWAPS for op in node.ops):
                sites.append(("compare", node, None))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            sites.append(("binop", node, None))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            sites.append(("constant", node, None))
        elif isinstance(node, ast.BoolOp):
            sites.append(("boolop", node, None))
        elif isinstance(node, ast.If | ast.While | ast.IfExp):
            sites.append(("negate", node, None))
        for field, value in ast.iter_fields(node):
            if (
                isinstance(value, list)
                and len(value) > 1
                and all(isinstance(s, ast.stmt) for s in value)
            ):
                for i, stmt in enumerate(value):
                    if not isinstance(stmt, ast.Return | ast.FunctionDef):
                        sites.append(("drop", stmt, (value, i)))
            elif isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
                sites.append(("unary", value, (node, field, value)))
    return sites
