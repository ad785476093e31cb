"""The action grammar of text environments, parsed in one place.

An action is free text (reasoning is welcome) containing one of:

* a tool call: ``<tool name="calculator">37*41</tool>`` (single or double quotes);
* a final answer: ``<answer>1517</answer>`` or LaTeX ``\\boxed{1517}``;
* an OpenAI-style JSON tool call, either bare
  ``{"name": "calculator", "arguments": {"expression": "37*41"}}``, in the chat-completions
  form ``{"type": "function", "function": {"name": ..., "arguments": "<json string>"}}``, or
  wrapped as ``{"tool_calls": [...]}``.

The construct that starts first in the text wins: a tool call written before an answer is run
and the answer ignored (agents should stop generating after a tool call). Anything else is a
:class:`FormatError` whose ``message`` tells the agent what was wrong and what is accepted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

GRAMMAR_HELP = (
    'Call a tool with <tool name="TOOL">INPUT</tool>; give your final answer with '
    "<answer>ANSWER</answer> (or \\boxed{ANSWER})."
)


@dataclass(frozen=True)
class ToolCall:
    """A request to run tool ``name`` on ``argument``."""

    name: str
    argument: str
    kind: str = "tool"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "argument": self.argument}


@dataclass(frozen=True)
class Answer:
    """A final answer; ``text`` is the content of the tag or box."""

    text: str
    kind: str = "answer"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class FormatError:
    """The action could not be understood; ``message`` goes back to the agent."""

    message: str
    kind: str = "format_error"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


Action = ToolCall | Answer | FormatError

_TOOL_OPEN = re.compile(r"""<tool\s+name\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))\s*>""", re.I)
_TOOL_BAD_OPEN = re.compile(r"<tool\b", re.I)
_TOOL_CLOSE = re.compile(r"</tool\s*>", re.I)
_ANSWER = re.compile(r"<answer>(.*?)</answer\s*>", re.I | re.S)
_ANSWER_OPEN = re.compile(r"<answer>", re.I)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_JSON_START = re.compile(r'\{\s*"(?:name|type|tool_calls|function)"')


def _find_boxed(text: str) -> tuple[int, str] | None:
    """The position and content of the last complete ``\\boxed{...}`` (balanced braces)."""
    found = None
    for match in _BOXED.finditer(text):
        depth, i = 1, match.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            found = (match.start(), text[match.end() : i - 1])
    return found


def _json_tool_call(obj: Any, tool_args: dict[str, str]) -> ToolCall | FormatError | None:
    if isinstance(obj, dict) and isinstance(obj.get("tool_calls"), list) and obj["tool_calls"]:
        obj = obj["tool_calls"][0]
    if not isinstance(obj, dict):
        return None
    if obj.get("type") == "function" or isinstance(obj.get("function"), dict):
        obj = obj.get("function", {})
    name = obj.get("name")
    if not isinstance(name, str):
        return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip().startswith("{") else {"input": args}
        except json.JSONDecodeError:
            return FormatError(f"the arguments of the JSON tool call to {name!r} are not valid JSON")
    if isinstance(args, str):
        return ToolCall(name, args)
    if not isinstance(args, dict):
        return FormatError(f"the arguments of the JSON tool call to {name!r} must be an object")
    expected = tool_args.get(name)
    if expected is not None and expected in args:
        value = args[expected]
    elif len(args) == 1:
        value = next(iter(args.values()))
    else:
        want = f'{{"{expected}": ...}}' if expected else "a single string argument"
        return FormatError(f"the JSON tool call to {name!r} needs arguments {want}")
    return ToolCall(name, value if isinstance(value, str) else json.dumps(value))


def _parse_json_at(text: str, start: int, tool_args: dict[str, str]) -> Action | None:
    try:
        obj, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        return None
    return _json_tool_call(obj, tool_args)


def parse_action(text: Any, tool_args: dict[str, str] | None = None) -> Action:
    """Parse one agent action.

    Args:
        text: the agent's action (anything; non-strings are format errors).
        tool_args: tool name -> name of its JSON argument (for JSON tool calls).

    Returns:
        A ToolCall, an Answer or a FormatError. Never raises. Whether a tool exists is
        checked by the env, which knows its tools.
    """
    tool_args = tool_args or {}
    if not isinstance(text, str):
        return FormatError(f"an action must be a string, got {type(text).__name__}. {GRAMMAR_HELP}")
    candidates: list[tuple[int, Action]] = []

    tool_open = _TOOL_OPEN.search(text)
    if tool_open:
        name = next(g for g in tool_open.groups() if g is not None)
        close = _TOOL_CLOSE.search(text, tool_open.end())
        if close is None:
            action: Action = FormatError(f'the <tool name="{name}"> tag is not closed with </tool>')
        else:
            action = ToolCall(name.strip(), text[tool_open.end() : close.start()].strip("\n"))
        candidates.append((tool_open.start(), action))
    else:
        bad = _TOOL_BAD_OPEN.search(text)
        if bad:
            candidates.append(
                (bad.start(), FormatError('a <tool> tag needs a name: <tool name="TOOL">INPUT</tool>'))
            )

    answer = _ANSWER.search(text)
    if answer:
        candidates.append((answer.start(), Answer(answer.group(1).strip())))
    else:
        opened = _ANSWER_OPEN.search(text)
        if opened:
            candidates.append((opened.start(), FormatError("the <answer> tag is not closed with </answer>")))

    boxed = _find_boxed(text)
    if boxed is not None and not answer:
        candidates.append((boxed[0], Answer(boxed[1].strip())))

    for match in _JSON_START.finditer(text):
        parsed = _parse_json_at(text, match.start(), tool_args)
        if parsed is not None:
            candidates.append((match.start(), parsed))
            break

    if not candidates:
        return FormatError(f"no tool call or answer found. {GRAMMAR_HELP}")
    return min(candidates, key=lambda c: c[0])[1]
