"""Task sources and the factory that builds one from its YAML spec."""

from __future__ import annotations

from reasongym.envs.tasks.base import ListSource, TaskSource
from reasongym.envs.tasks.specs import (
    ChampSpec,
    CodeFileSpec,
    CodeProceduralSpec,
    HumanEvalSpec,
    JsonlSpec,
    MixtureSpec,
    ProceduralSpec,
    ReasoningGymSpec,
    TaskSpec,
    part_name,
)


def _file_tasks(spec: JsonlSpec | CodeFileSpec) -> ListSource:
    from reasongym.envs.tasks.file_sources import load_code, load_qa
    from reasongym.envs.tasks.files import raise_row_errors

    try:
        if isinstance(spec, CodeFileSpec):
            tasks, errors = load_code(
                spec.path,
                spec.format,
                fields=spec.fields,
                split=spec.split,
                instructions=spec.instructions,
            )
        else:
            tasks, errors = load_qa(spec.path, spec.source, fields=spec.fields, split=spec.split)
    except ValueError as exc:
        from reasongym.errors import ConfigError

        raise ConfigError(str(spec.path), [("", str(exc))]) from None
    raise_row_errors(str(spec.path), list(errors))
    return ListSource(list(tasks))


def build_source(spec: TaskSpec) -> TaskSource:
    """Build the task source a validated spec describes."""
    if isinstance(spec, ProceduralSpec):
        from reasongym.envs.tasks.procedural import ProceduralSource

        names = [spec.generator] if isinstance(spec.generator, str) else list(spec.generator)
        if spec.curriculum is not None:
            from reasongym.envs.tasks.curriculum_source import CurriculumSource

            return CurriculumSource(
                spec.curriculum, lambda level: ProceduralSource(names, int(level))
            )
        return ProceduralSource(names, spec.difficulty)
    if isinstance(spec, JsonlSpec | CodeFileSpec):
        return _file_tasks(spec)
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

        if spec.curriculum is not None:
            from reasongym.envs.tasks.curriculum_source import CurriculumSource

            return CurriculumSource(
                spec.curriculum, lambda level: CodeProceduralSource(int(level), spec.families)
            )
        return CodeProceduralSource(spec.difficulty, spec.families)
    if isinstance(spec, MixtureSpec):
        from reasongym.envs.tasks.mixture import MixtureSource, Part

        return MixtureSource(
            [
                Part(part_name(i, p), p.weight, build_source(p.task), p.verifier, p.tools)
                for i, p in enumerate(spec.parts)
            ]
        )
    raise TypeError(f"no task source for {type(spec).__name__}")


__all__ = ["ListSource", "TaskSource", "TaskSpec", "build_source"]
