"""Tools agents call from text envs, built by name from the env config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reasongym.envs.tools.base import Tool


def _calculator(_options: dict[str, Any]) -> Tool:
    from reasongym.envs.tools.calculator import Calculator

    return Calculator()


def _python(options: dict[str, Any]) -> Tool:
    from reasongym.envs.tools.python import PythonTool

    return PythonTool(**options)


TOOL_FACTORIES: dict[str, Callable[[dict[str, Any]], Tool]] = {
    "calculator": _calculator,
    "python": _python,
}


def build_tool(name: str, options: dict[str, Any] | None = None) -> Tool:
    try:
        factory = TOOL_FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown tool {name!r}; choose from {sorted(TOOL_FACTORIES)}") from None
    return factory(options or {})


__all__ = ["TOOL_FACTORIES", "Tool", "build_tool"]
