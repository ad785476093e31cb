"""Exceptions that reasongym raises on purpose, each with the fix in its message."""

from __future__ import annotations


class ReasonGymError(Exception):
    """Base class of every error reasongym raises on purpose."""


class ConfigError(ReasonGymError, ValueError):
    """A YAML environment file (or a config passed in code) is invalid.

    Attributes:
        file: the YAML file at fault, or None for configs given in code.
        problems: one ``(key_path, message)`` pair per mistake found.
    """

    def __init__(self, file: str | None, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = list(problems)
        where = file or "<config>"
        lines = [f"{where}: {len(self.problems)} problem(s)"]
        lines += [f"  {key or '<root>'}: {msg}" for key, msg in self.problems]
        super().__init__("\n".join(lines))
