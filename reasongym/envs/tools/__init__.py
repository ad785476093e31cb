"""Tools agents call from text envs, built by name from the env config, and their typed specs
(:mod:`reasongym.envs.tools.spec`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from reasongym.envs.tools.base import Tool
from reasongym.envs.tools.spec import (
    ToolSpec,
    move_spec,
    render_tag_grammar,
    string_spec,
    submit_answer_spec,
)


def _calculator_class() -> type[Tool]:
    from reasongym.envs.tools.calculator import Calculator

    return Calculator


def _python_class() -> type[Tool]:
    from reasongym.envs.tools.python import PythonTool

    return PythonTool


#: Tool name -> a function returning its class (imported on first use).
TOOL_FACTORIES: dict[str, Callable[[], type[Tool]]] = {
    "calculator": _calculator_class,
    "python": _python_class,
}


def build_tool(name: str, options: dict[str, Any] | None = None) -> Tool:
    """Make tool ``name`` with constructor ``options`` (the env's ``tool_options.NAME``).

    Raises:
        ValueError: an unknown tool, or an option the tool does not take (named, with the
            options it does take).
    """
    try:
        cls = TOOL_FACTORIES[name]()
    except KeyError:
        raise ValueError(f"unknown tool {name!r}; choose from {sorted(TOOL_FACTORIES)}") from None
    options = dict(options or {})
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"tool_options.{name}: unknown option(s) {unknown}; {name} takes {accepted}"
        )
    return cls(**options)


__all__ = [
    "TOOL_FACTORIES",
    "Tool",
    "ToolSpec",
    "build_tool",
    "move_spec",
    "render_tag_grammar",
    "string_spec",
    "submit_answer_spec",
]
