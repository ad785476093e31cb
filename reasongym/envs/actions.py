"""The action grammar of every text-facing env (text/code envs, puzzles in text mode, ARC).

An action is free text (reasoning is welcome) containing one of these constructs:

* a tool call ``<tool name="calculator">37*41</tool>`` (single, double or no quotes);
* a final answer ``<answer>1517</answer>`` or LaTeX ``\\boxed{1517}`` (also ``\\fbox{}``);
* an OpenAI-style JSON tool call: bare ``{"name": "calculator", "arguments": {...}}``, the
  chat-completions form ``{"type": "function", "function": {"name": ..., "arguments":
  "<json string>"}}``, or wrapped as ``{"tool_calls": [...]}`` (an assistant message).

**The one rule: the construct that starts first wins**, and so does its first occurrence: with
two ``<answer>`` tags or two boxes the first is the answer; a tool call written before an
answer is run and the answer ignored (agents should stop generating at :data:`STOP_STRINGS`).
A construct that starts first but is broken (an unclosed tag or box, a nameless ``<tool>``,
a malformed JSON call) is a :class:`FormatError` whose ``message`` says what to fix. A call
of the ``submit_answer`` tool (tag or JSON) is a final answer, like ``<answer>``.

**Answer text.** Content written inline (``<answer> 42 </answer>``) is stripped. Content
that spans lines keeps its indentation: blank lines at the start and trailing whitespace are
removed, nothing else, so a code answer given as an indented function body stays a body.

**Bounds.** Actions longer than ``max_chars`` (default :data:`MAX_ACTION_CHARS`) are format
errors; every scan is linear in the action's length; JSON is decoded with bounded numbers and
nesting. :func:`parse_action` never raises, whatever it is given.

**Native tool calls** (``action_format="native"``, :func:`parse_native_action`): the action is
an OpenAI-style tool call as a dict (a call, a ``{"tool_calls": [...]}`` assistant message) or
as a JSON string; tags are not part of that grammar. Arguments are validated against each
tool's JSON Schema (:class:`reasongym.envs.tools.spec.ToolSpec`).

Puzzles read moves through :func:`parse_action` too (see :mod:`reasongym.envs.puzzles.parsing`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from reasongym.envs.tools.spec import ToolSpec

#: Strings after which a completion holds one whole action (stop generating there).
STOP_STRINGS: tuple[str, ...] = ("</tool>", "</answer>")

#: Longer actions are format errors (the env's action space may be smaller still).
MAX_ACTION_CHARS = 200_000

#: The tool whose call is the final answer, in the tag, JSON and native forms.
SUBMIT_ANSWER = "submit_answer"

#: JSON numbers with more digits than this make a JSON tool call a format error.
MAX_JSON_DIGITS = 100

#: JSON tool calls nested deeper than this are format errors.
MAX_JSON_DEPTH = 20

#: How many JSON-looking spots of one action are tried before giving up (keeps parsing linear).
MAX_JSON_TRIES = 4

ActionFormat = Literal["tags", "native"]

GRAMMAR_HELP = (
    'Call a tool with <tool name="TOOL">INPUT</tool>; give your final answer with '
    "<answer>ANSWER</answer> (or \\boxed{ANSWER})."
)
NATIVE_HELP = f"Call one of the tools; submit the final answer with the {SUBMIT_ANSWER} tool."


@dataclass(frozen=True)
class ToolCall:
    """A request to run tool ``name``.

    Attributes:
        name: the tool's name (whether it exists is the env's business).
        argument: the single string input (the tag body, or the JSON call's one argument;
            a JSON object of all arguments when the tool takes several).
        arguments: the JSON arguments as a dict (JSON and native calls), else None.
    """

    name: str
    argument: str
    kind: str = "tool"
    arguments: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "name": self.name, "argument": self.argument}
        if self.arguments is not None:
            out["arguments"] = dict(self.arguments)
        return out


@dataclass(frozen=True)
class Answer:
    """A final answer; ``text`` is the content of the tag, box or ``submit_answer`` call."""

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

_TOOL_START = re.compile(r"<tool\b", re.I)
_TOOL_OPEN = re.compile(
    r"""<tool\s+name\s*=\s*(?:"([^"<>\n]{1,64})"|'([^'<>\n]{1,64})'|([^\s"'<>]{1,64}))\s*>""",
    re.I,
)
_TOOL_CLOSE = re.compile(r"</tool\s*>", re.I)
_ANSWER_OPEN = re.compile(r"<answer\s*>", re.I)
_ANSWER_CLOSE = re.compile(r"</answer\s*>", re.I)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"[{}]")
_JSON_START = re.compile(r'\{\s*"(?:name|type|tool_calls|function)"')


# -- public helpers -------------------------------------------------------------------------
def parse_action(
    text: Any,
    tool_args: Mapping[str, str] | None = None,
    *,
    action_format: ActionFormat = "tags",
    tools: Sequence[ToolSpec] | None = None,
    max_chars: int = MAX_ACTION_CHARS,
) -> Action:
    """Parse one agent action under the grammar of the module docstring.

    Args:
        text: the agent's action (anything: non-strings are format errors in tag mode).
        tool_args: tool name -> name of its string argument, to read JSON tool calls
            (``{"calculator": "expression"}``); derived from ``tools`` when omitted.
        action_format: "tags" (the text grammar) or "native" (OpenAI-style tool calls only,
            see :func:`parse_native_action`).
        tools: the env's tool specs; JSON arguments are validated against their schemas.
        max_chars: longer actions are format errors.

    Returns:
        A ToolCall, an Answer or a FormatError. Never raises. Whether a tool exists is
        checked by the env, which knows its tools.
    """
    try:
        if action_format == "native":
            return parse_native_action(text, tools, max_chars=max_chars)
        return _parse_tags(text, _arg_names(tool_args, tools), tools, max_chars)
    except Exception as exc:  # noqa: BLE001 - the grammar promises never to raise
        return FormatError(f"the action could not be read ({type(exc).__name__}). {GRAMMAR_HELP}")


def parse_native_action(
    action: Any, tools: Sequence[ToolSpec] | None = None, *, max_chars: int = MAX_ACTION_CHARS
) -> Action:
    """Parse an OpenAI-style tool call: a dict (a call or an assistant message with
    ``tool_calls``; the first call counts) or a JSON string of one (prose around it allowed).

    Arguments are validated against the matching ``tools`` spec; a ``submit_answer`` call is
    an :class:`Answer`. Text without a tool call is a format error. Never raises.
    """
    try:
        arg_names = _arg_names(None, tools)
        if isinstance(action, (dict, list)):
            try:
                action = plain_json(action)
            except ValueError as exc:
                return FormatError(f"the tool call is not plain JSON data: {exc}. {NATIVE_HELP}")
            parsed = _call_from_json(action, arg_names, tools)
            if parsed is None:
                return FormatError(f"no tool call found in the message. {NATIVE_HELP}")
            return parsed
        if not isinstance(action, str):
            return FormatError(
                f"a tool call must be a JSON string or a dict, got {type(action).__name__}. "
                f"{NATIVE_HELP}"
            )
        action = _plain(action)
        if len(action) > max_chars:
            return FormatError(f"the action has {len(action)} characters; at most {max_chars}")
        found = _first_json_call(action, len(action), arg_names, tools)
        if found is None:
            return FormatError(f"no tool call found. {NATIVE_HELP}")
        return found[1]
    except Exception as exc:  # noqa: BLE001
        return FormatError(f"the tool call could not be read ({type(exc).__name__}). {NATIVE_HELP}")


def is_answer(action: Any, **parse_options: Any) -> bool:
    """Does ``action`` parse as a final answer under this grammar? (Keywords as for
    :func:`parse_action`.) The env decides whether it actually ends the episode."""
    return isinstance(parse_action(action, **parse_options), Answer)


def final_answer_text(action: Any, **parse_options: Any) -> str | None:
    """The content of the final answer of ``action``, or None when it is not an answer."""
    parsed = parse_action(action, **parse_options)
    return parsed.text if isinstance(parsed, Answer) else None


#: A clear free-text final answer: "The answer is 12", "Final answer: 12", "answer = 12".
_FREE_TEXT_ANSWER = re.compile(r"\b(?:final\s+answer|answer)\s*(?:is|:|=)[ \t:]*", re.I)

#: Longest free-text answer taken (a longer "answer" is not a clear one).
MAX_FREE_TEXT_ANSWER = 200


def free_text_answer(action: Any, max_chars: int = MAX_ACTION_CHARS) -> str | None:
    """The final answer stated in prose ("... so the answer is 12."), or None.

    For envs that grade free text (``answer_mode: free_text``) when an action holds no
    construct of the grammar. The *last* such statement counts (prose reasons first and
    concludes last); markdown bold, ``$`` and a final period are stripped. Never raises.
    """
    if not isinstance(action, str) or len(action) > max_chars:
        return None
    text, last = _plain(action), None
    for match in _FREE_TEXT_ANSWER.finditer(text):
        last = match
    if last is None:
        return None
    line = text[last.end() : last.end() + MAX_FREE_TEXT_ANSWER + 1].split("\n", 1)[0]
    if len(line) > MAX_FREE_TEXT_ANSWER:
        return None
    answer = line.strip().strip("*").strip()
    if answer.endswith(".") and not answer[:-1].rstrip().endswith("."):
        answer = answer[:-1]
    answer = answer.strip().strip("$").strip().strip("*").strip()
    return answer[:MAX_FREE_TEXT_ANSWER] or None


def action_as_text(action: Any, max_chars: int = 16_384) -> str:
    """A bounded, printable text of any action, for transcripts and logs. Never raises.

    Strings are kept (clipped); dicts and lists (native tool calls) are written as JSON when
    they can be, else by a depth- and length-limited repr; anything else by its type name.
    """
    try:
        if isinstance(action, str):
            return _plain(action)[:max_chars]
        if isinstance(action, (dict, list)) and not _too_deep(action, MAX_JSON_DEPTH):
            try:
                return json.dumps(action, ensure_ascii=False, default=str)[:max_chars]
            except (TypeError, ValueError, RecursionError):
                pass
        import reprlib

        short = reprlib.Repr()
        short.maxstring = short.maxother = min(max_chars, 200)
        return short.repr(action)[:max_chars]
    except Exception:  # noqa: BLE001
        return f"<{type(action).__name__}>"


def clean_content(content: str) -> str:
    """The answer-text rule: inline content is stripped; content spanning lines loses its
    leading blank lines and trailing whitespace only (indentation is kept)."""
    if "\n" not in content:
        return content.strip()
    lines = content.rstrip().split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


# -- the tag grammar -------------------------------------------------------------------------
def _parse_tags(
    text: Any, arg_names: Mapping[str, str], tools: Sequence[ToolSpec] | None, max_chars: int
) -> Action:
    if not isinstance(text, str):
        return FormatError(f"an action must be a string, got {type(text).__name__}. {GRAMMAR_HELP}")
    text = _plain(text)
    if len(text) > max_chars:
        return FormatError(f"the action has {len(text)} characters; at most {max_chars} are read")
    starts = [
        (m.start(), kind)
        for kind, pattern in (("tool", _TOOL_START), ("answer", _ANSWER_OPEN), ("boxed", _BOXED))
        if (m := pattern.search(text)) is not None
    ]
    first_tag = min(starts, default=(len(text), ""))
    json_call = _first_json_call(text, first_tag[0], arg_names, tools)
    if json_call is not None:
        return json_call[1]
    position, kind = first_tag
    if kind == "tool":
        return _tool_tag(text, position)
    if kind == "answer":
        return _answer_tag(text, position)
    if kind == "boxed":
        return _boxed(text, position)
    return FormatError(f"no tool call or answer found. {GRAMMAR_HELP}")


def _tool_tag(text: str, position: int) -> Action:
    opening = _TOOL_OPEN.match(text, position)
    if opening is None:
        return FormatError('a <tool> tag needs a name: <tool name="TOOL">INPUT</tool>')
    name = next(g for g in opening.groups() if g is not None).strip()
    close = _TOOL_CLOSE.search(text, opening.end())
    if close is None:
        return FormatError(f'the <tool name="{name}"> tag is not closed with </tool>')
    body = text[opening.end() : close.start()]
    if name == SUBMIT_ANSWER:
        return Answer(clean_content(body))
    return ToolCall(name, body.strip("\n"))


def _answer_tag(text: str, position: int) -> Action:
    opening = _ANSWER_OPEN.match(text, position)
    assert opening is not None
    close = _ANSWER_CLOSE.search(text, opening.end())
    if close is None:
        return FormatError("the <answer> tag is not closed with </answer>")
    return Answer(clean_content(text[opening.end() : close.start()]))


def _boxed(text: str, position: int) -> Action:
    opening = _BOXED.match(text, position)
    assert opening is not None
    depth = 1
    for brace in _BRACE.finditer(text, opening.end()):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            return Answer(clean_content(text[opening.end() : brace.start()]))
    return FormatError("the \\boxed{ is not closed (its braces do not balance)")


# -- JSON tool calls -------------------------------------------------------------------------
class _JSONTooBig(ValueError):
    pass


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_JSON_DIGITS:
        raise _JSONTooBig(f"a number has more than {MAX_JSON_DIGITS} digits")
    return int(digits)


def _bounded_float(digits: str) -> float:
    if len(digits) > MAX_JSON_DIGITS + 10:
        raise _JSONTooBig(f"a number has more than {MAX_JSON_DIGITS} digits")
    return float(digits)


def _no_constant(name: str) -> Any:
    raise _JSONTooBig(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(
    parse_int=_bounded_int, parse_float=_bounded_float, parse_constant=_no_constant
)


def decode_json(text: str, start: int = 0) -> tuple[Any, int]:
    """``json.JSONDecoder.raw_decode`` with bounded numbers and nesting.

    Raises:
        ValueError: for invalid, too deep or too big JSON (the message says which).
    """
    try:
        value, end = _DECODER.raw_decode(text, start)
    except RecursionError:
        raise _JSONTooBig(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if _too_deep(value, MAX_JSON_DEPTH):
        raise _JSONTooBig(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value, end


MAX_JSON_NODES = 100_000


def plain_json(value: Any) -> Any:
    """A fresh copy of ``value`` made of exact JSON types only (``dict`` with ``str`` keys,
    ``list``, ``str``, ``int`` of at most :data:`MAX_JSON_DIGITS` digits, finite ``float``,
    ``bool``, ``None``), at most :data:`MAX_JSON_DEPTH` deep and :data:`MAX_JSON_NODES` big.
    Subclasses (a policy's rigged ``dict`` or ``str``) are read through the base type.

    Raises:
        ValueError: naming what is not plain JSON data.
    """
    budget = [MAX_JSON_NODES]

    def copy(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise ValueError(f"more than {MAX_JSON_NODES} values")
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if item is None or type(item) is bool:
            return item
        if isinstance(item, str):
            return _plain(item)
        if type(item) is int:
            if item.bit_length() > MAX_JSON_DIGITS * 3.33:
                raise ValueError(f"a number has more than {MAX_JSON_DIGITS} digits")
            return item
        if type(item) is float:
            if item != item or item in (float("inf"), float("-inf")):
                raise ValueError("NaN and infinity are not JSON numbers")
            return item
        if isinstance(item, dict):
            out = {}
            for key, sub in dict.items(item):
                if not isinstance(key, str):
                    raise ValueError(f"a key of type {type(key).__name__} (keys are strings)")
                out[_plain(key)] = copy(sub, depth + 1)
            return out
        if isinstance(item, list):
            return [copy(sub, depth + 1) for sub in list.__iter__(item)]
        raise ValueError(f"a value of type {type(item).__name__}")

    return copy(value, 0)


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if depth > limit or seen > 100_000:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
    return False


def _first_json_call(
    text: str, before: int, arg_names: Mapping[str, str], tools: Sequence[ToolSpec] | None
) -> tuple[int, Action] | None:
    """The first JSON tool call starting before position ``before`` (a few tries at most)."""
    for tries, match in enumerate(_JSON_START.finditer(text, 0, before)):
        if tries >= MAX_JSON_TRIES:
            break
        try:
            obj, _ = decode_json(text, match.start())
        except _JSONTooBig as exc:
            return match.start(), FormatError(f"the JSON tool call is too big: {exc}")
        except ValueError:
            continue  # not JSON after all (prose, or a call cut short): keep looking
        parsed = _call_from_json(obj, arg_names, tools)
        if parsed is not None:
            return match.start(), parsed
    return None


def _call_from_json(
    obj: Any, arg_names: Mapping[str, str], tools: Sequence[ToolSpec] | None
) -> Action | None:
    """A ToolCall/Answer/FormatError from decoded JSON, or None if it is not a tool call."""
    if isinstance(obj, list):
        obj = obj[0] if obj else None
        if obj is None:
            return FormatError("the list of tool calls is empty")
    if not isinstance(obj, dict):
        return None
    if "tool_calls" in obj:
        calls = obj["tool_calls"]
        if not isinstance(calls, list) or not calls:
            return None if calls is None else FormatError('"tool_calls" must be a non-empty list')
        obj = calls[0]
        if not isinstance(obj, dict):
            return FormatError('each entry of "tool_calls" must be an object with a "function"')
    if "function" in obj:
        function = obj["function"]
        if not isinstance(function, dict):
            return FormatError(
                '"function" must be an object {"name": ..., "arguments": "<JSON string>"}'
            )
        obj = function
    elif "name" not in obj or not ("arguments" in obj or "parameters" in obj):
        return None  # e.g. {"type": "object"} or {"name": "Alice"} in prose
    name = obj.get("name")
    if type(name) is not str or not name.strip() or len(name) > 64:
        return FormatError('a JSON tool call needs a "name": a string of 1 to 64 characters')
    name = name.strip()
    args = obj.get("arguments", obj.get("parameters"))
    expected = arg_names.get(name)
    if args is None:
        args = {}
    if isinstance(args, str):
        raw = args.strip()
        if raw.startswith("{"):
            try:
                args, end = decode_json(raw)
            except ValueError as exc:
                return FormatError(
                    f"the arguments of the tool call to {name!r} are not valid JSON: {exc}"
                )
            if raw[end:].strip():
                return FormatError(
                    f"the arguments of the tool call to {name!r} have text after the JSON object"
                )
        else:
            args = {expected or "input": _plain(args)}
    if not isinstance(args, dict):
        return FormatError(f"the arguments of the tool call to {name!r} must be a JSON object")
    spec = next((t for t in tools or () if t.name == name), None)
    if spec is not None:
        problem = spec.check_arguments(args)
        if problem:
            return FormatError(f"bad arguments for tool {name!r}: {problem}")
    if name == SUBMIT_ANSWER:
        answer = args.get("answer", next(iter(args.values())) if len(args) == 1 else None)
        if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            answer = json.dumps(answer)
        if not isinstance(answer, str):
            return FormatError(f'the {SUBMIT_ANSWER} call needs {{"answer": "<your answer>"}}')
        return Answer(clean_content(_plain(answer)))
    if expected is not None and expected in args:
        value = args[expected]
    elif len(args) == 1:
        value = next(iter(args.values()))
    elif spec is not None or not args:
        value = args
    else:
        want = f'{{"{expected}": ...}}' if expected else "a single string argument"
        return FormatError(f"the JSON tool call to {name!r} needs arguments {want}")
    argument = _plain(value) if isinstance(value, str) else json.dumps(value)
    return ToolCall(name, argument, arguments=dict(args))


def _plain(text: str) -> str:
    """An exact ``str`` (a policy may send str subclasses with rigged methods)."""
    return str.__str__(text)


def _arg_names(
    tool_args: Mapping[str, str] | None, tools: Sequence[ToolSpec] | None
) -> dict[str, str]:
    names = {SUBMIT_ANSWER: "answer"}
    for spec in tools or ():
        argument = getattr(spec, "tag_argument", None)
        if argument:
            names[spec.name] = argument
    names.update(tool_args or {})
    return names
