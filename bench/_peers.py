"""Helpers for benchmarks that run a peer library in its own virtual environment.

Peers (GEM, llm-sandbox, ...) pin versions that conflict with ours, so each lives in
``bench/.venvs/<name>`` (created on first use from PyPI) and is driven through a subprocess
that prints one JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

VENVS = Path(__file__).resolve().parent / ".venvs"


def peer_python(name: str, requirements: list[str]) -> Path:
    """The interpreter of peer venv ``name``, creating it and installing ``requirements``."""
    root = VENVS / name
    python = root / "bin" / "python"
    stamp = root / ".installed"
    wanted = "\n".join(requirements)
    if not python.exists():
        print(f"[bench] creating venv for {name} in {root}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(root)
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"[bench] installing {' '.join(requirements)} into {root}", file=sys.stderr)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *requirements,
            ],
            check=True,
        )
        stamp.write_text(wanted)
    return python


def run_peer(python: Path, script: str, payload: dict, timeout: float = 1800) -> dict:
    """Run ``script`` with ``python``; it reads JSON from stdin and prints JSON last."""
    proc = subprocess.run(
        [str(python), "-c", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"peer script failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
