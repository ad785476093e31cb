"""JSONL task files: one ``{"question": str, "answer": str, "id"?: str}`` per line."""

from __future__ import annotations

import json
from pathlib import Path

from reasongym.envs.tasks.base import ListSource
from reasongym.envs.types import Task
from reasongym.errors import ConfigError


def load_jsonl(path: str | Path) -> ListSource:
    """Read a JSONL task file; bad lines are a ConfigError naming the line."""
    path = Path(path)
    tasks, problems = [], []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((f"line {lineno}", f"not valid JSON: {exc.msg}"))
            continue
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            problems.append((f"line {lineno}", 'expected {"question": str, "answer": str, "id"?: str}'))
            continue
        if "answer" not in row:
            problems.append((f"line {lineno}", "missing key 'answer'"))
            continue
        meta = {k: v for k, v in row.items() if k not in ("id", "question", "answer")}
        tasks.append(Task(str(row.get("id", f"{path.stem}/{lineno}")), row["question"], str(row["answer"]), meta))
    if problems:
        raise ConfigError(str(path), problems)
    if not tasks:
        raise ConfigError(str(path), [("", "the file holds no tasks")])
    return ListSource(tasks)
