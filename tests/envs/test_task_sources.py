"""Every kind of task declared in YAML (issue 18): data files, code rows, mixtures, curricula,
puzzles from files — and every mistake in these keys reported at once, naming file:line."""

from __future__ import annotations

import json
import shutil
import textwrap
import uuid
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import reasongym
from reasongym import ConfigError
from reasongym.registration import validate_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "yaml"


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _yaml(tmp_path: Path, body: str, name: str = "env.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def _register(tmp_path: Path, kwargs: str, **extra: str) -> str:
    env_id = f"test/Src{_uid()}-v0"
    head = "".join(f"{k}: {v}\n" for k, v in extra.items())
    path = _yaml(
        tmp_path,
        f"id: {env_id}\ndescription: x\n{head}kwargs:\n{textwrap.indent(textwrap.dedent(kwargs), '  ')}",
    )
    (registered,) = reasongym.register_yaml(path)
    return registered


def _problems(excinfo) -> str:
    return str(excinfo.value)


# -- data files -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("example", "questions"),
    [
        (
            "CsvMath-v0",
            ["What is 17 * 3?", "What is 2/3 + 1/6? Give a fraction.", "Solve for x: 2x + 3 = 11."],
        ),
        (
            "JsonMath-v0",
            [
                "How many minutes are in 3.5 hours?",
                "What is the square root of 144?",
                "What is 15% of 80?",
            ],
        ),
        ("ParquetMath-v0", ["What is 7 + 8?", "What is 9 * 9?", "What is 2^10?"]),
        ("HfDiskMath-v0", ["What is 3 + 4?", "What is 12 / 4?"]),
    ],
)
def test_data_file_examples_pose_their_rows_and_the_oracle_solves_them(example, questions):
    reasongym.register_yaml(EXAMPLES / "data")
    env_id = f"examples/{example}"
    rows = reasongym.tasks(env_id)
    assert [row["prompt"].rsplit("Problem:\n", 1)[-1] for row in rows] == questions
    env = gym.make(env_id)
    for i in range(len(questions)):
        env.reset(options={"task_index": i})
        _, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
        assert terminated and info["is_success"] and reward > 0


def test_extra_columns_go_to_meta_and_fields_rename_columns(tmp_path):
    (tmp_path / "rows.csv").write_text("prob,sol,level\nWhat is 1+1?,2,easy\n")
    env_id = _register(
        tmp_path,
        "task: {source: csv, path: rows.csv, fields: {question: prob, answer: sol}}\nverifier: exact",
    )
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    assert "What is 1+1?" in obs
    assert env.unwrapped._state.task.meta == {"level": "easy"}
    _, reward, *_ = env.step("<answer>2</answer>")
    assert reward > 0


def test_every_bad_row_is_reported_at_once_with_file_and_line(tmp_path):
    lines = [
        json.dumps({"question": "ok?", "answer": "1"}),
        "{not json",
        json.dumps({"question": "no answer"}),
        json.dumps(["a", "list"]),
        json.dumps({"question": "", "answer": "1"}),
        json.dumps({"question": "dup", "answer": "1", "id": "x"}),
        json.dumps({"question": "dup", "answer": "2", "id": "x"}),
        "[" * 100_000 + "]" * 100_000,
    ]
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(lines) + "\n")
    path = _yaml(
        tmp_path,
        f"id: test/Rows{_uid()}-v0\ndescription: x\nkwargs: {{task: {{source: jsonl, path: rows.jsonl}}}}\n",
    )
    with pytest.raises(ConfigError) as err:
        reasongym.register_yaml(path)
    message = _problems(err)
    assert str(path) in message and "kwargs.task.jsonl" in message
    for lineno in (2, 3, 4, 5, 7, 8):
        assert f"{data}:{lineno}:" in message, message
    assert f"{data}:1:" not in message and f"{data}:6:" not in message
    assert "missing key 'answer'" in message and "not valid JSON" in message


@pytest.mark.parametrize(
    ("files", "task", "phrase"),
    [
        (
            {"a.csv": "x,y\n1,2\n"},
            "{source: csv, path: a.csv, fields: {question: problem, answer: y}}",
            "no column 'problem'",
        ),
        (
            {"a.csv": "question,answer\nq,1,extra\n"},
            "{source: csv, path: a.csv}",
            "more values than header",
        ),
        ({"a.json": '{"items": []}'}, "{source: json, path: a.json}", "expected a list of rows"),
        (
            {"a.parquet": "not parquet"},
            "{source: parquet, path: a.parquet}",
            "not a readable Parquet file",
        ),
        ({}, "{source: jsonl, path: missing.jsonl}", "does not exist"),
        (
            {"a.csv": "question,answer\nq,1\n"},
            "{source: csv, path: a.csv, fields: {question: q, colour: c}}",
            "colour",
        ),
        ({"a.csv": "question,answer\nq,1\n"}, "{source: csv, path: a.csv, split: train}", "split"),
    ],
)
def test_data_file_mistakes_name_the_file_and_key(tmp_path, files, task, phrase):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    path = _yaml(tmp_path, f"id: test/Bad{_uid()}-v0\ndescription: x\nkwargs: {{task: {task}}}\n")
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    assert str(path) in _problems(err) and "kwargs.task" in _problems(err)
    assert phrase in _problems(err), _problems(err)


def test_hf_disk_folder_with_splits_needs_a_split(tmp_path):
    shutil.copytree(EXAMPLES / "data" / "qa_hf", tmp_path / "qa_hf")
    path = _yaml(
        tmp_path,
        f"id: test/Hf{_uid()}-v0\ndescription: x\nkwargs: {{task: {{source: hf_disk, path: qa_hf, "
        "fields: {question: problem, answer: solution}}}\n",
    )
    with pytest.raises(ConfigError, match=r"splits \['test', 'train'\]"):
        validate_file(path)


# -- code rows --------------------------------------------------------------------------------
def test_code_row_mistakes_are_all_reported_with_lines(tmp_path):
    rows = [
        {"id": "ok", "prompt": "p", "entry_point": "f", "tests": ["assert f() == 1"]},
        {
            "id": "both",
            "prompt": "p",
            "entry_point": "f",
            "tests": ["assert f()"],
            "io_tests": [{"input": "", "output": "1"}],
        },
        {"id": "noentry", "prompt": "p", "tests": ["assert f()"]},
        {"id": "syntax", "prompt": "p", "entry_point": "f", "tests": ["assert f( =="]},
        {"id": "typo", "prompt": "p", "entry_point": "f", "test": ["assert f()"]},
        {"id": "ok", "prompt": "p", "io_tests": [{"input": "", "output": "1"}]},
        {
            "id": "cmp",
            "prompt": "p",
            "io_tests": [{"input": "", "output": "1"}],
            "compare": "fuzzy",
        },
        {
            "id": "time",
            "prompt": "p",
            "io_tests": [{"input": "", "output": "1"}],
            "time_limit_s": 0,
        },
        {"id": "name", "prompt": "p", "entry_point": "import", "tests": ["assert 1"]},
    ]
    data = tmp_path / "code.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    path = _yaml(
        tmp_path,
        f"id: test/Code{_uid()}-v0\ndescription: x\nkwargs: {{task: {{source: code_jsonl, path: code.jsonl}}, verifier: code_tests}}\n",
    )
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    message = _problems(err)
    for lineno, phrase in [
        (2, "not both"),
        (3, "entry_point"),
        (4, "not valid Python"),
        (5, "unknown key"),
        (6, "'ok' is also used"),
        (7, "compare"),
        (8, "time_limit_s"),
        (9, "not a Python function name"),
    ]:
        line = next((ln for ln in message.splitlines() if f"{data}:{lineno}:" in ln), "")
        assert phrase in line, (lineno, message)
    assert f"{data}:1:" not in message


def test_code_rows_become_the_tasks_the_verifiers_grade():
    from reasongym.envs.tasks.file_sources import load_code

    tasks, errors = load_code(EXAMPLES / "code" / "problems.jsonl")
    assert not errors
    add, palindrome, program = tasks
    assert add.meta["verifier"] == "code_tests" and add.meta["entry_point"] == "add"
    assert [s["test"] for s in add.meta["steps"]] == [True, True, True]
    assert "prompt" not in add.meta  # prose prompt: not prepended to the answer
    assert palindrome.meta["prompt"].startswith("def is_palindrome")  # HumanEval-style stub
    assert palindrome.meta["steps"][0] == {
        "name": "setup",
        "code": "CASES = [('Abba', True), ('abc', False), ('', True)]",
        "test": False,
    }
    assert palindrome.answer.startswith("```python\ndef is_palindrome")  # stub + body
    assert program.meta["verifier"] == "program_io"
    assert program.meta["compare"] == {"mode": "whitespace", "tolerance": 1e-6}
    assert len(program.meta["io_tests"]) == 3 and program.meta["time_limit_s"] == 2


def test_the_row_schema_document_is_current():
    from reasongym.envs.tasks.code_rows import code_row_schema

    shipped = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "code_row.schema.json").read_text()
    )
    assert shipped == code_row_schema(), (
        "regenerate docs/code_row.schema.json (see docs/yaml_tasks.md)"
    )


def test_csv_code_rows_hold_tests_as_json_text(tmp_path):
    from reasongym.envs.tasks.file_sources import load_code

    (tmp_path / "code.csv").write_text(
        'id,prompt,entry_point,tests\nsq,"Write sq(x).",sq,"[""assert sq(2) == 4"", ""assert sq(0) == 0""]"\n'
    )
    tasks, errors = load_code(tmp_path / "code.csv")
    assert not errors and [s["code"] for s in tasks[0].meta["steps"]] == [
        "assert sq(2) == 4",
        "assert sq(0) == 0",
    ]


# -- mixtures ---------------------------------------------------------------------------------
def _mixture_rollout(env_id: str, seed: int, episodes: int) -> list[tuple[str, str]]:
    env = gym.make(env_id)
    out = []
    obs, info = env.reset(seed=seed)
    for _ in range(episodes):
        out.append((info["source"], info["task_id"]))
        obs, info = env.reset()
    env.close()
    return out


def test_mixture_is_deterministic_per_seed_and_follows_the_weights():
    reasongym.register_yaml(EXAMPLES / "mixture")
    first = _mixture_rollout("examples/MathAndCode-v0", 3, 200)
    assert first == _mixture_rollout("examples/MathAndCode-v0", 3, 200)
    assert first != _mixture_rollout("examples/MathAndCode-v0", 4, 200)
    share = sum(source == "code" for source, _ in first) / len(first)
    assert 0.2 < share < 0.4, share  # declared weight 0.3
    assert all(task_id.startswith(f"{source}/") for source, task_id in first)


def test_mixture_parts_have_their_own_tools_and_verifier():
    reasongym.register_yaml(EXAMPLES / "mixture")
    env = gym.make("examples/MathAndCode-v0")
    seen = set()
    for seed in range(40):
        obs, info = env.reset(seed=seed)
        names = [spec.name for spec in env.unwrapped.tools]
        if info["source"] == "arithmetic":
            assert names == ["calculator", "submit_answer"] and "python" not in obs
            _, reward, _, _, step_info = env.step('<tool name="python">print(1)</tool>')
            assert "unknown tool 'python'" in step_info["messages"][-1]["content"]
            assert step_info["source"] == "arithmetic"
        else:
            assert names == ["python", "submit_answer"]
        seen.add(info["source"])
    assert seen == {"arithmetic", "code"}
    env.close()


def test_tasks_enumerates_a_finite_mixture_once_each(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        "".join(json.dumps({"question": f"a{i}", "answer": str(i)}) + "\n" for i in range(3))
    )
    (tmp_path / "b.csv").write_text("question,answer\nb0,0\nb1,1\n")
    env_id = _register(
        tmp_path,
        """
        task:
          source: mixture
          parts:
            - {weight: 1, name: A, task: {source: jsonl, path: a.jsonl}}
            - {weight: 3, name: B, task: {source: csv, path: b.csv}, verifier: exact}
        """,
    )
    rows = reasongym.tasks(env_id)
    assert [r["task_id"] for r in rows] == ["A/a/0", "A/a/1", "A/a/2", "B/b/0", "B/b/1"]
    assert gym.make(env_id).unwrapped.num_tasks == 5


def test_mixture_mistakes_are_reported_together(tmp_path):
    path = _yaml(
        tmp_path,
        f"""
        id: test/Mix{_uid()}-v0
        description: x
        kwargs:
          task:
            source: mixture
            parts:
              - {{weight: 0, task: {{source: procedural, generator: arithmetic}}}}
              - {{weight: 1, task: {{source: procedural, generator: nope}}, verifier: fuzzy, tools: [abacus]}}
          max_turns: 0
        """,
    )
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    keys = [key for key, _ in err.value.problems]
    for key in (
        "kwargs.task.mixture.parts.0.weight",
        "kwargs.task.mixture.parts.1.task.procedural.generator",
        "kwargs.task.mixture.parts.1.verifier",
        "kwargs.task.mixture.parts.1.tools",
        "kwargs.max_turns",
    ):
        assert key in keys, keys


# -- curricula ---------------------------------------------------------------------------------
def test_success_rate_curriculum_promotes_and_set_state_restores_it():
    reasongym.register_yaml(EXAMPLES / "curriculum")
    env = gym.make("examples/ArithmeticCurriculum-v0")
    _, info = env.reset(seed=0)
    assert info["curriculum"]["level"] == 0 and info["task_id"].startswith("arithmetic/d1/")
    for _ in range(9):  # window 10, promote_at 0.8: nine solved episodes are not yet enough
        env.step(env.unwrapped.oracle_action())
        _, info = env.reset()
    assert info["curriculum"]["level"] == 0
    snapshot = env.unwrapped.get_state()
    _, _, _, _, info = env.step(env.unwrapped.oracle_action())
    assert info["curriculum"]["level"] == 1
    _, info = env.reset()
    assert info["task_id"].startswith("arithmetic/d2/")
    env.unwrapped.set_state(snapshot)
    assert env.unwrapped.source.info(None)["curriculum"]["level"] == 0
    _, _, terminated, _, info = env.step("<answer>wrong</answer>")
    # the restored window still holds the nine successes: 9/10 >= 0.8 promotes
    assert terminated and info["curriculum"]["level"] == 1
    fresh = gym.make("examples/ArithmeticCurriculum-v0")
    fresh.reset(seed=0)
    for _ in range(10):  # failing keeps the level
        _, _, terminated, _, info = fresh.step("<answer>wrong</answer>")
        assert terminated
        _, info = fresh.reset()
    assert info["curriculum"] == {
        "level": 0,
        "value": 1,
        "levels": 4,
        "episodes": 10,
        "success_rate": 0.0,
    }


def test_episode_curriculum_counts_ended_episodes_not_resets(tmp_path):
    env_id = _register(
        tmp_path,
        """
        task: {source: procedural, generator: fractions, curriculum: {levels: [1, 3], episodes_per_level: 2}}
        verifier: math
        max_turns: 1
        """,
    )
    env = gym.make(env_id)
    env.reset(seed=1)
    for _ in range(5):
        _, info = env.reset()  # abandoned: not counted
    assert info["curriculum"] == {
        "level": 0,
        "value": 1,
        "levels": 2,
        "episodes": 0,
        "success_rate": None,
    }
    for _ in range(2):
        env.step("no answer here")  # truncated after one turn: counted
        _, info = env.reset()
    assert info["curriculum"]["level"] == 1 and "/d3/" in info["task_id"]


def test_puzzle_curriculum_changes_knobs_not_spaces():
    reasongym.register_yaml(EXAMPLES / "curriculum")
    env = gym.make(
        "examples/SlidingCurriculum-v0",
        curriculum={
            "schedule": "episodes",
            "episodes_per_level": 1,
            "levels": [{"scramble": 2}, {"scramble": 30}],
        },
    )
    space = env.observation_space
    _, info = env.reset(seed=0)
    assert info["curriculum"]["level"] == 0 and info["optimal_steps"] <= 2
    while True:
        _, _, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
        if terminated or truncated:
            break
    _, info = env.reset()
    assert info["curriculum"]["level"] == 1 and info["optimal_steps"] > 2
    assert env.observation_space == space


@pytest.mark.parametrize(
    ("curriculum", "phrase"),
    [
        ("{levels: [{size: 4}]}", "may not change 'size'"),
        ("{levels: [{scramble: -1}]}", "levels[0]"),
        ("{levels: [{colour: 1}]}", "unknown key"),
        ("{levels: [4]}", "mapping of knobs"),
        ("{levels: [{scramble: 2}], start_level: 3}", "start_level"),
    ],
)
def test_puzzle_curriculum_mistakes(tmp_path, curriculum, phrase):
    path = _yaml(
        tmp_path,
        f"id: test/Cur{_uid()}-v0\ndescription: x\nentry_point: reasongym.envs.puzzles.sliding:SlidingPuzzleEnv\n"
        f"kwargs: {{size: 3, curriculum: {curriculum}}}\n",
    )
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    assert phrase in _problems(err) and "kwargs" in _problems(err)


def test_procedural_curriculum_levels_are_difficulties(tmp_path):
    path = _yaml(
        tmp_path,
        f"id: test/Cur{_uid()}-v0\ndescription: x\nkwargs: {{task: {{source: procedural, generator: arithmetic, curriculum: {{levels: [1, 11]}}}}}}\n",
    )
    with pytest.raises(ConfigError, match=r"levels\[1\] = 11"):
        validate_file(path)


# -- puzzles from files --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("example", "count"), [("SokobanLevels-v0", 3), ("SudokuGrids-v0", 3), ("MazeFile-v0", 2)]
)
def test_puzzle_instances_from_files_are_a_frozen_set(example, count):
    reasongym.register_yaml(EXAMPLES / "puzzles")
    env = gym.make(f"examples/{example}")
    assert env.unwrapped.num_tasks == count
    boards = []
    for i in range(count):
        obs, info = env.reset(options={"task_index": i})
        boards.append(obs.split("Current board")[-1])
        for _ in range(200):
            _, _, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
            if terminated or truncated:
                break
        assert info["is_success"], (example, i)
    assert len(set(boards)) == count
    seeded = {env.reset(seed=s)[0].split("Current board")[-1] for s in range(20)}
    assert seeded <= set(boards)
    with pytest.raises(ValueError):
        env.reset(options={"task_index": count})


@pytest.mark.parametrize(
    ("puzzle", "size", "text", "phrase"),
    [
        ("sokoban:SokobanEnv", 7, "#####\n#@@.#\n# $ #\n#####\n", "exactly one player"),
        ("sokoban:SokobanEnv", 7, "#####\n#@$ #\n#####\n", "as many goals as boxes"),
        ("sokoban:SokobanEnv", 5, "#######\n#@$. #\n#######\n", "larger than size"),
        ("sokoban:SokobanEnv", 7, "#####\n @$.#\n#####\n", "walk off the board"),
        ("sudoku:SudokuEnv", 4, "1200\n", "16 cells"),
        ("sudoku:SudokuEnv", 4, "0000000000000000\n", "more than one solution"),
        ("sudoku:SudokuEnv", 4, "1100000000000000\n", "no solution"),
        ("maze:MazeEnv", 5, "#####\n#S#.#\n###.#\n#..G#\n#####\n", "cannot be reached"),
        ("maze:MazeEnv", 5, "#####\n#SG.#\n#...#\n#...#\n#####\n", "bottom-right"),
    ],
)
def test_bad_puzzle_instances_name_file_and_line(tmp_path, puzzle, size, text, phrase):
    (tmp_path / "levels.txt").write_text("; a comment line\n\n" + text)
    path = _yaml(
        tmp_path,
        f"id: test/Inst{_uid()}-v0\ndescription: x\nentry_point: reasongym.envs.puzzles.{puzzle}\n"
        f"kwargs: {{size: {size}, instances: {{path: levels.txt}}}}\n",
    )
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    assert f"{tmp_path / 'levels.txt'}:3:" in _problems(err) and phrase in _problems(err), (
        _problems(err)
    )


def test_instances_are_refused_for_puzzles_without_a_format(tmp_path):
    (tmp_path / "x.txt").write_text("1\n")
    path = _yaml(
        tmp_path,
        f"id: test/Inst{_uid()}-v0\ndescription: x\nentry_point: reasongym.envs.puzzles.lights_out:LightsOutEnv\n"
        "kwargs: {instances: {path: x.txt}}\n",
    )
    with pytest.raises(ConfigError, match="Sokoban, Sudoku and Maze"):
        validate_file(path)


def test_mixture_sampling_uses_only_the_env_rng():
    from reasongym.envs.tasks.base import ListSource
    from reasongym.envs.tasks.mixture import MixtureSource, Part
    from reasongym.envs.types import Task

    def make():
        return MixtureSource(
            [
                Part("a", 1.0, ListSource([Task(f"a{i}", "q", "1") for i in range(5)])),
                Part("b", 1.0, ListSource([Task(f"b{i}", "q", "1") for i in range(5)])),
            ]
        )

    np.random.seed(0)
    first = [make().sample(np.random.default_rng(11)).id for _ in range(3)]
    np.random.seed(1)
    assert first == [make().sample(np.random.default_rng(11)).id for _ in range(3)]


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        (
            "{task: {source: procedural, generator: arithmetic}, verifier: code_tests}",
            "question/answer",
        ),
        ("{task: {source: champ}, verifier: program_io}", "question/answer"),
        ("{task: {source: code_procedural}, verifier: math}", "code_tests"),
        (
            "{task: {source: mixture, parts: [{weight: 1, task: {source: procedural, generator: arithmetic}, verifier: code_tests}]}}",
            "parts[0]",
        ),
    ],
)
def test_a_verifier_that_cannot_grade_the_tasks_is_a_config_error(tmp_path, kwargs, phrase):
    path = _yaml(tmp_path, f"id: test/Vf{_uid()}-v0\ndescription: x\nkwargs: {kwargs}\n")
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    assert phrase in _problems(err), _problems(err)


@pytest.mark.parametrize(
    "where", ["../outside.jsonl", "/proc/self/environ", "link.jsonl", "sub/../../outside.jsonl"]
)
def test_a_yaml_file_reads_no_data_outside_its_folder(tmp_path, where):
    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps({"question": "secret", "answer": "1"}) + "\n")
    folder = tmp_path / "envs"
    (folder / "sub").mkdir(parents=True)
    (folder / "link.jsonl").symlink_to(outside)
    path = _yaml(
        folder,
        f"id: test/Out{_uid()}-v0\ndescription: x\nkwargs: {{task: {{source: jsonl, path: '{where}'}}}}\n",
    )
    with pytest.raises(ConfigError, match="outside"):
        reasongym.register_yaml(folder)
    with pytest.raises(ConfigError, match="outside"):
        validate_file(path)


def test_paths_given_in_code_are_the_callers_own(tmp_path):
    (tmp_path / "rows.jsonl").write_text(json.dumps({"question": "q?", "answer": "1"}) + "\n")
    folder = tmp_path / "envs"
    folder.mkdir()
    (folder / "own.jsonl").write_text(json.dumps({"question": "own?", "answer": "2"}) + "\n")
    env_id = _register(folder, "task: {source: jsonl, path: own.jsonl}\nverifier: exact")
    env = gym.make(env_id, task={"source": "jsonl", "path": str(tmp_path / "rows.jsonl")})
    obs, _ = env.reset(seed=0)
    assert "q?" in obs


def _example_ids() -> list[str]:
    return sorted(reasongym.register_yaml(EXAMPLES))


@pytest.mark.parametrize("env_id", _example_ids())
def test_example_envs_pickle_with_their_sources(env_id):
    import pickle

    env = gym.make(env_id)
    env.reset(seed=0)
    copy = pickle.loads(pickle.dumps(env))
    first, second = env.reset(seed=3)[0], copy.reset(seed=3)[0]
    if isinstance(first, dict):
        first, second = first["text"], second["text"]
    assert first == second
    env.close()
    copy.close()


def test_a_curriculum_inside_a_mixture_part_counts_only_its_own_episodes():
    from reasongym.envs.tasks import build_source
    from reasongym.envs.tasks.specs import MixtureSpec

    spec = MixtureSpec.model_validate(
        {
            "source": "mixture",
            "parts": [
                {
                    "weight": 1,
                    "name": "cur",
                    "task": {
                        "source": "code_procedural",
                        "curriculum": {"levels": [1, 4], "episodes_per_level": 2},
                    },
                },
                {
                    "weight": 1,
                    "name": "plain",
                    "task": {"source": "procedural", "generator": "arithmetic"},
                },
            ],
        }
    )
    source = build_source(spec)
    rng = np.random.default_rng(0)
    tasks = {name: None for name in ("cur", "plain")}
    while None in tasks.values():
        task = source.sample(rng)
        tasks[task.meta["source"]] = task
    assert source.parts[0].source.current.difficulty == 1
    for _ in range(3):
        source.end_episode(tasks["plain"], True)  # another part's episodes do not count
    assert source.info(tasks["cur"])["curriculum"]["level"] == 0
    for _ in range(2):
        source.end_episode(tasks["cur"], False)
    assert source.parts[0].source.current.difficulty == 4
    assert source.info(tasks["cur"])["curriculum"] == {
        "level": 1,
        "value": 4,
        "levels": 2,
        "episodes": 2,
        "success_rate": None,
    }
    state = source.snapshot()
    fresh = build_source(spec)
    fresh.restore(state)
    assert fresh.info(tasks["cur"])["curriculum"]["level"] == 1
    assert source.info(tasks["plain"]) == {"source": "plain"}
