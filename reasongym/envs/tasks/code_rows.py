"""Code problems from data files: the row formats, their JSON Schema, and the conversion to
tasks the code verifiers grade.

Two test styles, one row each (see ``docs/yaml_tasks.md`` and ``CODE_ROW_SCHEMA``):

* **function tests** ``{"id", "prompt", "entry_point", "tests": ["assert f(1) == 2", ...]}``
  (optional ``setup``, ``starter_code``, ``canonical_solution``): graded by ``code_tests``
  (each assert is one test; ``setup`` runs once before them). When ``prompt`` is itself Python
  code defining ``entry_point`` (HumanEval style) it is also the starter code, so a
  ``canonical_solution`` may be just the function body.
* **program tests** ``{"id", "prompt", "io_tests": [{"input", "output"}, ...]}`` (optional
  ``compare``: ``exact`` | ``whitespace`` | ``float`` with ``tolerance``, ``time_limit_s`` per
  test, ``canonical_solution``): a whole program reading stdin, graded by ``program_io``.

Each task carries ``meta["verifier"]`` for its style, so one file may hold both.
"""

from __future__ import annotations

import ast
import json
import keyword
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reasongym.envs.types import Task

FUNCTION_INSTRUCTIONS = (
    "Write the Python function described below. Answer with the whole function (and any "
    "imports or helpers it needs) in a ```python code block inside <answer>...</answer>."
)
PROGRAM_INSTRUCTIONS = (
    "Write a complete Python program that reads the input from standard input and prints the "
    "answer to standard output. Answer with the program in a ```python code block inside "
    "<answer>...</answer>."
)
MAX_CODE_CHARS = 200_000
MAX_TESTS = 1_000


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IOTest(_Row):
    """One program test: the program's stdin and the stdout it must print."""

    input: str = Field(default="", max_length=8_000_000, description="fed to stdin")
    output: str = Field(max_length=8_000_000, description="expected stdout (compared on the host)")
    name: str | None = Field(default=None, max_length=200)

    @field_validator("input", "output", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # CSV/Parquet often hold numbers; a program's I/O is text
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class CompareSpec(_Row):
    """How a program's stdout is compared with the expected output (on the host)."""

    mode: Literal["exact", "whitespace", "float"] = Field(
        default="exact",
        description="exact: equal text (line endings and trailing newlines aside); "
        "whitespace: equal whitespace-separated tokens; float: tokens equal, numbers within "
        "tolerance of the expected value",
    )
    tolerance: float = Field(
        default=1e-6,
        gt=0,
        le=1,
        description="float mode: |got - want| <= tolerance * max(1, |want|)",
    )


def _compile_check(code: str, what: str) -> None:
    try:
        compile(code, what, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ValueError(f"{what} is not valid Python: {exc.msg} (line {exc.lineno})") from None
    except (RecursionError, MemoryError, ValueError):
        raise ValueError(f"{what} cannot be compiled (too deeply nested or contains NUL)") from None


def _maybe_json_list(value: Any) -> Any:
    """CSV cells hold lists as JSON text."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


class CodeRow(_Row):
    """One code problem (a row of a ``code_jsonl`` file); see the module docstring."""

    id: str = Field(min_length=1, max_length=200, description="unique within the file")
    prompt: str = Field(
        min_length=1, max_length=MAX_CODE_CHARS, description="the problem shown to the agent"
    )
    entry_point: str | None = Field(default=None, description="function tests: the function's name")
    tests: list[str] | None = Field(
        default=None, description="function tests: one assert statement (or block) per test"
    )
    setup: str | None = Field(
        default=None,
        max_length=MAX_CODE_CHARS,
        description="function tests: code run once before the tests",
    )
    starter_code: str | None = Field(
        default=None,
        max_length=MAX_CODE_CHARS,
        description="code shown and prepended to the answer",
    )
    canonical_solution: str | None = Field(
        default=None,
        max_length=MAX_CODE_CHARS,
        description="a reference solution (the oracle's answer)",
    )
    io_tests: list[IOTest] | None = Field(
        default=None, description="program tests: stdin -> expected stdout"
    )
    compare: CompareSpec | Literal["exact", "whitespace", "float"] = Field(
        default="exact", description="program tests"
    )
    tolerance: float | None = Field(
        default=None, gt=0, le=1, description="shorthand for compare.tolerance"
    )
    time_limit_s: float = Field(default=2.0, gt=0, le=60, description="wall-clock limit per test")
    difficulty: int | None = Field(default=None, ge=0, le=100)
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict, description="free data, passed to Task.meta")

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("tests", "io_tests", "tags", mode="before")
    @classmethod
    def _json_cells(cls, value: Any) -> Any:
        return _maybe_json_list(value)

    @field_validator("entry_point")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and (
            not value.isidentifier() or keyword.iskeyword(value) or not value.isascii()
        ):
            raise ValueError(f"{value!r} is not a Python function name")
        return value

    @field_validator("tests")
    @classmethod
    def _tests_compile(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("give at least one test")
        if len(value) > MAX_TESTS:
            raise ValueError(f"at most {MAX_TESTS} tests per problem")
        for i, test in enumerate(value):
            if len(test) > MAX_CODE_CHARS:
                raise ValueError(f"test {i} is longer than {MAX_CODE_CHARS} characters")
            _compile_check(test, f"test {i}")
        return value

    @field_validator("io_tests")
    @classmethod
    def _some_io(cls, value: list[IOTest] | None) -> list[IOTest] | None:
        if value is not None and not value:
            raise ValueError("give at least one test")
        if value is not None and len(value) > MAX_TESTS:
            raise ValueError(f"at most {MAX_TESTS} tests per problem")
        return value

    @model_validator(mode="after")
    def _one_style(self) -> CodeRow:
        fn, io = self.tests is not None, self.io_tests is not None
        if fn == io:
            raise ValueError(
                "give either 'tests' (function tests, with 'entry_point') or 'io_tests' "
                "(program tests), not " + ("both" if fn else "neither")
            )
        if fn and not self.entry_point:
            raise ValueError("function tests need 'entry_point' (the function the tests call)")
        if io:
            for key in ("entry_point", "setup", "starter_code"):
                if getattr(self, key) is not None:
                    raise ValueError(
                        f"'{key}' applies to function tests; a program test row has none"
                    )
        elif self.compare != "exact" or self.tolerance is not None:
            raise ValueError("'compare'/'tolerance' apply to program tests (io_tests)")
        if self.setup is not None:
            _compile_check(self.setup, "setup")
        return self

    @property
    def style(self) -> str:
        return "function" if self.tests is not None else "program"

    def compare_spec(self) -> CompareSpec:
        spec = CompareSpec(mode=self.compare) if isinstance(self.compare, str) else self.compare
        if self.tolerance is not None:
            spec = CompareSpec(mode=spec.mode, tolerance=self.tolerance)
        return spec

    def stub(self) -> str | None:
        """Starter code: ``starter_code``, else the prompt when it is Python defining the
        entry point (HumanEval style)."""
        if self.starter_code is not None:
            return self.starter_code
        if self.entry_point is None:
            return None
        try:
            module = ast.parse(self.prompt)
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            return None
        defines = any(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == self.entry_point
            for node in module.body
        )
        return self.prompt if defines else None


#: JSON Schema of one row (documented in docs/yaml_tasks.md; shipped as docs/code_row.schema.json).
def code_row_schema() -> dict[str, Any]:
    schema = CodeRow.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "reasongym code problem row"
    return schema


def _fence(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def row_to_task(row: CodeRow, instructions: str | None = None) -> Task:
    """The task the code verifiers grade (the ``meta`` format of ``code_tests`` /
    ``program_io``)."""
    meta: dict[str, Any] = dict(row.meta)
    meta.update({"difficulty": row.difficulty, "tags": list(row.tags), "style": row.style})
    if row.style == "function":
        stub = row.stub()
        steps: list[dict[str, Any]] = []
        if row.setup:
            steps.append({"name": "setup", "code": row.setup, "test": False})
        steps += [
            {"name": f"test{i + 1}", "code": code, "test": True}
            for i, code in enumerate(row.tests or [])
        ]
        meta.update({"entry_point": row.entry_point, "steps": steps, "verifier": "code_tests"})
        if stub:
            meta["prompt"] = stub
        text = instructions or FUNCTION_INSTRUCTIONS
        shown = row.prompt if stub is None or stub is not row.prompt else _fence(row.prompt)
        question = f"{text}\n\n{shown}"
        if row.starter_code:
            question += f"\n\nStarter code:\n{_fence(row.starter_code)}"
        answer = ""
        if row.canonical_solution is not None:
            solution = row.canonical_solution
            if stub and solution.startswith((" ", "\t")):
                solution = stub + solution  # a body completing the stub
            answer = _fence(solution)
    else:
        spec = row.compare_spec()
        meta.update(
            {
                "io_tests": [
                    {"name": t.name or f"test{i + 1}", "input": t.input, "output": t.output}
                    for i, t in enumerate(row.io_tests or [])
                ],
                "compare": {"mode": spec.mode, "tolerance": spec.tolerance},
                "time_limit_s": row.time_limit_s,
                "verifier": "program_io",
            }
        )
        question = f"{instructions or PROGRAM_INSTRUCTIONS}\n\n{row.prompt}"
        answer = _fence(row.canonical_solution) if row.canonical_solution is not None else ""
    if row.canonical_solution is not None:
        meta["canonical_solution"] = answer
    return Task(id=row.id, question=question, answer=answer, meta=meta)


def parse_code_row(where: str, data: dict[str, Any]) -> CodeRow:
    """Validate one row; a ValueError names ``where`` and each bad key."""
    try:
        return CodeRow.model_validate(data)
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            key = ".".join(str(p) for p in e["loc"]) or "<row>"
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = "unknown key (map it with 'fields:' or put free data under 'meta')"
            elif e["type"] == "missing":
                msg = "required key is missing"
            parts.append(f"{key}: {msg}")
        raise ValueError("; ".join(parts)) from None
