"""Typed tools: one spec per tool, from which every rendering of it is made.

A :class:`ToolSpec` is a tool's name, description, the JSON Schema of its arguments and its
callable. The same spec renders

* the ``<tool>`` tag grammar of a prompt (:func:`render_tag_grammar`),
* OpenAI ``tools=[...]`` entries for native tool-calling models (:meth:`ToolSpec.to_openai`),
* MCP ``tools/list`` entries (:meth:`ToolSpec.to_mcp`), and TRL tool methods in the bridges.

Arguments a policy sends are checked by :meth:`ToolSpec.check_arguments` (a small, strict
subset of JSON Schema: ``type``, ``properties``, ``required``, ``additionalProperties``,
``enum``, ``minLength``/``maxLength``, ``minimum``/``maximum``, ``items``/``maxItems``), and
:meth:`ToolSpec.call` never raises: bad arguments and failures come back as
``ToolResult(ok=False)`` with a message.

``submit_answer`` (:func:`submit_answer_spec`) is the final answer: a call of it parses as an
``Answer`` (see :mod:`reasongym.envs.actions`). Puzzles describe their moves with
:func:`move_spec`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reasongym.envs.actions import GRAMMAR_HELP, SUBMIT_ANSWER
from reasongym.envs.types import ToolResult

#: Strings longer than this are refused unless the schema says otherwise (``maxLength``).
DEFAULT_MAX_STRING = 100_000

_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) in (int, float) and math.isfinite(v),
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "null": lambda v: v is None,
}


@dataclass(frozen=True)
class ToolSpec:
    """One tool: what it is called, what it does, its arguments and its callable.

    Attributes:
        name: the name agents call it by (``<tool name="...">``, OpenAI ``function.name``).
        description: what it does, for the model (one or two sentences, no grammar).
        parameters: JSON Schema of the arguments: an ``object`` with ``properties``.
        fn: called as ``fn(**arguments)`` and returns a :class:`ToolResult`; None for specs
            the env handles itself (``submit_answer``, a puzzle's moves).
        example: an example input, shown in the tag grammar (the string argument's value, or
            a JSON object of arguments).
    """

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., ToolResult] | None = field(default=None, compare=False)
    example: str = ""

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 64 or not self.name.replace("_", "a").isalnum():
            raise ValueError(f"tool name {self.name!r}: use 1-64 letters, digits or '_'")
        if self.parameters.get("type") != "object":
            raise ValueError(f"tool {self.name!r}: parameters must be a JSON Schema object")

    @property
    def tag_argument(self) -> str | None:
        """The parameter the tag body ``<tool name=...>BODY</tool>`` fills: the one property
        when the tool takes a single string; None when the body is a JSON object."""
        props = self.parameters.get("properties", {})
        if len(props) == 1:
            ((name, schema),) = props.items()
            if schema.get("type") == "string":
                return name
        return None

    def to_openai(self) -> dict[str, Any]:
        """The ``tools=[...]`` entry of the OpenAI chat-completions API."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
            },
        }

    def to_mcp(self) -> dict[str, Any]:
        """The MCP ``tools/list`` entry (``inputSchema`` is MCP's name for the schema)."""
        return {
            "name": self.name,
            "description": self.description,
            "inputSchema": copy.deepcopy(self.parameters),
        }

    def check_arguments(self, arguments: Any) -> str | None:
        """None when ``arguments`` fit the schema, else what is wrong (for the agent)."""
        return check_schema(self.parameters, arguments)

    def call(self, arguments: Any) -> ToolResult:
        """Validate ``arguments`` and run ``fn``; never raises."""
        problem = self.check_arguments(arguments)
        if problem:
            return ToolResult(f"Error: bad arguments for {self.name}: {problem}", ok=False)
        if self.fn is None:
            return ToolResult(f"Error: {self.name} is handled by the environment", ok=False)
        try:
            result = self.fn(**arguments)
        except Exception as exc:  # noqa: BLE001 - a tool failure is the agent's error message
            return ToolResult(f"Error: {self.name} failed ({type(exc).__name__})", ok=False)
        if not isinstance(result, ToolResult):
            return ToolResult(str(result))
        return result


def check_schema(
    schema: dict[str, Any], value: Any, path: str = "arguments", depth: int = 0
) -> str | None:
    """Check ``value`` against the JSON Schema subset of the module docstring."""
    if depth > 16:
        return f"{path} is nested too deeply"
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if not any(_JSON_TYPES.get(k, lambda v: False)(value) for k in kinds):
            return f"{path} must be of type {' or '.join(kinds)}, got {_json_type(value)}"
    if "enum" in schema and not any(type(value) is type(e) and value == e for e in schema["enum"]):
        shown = ", ".join(repr(e) for e in list(schema["enum"])[:12])
        return f"{path} must be one of {shown}"
    if type(value) is str:
        longest = schema.get("maxLength", DEFAULT_MAX_STRING)
        if len(value) > longest:
            return f"{path} is longer than {longest} characters"
        if len(value) < schema.get("minLength", 0):
            return f"{path} is shorter than {schema['minLength']} characters"
    if type(value) in (int, float):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{path} must be >= {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{path} must be <= {schema['maximum']}"
    if type(value) is list:
        if len(value) > schema.get("maxItems", 10_000):
            return f"{path} has more than {schema.get('maxItems', 10_000)} items"
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                problem = check_schema(items, item, f"{path}[{i}]", depth + 1)
                if problem:
                    return problem
    if type(value) is dict:
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                return f"{path} is missing the required {key!r}"
        for key, item in value.items():
            if type(key) is not str:
                return f"{path} has a key that is not a string"
            if key in props:
                problem = check_schema(props[key], item, f"{path}.{key}", depth + 1)
                if problem:
                    return problem
            elif schema.get("additionalProperties", True) is False:
                allowed = ", ".join(props) or "none"
                return f"{path} has an unknown key {key[:40]!r} (allowed: {allowed})"
    return None


def _json_type(value: Any) -> str:
    for name, test in _JSON_TYPES.items():
        if test(value):
            return name
    return type(value).__name__


def string_spec(
    name: str,
    description: str,
    argument: str,
    fn: Callable[..., ToolResult] | None,
    *,
    about: str = "",
    example: str = "",
    max_length: int = DEFAULT_MAX_STRING,
) -> ToolSpec:
    """A spec with one required string argument (what every tag-grammar tool takes)."""
    return ToolSpec(
        name=name,
        description=description,
        parameters={
            "type": "object",
            "properties": {
                argument: {
                    "type": "string",
                    "description": about or argument,
                    "maxLength": max_length,
                }
            },
            "required": [argument],
            "additionalProperties": False,
        },
        fn=fn,
        example=example,
    )


def submit_answer_spec(
    description: str = "Submit your final answer.",
    fn: Callable[..., ToolResult] | None = None,
    *,
    about: str = "the final answer only",
) -> ToolSpec:
    """The ``submit_answer`` tool (``{"answer": string}``); a call of it is the final answer."""
    return string_spec(SUBMIT_ANSWER, description, "answer", fn, about=about)


def move_spec(
    description: str,
    moves: Sequence[str] | None = None,
    *,
    name: str = "move",
    about: str = "the move, written as in the rules",
    fn: Callable[..., ToolResult] | None = None,
) -> ToolSpec:
    """A puzzle's move tool (``{"move": string}``), with ``enum`` when the moves are a short
    fixed list (e.g. ``["up", "down", "left", "right"]``). The env reads the move from the
    parsed ``ToolCall.argument`` with its usual move parser."""
    spec = string_spec(
        name, description, "move", fn, about=about, example=moves[0] if moves else ""
    )
    if moves:
        spec.parameters["properties"]["move"]["enum"] = list(moves)
    return spec


def render_tag_grammar(specs: Sequence[ToolSpec]) -> str:
    """The prompt's tool section in the tag grammar, generated from the specs.

    ``submit_answer`` is not listed (``<answer>`` is its tag form). With no other tool, the
    section is the one line saying how to answer.
    """
    tools = [s for s in specs if s.name != SUBMIT_ANSWER]
    if not tools:
        return "Give your final answer with <answer>ANSWER</answer> (or \\boxed{ANSWER})."
    lines = ["Tools you can call (one per turn; the output comes back to you):"]
    for spec in tools:
        line = f"- {spec.name}: {spec.description}"
        if spec.tag_argument is None:
            props = ", ".join(
                f'"{k}": {v.get("type", "value")}'
                for k, v in spec.parameters.get("properties", {}).items()
            )
            line += f" Input: a JSON object {{{props}}}."
        if spec.example:
            line += f' Example: <tool name="{spec.name}">{spec.example}</tool>'
        lines.append(line)
    lines.append(GRAMMAR_HELP)
    return "\n".join(lines)
