"""Typed tools: one spec renders the tag grammar and OpenAI tools, and checks arguments."""

from __future__ import annotations

import json
import pickle

import pytest

from reasongym.envs.actions import Answer, FormatError, ToolCall, parse_action, parse_native_action
from reasongym.envs.tools.calculator import Calculator
from reasongym.envs.tools.python import PythonTool
from reasongym.envs.tools.spec import (
    ToolSpec,
    check_schema,
    move_spec,
    render_tag_grammar,
    string_spec,
    submit_answer_spec,
)
from reasongym.envs.types import ToolResult


def _add(a: int, b: int) -> ToolResult:
    return ToolResult(str(a + b))


ADD = ToolSpec(
    name="add",
    description="adds two integers",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer", "minimum": 0}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
    fn=_add,
    example='{"a": 1, "b": 2}',
)


def test_to_openai_is_the_chat_completions_tool_entry():
    entry = Calculator().spec().to_openai()
    assert entry["type"] == "function"
    assert entry["function"]["name"] == "calculator"
    assert entry["function"]["parameters"] == {
        "type": "object",
        "properties": {
            "expression": {"type": "string", "description": "expression", "maxLength": 2000}
        },
        "required": ["expression"],
        "additionalProperties": False,
    }
    assert "<tool" not in entry["function"]["description"]  # the grammar is the prompt's business
    mcp = Calculator().spec().to_mcp()
    assert mcp["inputSchema"] == entry["function"]["parameters"] and mcp["name"] == "calculator"


def test_tag_grammar_is_rendered_from_the_specs():
    text = render_tag_grammar([Calculator().spec(), ADD, submit_answer_spec()])
    lines = text.splitlines()
    assert lines[0].startswith("Tools you can call")
    assert lines[1] == (
        "- calculator: evaluates an arithmetic expression (+ - * / // % ** ^, parentheses, "
        'sqrt, log, sin, factorial, gcd, comb, pi, e). Example: <tool name="calculator">(37*41 + 3)/4</tool>'
    )
    assert lines[2].startswith("- add: adds two integers Input: a JSON object")
    assert "submit_answer" not in text  # <answer> is its tag form
    assert lines[-1].startswith('Call a tool with <tool name="TOOL">INPUT</tool>')
    assert render_tag_grammar([submit_answer_spec()]).startswith(
        "Give your final answer with <answer>"
    )


def test_call_validates_and_never_raises():
    assert ADD.call({"a": 2, "b": 3}).output == "5"
    for bad, phrase in [
        ({"a": 2}, "missing the required 'b'"),
        ({"a": "2", "b": 3}, "must be of type integer"),
        ({"a": True, "b": 3}, "must be of type integer"),  # bool is not an integer
        ({"a": 2.0, "b": 3}, "must be of type integer"),
        ({"a": 2, "b": -1}, ">= 0"),
        ({"a": 2, "b": 3, "c": 4}, "unknown key 'c'"),
        ([1, 2], "must be of type object"),
        (None, "must be of type object"),
    ]:
        result = ADD.call(bad)
        assert not result.ok and phrase in result.output, (bad, result)

    def broken(**_):
        raise RuntimeError("boom")

    spec = string_spec("broken", "always fails", "x", broken)
    result = spec.call({"x": "1"})
    assert not result.ok and "RuntimeError" in result.output
    assert not submit_answer_spec().call({"answer": "1"}).ok  # handled by the env, not callable


def test_schema_subset_edge_cases():
    number = {"type": "number"}
    assert check_schema(number, 1) is None and check_schema(number, 1.5) is None
    assert check_schema(number, float("nan")) and check_schema(number, float("inf"))
    assert check_schema({"type": "string", "maxLength": 3}, "abcd")
    assert check_schema({"type": "string", "enum": ["up", "down"]}, "left")
    assert (
        check_schema({"type": "array", "items": {"type": "integer"}}, [1, "2"])
        == "arguments[1] must be of type integer, got string"
    )
    deep = {"type": "array", "items": {}}
    value: list = []
    for _ in range(100):
        value = [value]
    schema = {"type": "array"}
    node = schema
    for _ in range(40):
        node["items"] = {"type": "array"}
        node = node["items"]
    assert "nested too deeply" in check_schema(schema, value)
    assert check_schema(deep, value) is None


def test_tag_argument_and_bad_specs():
    assert Calculator().spec().tag_argument == "expression"
    assert ADD.tag_argument is None
    with pytest.raises(ValueError, match="tool name"):
        string_spec("bad name!", "x", "y", None)
    with pytest.raises(ValueError, match="JSON Schema object"):
        ToolSpec(name="t", description="d", parameters={"type": "string"})


def test_move_spec_for_puzzles():
    spec = move_spec("Move the player.", ["up", "down", "left", "right"])
    assert spec.to_openai()["function"]["parameters"]["properties"]["move"]["enum"] == [
        "up",
        "down",
        "left",
        "right",
    ]
    call = parse_native_action({"name": "move", "arguments": {"move": "up"}}, [spec])
    assert call == ToolCall("move", "up", arguments={"move": "up"})
    bad = parse_native_action({"name": "move", "arguments": {"move": "jump"}}, [spec])
    assert isinstance(bad, FormatError) and "one of" in bad.message
    free = move_spec("Write R C D.")  # no fixed list: any string
    assert "enum" not in free.parameters["properties"]["move"]


def test_specs_drive_native_parsing_and_json_in_text():
    specs = [Calculator().spec(), ADD, submit_answer_spec()]
    assert parse_native_action({"name": "add", "arguments": {"a": 1, "b": 2}}, specs).arguments == {
        "a": 1,
        "b": 2,
    }
    assert isinstance(
        parse_native_action({"name": "add", "arguments": {"a": 1}}, specs), FormatError
    )
    assert parse_native_action(
        '{"name": "submit_answer", "arguments": {"answer": "\\n    return 1\\n"}}', specs
    ) == Answer("    return 1")
    # the tag grammar reads a multi-argument tool's body... as its JSON arguments via JSON calls
    text = 'I will add. {"name": "add", "arguments": {"a": 4, "b": 5}}'
    assert parse_action(text, tools=specs).arguments == {"a": 4, "b": 5}


def test_tool_specs_pickle_and_call_the_tool():
    spec = pickle.loads(pickle.dumps(Calculator().spec()))
    assert spec.call({"expression": "6*7"}).output == "42"
    python = PythonTool(backend="process")
    try:
        py_spec = python.spec()
        assert py_spec.tag_argument == "code"
        assert json.loads(json.dumps(py_spec.to_openai()))["function"]["name"] == "python"
        assert not py_spec.call({"code": "print(1)\ud800"}).ok  # refused before any sandbox
    finally:
        python.close()


def test_build_tool_rejects_unknown_options():
    from reasongym.envs.tools import build_tool

    assert build_tool("calculator", {"timeout_s": 2}).timeout_s == 2
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['timeout'\]; calculator takes"):
        build_tool("calculator", {"timeout": 2})
    with pytest.raises(ValueError, match="unknown tool 'abacus'"):
        build_tool("abacus")
