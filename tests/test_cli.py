from __future__ import annotations

import json
import subprocess
import sys

from reasongym.cli import main


def test_run_oracle_writes_summary(tmp_path, capsys):
    out = tmp_path / "summary.json"
    code = main(["run", "reasongym/Arithmetic-v0", "--agent", "oracle", "--episodes", "5", "--seed", "3", "--json", str(out), "--quiet"])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["env_id"] == "reasongym/Arithmetic-v0" and data["episodes"] == 5
    assert data["success_rate"] == 1.0 and data["mean_reward"] == 1.0
    assert len(data["results"]) == 5
    table = capsys.readouterr().out
    assert "success rate" in table and "steps/s" in table


def test_run_random_fails_honestly(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "reasongym/Arithmetic-v0", "--agent", "random", "--episodes", "3", "--json", str(out), "--quiet"]) == 0
    data = json.loads(out.read_text())
    assert data["success_rate"] == 0.0 and data["mean_reward"] < 0


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    envs = json.loads(capsys.readouterr().out)
    assert "reasongym/Math-v0" in envs


def test_console_script_runs():
    proc = subprocess.run([sys.executable, "-m", "reasongym.cli", "list"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "reasongym/Math-v0" in proc.stdout
