"""The action grammar: every accepted form, the errors, and that nothing raises."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs.actions import Answer, FormatError, ToolCall, parse_action

ARGS = {"calculator": "expression", "python": "code"}


def test_tool_tag_with_reasoning_before():
    action = parse_action('Let me compute.\n<tool name="calculator">37*41</tool>', ARGS)
    assert action == ToolCall("calculator", "37*41")


def test_tool_tag_single_quotes_and_multiline_code():
    code = "x = 1\nprint(x + 1)"
    assert parse_action(f"<tool name='python'>\n{code}\n</tool>", ARGS) == ToolCall("python", code)


def test_answer_tag_and_boxed():
    assert parse_action("so <answer> 1517 </answer>", ARGS) == Answer("1517")
    assert parse_action(r"Thus \boxed{\frac{1}{2}}.", ARGS) == Answer(r"\frac{1}{2}")
    assert parse_action(r"\boxed{1} then \boxed{2}", ARGS) == Answer("2")


def test_first_construct_wins():
    action = parse_action('<tool name="calculator">1+1</tool> <answer>2</answer>', ARGS)
    assert isinstance(action, ToolCall)
    assert isinstance(parse_action('<answer>2</answer> <tool name="calculator">1+1</tool>', ARGS), Answer)


def test_json_tool_calls():
    bare = json.dumps({"name": "calculator", "arguments": {"expression": "2*3"}})
    assert parse_action(bare, ARGS) == ToolCall("calculator", "2*3")
    openai = json.dumps(
        {"type": "function", "function": {"name": "python", "arguments": json.dumps({"code": "print(1)"})}}
    )
    assert parse_action("calling: " + openai, ARGS) == ToolCall("python", "print(1)")
    wrapped = json.dumps({"tool_calls": [{"function": {"name": "calculator", "arguments": '{"expression": "9"}'}}]})
    assert parse_action(wrapped, ARGS) == ToolCall("calculator", "9")


def test_format_errors_explain_the_fix():
    for text, phrase in [
        ("I think it's 5", "no tool call or answer"),
        ('<tool name="calculator">1+1', "not closed"),
        ("<tool>1+1</tool>", "needs a name"),
        ("<answer>5", "not closed"),
        (json.dumps({"name": "calculator", "arguments": {"a": 1, "b": 2}}), "needs arguments"),
        (None, "must be a string"),
    ]:
        action = parse_action(text, ARGS)
        assert isinstance(action, FormatError), text
        assert phrase in action.message


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises(text):
    assert isinstance(parse_action(text, ARGS), (ToolCall, Answer, FormatError))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="<>/{}\"'\\=boxedtolnamswr :[]", max_size=200))
def test_parse_never_raises_on_grammar_soup(text):
    assert isinstance(parse_action(text, ARGS), (ToolCall, Answer, FormatError))
