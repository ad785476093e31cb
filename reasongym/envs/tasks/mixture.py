"""A mixture of task sources, sampled by weight (the way RL training sets are built).

Sampling draws the part with the env's RNG (by weight), then a task of that part with the
same RNG, so a seed fixes the whole sequence. Indexing is deterministic too: when every part
is finite, ``source[i]`` walks the parts one after another (so ``reasongym.tasks`` enumerates
each task once); when a part is procedural, task ``i`` is drawn from ``default_rng(i)``.
Each task is tagged with its part: ``meta["source"]`` (shown as ``info["source"]``), and the
part's ``verifier`` / ``tools`` when it names them (a code row's own verifier wins).
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from reasongym.envs.tasks.base import TaskSource, is_unbounded
from reasongym.envs.types import Task

_INDEX_SPACE = 2**62


@dataclass
class Part:
    name: str
    weight: float
    source: TaskSource
    verifier: str | None = None
    tools: list[str] | None = None


class MixtureSource(TaskSource):
    """Tasks from several sources by weight (see the module docstring)."""

    def __init__(self, parts: list[Part]):
        if not parts:
            raise ValueError("a mixture needs at least one part")
        self.parts = parts
        total = sum(p.weight for p in parts)
        self._cumulative = np.cumsum([p.weight / total for p in parts]).tolist()
        self._cumulative[-1] = 1.0
        self.unbounded = any(is_unbounded(p.source) for p in parts)
        self._offsets = [0]
        if not self.unbounded:
            for p in parts:
                self._offsets.append(self._offsets[-1] + len(p.source))

    def __len__(self) -> int:
        return _INDEX_SPACE if self.unbounded else self._offsets[-1]

    def _pick(self, rng: np.random.Generator) -> int:
        return min(bisect.bisect_right(self._cumulative, float(rng.random())), len(self.parts) - 1)

    def _tag(self, k: int, task: Task) -> Task:
        part = self.parts[k]
        meta = dict(task.meta)
        meta["source"] = part.name
        if part.verifier is not None and not meta.get("verifier"):
            meta["verifier"] = part.verifier
        if part.tools is not None:
            meta["tools"] = list(part.tools)
        return dataclasses.replace(task, id=f"{part.name}/{task.id}", meta=meta)

    def __getitem__(self, index: int) -> Task:
        if not 0 <= index < len(self):
            raise IndexError(index)
        if self.unbounded:
            rng = np.random.default_rng(index)
            k = self._pick(rng)
            source = self.parts[k].source
            return self._tag(k, source[int(rng.integers(len(source)))])
        k = bisect.bisect_right(self._offsets, index) - 1
        return self._tag(k, self.parts[k].source[index - self._offsets[k]])

    def sample(self, rng: np.random.Generator) -> Task:
        k = self._pick(rng)
        return self._tag(k, self.parts[k].source.sample(rng))

    def verifier_names(self) -> set[str]:
        names = {p.verifier for p in self.parts if p.verifier}
        for p in self.parts:
            names |= p.source.verifier_names()
        return names

    def tool_names(self) -> list[str]:
        out: list[str] = []
        for p in self.parts:
            for name in [*(p.tools or []), *p.source.tool_names()]:
                if name not in out:
                    out.append(name)
        return out

    def _part_of(self, task: Task) -> Part | None:
        name = task.meta.get("source")
        return next((p for p in self.parts if p.name == name), None)

    def end_episode(self, task: Task, success: bool) -> None:
        part = self._part_of(task)
        if part is not None:
            part.source.end_episode(task, success)

    def snapshot(self) -> Any:
        return {p.name: p.source.snapshot() for p in self.parts}

    def restore(self, data: Any) -> None:
        for p in self.parts:
            p.source.restore((data or {}).get(p.name))

    def info(self, task: Task | None) -> dict[str, Any]:
        part = self._part_of(task) if task is not None else None
        if part is None:
            return {}
        return {"source": part.name, **part.source.info(task)}
