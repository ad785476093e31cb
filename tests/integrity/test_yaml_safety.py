"""YAML files from a stranger: nothing they name runs, nothing they hold blows up, nothing
they declare shadows a built-in id. Every refusal is a ConfigError naming the file."""

from __future__ import annotations

import textwrap
import uuid

import gymnasium as gym
import pytest

import reasongym
from reasongym import ConfigError
from reasongym.cli import main as cli_main
from reasongym.registration import validate_file

MARKER_MODULE = '''
"""A harmless stand-in for a dangerous callable: it proves it was called by writing a file."""
import pathlib, gymnasium as gym

MARKER = pathlib.Path({marker!r})

def popen(*args, **kwargs):
    MARKER.write_text("called popen")

class NotAnEnv:
    def __init__(self, *args, **kwargs):
        MARKER.write_text("NotAnEnv instantiated")

class PlainGymEnv(gym.Env):
    def __init__(self, *args, **kwargs):
        MARKER.write_text("PlainGymEnv instantiated")
'''


@pytest.fixture
def marker_module(tmp_path, monkeypatch):
    """A module on sys.path whose callables write ``marker`` when called."""
    name = f"rg_marker_{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "marker.txt"
    pkg = tmp_path / "mods"
    pkg.mkdir()
    (pkg / f"{name}.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(pkg))
    return name, marker


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _uid() -> str:
    return uuid.uuid4().hex[:8]


@pytest.mark.parametrize("attr", ["popen", "NotAnEnv", "PlainGymEnv"])
def test_entry_point_that_is_not_a_reasonenv_never_runs(tmp_path, marker_module, capsys, attr):
    module, marker = marker_module
    env_id = f"test/Shell{_uid()}-v0"
    path = _write(
        tmp_path,
        "shell.yaml",
        f"""
        id: {env_id}
        description: looks innocent
        entry_point: {module}:{attr}
        kwargs: {{args: "echo pwned > {marker}", shell: true}}
        """,
    )
    with pytest.raises(ConfigError) as err:
        reasongym.register_yaml(path)
    assert str(path) in str(err.value) and "entry_point" in str(err.value)
    assert "ReasonEnv" in str(err.value)
    assert env_id not in gym.registry
    assert cli_main(["validate", str(path)]) == 1
    assert "ReasonEnv" in capsys.readouterr().err
    with pytest.raises(gym.error.Error):
        gym.make(env_id)
    assert not marker.exists(), marker.read_text()


def test_a_module_that_does_not_define_the_class_is_never_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported.txt"
    pkg = tmp_path / "pkgs" / f"rg_side_{uuid.uuid4().hex[:8]}"
    (pkg / "sub").mkdir(parents=True)
    # the package, its subpackage and the module all write the marker when imported
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py", pkg / "sub" / "mod.py"):
        init.write_text(f"open({str(marker)!r}, 'a').write({init.name!r})\nOther = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    for entry in (f"{pkg.name}.sub.mod:Env", f"{pkg.name}.sub.missing:Env", f"{pkg.name}:Env"):
        path = _write(
            tmp_path,
            "side.yaml",
            f"id: test/Side{_uid()}-v0\ndescription: x\nentry_point: {entry}\n",
        )
        with pytest.raises(ConfigError, match="ReasonEnv"):
            validate_file(path)
        assert cli_main(["validate", str(path)]) == 1
    assert not marker.exists(), marker.read_text()


@pytest.mark.parametrize(
    "entry_point", ["subprocess:Popen", "os:system", "builtins:eval", "pty:spawn"]
)
def test_standard_library_entry_points_are_refused(tmp_path, entry_point):
    path = _write(
        tmp_path,
        "std.yaml",
        f"id: test/Std{_uid()}-v0\ndescription: x\nentry_point: {entry_point}\n",
    )
    with pytest.raises(ConfigError, match="standard-library") as err:
        validate_file(path)
    assert str(path) in str(err.value)


def test_billion_laughs_is_refused_before_building_objects(tmp_path):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    path = tmp_path / "laughs.yaml"  # 10**10 "lol"s once expanded, in about 1 KB
    path.write_text(
        "\n".join(lines) + f"\nid: test/Laughs{_uid()}-v0\ndescription: x\nkwargs: {{task: *a9}}\n"
    )
    assert len(path.read_bytes()) < 1500
    with pytest.raises(ConfigError, match="expands to more than") as err:
        reasongym.register_yaml(path)
    assert str(path) in str(err.value)


def test_merge_keys_count_towards_the_bound(tmp_path):
    lines = ["b0: &b0 {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8}"]
    for i in range(1, 12):
        lines.append(f"b{i}: &b{i} {{x: *b{i - 1}, y: *b{i - 1}, <<: *b{i - 1}}}")
    path = tmp_path / "merge.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="expands to more than"):
        validate_file(path)


def test_huge_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("id: test/Huge-v0\ndescription: x\nkwargs:\n")
        handle.write("  # padding\n" * 500_000)  # ~6 MB
    with pytest.raises(ConfigError, match="limit") as err:
        validate_file(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("a: &a [*a]\n", "refers to itself"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
        (
            "id: test/Int-v0\ndescription: x\nmax_episode_steps: " + "9" * 10_000 + "\n",
            "cannot be read",
        ),
        ("id: test/Bin-v0\ndescription: \xff\xfe\n", "UTF-8"),
        ("id: !!python/object/apply:os.system [echo hi]\n", "not valid YAML"),
    ],
)
def test_hostile_yaml_shapes_are_config_errors(tmp_path, text, phrase):
    path = tmp_path / "hostile.yaml"
    path.write_bytes(text.encode("utf-8") if "\xff" not in text else text.encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    assert phrase in str(err.value).replace("nesting", "nest").replace("nested", "nest"), str(
        err.value
    )
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("env_id", "phrase"),
    [
        ("reasongym/\u041cath-v0", "ASCII"),  # Cyrillic М
        ("reasongym/Math\u200b-v0", "ASCII"),  # zero-width space
        ("\uff52easongym/Math-v0", "ASCII"),  # fullwidth r
        ("reasongym/Math-v0", "reserved"),  # overwrite a built-in
        ("reasongym/Brand-New-v0", "reserved"),  # add to the built-in namespace
        ("ReasonGym/Math-v0", "reserved"),  # letter case does not make it someone else's
        ("Math-v0", "namespace/Name-vN"),
        ("ns/Name", "namespace/Name-vN"),
        ("a/b/Name-v0", "namespace/Name-vN"),
        ("ns:mod/Name-v0", "namespace/Name-vN"),
    ],
)
def test_ids_are_ascii_gymnasium_ids_outside_the_reserved_namespace(tmp_path, env_id, phrase):
    before = gym.spec("reasongym/Math-v0")
    path = _write(
        tmp_path,
        "id.yaml",
        f"id: '{env_id}'\ndescription: x\nkwargs: {{task: {{source: champ}}}}\n",
    )
    with pytest.raises(ConfigError) as err:
        reasongym.register_yaml(path, replace=True)
    assert "  id:" in str(err.value) and phrase in str(err.value), str(err.value)
    assert env_id not in gym.registry or env_id == "reasongym/Math-v0"
    assert gym.spec("reasongym/Math-v0") is before


def test_every_problem_of_a_file_is_reported_at_once(tmp_path, marker_module):
    module, marker = marker_module
    path = _write(
        tmp_path,
        "many.yaml",
        f"""
        id: test/Bad Name
        colour: red
        entry_point: {module}:popen
        kwargs: {{}}
        """,
    )
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    keys = {key for key, _ in err.value.problems}
    assert {"id", "colour", "description", "entry_point"} <= keys, err.value.problems
    assert not marker.exists()


def test_kwargs_problems_come_with_top_level_ones(tmp_path):
    path = _write(
        tmp_path,
        "both.yaml",
        "id: test/Both-v0\ncolour: red\ndescription: x\nkwargs: {task: {source: champ}, max_turns: 0, verifer: math}\n",
    )
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    keys = {key for key, _ in err.value.problems}
    assert {"colour", "kwargs.max_turns", "kwargs.verifer"} <= keys, err.value.problems


def _good(name: str) -> str:
    return f"id: test/{name}-v0\ndescription: ok\nkwargs: {{task: {{source: champ}}, verifier: math}}\n"


def test_folder_reports_every_bad_file_and_registers_none(tmp_path):
    good = f"Good{_uid()}"
    _write(tmp_path, "a_good.yaml", _good(good))
    b = _write(
        tmp_path, "b_bad.yaml", "id: test/B-v0\ndescription: x\nkwargs: {task: {source: nope}}\n"
    )
    c = _write(tmp_path, "c_bad.yaml", "id: reasongym/C-v0\ndescription: x\n")
    with pytest.raises(ConfigError) as err:
        reasongym.register_yaml(tmp_path)
    assert {e.file for e in err.value.errors} == {str(b), str(c)}
    assert str(b) in str(err.value) and str(c) in str(err.value)
    assert f"test/{good}-v0" not in gym.registry


def test_collision_in_a_later_file_registers_no_earlier_file(tmp_path):
    taken = f"Taken{_uid()}"
    other = tmp_path / "other"
    other.mkdir()
    reasongym.register_yaml(_write(other, "taken.yaml", _good(taken)))
    folder = tmp_path / "folder"
    folder.mkdir()
    fresh = f"Fresh{_uid()}"
    _write(folder, "a.yaml", _good(fresh))
    _write(folder, "b.yaml", _good(taken))
    with pytest.raises(ConfigError, match="already registered"):
        reasongym.register_yaml(folder)
    assert f"test/{fresh}-v0" not in gym.registry


def test_registering_the_same_file_twice_is_a_no_op(tmp_path):
    name = f"Twice{_uid()}"
    path = _write(tmp_path, "twice.yaml", _good(name))
    assert reasongym.register_yaml(path) == [f"test/{name}-v0"]
    assert reasongym.register_yaml(path) == [f"test/{name}-v0"]
    path.write_text(_good(name).replace("verifier: math", "verifier: exact"))
    with pytest.raises(ConfigError, match="already registered"):
        reasongym.register_yaml(path)
    assert reasongym.register_yaml(path, replace=True) == [f"test/{name}-v0"]
    assert gym.spec(f"test/{name}-v0").kwargs["verifier"] == "exact"


# -- generated hostile files: whatever the bytes, validation answers with a ConfigError -----
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_GOOD = (
    "id: test/Fuzz-v0\ndescription: fuzz\nkwargs:\n"
    "  task: {source: jsonl, path: rows.jsonl}\n  verifier: math\n  max_turns: 3\n"
)
_YAML_BITS = st.sampled_from(
    [
        "&a ",
        "*a",
        "<<: *a",
        "!!python/object:os.system",
        "!!binary",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "- ",
        "\n  ",
        "\t",
        "\x00",
        "\ud800",
        "\u041c",
        "9" * 5000,
        "~",
        "? ",
        "|\n",
        "'",
        '"',
        "source: mixture",
        "parts: [",
        "curriculum: {levels: [",
        "entry_point: os:system\n",
    ]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(min_value=0, max_value=len(_GOOD)),
    insert=st.lists(_YAML_BITS, max_size=6),
    tail=st.text(max_size=40),
)
def test_mutated_files_give_a_config_error_or_a_valid_spec(tmp_path, cut, insert, tail):
    (tmp_path / "rows.jsonl").write_text('{"question": "q", "answer": "1"}\n')
    path = tmp_path / "fuzz.yaml"
    text = _GOOD[:cut] + "".join(insert) + _GOOD[cut:] + tail
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        validate_file(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


_ROW_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_ROW_KEYS = st.sampled_from(
    [
        "id",
        "prompt",
        "entry_point",
        "tests",
        "setup",
        "io_tests",
        "compare",
        "tolerance",
        "time_limit_s",
        "canonical_solution",
        "starter_code",
        "meta",
        "input",
        "output",
        "question",
        "answer",
    ]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.dictionaries(_ROW_KEYS, _ROW_VALUES, max_size=8), min_size=1, max_size=4))
def test_generated_rows_are_tasks_or_row_errors(tmp_path, rows):
    import json

    from reasongym.envs.tasks.file_sources import load_code, load_qa

    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    for load in (load_code, load_qa):
        tasks, errors = load(path)
        assert len(tasks) + len(errors) == len(rows)
        assert all(str(path) in e.where for e in errors)
