"""Task sources read from data files: question/answer rows and code problem rows.

``load_qa(...)`` and ``load_code(...)`` return the tasks and one ``RowError`` per bad row, so
YAML validation can report every bad row at once (``file:line: problem``); building an env
calls them again (a small cache keyed by the file's path and content hash makes that cheap).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

from reasongym.envs.tasks.files import RowError, read_rows
from reasongym.envs.types import Task

_CACHE: OrderedDict[tuple, tuple[tuple[Task, ...], tuple[RowError, ...]]] = OrderedDict()
_CACHE_SIZE = 8
MAX_TEXT = 1_000_000


def _stamp(path: Path) -> tuple | None:
    """What identifies a file's content: its hash (files up to 256 MB), else size and mtime."""
    try:
        st = path.stat()
        if path.is_file() and st.st_size <= 256 << 20:
            digest = hashlib.blake2b(digest_size=16)
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            return ("hash", digest.hexdigest())
        return ("stat", st.st_size, st.st_mtime_ns)
    except OSError:
        return None


def _key(
    kind: str,
    path: Path,
    fmt: str,
    fields: dict[str, str] | None,
    split: str | None,
    extra: Any,
) -> tuple:
    return (kind, str(path), _stamp(path), fmt, tuple(sorted((fields or {}).items())), split, extra)


def _cached(key: tuple, build):
    if key[2] is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    value = build()
    _CACHE[key] = value
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def _unique_ids(pairs: list[tuple[str, Task]], errors: list[RowError]) -> list[Task]:
    seen: dict[str, str] = {}
    tasks = []
    for where, task in pairs:
        if task.id in seen:
            errors.append(RowError(where, f"id {task.id!r} is also used at {seen[task.id]}"))
            continue
        seen[task.id] = where
        tasks.append(task)
    return tasks


def _qa_task(where: str, index: int, stem: str, row: dict[str, Any]) -> Task:
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise RowError(
            where,
            "expected a non-empty 'question' string (map your column with fields: {question: ...})",
        )
    if "answer" not in row or row["answer"] is None:
        raise RowError(where, "missing key 'answer' (map your column with fields: {answer: ...})")
    answer = row["answer"]
    if isinstance(answer, bool) or not isinstance(answer, str | int | float):
        raise RowError(where, f"'answer' must be text or a number, not {type(answer).__name__}")
    raw_id = row.get("id", f"{stem}/{index}")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise RowError(where, "'id' must be text or an integer")
    if len(question) > MAX_TEXT or len(str(answer)) > MAX_TEXT:
        raise RowError(where, f"question/answer longer than {MAX_TEXT} characters")
    meta = {k: v for k, v in row.items() if k not in ("id", "question", "answer")}
    return Task(id=str(raw_id), question=question, answer=str(answer), meta=meta)


def load_qa(
    path: Path, fmt: str = "auto", *, fields: dict[str, str] | None = None, split: str | None = None
) -> tuple[tuple[Task, ...], tuple[RowError, ...]]:
    """Question/answer rows (``question``, ``answer``, optional ``id``; other columns go to
    ``Task.meta``).

    Raises:
        ValueError: the file as a whole cannot be read.
    """

    def build():
        rows, errors = read_rows(path, fmt, fields=fields, split=split)
        pairs = []
        for index, (where, row) in enumerate(rows):
            try:
                pairs.append((where, _qa_task(where, index, path.stem, row)))
            except RowError as exc:
                errors.append(exc)
        tasks = _unique_ids(pairs, errors)
        return tuple(tasks), tuple(errors)

    return _cached(_key("qa", path, fmt, fields, split, None), build)


def load_code(
    path: Path,
    fmt: str = "auto",
    *,
    fields: dict[str, str] | None = None,
    split: str | None = None,
    instructions: str | None = None,
) -> tuple[tuple[Task, ...], tuple[RowError, ...]]:
    """Code problem rows (see :mod:`reasongym.envs.tasks.code_rows`)."""
    from reasongym.envs.tasks.code_rows import parse_code_row, row_to_task

    def build():
        rows, errors = read_rows(path, fmt, fields=fields, split=split)
        pairs = []
        for where, data in rows:
            try:
                pairs.append((where, row_to_task(parse_code_row(where, data), instructions)))
            except ValueError as exc:
                errors.append(RowError(where, str(exc)))
        tasks = _unique_ids(pairs, errors)
        return tuple(tasks), tuple(errors)

    return _cached(_key("code", path, fmt, fields, split, instructions), build)


DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")


def check_data_file(path: Path) -> tuple[str, int, list[RowError]]:
    """Check a data file on its own (``reasongym validate rows.jsonl``): code rows when any
    row has ``tests`` / ``io_tests``, else question/answer rows.

    Returns:
        ``(kind, number of good rows, row errors)``.

    Raises:
        ValueError: the file as a whole cannot be read.
    """
    rows, _ = read_rows(path)
    code = any(isinstance(r, dict) and ("tests" in r or "io_tests" in r) for _, r in rows)
    tasks, errors = (load_code if code else load_qa)(path)
    return ("code problems" if code else "question/answer rows"), len(tasks), list(errors)
