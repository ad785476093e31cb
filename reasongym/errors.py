"""Exceptions that reasongym raises on purpose, each with the fix in its message."""

from __future__ import annotations


class ReasonGymError(Exception):
    """Base class of every error reasongym raises on purpose."""


class ConfigError(ReasonGymError, ValueError):
    """A YAML environment file (or a config passed in code) is invalid.

    Attributes:
        file: the YAML file at fault, or None for configs given in code (and for an error
            that gathers several files, see ``errors``).
        problems: one ``(key_path, message)`` pair per mistake found (for a gathered error,
            the key paths are prefixed with their file).
        errors: the per-file errors a gathered error holds (``[self]`` for a single file).
    """

    def __init__(self, file: str | None, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = list(problems)
        self.errors: list[ConfigError] = [self]
        where = file or "<config>"
        lines = [f"{where}: {len(self.problems)} problem(s)"]
        lines += [f"  {key or '<root>'}: {msg}" for key, msg in self.problems]
        super().__init__("\n".join(lines))

    @classmethod
    def gather(cls, errors: list[ConfigError]) -> ConfigError:
        """One error reporting every file's problems at once (the error itself if only one)."""
        flat = [e for error in errors for e in error.errors]
        if len(flat) == 1:
            return flat[0]
        gathered = cls.__new__(cls)
        gathered.file = None
        gathered.problems = [
            (f"{e.file or '<config>'}: {key}" if key else (e.file or "<config>"), msg)
            for e in flat
            for key, msg in e.problems
        ]
        gathered.errors = flat
        text = f"{len(flat)} file(s) with problems\n" + "\n".join(str(e) for e in flat)
        ValueError.__init__(gathered, text)
        return gathered
