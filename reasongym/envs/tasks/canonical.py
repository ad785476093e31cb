"""``reasongym validate --run-canonical``: grade each code task's own ``canonical_solution``
with the env's verifier, and report the rows whose reference solution fails its tests (a
broken test, a wrong expected output, a too-tight time limit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class CanonicalReport:
    """What running the canonical solutions of one file found."""

    file: Path
    checked: int = 0
    without: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def text(self) -> str:
        if self.skipped:
            return f"     {self.file}: canonical solutions not run ({self.skipped})"
        head = (
            f"     {self.file}: {self.checked - len(self.failures)}/{self.checked} canonical "
            f"solutions pass" + (f" ({self.without} tasks have none)" if self.without else "")
        )
        lines = [head]
        for task_id, why in self.failures:
            lines.append(f"  FAIL {task_id}: " + why.replace("\n", "\n       "))
        return "\n".join(lines)


def _finite_tasks(source: Any, max_tasks: int) -> list[Any]:
    """Every task of the finite parts of a source (a mixture's procedural parts are skipped)."""
    from reasongym.envs.tasks.base import is_unbounded
    from reasongym.envs.tasks.mixture import MixtureSource

    if isinstance(source, MixtureSource):
        out = []
        for k, part in enumerate(source.parts):
            if not is_unbounded(part.source):
                out += [
                    source._tag(k, part.source[i]) for i in range(min(len(part.source), max_tasks))
                ]
        return out
    if is_unbounded(source):
        return []
    return [source[i] for i in range(min(len(source), max_tasks))]


def run_canonical(
    file: Path, spec: Any, kwargs: dict[str, Any], *, max_tasks: int = 10_000
) -> CanonicalReport:
    """Grade each task that has ``meta["canonical_solution"]`` with the verifier the env
    would use for it, and record the ones that do not pass."""
    from reasongym.envs.text import TextTaskEnv
    from reasongym.registration import load_entry_point

    report = CanonicalReport(Path(file))
    cls = load_entry_point(spec.entry_point)
    if not issubclass(cls, TextTaskEnv):
        report.skipped = "not a text env"
        return report
    env = cls(**kwargs)
    try:
        tasks = _finite_tasks(env.source, max_tasks)
        if not tasks:
            report.skipped = "procedural tasks have no canonical solutions"
            return report
        for task in tasks:
            solution = task.meta.get("canonical_solution")
            if not solution:
                report.without += 1
                continue
            report.checked += 1
            verifier = env._verifiers[env._routing.verifier_for(task)]
            verdict = verifier(task, solution)
            if not verdict.correct:
                why = verdict.details.get("feedback") or f"score {verdict.score:.2f}"
                report.failures.append((task.id, str(why)))
    finally:
        env.close()
    return report
