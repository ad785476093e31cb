"""Reading the data files people have: JSONL, JSON, CSV, Parquet and ``datasets`` folders.

Every reader returns ``(where, row)`` pairs: ``where`` names the file and line (or row) so an
error about one row can say exactly where it is, and ``row`` is a plain dict. A column
mapping (``fields: {question: problem, answer: solution}``: our key -> the file's column)
renames columns; unmapped columns keep their names. Nothing here trusts the file: a line that
is not JSON, nests too deep or holds an integer too long to convert is a row error, never an
exception from deep inside a library.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from reasongym.errors import ConfigError

FileFormat = Literal["jsonl", "json", "csv", "parquet", "hf_disk"]
FORMATS: tuple[str, ...] = ("jsonl", "json", "csv", "parquet", "hf_disk")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
}
#: Rows reported per file before "... and N more" (a broken file should not flood the screen).
MAX_REPORTED = 12
#: Rows read from one file at most (a safety bound for files from strangers).
MAX_ROWS = 1_000_000


class RowError(Exception):
    """A problem with one row; ``where`` is ``file:line`` (or ``file row i``)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def resolve_data_path(
    value: Path, context: dict[str, Any] | None, *, folder_ok: bool = False
) -> Path:
    """Resolve a data path named in a YAML file, relative to that file.

    A YAML file may come from a stranger, and whatever it reads ends up in prompts (which
    may go to a remote model), so a path in a YAML file must stay inside the folder being
    registered (``context["root"]``, symlinks resolved): no ``..`` escapes, no absolute paths
    elsewhere (``/proc/self/environ``, ``~/.ssh/...``). Paths given in code (no context,
    e.g. ``gym.make(id, task={...})``) are the caller's own and are only checked to exist.
    """
    context = context or {}
    base = context.get("base_dir")
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    try:
        resolved = value.resolve()
        root = context.get("root", base)
        outside = root is not None and not resolved.is_relative_to(Path(root).resolve())
        exists = resolved.is_file() or (folder_ok and resolved.is_dir())
    except (OSError, ValueError, RuntimeError) as exc:  # e.g. a name too long, a symlink loop
        raise ValueError(
            f"{str(value)[:200]!r} cannot be used as a path: {type(exc).__name__}: {exc}"[:400]
        ) from None
    if outside:
        raise ValueError(
            f"{str(value)!r} is outside {str(root)!r}: a YAML file may only read data inside the "
            "folder it is registered from (pass other paths in code, e.g. gym.make(id, task={...}))"
        )
    if not exists:
        what = "file or folder" if folder_ok else "file"
        raise ValueError(
            f"{what} {str(value)!r} does not exist (paths are relative to the YAML file)"
        )
    return resolved


def detect_format(path: Path) -> str:
    """The format a path's suffix (or being a folder) implies."""
    if path.is_dir():
        return "hf_disk"
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its suffix; name it with "
            f"'format:' (one of {list(FORMATS)})"
        )
    return fmt


def _json_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise ValueError(f"not valid JSON: {str(exc)[:120]}") from None


def _read_jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8", errors="strict") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                yield where, _json_loads(line)
            except ValueError as exc:
                yield where, RowError(where, str(exc))


def _read_json(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        data = _json_loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        yield str(path), RowError(str(path), str(exc))
        return
    if isinstance(data, dict):
        lists = [
            key
            for key in ("data", "rows", "examples", "problems")
            if isinstance(data.get(key), list)
        ]
        if not lists:
            yield (
                str(path),
                RowError(
                    str(path),
                    "expected a list of rows, or an object with a 'data' (or 'rows') list",
                ),
            )
            return
        data = data[lists[0]]
    if not isinstance(data, list):
        yield str(path), RowError(str(path), "expected a list of rows")
        return
    for i, row in enumerate(data):
        yield f"{path} row {i}", row


def _read_csv(path: Path) -> Iterator[tuple[str, Any]]:
    csv.field_size_limit(16 * 1024 * 1024)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            yield str(path), RowError(str(path), "the CSV file has no header row")
            return
        start = reader.line_num + 1
        for row in reader:
            where = f"{path}:{start}"
            start = reader.line_num + 1
            if None in row:
                yield where, RowError(where, "more values than header columns")
                continue
            yield where, dict(row)


def _read_parquet(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reading Parquet needs pyarrow: pip install 'reasongym[data]'") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        raise ValueError(f"{path} is not a readable Parquet file: {exc}") from None
    for i, row in enumerate(table.to_pylist()):
        yield f"{path} row {i}", row


def _read_hf_disk(path: Path, split: str | None) -> Iterator[tuple[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise ValueError(
            "reading a datasets folder needs datasets: pip install 'reasongym[data]'"
        ) from None
    try:
        data = datasets.load_from_disk(str(path))
    except Exception as exc:  # not a save_to_disk folder, or a corrupt one
        raise ValueError(
            f"{path} is not a folder written by datasets' save_to_disk: {exc}"
        ) from None
    if isinstance(data, datasets.DatasetDict):
        if split is None:
            if len(data) != 1:
                raise ValueError(f"{path} holds splits {sorted(data)}; choose one with 'split:'")
            split = next(iter(data))
        if split not in data:
            raise ValueError(f"{path} has no split {split!r}; it has {sorted(data)}")
        data = data[split]
    elif split is not None:
        raise ValueError(f"{path} is a single dataset (no splits); drop 'split:'")
    label = f"{path}[{split}]" if split else str(path)
    for i, row in enumerate(data):
        yield f"{label} row {i}", dict(row)


def read_rows(
    path: str | Path,
    fmt: str = "auto",
    *,
    fields: dict[str, str] | None = None,
    split: str | None = None,
) -> tuple[list[tuple[str, dict[str, Any]]], list[RowError]]:
    """Read every row of a data file, with the column mapping applied.

    Args:
        path: the file (or ``save_to_disk`` folder).
        fmt: one of ``FORMATS`` or "auto" (from the suffix).
        fields: our key -> the file's column name.
        split: the split of a ``DatasetDict`` folder.

    Returns:
        The good rows as ``(where, row)`` and one ``RowError`` per bad row.

    Raises:
        ValueError: the file as a whole cannot be read (missing library, wrong format).
    """
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    readers = {
        "jsonl": lambda: _read_jsonl(path),
        "json": lambda: _read_json(path),
        "csv": lambda: _read_csv(path),
        "parquet": lambda: _read_parquet(path),
        "hf_disk": lambda: _read_hf_disk(path, split),
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; choose from {list(FORMATS)}")
    if split is not None and fmt != "hf_disk":
        raise ValueError("'split:' applies only to a datasets folder (format hf_disk)")
    mapping = dict(fields or {})
    rows: list[tuple[str, dict[str, Any]]] = []
    errors: list[RowError] = []
    try:
        for n, (where, row) in enumerate(readers[fmt]()):
            if n >= MAX_ROWS:
                errors.append(RowError(str(path), f"more than {MAX_ROWS} rows; split the file"))
                break
            if isinstance(row, RowError):
                errors.append(row)
                continue
            if not isinstance(row, dict):
                errors.append(
                    RowError(where, f"expected an object (a row), got {type(row).__name__}")
                )
                continue
            missing = [col for col in mapping.values() if col not in row]
            if missing:
                errors.append(
                    RowError(
                        where,
                        f"no column {missing[0]!r} (named in 'fields'); it has {sorted(map(str, row))[:12]}",
                    )
                )
                continue
            renamed = {ours: row[theirs] for ours, theirs in mapping.items()}
            mapped_cols = set(mapping.values())
            for key, value in row.items():
                if key not in mapped_cols and key not in renamed:
                    renamed[str(key)] = value
            rows.append((where, renamed))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from None
    return rows, errors


def row_errors_message(errors: list[RowError]) -> str:
    """One message listing the first bad rows (each ``file:line: problem``)."""
    shown = [f"{e.where}: {e.message}" for e in errors[:MAX_REPORTED]]
    more = len(errors) - len(shown)
    if more:
        shown.append(f"... and {more} more bad row(s)")
    head = f"{len(errors)} bad row(s):" if len(errors) > 1 else "bad row:"
    return head + "\n    " + "\n    ".join(shown)


def raise_row_errors(file: str, errors: list[RowError]) -> None:
    """Raise a ConfigError with one problem per bad row (used outside YAML validation)."""
    if errors:
        problems = [(e.where, e.message) for e in errors[:MAX_REPORTED]]
        if len(errors) > MAX_REPORTED:
            problems.append(("", f"... and {len(errors) - MAX_REPORTED} more bad row(s)"))
        raise ConfigError(file, problems)
