"""reasongym: Gymnasium environments for training and evaluating reasoning agents.

``import reasongym`` registers every environment declared in the YAML files that ship with
the package (``reasongym list`` shows them). Heavy dependencies (torch, docker, transformers,
sympy) are imported only by the modules that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reasongym.envs.types import Task, ToolResult, Verdict
from reasongym.errors import ConfigError, ReasonGymError
from reasongym.registration import builtin_config_dir, list_envs, register_yaml

if TYPE_CHECKING:
    from reasongym.envs.verifiers.math import verify_math
    from reasongym.task_rows import tasks

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "verify_math":  # lazy: the math verifier imports sympy on first use
        from reasongym.envs.verifiers.math import verify_math

        return verify_math
    if name == "tasks":  # lazy: building rows imports the env classes
        from reasongym.task_rows import tasks

        return tasks
    raise AttributeError(f"module 'reasongym' has no attribute {name!r}")


def _register_builtins() -> None:
    from reasongym.registration import register_builtin_dir

    register_builtin_dir(builtin_config_dir())


_register_builtins()

__all__ = [
    "ConfigError",
    "ReasonGymError",
    "Task",
    "ToolResult",
    "Verdict",
    "list_envs",
    "register_yaml",
    "tasks",
    "verify_math",
]
