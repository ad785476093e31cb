"""The three bridge examples of the README (``examples/integrations/``) run, and the README
shows their code, so neither can rot. SmolLM2 is swapped for in-process models: the tiny
tool-call model for TRL, the scripted policy (tests/integrations/scripted_model.py) for
verifiers; the serve example runs as written."""

from __future__ import annotations

import re
import runpy
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "integrations"
README = (ROOT / "README.md").read_text()


def _example(name: str) -> dict:
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")


def _marked(name: str) -> list[str]:
    """The example's lines between ``# README start`` and ``# README end``."""
    text = (EXAMPLES / f"{name}.py").read_text()
    body = text.split("# README start\n", 1)[1].split("# README end", 1)[0]
    return [
        line for line in body.splitlines() if line.strip() and not line.strip().startswith("# fmt:")
    ]


def _readme_section() -> str:
    start = README.index("## Train with TRL / serve to any trainer")
    return README[start : README.index("\n## ", start + 1)]


@pytest.mark.parametrize("name", ["trl_grpo", "serve_client"])
def test_readme_shows_the_example_code(name):
    lines = _marked(name)
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    block = "\n".join(line[indent:] for line in lines)
    shown = "\n".join(line for line in _readme_section().splitlines() if line.strip())
    assert block in shown, f"README's {name} example differs from {name}.py"


def test_readme_verifiers_commands_use_the_examples_flags(tmp_path):
    commands = _example("verifiers_eval")["commands"]
    vf, run = commands("URL", "smollm2", 2, 32, '{"max_turns": 2}', tmp_path)
    section = _readme_section()
    shell = re.search(r"```bash\n(.*?)```", section[section.index("**verifiers**") :], re.S)
    assert shell is not None
    words = shlex.split(shell.group(1).replace("\\\n", " "), comments=True)
    for argv in (vf[: vf.index("-o")], run[: run.index("--quiet")]):
        flags = [word for word in argv if word.startswith("-")]
        assert all(flag in words for flag in flags), argv
        assert Path(argv[0]).name in words


@pytest.mark.slow
def test_trl_example_tool_calls_reach_the_env_and_its_rewards_reach_trl(tmp_path):
    pytest.importorskip("trl")
    logs = _example("trl_grpo")["main"](["--model", "tiny", "--steps", "2", "--out", str(tmp_path)])
    assert [log["step"] for log in logs] == [1, 2]
    assert sum(log["tools/call_frequency"] for log in logs) > 0
    # the only way to earn a positive reward here is the env paying a working calculator call
    assert max(log["reward"] for log in logs) > 0
    assert all(log["tools/failure_frequency"] == 0 for log in logs)


def test_serve_example_against_a_live_server():
    pytest.importorskip("openenv")
    from tests.integrations.conftest import served

    with served("reasongym/Maze-v0") as (url, _app):
        out = _example("serve_client")["run"](url)
    assert out["image_shape"] == (84, 84, 3)
    assert out["turn"] == 1 and out["openenv_done"] is False
    assert out["replayed"] is True  # set_state brought the remote env back


@pytest.mark.slow
def test_verifiers_example_rewards_equal_reasongym_run(tmp_path):
    pytest.importorskip("verifiers")
    from tests.integrations.scripted_model import CalculatorThenAnswer

    tasks = 8
    argv = ["--model", "scripted", "--tasks", str(tasks), "--env-kwargs", "{}"]
    argv += ["--out", str(tmp_path)]
    rows = _example("verifiers_eval")["main"](argv, policy=CalculatorThenAnswer())
    assert len(rows) == tasks
    assert all(theirs == ours for _, theirs, ours in rows), rows
    assert 0 < sum(ours for *_, ours in rows) < tasks  # some tasks fail: the match is informative
