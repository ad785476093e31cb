from __future__ import annotations

import json
import subprocess
import sys

from reasongym.cli import main


def test_run_oracle_writes_summary(tmp_path, capsys):
    out = tmp_path / "summary.json"
    code = main(
        [
            "run",
            "reasongym/Arithmetic-v0",
            "--agent",
            "oracle",
            "--episodes",
            "5",
            "--seed",
            "3",
            "--json",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert data["env_id"] == "reasongym/Arithmetic-v0" and data["episodes"] == 5
    assert data["success_rate"] == 1.0 and data["mean_reward"] == 1.0
    assert len(data["results"]) == 5
    table = capsys.readouterr().out
    assert "success rate" in table and "steps/s" in table


def test_run_random_fails_honestly(tmp_path):
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "run",
                "reasongym/Arithmetic-v0",
                "--agent",
                "random",
                "--episodes",
                "3",
                "--json",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["success_rate"] == 0.0 and data["mean_reward"] < 0


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    envs = json.loads(capsys.readouterr().out)
    assert "reasongym/Math-v0" in envs


def test_console_script_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "reasongym.cli", "list"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "reasongym/Math-v0" in proc.stdout


def test_run_tasks_sweeps_each_task_once(tmp_path):
    out = tmp_path / "sweep.json"
    argv = [
        "run",
        "reasongym/Arithmetic-v0",
        "--agent",
        "oracle",
        "--tasks",
        "3:8",
        "--json",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    data = json.loads(out.read_text())
    assert data["episodes"] == 5
    import gymnasium as gym

    env = gym.make("reasongym/Arithmetic-v0")
    wanted = [env.unwrapped.task_row(i)["task_id"] for i in range(3, 8)]
    assert [r["task_id"] for r in data["results"]] == wanted  # tasks 3..7, in order, once each


def test_run_tasks_out_of_range_or_malformed_is_a_clear_error(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["run", "reasongym/Arithmetic-v0", "--tasks", "five", "--quiet"])
    assert "START:STOP" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="outside this env's 164 tasks"):
        main(
            ["run", "reasongym/HumanEval-v0", "--agent", "oracle", "--tasks", "160:170", "--quiet"]
        )


def test_run_rejects_options_the_agent_does_not_take():
    import pytest

    with pytest.raises(SystemExit, match=r"agent 'oracle' does not take --n, --beam-width"):
        main(
            [
                "run",
                "reasongym/Arithmetic-v0",
                "--agent",
                "oracle",
                "--n",
                "4",
                "--beam-width",
                "2",
                "--quiet",
            ]
        )
    with pytest.raises(SystemExit, match="did you mean 'oracle'"):
        main(["run", "reasongym/Arithmetic-v0", "--agent", "orcle", "--quiet"])


def test_run_with_a_mistyped_id_suggests_the_closest(capsys):
    import pytest

    with pytest.raises(SystemExit, match="Did you mean 'reasongym/Arithmetic-v0'"):
        main(["run", "reasongym/Arithmetik-v0", "--quiet"])


def test_run_help_offers_only_guidance_that_builds(capsys):
    import pytest

    from reasongym.agents.search.guidance import build_guidance

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    listed = text.split("what ranks branches:")[1].split(", or a weighted mix")[0]
    names = [n.strip() for n in listed.replace("(prm needs --prm)", "").split(",")]
    assert "env_feedback" not in names and "prm" in names
    for name in names:  # every name the help offers can be built
        build_guidance(name, prm=len)


def prm_prefers_short_steps(messages):
    """A process reward model for the test below: shorter last messages score higher."""
    return 1.0 / (1 + len(str(messages[-1]["content"])))


def test_run_builds_prm_guidance_from_the_command_line(tmp_path):
    import pytest

    from reasongym.agents.models.serve import serve_in_thread

    class Answer:  # a served policy that always answers 0
        def __new__(cls):
            from reasongym.agents.models.base import Completion, LanguageModel

            class LM(LanguageModel):
                def generate(self, prompts, config):
                    c = Completion(
                        "<answer>0</answer>", ("<answer>", "0", "</answer>"), (-0.1,) * 3
                    )
                    return [[c] * config.n for _ in prompts]

            return LM()

    out = tmp_path / "prm.json"
    with serve_in_thread(Answer(), model_name="zero") as server:
        argv = ["run", "reasongym/Arithmetic-v0", "--agent", "bon", "--n", "2", "--base-url", server.base_url,
                "--guidance", "prm", "--prm", "tests.test_cli:prm_prefers_short_steps", "--episodes", "2",
                "--json", str(out), "--quiet"]  # fmt: skip
        assert main(argv) == 0
        stats = json.loads(out.read_text())["agent_stats"]
        assert stats["guidance"] == "prm" and stats["prm_calls"] > 0
        with pytest.raises(SystemExit, match="MODULE:FUNCTION"):
            main([*argv[: argv.index("--prm")], "--prm", "json", "--quiet"])
