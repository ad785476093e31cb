"""JSONL task files: one ``{"question": str, "answer": str, "id"?: str}`` per line.

Kept for callers of ``load_jsonl``; every data format is read by
:mod:`reasongym.envs.tasks.file_sources`.
"""

from __future__ import annotations

from pathlib import Path

from reasongym.envs.tasks.base import ListSource
from reasongym.errors import ConfigError


def load_jsonl(path: str | Path) -> ListSource:
    """Read a JSONL task file; bad lines are a ConfigError naming ``file:line``."""
    from reasongym.envs.tasks.file_sources import load_qa
    from reasongym.envs.tasks.files import raise_row_errors

    path = Path(path)
    tasks, errors = load_qa(path, "jsonl")
    raise_row_errors(str(path), list(errors))
    if not tasks:
        raise ConfigError(str(path), [("", "the file holds no tasks")])
    return ListSource(list(tasks))
