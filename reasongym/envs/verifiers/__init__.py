"""Verifiers: ``verify(task, answer_text) -> Verdict``, built by the name used in YAML.

A verifier is a callable object; ``close()`` (when present) releases its resources.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from reasongym.envs.types import Task, Verdict


class Verifier(Protocol):
    def __call__(self, task: Task, answer: str) -> Verdict: ...


class _FunctionVerifier:
    def __init__(self, fn: Callable[[Task, str], Verdict]):
        self.fn = fn

    def __call__(self, task: Task, answer: str) -> Verdict:
        return self.fn(task, answer)

    def close(self) -> None:
        pass


def _verify_exact(task: Task, answer: str) -> Verdict:
    from reasongym.envs.verifiers.exact import verify_exact

    return verify_exact(answer, task.answer)


# module-level functions (not closures), so an env holding them pickles (vector envs, Ray)
def _math(options: dict[str, Any]) -> Verifier:
    from reasongym.envs.verifiers.math_options import MathVerifier

    return MathVerifier(**options)  # the ``math:`` block of a text env (MathVerifierOptions)


def _exact(_options: dict[str, Any]) -> Verifier:
    return _FunctionVerifier(_verify_exact)


def _code_tests(options: dict[str, Any]) -> Verifier:
    from reasongym.envs.verifiers.code import CodeTestsVerifier

    return CodeTestsVerifier(**options)


def _program_io(options: dict[str, Any]) -> Verifier:
    from reasongym.envs.verifiers.program_io import ProgramIOVerifier

    return ProgramIOVerifier(**options)


VERIFIERS: dict[str, Callable[[dict[str, Any]], Verifier]] = {
    "math": _math,
    "exact": _exact,
    "code_tests": _code_tests,
    "program_io": _program_io,
}
#: Verifiers that run code, so the env gives them its sandbox options and shared sandbox.
SANDBOX_VERIFIERS = frozenset({"code_tests", "program_io"})


def build_verifier(name: str, options: dict[str, Any] | None = None) -> Verifier:
    try:
        factory = VERIFIERS[name]
    except KeyError:
        raise ValueError(f"unknown verifier {name!r}; choose from {sorted(VERIFIERS)}") from None
    return factory(options or {})
