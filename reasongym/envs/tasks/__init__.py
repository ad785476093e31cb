"""Task sources and the factory that builds one from its YAML spec."""

from __future__ import annotations

from reasongym.envs.tasks.base import ListSource, TaskSource
from reasongym.envs.tasks.specs import (
    ChampSpec,
    CodeProceduralSpec,
    HumanEvalSpec,
    JsonlSpec,
    ProceduralSpec,
    ReasoningGymSpec,
    TaskSpec,
)


def build_source(spec: TaskSpec) -> TaskSource:
    """Build the task source a validated spec describes."""
    if isinstance(spec, ProceduralSpec):
        from reasongym.envs.tasks.procedural import ProceduralSource

        names = [spec.generator] if isinstance(spec.generator, str) else list(spec.generator)
        return ProceduralSource(names, spec.difficulty)
    if isinstance(spec, JsonlSpec):
        from reasongym.envs.tasks.jsonl import load_jsonl

        return load_jsonl(spec.path)
    if isinstance(spec, ReasoningGymSpec):
        from reasongym.envs.tasks.reasoning_gym import load_reasoning_gym

        return load_reasoning_gym(spec.dataset, spec.config, spec.size, spec.seed)
    if isinstance(spec, ChampSpec):
        from reasongym.envs.tasks.champ import load_champ

        return load_champ(spec.version)
    if isinstance(spec, HumanEvalSpec):
        from reasongym.envs.tasks.humaneval import load_humaneval

        return load_humaneval()
    if isinstance(spec, CodeProceduralSpec):
        from reasongym.envs.tasks.code_procedural import CodeProceduralSource

        return CodeProceduralSource(spec.difficulty, spec.families)
    raise TypeError(f"no task source for {type(spec).__name__}")


__all__ = ["ListSource", "TaskSource", "TaskSpec", "build_source"]
