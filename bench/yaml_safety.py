"""YAML safety: what hostile environment files cost before and after the bounded loader.

Each attack file is read in a fresh subprocess (address space capped at 2 GiB, 60 s wall
clock) two ways: the loading path of before issue 12 (``yaml.load`` with libyaml's safe
loader, then the top-level pydantic model walking the result) and ``reasongym.safe_yaml``
(what registration uses now). The table shows wall time, peak RSS and the outcome.

    python bench/yaml_safety.py

Measured here (2 shared cores): billion laughs (636 B) before: killed at the 60 s limit,
after: ConfigError in 0.3 ms; a 49 MB file before: killed at 60 s, after: ConfigError in
0.1 ms (refused on its size, unread); an ordinary file: 0.3 ms before, 0.4 ms after.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    r"""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    mode, path = sys.argv[1], sys.argv[2]
    from typing import Any
    import yaml
    from pydantic import BaseModel, ConfigDict
    from reasongym.errors import ConfigError
    from reasongym.safe_yaml import load_yaml_file

    class EnvFile(BaseModel):
        model_config = ConfigDict(extra="allow")
        kwargs: dict[str, Any] = {}

    t = time.perf_counter()  # imports excluded
    try:
        if mode == "before":
            raw = yaml.load(open(path, encoding="utf-8").read(), Loader=yaml.CSafeLoader)
            EnvFile.model_validate(raw)
            json.dumps(raw)  # what storing the kwargs in a gymnasium spec amounts to
            outcome = "accepted"
        else:
            try:
                load_yaml_file(path)
                outcome = "accepted"
            except ConfigError as exc:
                outcome = "ConfigError: " + exc.problems[0][1][:48]
    except MemoryError:
        outcome = "MemoryError"
    except Exception as exc:
        outcome = type(exc).__name__
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"s": time.perf_counter() - t, "mb": rss, "outcome": outcome}))
    """
)


def _attacks(folder: Path) -> dict[str, Path]:
    files = {}
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    laughs = folder / "laughs.yaml"
    laughs.write_text("\n".join(lines) + "\nid: x/L-v0\ndescription: x\nkwargs: {task: *a9}\n")
    files[f"billion laughs ({laughs.stat().st_size} B)"] = laughs
    big = folder / "big.yaml"
    with big.open("w") as handle:
        handle.write("id: x/B-v0\ndescription: x\nkwargs:\n  rows:\n")
        row = "    - {question: 'what is 1 + 1?', answer: '2', notes: 'padding padding padding'}\n"
        handle.write(row * (50 * 1024 * 1024 // len(row)))
    files[f"large file ({big.stat().st_size >> 20} MB)"] = big
    ok = folder / "ok.yaml"
    ok.write_text("id: x/Ok-v0\ndescription: ok\nkwargs: {task: {source: champ}, verifier: math}\n")
    files["ordinary file"] = ok
    return files


def _run(mode: str, path: Path) -> dict:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return {"s": 60.0, "mb": float("nan"), "outcome": "timed out (60 s)"}
    if proc.returncode != 0 or not proc.stdout.strip():
        return {
            "s": float("nan"),
            "mb": float("nan"),
            "outcome": f"crashed (exit {proc.returncode})",
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, path in _attacks(Path(tmp)).items():
            rows.append((name, _run("before", path), _run("after", path)))
    print(
        f"{'file':<26} | {'before: s':>9} {'MB':>7}  outcome{'':<20} | {'after: s':>8} {'MB':>6}  outcome"
    )
    print("-" * 130)
    for name, before, after in rows:
        print(
            f"{name:<26} | {before['s']:9.4f} {before['mb']:7.0f}  {before['outcome'][:27]:<27} | "
            f"{after['s']:8.4f} {after['mb']:6.0f}  {after['outcome']}"
        )


if __name__ == "__main__":
    main()
