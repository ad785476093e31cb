"""Verifiers: ``verify(task, answer_text) -> Verdict``, looked up by the name used in YAML."""

from __future__ import annotations

from collections.abc import Callable

from reasongym.envs.types import Task, Verdict

VerifyFn = Callable[[Task, str], Verdict]


def _math(task: Task, answer: str) -> Verdict:
    from reasongym.envs.verifiers.math import verify_math

    return verify_math(answer, task.answer)


def _exact(task: Task, answer: str) -> Verdict:
    from reasongym.envs.verifiers.exact import verify_exact

    return verify_exact(answer, task.answer)


VERIFIERS: dict[str, VerifyFn] = {"math": _math, "exact": _exact}


def get_verifier(name: str) -> VerifyFn:
    try:
        return VERIFIERS[name]
    except KeyError:
        raise ValueError(f"unknown verifier {name!r}; choose from {sorted(VERIFIERS)}") from None
