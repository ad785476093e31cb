"""The YAML boundary: every kind of mistake is a ConfigError naming file, key and fix."""

from __future__ import annotations

import json
import textwrap
import uuid

import gymnasium as gym
import pytest

import reasongym
from reasongym import ConfigError
from reasongym.cli import main as cli_main


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _valid(env_name: str) -> str:
    return f"""
    id: test/{env_name}-v0
    description: A test env.
    kwargs:
      task: {{source: procedural, generator: arithmetic, difficulty: 1}}
      verifier: exact
    """


def test_register_valid_file_and_make(tmp_path):
    name = f"Ok{_uid()}"
    ids = reasongym.register_yaml(_write(tmp_path, "ok.yaml", _valid(name)))
    assert ids == [f"test/{name}-v0"]
    env = gym.make(ids[0])
    obs, info = env.reset(seed=0)
    assert "Compute" in obs and info["task_id"]
    assert reasongym.list_envs()[ids[0]] == "A test env."


def test_jsonl_path_is_relative_to_yaml(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "qa.jsonl").write_text(
        json.dumps({"question": "2+2?", "answer": "4", "id": "q1"}) + "\n"
    )
    name = f"Jsonl{_uid()}"
    path = _write(
        tmp_path,
        "j.yaml",
        f"""
        id: test/{name}-v0
        description: JSONL tasks.
        kwargs:
          task: {{source: jsonl, path: data/qa.jsonl}}
          verifier: exact
        """,
    )
    (env_id,) = reasongym.register_yaml(path)
    env = gym.make(env_id)
    obs, info = env.reset(seed=1)
    assert "2+2?" in obs and info["task_id"] == "q1"
    _, reward, terminated, _, info = env.step("<answer>4</answer>")
    assert reward == 1.0 and terminated and info["is_success"]


@pytest.mark.parametrize(
    ("body", "key", "phrase"),
    [
        (
            "id: test/Bad-v0\ndescription: x\nkwargs: {task: {source: procedural, generator: arithmetic}, verifer: math}\n",
            "kwargs.verifer",
            "unknown key",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nkwargs: {task: {source: procedural, generator: arithmetic}, max_turns: many}\n",
            "kwargs.max_turns",
            "integer",
        ),
        (
            "id: Bad Name\ndescription: x\nkwargs: {task: {source: procedural, generator: arithmetic}}\n",
            "id",
            "namespace/Name-vN",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nkwargs: {task: {source: jsonl, path: missing.jsonl}}\n",
            "kwargs.task.jsonl.path",
            "does not exist",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nkwargs: {task: {source: procedural, generator: nope}}\n",
            "kwargs.task.procedural.generator",
            "unknown generator",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nkwargs: {task: {source: ftp}}\n",
            "kwargs.task",
            "source",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nkwargs: {task: {source: procedural, generator: arithmetic}, tools: [abacus]}\n",
            "kwargs.tools",
            "unknown tool",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nkwargs: {task: {source: reasoning_gym, dataset: no_such_dataset}}\n",
            "kwargs.task.reasoning_gym.dataset",
            "unknown reasoning-gym dataset",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nentry_point: nowhere.module:Env\n",
            "entry_point",
            "cannot import",
        ),
        (
            "id: test/Bad-v0\ndescription: x\nentry_point: gymnasium.envs.classic_control:CartPoleEnv\n",
            "entry_point",
            "ReasonEnv",
        ),
        ("id: test/Bad-v0\nkwargs: {}\n", "description", "missing"),
        ("id: test/Bad-v0\ndescription: x\ncolour: red\n", "colour", "unknown key"),
        ("- just\n- a list\n", "<root>", "mapping"),
        ("id: [unclosed\n", "<root>", "not valid YAML"),
    ],
)
def test_config_errors_name_file_key_and_fix(tmp_path, body, key, phrase):
    path = _write(tmp_path, "bad.yaml", body)
    with pytest.raises(ConfigError) as err:
        reasongym.register_yaml(path)
    message = str(err.value)
    assert str(path) in message
    assert f"  {key}:" in message, message
    assert phrase in message, message
    assert "test/Bad-v0" not in gym.registry


def test_duplicate_id_rejected(tmp_path):
    name = f"Dup{_uid()}"
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    reasongym.register_yaml(_write(first, "dup.yaml", _valid(name)))
    with pytest.raises(ConfigError, match="already registered"):
        reasongym.register_yaml(_write(second, "dup.yaml", _valid(name)))


def test_builtin_ids_cannot_be_shadowed(tmp_path):
    with pytest.raises(ConfigError, match="reserved"):
        reasongym.register_yaml(
            _write(
                tmp_path, "dup.yaml", _valid("Math").replace("test/Math-v0", "reasongym/Math-v0")
            )
        )


def test_folder_with_one_bad_file_registers_nothing(tmp_path):
    name = f"Good{_uid()}"
    _write(tmp_path, "a.yaml", _valid(name))
    _write(
        tmp_path, "b.yaml", "id: test/Broken-v0\ndescription: x\nkwargs: {task: {source: nope}}\n"
    )
    with pytest.raises(ConfigError):
        reasongym.register_yaml(tmp_path)
    assert f"test/{name}-v0" not in gym.registry


def test_duplicate_within_folder(tmp_path):
    name = f"Twice{_uid()}"
    _write(tmp_path, "a.yaml", _valid(name))
    _write(tmp_path, "b.yaml", _valid(name))
    with pytest.raises(ConfigError, match="also declared"):
        reasongym.register_yaml(tmp_path)


def test_validate_cli(tmp_path, capsys):
    good = _write(tmp_path, "good.yaml", _valid(f"V{_uid()}"))
    assert cli_main(["validate", str(good)]) == 0
    bad = _write(
        tmp_path,
        "bad.yaml",
        "id: test/Bad-v0\ndescription: x\nkwargs: {max_turns: 0, task: {source: champ}}\n",
    )
    assert cli_main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "kwargs.max_turns" in err


def test_builtin_files_validate_deeply():
    from reasongym.registration import builtin_config_dir, validate_file, yaml_files

    assert cli_main(["validate", str(builtin_config_dir())]) == 0
    # built-ins are registered without deep validation at import; that must lose nothing
    for file in yaml_files(builtin_config_dir()):
        spec, kwargs = validate_file(file)
        assert gym.spec(spec.id).kwargs == kwargs, f"{file}: normalising its kwargs changes them"


def test_validate_checks_a_data_file_on_its_own(tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text('{"question": "q", "answer": "1"}\n')
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\nnot json\n{"question": "q", "answer": 2}\n')
    code = tmp_path / "code.jsonl"
    code.write_text('{"id": "a", "prompt": "p", "entry_point": "f", "tests": ["assert f("]}\n')
    assert cli_main(["validate", str(good)]) == 0
    assert "1 question/answer rows" in capsys.readouterr().out
    assert cli_main(["validate", str(bad), str(code)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:1:" in err and f"{bad}:2:" in err and f"{bad}:3:" not in err
    assert f"{code}:1:" in err and "not valid Python" in err
