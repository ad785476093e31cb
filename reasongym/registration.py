"""YAML environment files -> validated specs -> ``gymnasium.register``.

One file declares one env id::

    id: reasongym/Fractions-v0
    description: Add and simplify fractions.
    entry_point: reasongym.envs.text:TextTaskEnv   # optional (this is the default)
    max_episode_steps: 6                           # optional
    kwargs: {...}                                  # validated by the entry point's Config

Every mistake is a :class:`reasongym.ConfigError` naming the file, the key path and what was
expected; nothing is registered from a file that fails.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reasongym.errors import ConfigError

# libyaml's loader is ~10x faster than the pure-Python one (import time matters here)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DEFAULT_ENTRY_POINT = "reasongym.envs.text:TextTaskEnv"
ID_PATTERN = re.compile(r"^(?:[\w:.-]+/)?[\w:.-]+?(?:-v\d+)$")


class EnvFile(BaseModel):
    """The top level of a YAML environment file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="namespace/Name-vN, e.g. reasongym/Fractions-v0")
    description: str = Field(min_length=1, description="one line shown by `reasongym list`")
    entry_point: str = DEFAULT_ENTRY_POINT
    max_episode_steps: int | None = Field(default=None, gt=0)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a gymnasium id: use 'namespace/Name-vN', e.g. 'reasongym/Math-v0'"
            )
        return value

    @field_validator("entry_point")
    @classmethod
    def _check_entry_point(cls, value: str) -> str:
        if value.count(":") != 1 or not all(value.split(":")):
            raise ValueError(f"{value!r} must look like 'package.module:ClassName'")
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
        out.append((key, msg))
    return out


def load_entry_point(entry_point: str) -> type:
    """Import ``'package.module:ClassName'`` and return the class."""
    module_name, attr = entry_point.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def _parse_top_level(path: Path) -> EnvFile:
    """Read a YAML file and validate its top-level keys (not the entry point's kwargs)."""
    file = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError(file, [("", "file not found")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, [("", f"not valid YAML: {exc}")]) from None
    if not isinstance(raw, dict):
        raise ConfigError(file, [("", "expected a mapping with keys id, description, kwargs, ...")])
    try:
        return EnvFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(file, _problems(exc)) from None


def validate_file(path: str | Path, *, deep: bool = True) -> tuple[EnvFile, dict[str, Any]]:
    """Parse and validate one YAML file.

    Args:
        path: the YAML file.
        deep: also run slow checks (e.g. that a reasoning-gym dataset name exists).

    Returns:
        The top-level model and the validated kwargs as plain data.

    Raises:
        ConfigError: naming the file, the key path and the fix.
    """
    path = Path(path)
    file = str(path)
    spec = _parse_top_level(path)
    try:
        cls = load_entry_point(spec.entry_point)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(file, [("entry_point", f"cannot import {spec.entry_point!r}: {exc}")]) from None
    config_model = getattr(cls, "Config", None)
    kwargs = dict(spec.kwargs)
    if config_model is not None and isinstance(config_model, type) and issubclass(config_model, BaseModel):
        try:
            config = config_model.model_validate(kwargs, context={"base_dir": path.parent, "deep": deep})
        except ValidationError as exc:
            raise ConfigError(file, _problems(exc, "kwargs")) from None
        # Store only the keys the author wrote (validated and normalised, e.g. absolute paths):
        # defaults stay the class's, so the spec reads like the file.
        dumped = config.model_dump(mode="python", exclude_unset=True)
        kwargs = {key: dumped[key] for key in dumped}
    return spec, kwargs


def register_file(path: str | Path, *, replace: bool = False) -> str:
    """Validate one YAML file and register its id with gymnasium; returns the id."""
    spec, kwargs = validate_file(path)
    if spec.id in gym.registry and not replace:
        previous = _RECORDS.get(spec.id)
        where = f" (from {previous.file})" if previous and previous.file else ""
        raise ConfigError(
            str(path),
            [("id", f"{spec.id!r} is already registered{where}; bump the version (-vN) or rename it")],
        )
    gym.register(
        id=spec.id,
        entry_point=spec.entry_point,
        max_episode_steps=spec.max_episode_steps,
        kwargs=kwargs,
        disable_env_checker=True,  # the registry-generated tests run check_env on every id
    )
    _RECORDS[spec.id] = EnvRecord(spec.id, spec.description, spec.entry_point, str(path))
    return spec.id


def yaml_files(path: str | Path) -> list[Path]:
    """The YAML files a path names: itself, or every *.yaml / *.yml below a folder (sorted)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not path.exists():
        raise ConfigError(str(path), [("", "no such file or folder")])
    return [path]


def register_yaml(path: str | Path, *, replace: bool = False) -> list[str]:
    """Register every env declared in a YAML file or a folder of them.

    Every file is validated before any is registered, so a folder with one bad file
    registers nothing; duplicate ids within the folder are errors too.

    Returns:
        The registered ids, in file order.
    """
    files = yaml_files(path)
    checked = []
    seen: dict[str, Path] = {}
    for file in files:
        spec, _ = validate_file(file)
        if spec.id in seen:
            raise ConfigError(str(file), [("id", f"{spec.id!r} is also declared in {seen[spec.id]}")])
        seen[spec.id] = file
        checked.append(file)
    return [register_file(file, replace=replace) for file in checked]


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
        spec = _parse_top_level(file)
        if spec.id not in gym.registry:
            gym.register(
                id=spec.id,
                entry_point=spec.entry_point,
                max_episode_steps=spec.max_episode_steps,
                kwargs=dict(spec.kwargs),
                disable_env_checker=True,
            )
            _RECORDS[spec.id] = EnvRecord(spec.id, spec.description, spec.entry_point, str(file))
        ids.append(spec.id)
    return ids
