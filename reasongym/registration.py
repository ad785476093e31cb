"""YAML environment files -> validated specs -> ``gymnasium.register``.

One file declares one env id::

    id: myproject/Fractions-v1
    description: Add and simplify fractions.
    entry_point: reasongym.envs.text:TextTaskEnv   # optional (this is the default)
    kwargs: {...}                                  # validated by the entry point's Config
                                                   # (the step limit is kwargs.max_turns)

A file may come from a stranger, so reading one is bounded and executes nothing it names
until it is known to be an environment:

* the file is read by :mod:`reasongym.safe_yaml` (size, node count after alias expansion,
  nesting depth, no recursive anchors), before any Python object is built;
* ``id`` is ASCII in gymnasium's ``namespace/Name-vN`` form; the ``reasongym`` namespace (in
  any letter case) belongs to the files shipped with the package, so a user file can neither
  add to it nor overwrite it;
* ``entry_point`` must name a :class:`reasongym.envs.base.ReasonEnv` subclass. Modules of
  the standard library are refused outright; any other module not imported yet is first
  located and its source read without running it (its parents neither), and it is imported
  only if that source defines (or imports) the named class at the top level; then the
  class is checked before anything is called. Naming such a module does import it (as
  ``gym.make`` would). ``kwargs`` are always validated by the class's ``Config``;
* every mistake of a file (top-level keys, entry point, kwargs) is reported in one
  :class:`reasongym.ConfigError` naming the file, the key path and the fix; a folder reports
  all its files' errors at once, and registers nothing unless every file is valid.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import WrapperSpec
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reasongym.errors import ConfigError
from reasongym.safe_yaml import load_yaml_file

DEFAULT_ENTRY_POINT = "reasongym.envs.text:TextTaskEnv"
#: ASCII only, so a look-alike (e.g. a Cyrillic letter) can never pass for a real id.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*/[A-Za-z0-9_][A-Za-z0-9_.-]*?-v\d{1,6}$")
ENTRY_POINT_PATTERN = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
)
MAX_ID_CHARS = 128
#: The namespace of the built-in files (compared case-insensitively).
RESERVED_NAMESPACE = "reasongym"
#: A folder with more YAML files than this is refused (a typo such as ``/`` as the folder).
MAX_FILES = 2_000


class EnvFile(BaseModel):
    """The top level of a YAML environment file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="namespace/Name-vN, e.g. myproject/Fractions-v0 (ASCII)")
    description: str = Field(
        min_length=1, max_length=500, description="one line shown by `reasongym list`"
    )
    entry_point: str = DEFAULT_ENTRY_POINT
    max_episode_steps: int | None = Field(default=None, gt=0, le=1_000_000)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not value.isascii():
            bad = sorted({f"{c!r} (U+{ord(c):04X})" for c in value if not c.isascii()})
            raise ValueError(f"ids are ASCII only; {value!r} contains {', '.join(bad)}")
        if len(value) > MAX_ID_CHARS or not ID_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a gymnasium id: use 'namespace/Name-vN' (letters, digits, "
                "'_', '.', '-'; at most 128 characters), e.g. 'myproject/Fractions-v0'"
            )
        return value

    @field_validator("entry_point")
    @classmethod
    def _check_entry_point(cls, value: str) -> str:
        if not ENTRY_POINT_PATTERN.match(value):
            raise ValueError(f"{value!r} must look like 'package.module:ClassName' (ASCII)")
        return value


@dataclass(frozen=True)
class EnvRecord:
    """What reasongym knows about one registered id."""

    id: str
    description: str
    entry_point: str
    file: str | None


_RECORDS: dict[str, EnvRecord] = {}


def _key_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _problems(err: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for e in err.errors():
        key = _key_path(e["loc"])
        key = f"{prefix}.{key}" if prefix and key else (prefix or key)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the entry point's Config for valid keys)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append((key, msg))
    return out


def namespace_of(env_id: str) -> str:
    return env_id.split("/", 1)[0] if "/" in env_id else ""


def is_reserved(env_id: str) -> bool:
    """Whether an id lies in the built-in ``reasongym`` namespace (any letter case)."""
    return namespace_of(env_id).casefold() == RESERVED_NAMESPACE


MAX_MODULE_SOURCE_BYTES = 4 << 20


def _find_spec_without_running(module_name: str):
    """The import spec of ``module_name``, found without executing any module that is not
    imported yet (``importlib.util.find_spec`` would import the parent packages)."""
    import importlib.machinery

    parts = module_name.split(".")
    spec = None
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        if name in sys.modules:
            spec = getattr(sys.modules[name], "__spec__", None)
            continue
        if depth == 1:
            spec = importlib.util.find_spec(name)  # a top-level lookup runs no module code
        else:
            locations = getattr(spec, "submodule_search_locations", None) if spec else None
            if not locations:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, list(locations))
        if spec is None:
            return None
    return spec


def _defines(tree: ast.Module, attr: str) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == attr:
            return True
        if isinstance(node, ast.ImportFrom | ast.Import):
            if any((alias.asname or alias.name.split(".")[0]) == attr for alias in node.names):
                return True
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == attr for t in targets):
                return True
    return False


def _static_check(module_name: str, attr: str) -> str | None:
    """Before importing a module named by a YAML file, read its source: it must be Python
    source that defines (or imports) ``attr`` at the top level, so that naming an arbitrary
    installed module (whose import may do anything) is refused without running it."""
    try:
        spec = _find_spec_without_running(module_name)
    except (ImportError, ValueError) as exc:
        return f"cannot locate module {module_name!r}: {exc}"
    if spec is None:
        return f"no module named {module_name!r} is installed"
    origin = spec.origin or ""
    if spec.submodule_search_locations and origin.endswith("__init__.py") is False:
        return f"{module_name!r} is a namespace package, not a module defining {attr!r}"
    if not origin.endswith(".py"):
        return f"{module_name!r} is not Python source ({origin or 'built-in'}); an env class lives in a .py file"
    try:
        with open(origin, "rb") as handle:
            source = handle.read(MAX_MODULE_SOURCE_BYTES + 1)
        if len(source) > MAX_MODULE_SOURCE_BYTES:
            return f"{origin} is larger than {MAX_MODULE_SOURCE_BYTES} bytes"
        tree = ast.parse(source, filename=origin)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"cannot read {origin}: {type(exc).__name__}: {exc}"
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attr:
            return f"{attr!r} in {origin} is a function, not an environment class"
    if not _defines(tree, attr):
        return f"module {module_name!r} ({origin}) does not define {attr!r}"
    return None


def load_entry_point(entry_point: str) -> type:
    """Import ``'package.module:ClassName'`` and return it if it is a ReasonEnv subclass.

    Raises:
        ValueError: with the reason (standard-library module, not importable, not a class,
            not a ReasonEnv subclass, no pydantic ``Config``).
    """
    from reasongym.envs.base import ReasonEnv

    if not ENTRY_POINT_PATTERN.match(entry_point):
        raise ValueError(f"{entry_point!r} must look like 'package.module:ClassName'")
    module_name, attr = entry_point.split(":")
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names:
        raise ValueError(
            f"cannot import {entry_point!r}: {top!r} is a standard-library module, which holds "
            "no reasongym environment; name a ReasonEnv subclass, e.g. "
            f"{DEFAULT_ENTRY_POINT!r}"
        )
    if module_name not in sys.modules:
        problem = _static_check(module_name, attr)
        if problem:
            raise ValueError(
                f"cannot import {entry_point!r}: {problem} (an entry point names a subclass "
                "of reasongym.envs.base.ReasonEnv)"
            )
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # a user module may raise anything while importing
            raise ValueError(
                f"cannot import {entry_point!r}: {type(exc).__name__}: {exc}"
            ) from None
    else:
        module = sys.modules[module_name]
    cls = getattr(module, attr, None)
    if cls is None:
        raise ValueError(
            f"cannot import {entry_point!r}: module {module_name!r} has no attribute {attr!r}"
        )
    if not (isinstance(cls, type) and issubclass(cls, ReasonEnv)):
        raise ValueError(
            f"{entry_point!r} is not a reasongym environment: an entry point must be a subclass "
            "of reasongym.envs.base.ReasonEnv"
        )
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, BaseModel)):
        raise ValueError(f"{entry_point!r} has no pydantic Config model to validate its kwargs")
    return cls


def _is_builtin_file(path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(builtin_config_dir().resolve())
    except (OSError, ValueError):
        return False


def validate_file(
    path: str | Path, *, deep: bool = True, root: str | Path | None = None
) -> tuple[EnvFile, dict[str, Any]]:
    """Parse and validate one YAML file, gathering every mistake it has.

    Args:
        path: the YAML file.
        deep: also run slow checks (e.g. that a reasoning-gym dataset name exists, that every
            row of a data file is well formed).
        root: the folder being registered (default: the file's own); data paths the file
            names must stay inside it.

    Returns:
        The top-level model and the validated kwargs as plain data.

    Raises:
        ConfigError: naming the file, and for each mistake the key path and the fix.
    """
    path = Path(path)
    file = str(path)
    raw = load_yaml_file(path)
    if not isinstance(raw, dict):
        raise ConfigError(file, [("", "expected a mapping with keys id, description, kwargs, ...")])
    problems: list[tuple[str, str]] = []
    spec = None
    try:
        spec = EnvFile.model_validate(raw)
    except ValidationError as exc:
        problems += _problems(exc)
    env_id = raw.get("id")
    if isinstance(env_id, str) and is_reserved(env_id) and not _is_builtin_file(path):
        problems.append(
            (
                "id",
                f"the {RESERVED_NAMESPACE!r} namespace is reserved for the files shipped with "
                "reasongym; use your own, e.g. 'myproject/Name-v0'",
            )
        )
    entry_point = raw.get("entry_point", DEFAULT_ENTRY_POINT)
    cls = None
    if isinstance(entry_point, str) and ENTRY_POINT_PATTERN.match(entry_point):
        try:
            cls = load_entry_point(entry_point)
        except ValueError as exc:
            problems.append(("entry_point", str(exc)))
    if (
        raw.get("max_episode_steps") is not None
        and cls is not None
        and "max_turns" in getattr(getattr(cls, "Config", None), "model_fields", {})
    ):  # one step limit: the env's own (E1, issue 13)
        problems.append(
            (
                "max_episode_steps",
                "this env's step limit is kwargs.max_turns (one source of "
                "truth, overridable with gym.make(id, max_turns=N)); move the value there",
            )
        )
    kwargs = raw.get("kwargs", {})
    validated: dict[str, Any] = {}
    if cls is not None and isinstance(kwargs, dict):
        try:
            config = cls.Config.model_validate(
                kwargs,
                context={"base_dir": path.parent, "root": Path(root or path.parent), "deep": deep},
            )
        except ValidationError as exc:
            problems += _problems(exc, "kwargs")
        else:
            # Store only the keys the author wrote (validated and normalised, e.g. absolute
            # paths): defaults stay the class's, so the spec reads like the file.
            dumped = config.model_dump(mode="python", exclude_unset=True)
            validated = {key: dumped[key] for key in dumped}
    if problems or spec is None:
        raise ConfigError(file, problems)
    return spec, validated


def _check_free(spec: EnvFile, file: Path, kwargs: dict[str, Any], replace: bool) -> bool:
    """Raise if ``spec.id`` may not be (re)registered; return False if it already is,
    identically, from the same file (registering a file twice is a no-op)."""
    if spec.id not in gym.registry:
        return True
    previous = _RECORDS.get(spec.id)
    if previous is not None and previous.file == str(file.resolve()):
        old = gym.spec(spec.id)
        if old.kwargs == kwargs and old.entry_point == spec.entry_point:
            return False
    if replace and previous is not None and not is_reserved(spec.id):
        return True
    where = f" (from {previous.file})" if previous and previous.file else ""
    raise ConfigError(
        str(file),
        [("id", f"{spec.id!r} is already registered{where}; bump the version (-vN) or rename it")],
    )


_TIME_LIMIT_SYNC = WrapperSpec("TimeLimitSync", "reasongym.envs.base:TimeLimitSync", {})


def _register(spec: EnvFile, kwargs: dict[str, Any], file: Path) -> None:
    if spec.id in gym.registry:  # a checked replace
        del gym.registry[spec.id]
    # The passive env checker stays on (gymnasium's default): it checks the first reset
    # and step of every env made.
    gym.register(
        id=spec.id,
        entry_point=spec.entry_point,
        max_episode_steps=spec.max_episode_steps,
        kwargs=kwargs,
        # Over make()'s TimeLimit: tells the env its step limit (envs/base.py TimeLimitSync).
        additional_wrappers=(_TIME_LIMIT_SYNC,),
    )
    _RECORDS[spec.id] = EnvRecord(spec.id, spec.description, spec.entry_point, str(file.resolve()))


def register_file(path: str | Path, *, replace: bool = False) -> str:
    """Validate one YAML file and register its id with gymnasium; returns the id."""
    return register_yaml(path, replace=replace)[0]


def yaml_files(path: str | Path) -> list[Path]:
    """The YAML files a path names: itself, or every *.yaml / *.yml below a folder (sorted)."""
    path = Path(path)
    if path.is_dir():
        found = []
        for p in path.rglob("*"):
            if p.suffix in (".yaml", ".yml") and p.is_file():
                found.append(p)
                if len(found) > MAX_FILES:
                    raise ConfigError(
                        str(path),
                        [("", f"holds more than {MAX_FILES} YAML files; name a smaller folder")],
                    )
        return sorted(found)
    if not path.exists():
        raise ConfigError(str(path), [("", "no such file or folder")])
    return [path]


@dataclass(frozen=True)
class CheckedFile:
    """The outcome of validating one file (see ``check_files``)."""

    file: Path
    spec: EnvFile | None
    kwargs: dict[str, Any]
    error: ConfigError | None


def check_files(paths: list[str | Path], *, deep: bool = True) -> list[CheckedFile]:
    """Validate every YAML file the paths name, collecting each file's error (including ids
    declared twice among them) instead of stopping at the first."""
    out: list[CheckedFile] = []
    seen: dict[str, Path] = {}
    for given in paths:
        try:
            files = yaml_files(given)
        except ConfigError as exc:
            out.append(CheckedFile(Path(given), None, {}, exc))
            continue
        root = Path(given) if Path(given).is_dir() else Path(given).parent
        for file in files:
            try:
                spec, kwargs = validate_file(file, deep=deep, root=root)
            except ConfigError as exc:
                out.append(CheckedFile(file, None, {}, exc))
                continue
            if spec.id in seen:
                error = ConfigError(
                    str(file), [("id", f"{spec.id!r} is also declared in {seen[spec.id]}")]
                )
                out.append(CheckedFile(file, None, {}, error))
                continue
            seen[spec.id] = file
            out.append(CheckedFile(file, spec, kwargs, None))
    return out


def register_yaml(path: str | Path, *, replace: bool = False) -> list[str]:
    """Register every env declared in a YAML file or a folder of them.

    Every file is validated (and checked against the registry) before any is registered, so
    a folder with one bad file registers nothing; the ConfigError then lists every file's
    problems at once. Registering the same unchanged file again is a no-op.

    Args:
        path: a YAML file or a folder of them.
        replace: re-register ids this process registered before from YAML (never a
            built-in id).

    Returns:
        The ids the files declare, in file order.
    """
    checked = check_files([path])
    errors = [c.error for c in checked if c.error is not None]
    todo = []
    for item in checked:
        if item.error is not None:
            continue
        try:
            if _check_free(item.spec, item.file, item.kwargs, replace):
                todo.append(item)
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise ConfigError.gather(errors)
    for item in todo:
        _register(item.spec, item.kwargs, item.file)
    return [item.spec.id for item in checked]


def list_envs() -> dict[str, str]:
    """Registered reasongym ids (from YAML files) with their one-line descriptions."""
    return {rid: rec.description for rid, rec in sorted(_RECORDS.items())}


def env_record(env_id: str) -> EnvRecord:
    """The record of a registered id, with a helpful error when it is unknown."""
    try:
        return _RECORDS[env_id]
    except KeyError:
        raise gym.error.NameNotFound(
            f"{env_id!r} is not a reasongym env; `reasongym list` shows the registered ids"
        ) from None


def builtin_config_dir() -> Path:
    """The folder of the YAML files that ship with reasongym."""
    from importlib.resources import files

    return Path(str(files("reasongym.configs"))) / "envs"


def register_builtin_dir(folder: Path) -> list[str]:
    """Register the YAML files shipped with reasongym (idempotent: re-imports are fine).

    To keep ``import reasongym`` fast, built-in files are only checked at the top level here:
    their entry points are imported and their kwargs validated when an env is made (each
    ``__init__`` validates its ``Config``). The test suite validates every built-in file
    deeply and checks that doing so changes none of the registered kwargs, so built-in files
    must hold already-normalised values (e.g. no relative paths).
    """
    ids = []
    for file in yaml_files(folder):
        raw = load_yaml_file(file)
        try:
            spec = EnvFile.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(str(file), _problems(exc)) from None
        if spec.id not in gym.registry:
            _register(spec, dict(spec.kwargs), file)
        ids.append(spec.id)
    return ids
