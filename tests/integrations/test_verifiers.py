"""A reasongym id as a verifiers taskset, run by verifiers' own ``vf-eval`` entry point
against a policy served on loopback by ``reasongym.agents.models.serve``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("verifiers")

from reasongym.agents.models.serve import serve_in_thread  # noqa: E402
from reasongym.cli import main  # noqa: E402
from tests.integrations.scripted_model import CalculatorThenAnswer  # noqa: E402

ENV = "reasongym/Arithmetic-v0"
TASKS = 8


def _vf_eval() -> str:
    found = shutil.which("vf-eval", path=str(Path(sys.executable).parent)) or shutil.which(
        "vf-eval"
    )
    if found is None:
        pytest.skip("vf-eval (verifiers' CLI) is not on PATH")
    return found


def test_taskset_loads_through_verifiers_own_loader():
    from verifiers.v1.utils.loaders import environment_class, load_taskset, taskset_config_type

    config = taskset_config_type("reasongym-env").model_validate(
        {"id": "reasongym-env", "env_id": ENV, "num_tasks": 3}
    )
    tasks = list(load_taskset(config))
    assert [t.data.task_index for t in tasks] == [0, 1, 2]
    assert all("Problem" in t.data.prompt for t in tasks)
    assert len({t.key for t in tasks}) == 3
    assert environment_class("reasongym-env").__name__ == "ReasonGymEnv"


@pytest.mark.slow
def test_vf_eval_rewards_match_reasongym_run(tmp_path):
    exe = _vf_eval()
    with serve_in_thread(CalculatorThenAnswer(), model_name="scripted") as server:
        argv = [
            "run",
            ENV,
            "--agent",
            "llm",
            "--base-url",
            server.base_url,
            "--model",
            "scripted",
            "--tasks",
            f"0:{TASKS}",
            "--quiet",
            "--json",
            str(tmp_path / "run.json"),
        ]
        assert main(argv) == 0
        env = {**os.environ, "OPENAI_API_KEY": "unused", "PRIME_API_KEY": ""}
        result = subprocess.run(
            [
                exe,
                "reasongym-env",
                "--env.taskset.env-id",
                ENV,
                "--env.taskset.num-tasks",
                str(TASKS),
                "-m",
                "scripted",
                "--client.base-url",
                server.base_url,
                "--client.api-key-var",
                "OPENAI_API_KEY",
                "--no-push",
                "-o",
                str(tmp_path / "vf"),
                "--clean",
                "true",
                "-c",
                "4",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    ours = {
        r["task_id"]: r["reward"]
        for r in json.loads((tmp_path / "run.json").read_text())["results"]
    }
    traces = [
        json.loads(line)
        for f in (tmp_path / "vf").rglob("traces.jsonl")
        for line in f.read_text().splitlines()
        if line.strip()
    ]
    assert len(traces) == TASKS
    theirs = {t["task"]["data"]["id"]: _reward(t) for t in traces}
    assert theirs == ours
    assert 0 < sum(ours.values()) < TASKS  # the policy fails some tasks: the match is informative


def _reward(episode: dict) -> float:
    """``reasongym_reward`` of an episode line of ``traces.jsonl`` (one agent trace)."""
    (trace,) = episode["traces"]
    return float(trace["rewards"]["reasongym_reward"]["score"])
