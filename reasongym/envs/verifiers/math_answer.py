"""Structured answers: an answer string read into a typed value (no sympy).

An answer string (already normalised) becomes one of: :class:`Scalar` (an expression),
:class:`Seq` (tuple, set, bare list, ratio, or an ambiguous ``(a, b)`` pair),
:class:`Intervals` (a union of intervals), :class:`Matrix`, :class:`Relation` (``x + y = 1``,
``x > 2``), :class:`Labelled` (``PQ = 6``, ``y = 2x + 1``), :class:`Choice` (``(B)``),
:class:`Text`, or :class:`Unparsed` (LaTeX this module does not read, for the sympy
fallback). How two of them compare is :mod:`.math_compare`; numbers and expressions,
:mod:`.math_numeric`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reasongym.envs.verifiers.math_eval import (
    TooLarge,
    Undefined,
    exact_value,
    numeric_value,
)
from reasongym.envs.verifiers.math_expr import (
    Call,
    Const,
    ExprSyntaxError,
    Neg,
    Node,
    Sym,
    free_symbols,
    infinity_sign,
    parse_expr,
)
from reasongym.envs.verifiers.math_labels import canonical_label, is_label

MAX_ITEMS = 100  # elements in a set/tuple/matrix compared one by one
MAX_ANSWER_LEN = 2_000


class DeadlineExceeded(Exception):
    """The caller's time budget ran out during the fast path."""


# -- answer kinds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    node: Node
    text: str
    percent: bool = False


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Choice:
    """An option letter; ``value`` is what a gold such as ``\\textbf{(B)}\\ 5`` also gives."""

    letter: str
    value: Answer | None = None


@dataclass(frozen=True)
class Seq:
    """``kind``: "tuple" (ordered), "set" / "list" (unordered), "pair" (``(a, b)``),
    "ratio" (``3:8``; equal to any proportional ratio)."""

    items: tuple[Answer, ...]
    kind: str


@dataclass(frozen=True)
class Interval:
    lo: Node
    hi: Node
    lo_open: bool
    hi_open: bool


@dataclass(frozen=True)
class Intervals:
    parts: tuple[Interval, ...]


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[Answer, ...], ...]


@dataclass(frozen=True)
class Relation:
    """A chain ``parts[0] ops[0] parts[1] ...``; ``texts`` are the parts as written."""

    parts: tuple[Node, ...]
    ops: tuple[str, ...]
    lhs_text: str
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Labelled:
    """``label = value`` where the label only names a quantity (:mod:`.math_labels`).

    ``relation`` keeps the same text read as an equation when it is one (``y = 2x + 1``),
    for comparison with another equation.
    """

    label: str
    value: Answer
    relation: Relation | None = None


@dataclass(frozen=True)
class Unparsed:
    text: str


Answer = Scalar | Text | Choice | Seq | Intervals | Matrix | Relation | Labelled | Unparsed

INF = Const("inf")
NEG_INF = Neg(INF)
_REALS = Intervals((Interval(NEG_INF, INF, True, True),))

# -- parsing --------------------------------------------------------------------------------

_CHOICE_RE = re.compile(r"^\(?([A-J])\)?$|^\(([a-j])\)$")
OTHER_OPTION_RE = re.compile(r"(?<![A-Za-z\\])[A-J](?![A-Za-z])")
_CHOICE_VALUE_RE = re.compile(r"^\(([A-J])\)\s*(?![,)])(\S.*)$")
PRED_CHOICE_RE = re.compile(
    r"^(?:(?:option|choice)\s*)?\(?([A-Ja-j])\)?(?:$|[\s.:)\]]|\\)", re.IGNORECASE
)
_MATRIX_RE = re.compile(
    r"^\\begin\{(?P<env>[pbBvV]?matrix|smallmatrix|array)\}(?:\{[^{}]*\})?(?P<body>.*)"
    r"\\end\{(?P=env)\}$",
    re.DOTALL,
)
_NO_SOLUTION = {
    "nosolution",
    "nosolutions",
    "norealsolution",
    "norealsolutions",
    "thereisnosolution",
}
_EMPTY_SET = {"\\emptyset", "\\varnothing", "\\{\\}", "{}", "\\{ \\}", "\\o"}
_REAL_NAMES = {
    "\\mathbb{R}",
    "\\mathbb R",
    "\\R",
    "\\mathbb{R}}",
    "(-\\infty,\\infty)",
    "allrealnumbers",
    "allreals",
    "\\text{allrealnumbers}",
}
LIST_SEP_RE = re.compile(r",|;|\s+(?:and|or)\s+|\\(?:text\{\s*(?:and|or)\s*\})")
_APPROX_RE = re.compile(r"\\approx(?![A-Za-z])|\\simeq(?![A-Za-z])|≈")
_RATIO_RE = re.compile(r"(?<![:\\]):(?![:=])")
_SET_BUILDER_RE = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*(?:\\mid|\\vert|\||:)\s*(.+)$", re.DOTALL)
_PART_MARK_RE = re.compile(r"^\(((?:\d{1,2}|[IVX]{1,4}|[ivx]{1,4}))\)\s*(?=\S)")
_CUP_RE = re.compile(r"\\cup(?![A-Za-z])")
_IN_RE = re.compile(r"\\in(?![A-Za-z])")
_PM_RE = re.compile(r"\\(?:pm|mp)(?![A-Za-z])|±")
_REL_RE = re.compile(
    r"\\(?:leqslant|geqslant|leq|geq|neq|le|ge|ne|lt|gt|approx)(?![A-Za-z])|<=|>=|!=|=|<|>"
)
_REL_CANON = {
    "=": "=",
    "\\approx": "=",
    "<": "<",
    "\\lt": "<",
    ">": ">",
    "\\gt": ">",
    "<=": "<=",
    "\\le": "<=",
    "\\leq": "<=",
    "\\leqslant": "<=",
    ">=": ">=",
    "\\ge": ">=",
    "\\geq": ">=",
    "\\geqslant": ">=",
    "!=": "!=",
    "\\ne": "!=",
    "\\neq": "!=",
}
FUNC_LHS_RE = re.compile(r"^\s*[A-Za-z](?:_\{?\w+\}?)?\s*(?:\([^()]*\))?\s*$")
_OPENERS = "([{"
_CLOSERS = ")]}"


def _depths(s: str) -> list[int]:
    """Bracket depth before each character; ``\\{``/``\\}`` and \\begin/\\end count too."""
    depth = 0
    out = [0] * (len(s) + 1)
    i = 0
    while i < len(s):
        out[i] = depth
        char = s[i]
        if s.startswith("\\begin", i):
            depth += 1
        elif s.startswith("\\end", i):
            depth -= 1
        elif s.startswith("\\langle", i):
            depth += 1
        elif s.startswith("\\rangle", i):
            depth -= 1
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
        i += 1
    out[len(s)] = depth
    return out


def split_top(s: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """Split at matches of ``pattern`` outside brackets: ``[(piece, separator_after), ...]``."""
    depths = _depths(s)
    pieces: list[tuple[str, str]] = []
    start = 0
    for match in pattern.finditer(s):
        if depths[match.start()] == 0 and match.start() >= start:
            pieces.append((s[start : match.start()], match.group(0)))
            start = match.end()
    pieces.append((s[start:], ""))
    return pieces


def _encloses(s: str, left: str, right: str) -> bool:
    """Whether ``s`` is ``left ... right`` with the two outer brackets matching each other."""
    if not (s.startswith(left) and s.endswith(right)) or len(s) < len(left) + len(right):
        return False
    inner_depths = _depths(s[len(left) : len(s) - len(right)])
    return min(inner_depths) >= 0 and inner_depths[-1] == 0


def canonical_text(s: str) -> str:
    """Lower-case, unwrap ``\\text``, drop spaces/braces/punctuation: for text answers."""
    s = re.sub(r"\\(?:text|mathrm|textbf|mbox)\s*", "", s).lower()
    return re.sub(r"[\s{}.,;:!?\"'`*]", "", s)


def _node(text: str) -> Node:
    return parse_expr(text)


def parse_answer(text: str, percent: bool = False) -> Answer:
    """Read a normalised answer string into a structured :data:`Answer` (never raises)."""
    s = text.strip()
    if not s:
        return Text("")
    if len(s) > MAX_ANSWER_LEN:
        return Text(canonical_text(s[:MAX_ANSWER_LEN]))
    try:
        return _parse(s, percent)
    except ExprSyntaxError:
        return _text_or_unparsed(s)
    except RecursionError:
        return Unparsed(s)


def _text_or_unparsed(s: str) -> Answer:
    if "\\" in s or re.search(r"[\^_{}]", s):
        return Unparsed(s)
    return Text(canonical_text(s))


_MAX_NESTING = 24


def _parse(s: str, percent: bool, depth: int = 0) -> Answer:
    if depth > _MAX_NESTING:
        raise ExprSyntaxError("answer structure nested too deeply")
    depth += 1
    choice = _CHOICE_RE.match(s)
    if choice:
        return Choice((choice.group(1) or choice.group(2)).upper())
    choice = _CHOICE_VALUE_RE.match(s)
    if (
        choice
        and not OTHER_OPTION_RE.search(choice.group(2))
        and len(split_top(choice.group(2), LIST_SEP_RE)) == 1
    ):  # "(B) 5": the option and its value (but "(A) or (B)" is a hedge)
        return Choice(choice.group(1), _parse(choice.group(2).strip(), percent, depth))
    compact = s.replace(" ", "")
    if compact in _EMPTY_SET or canonical_text(s) in _NO_SOLUTION:
        return Seq((), "set")
    if s in _REAL_NAMES or compact in _REAL_NAMES:
        return _REALS
    matrix = _MATRIX_RE.match(s)
    if matrix:
        return _parse_matrix(matrix.group("body"), depth)
    approx = split_top(s, _APPROX_RE)
    if len(approx) > 1 and len(split_top(s, LIST_SEP_RE)) == 1:
        # "y = 2/3 \approx 0.67": the exact value before the first \approx is the answer.
        head = approx[0][0].strip()
        if head and not is_label(head):
            return _parse(head, percent, depth)
        return _parse(approx[-1][0].strip(), percent, depth)
    labelled = _parse_labelled(s, percent, depth)
    if labelled is not None:
        return labelled
    membership = split_top(s, _IN_RE)
    if len(membership) == 2:  # "x \in [0, 1]"
        return _parse(membership[1][0].strip(), percent, depth)
    pieces = split_top(s, _CUP_RE)
    if len(pieces) > 1:
        return _parse_union([p for p, _ in pieces], depth)
    items = [p.strip() for p, _ in split_top(s, LIST_SEP_RE)]
    if len(items) > 1:
        if len(items) > MAX_ITEMS or not all(items):
            return _text_or_unparsed(s)
        enumerated = [_PART_MARK_RE.match(i) for i in items]
        if all(enumerated):  # "(1) 2; (2) 5": numbered parts are labels
            return Seq(
                tuple(
                    Labelled(m.group(1), _parse(i[m.end() :].strip(), False, depth))
                    for m, i in zip(enumerated, items, strict=True)
                    if m is not None
                ),
                "list",
            )
        return _as_intervals_if_inequalities(
            Seq(spliced(_parse(i, False, depth) for i in items), "list")
        )
    bracketed = _parse_bracketed(s, depth)
    if bracketed is not None:
        return bracketed
    if _PM_RE.search(s):
        plus = _PM_RE.sub("+", s, count=1)
        minus = _PM_RE.sub("-", s, count=1)
        return Seq((_parse(plus, percent, depth), _parse(minus, percent, depth)), "list")
    relation = split_top(s, _REL_RE)
    if len(relation) > 1:
        return _parse_relation(relation)
    ratio = split_top(s, _RATIO_RE)
    if len(ratio) > 1:
        return Seq(tuple(Scalar(_node(p.strip()), "") for p, _ in ratio), "ratio")
    return Scalar(_node(s), s.replace(" ", ""), percent)


def _parse_labelled(s: str, percent: bool, depth: int) -> Labelled | None:
    """``label = value`` with a single top-level ``=`` (the value may be a list or tuple)."""
    pieces = split_top(s, _REL_RE)
    if len(pieces) != 2 or _REL_CANON[pieces[0][1]] != "=":
        return None
    lhs, rhs = pieces[0][0].strip(), pieces[1][0].strip()
    if not lhs or not rhs or not is_label(lhs):
        return None
    relation: Relation | None = None
    try:
        parsed = _parse_relation(pieces)
        relation = parsed.relation if isinstance(parsed, Labelled) else None
    except ExprSyntaxError:
        pass
    return Labelled(canonical_label(lhs), _parse(rhs, percent, depth), relation)


def spliced(items: Iterable[Answer]) -> tuple[Answer, ...]:
    """Unordered items with ``1 \\pm \\sqrt{5}`` spliced in as its two values."""
    out: list[Answer] = []
    for item in items:
        if isinstance(item, Seq) and item.kind == "list":
            out.extend(item.items)
        else:
            out.append(item)
    return tuple(out)


def _parse_bracketed(s: str, depth: int) -> Answer | None:
    for left, right, kind in (("\\{", "\\}", "set"), ("\\langle", "\\rangle", "tuple")):
        if _encloses(s, left, right):
            inner = s[len(left) : len(s) - len(right)].strip()
            builder = _SET_BUILDER_RE.match(inner) if kind == "set" else None
            if builder:  # \{x \mid x > 2\}: the condition is the set
                return _parse(builder.group(1).strip(), False, depth)
            items = [p.strip() for p, _ in split_top(inner, re.compile(","))] if inner else []
            if len(items) > MAX_ITEMS:
                return Unparsed(s)
            return Seq(spliced(_parse(i, False, depth) for i in items), kind)
    if _encloses(s, "{", "}"):
        inner = s[1:-1].strip()
        items = [p.strip() for p, _ in split_top(inner, re.compile(","))]
        if len(items) == 1:
            return _parse(inner, False, depth)
        return Seq(spliced(_parse(i, False, depth) for i in items), "set")
    if not (s[:1] in "([" and s[-1:] in ")]" and len(s) >= 2):
        return None
    inner_depths = _depths(s[1:-1])
    if min(inner_depths) < 0 or inner_depths[-1] != 0:
        return None
    inner = s[1:-1].strip()
    items = [p.strip() for p, _ in split_top(inner, re.compile(","))]
    if len(items) > MAX_ITEMS or not all(items):
        return Unparsed(s)
    if len(items) == 1:
        if s[0] == "(" and s[-1] == ")" or s[0] == "[" and s[-1] == "]":
            return _parse(inner, False, depth)
        return None
    if len(items) == 2:
        if s[0] == "(" and s[-1] == ")":
            return Seq((_parse(items[0], False, depth), _parse(items[1], False, depth)), "pair")
        return Intervals((_interval(items[0], items[1], s[0] == "(", s[-1] == ")"),))
    return Seq(tuple(_parse(i, False, depth) for i in items), "tuple")


def _interval(lo_text: str, hi_text: str, lo_open: bool, hi_open: bool) -> Interval:
    lo, hi = _node(lo_text), _node(hi_text)
    # An infinite end is never included: [2, \infty] is [2, \infty).
    return Interval(lo, hi, lo_open or infinity_sign(lo) != 0, hi_open or infinity_sign(hi) != 0)


def _parse_union(pieces: list[str], depth: int) -> Answer:
    parts: list[Interval] = []
    for piece in pieces:
        answer = _parse(piece.strip(), False, depth)
        if isinstance(answer, Intervals):
            parts.extend(answer.parts)
        elif isinstance(answer, Seq) and answer.kind == "pair":
            lo, hi = answer.items
            if not (isinstance(lo, Scalar) and isinstance(hi, Scalar)):
                return Unparsed("\\cup".join(pieces))
            parts.append(Interval(lo.node, hi.node, True, True))
        else:
            return Unparsed("\\cup".join(pieces))
    return Intervals(tuple(parts))


def _parse_matrix(body: str, depth: int) -> Answer:
    rows = [r for r in re.split(r"\\\\", body) if r.strip() and not r.strip() == "\\hline"]
    cells = [[c.strip() for c in row.split("&")] for row in rows]
    if not cells or sum(len(r) for r in cells) > MAX_ITEMS or len({len(r) for r in cells}) != 1:
        return Unparsed(body)
    return Matrix(tuple(tuple(_parse(c, False, depth) for c in row) for row in cells))


def _parse_relation(pieces: list[tuple[str, str]]) -> Answer:
    texts = [p.strip() for p, _ in pieces]
    if not all(texts):
        raise ExprSyntaxError("empty side of a relation")
    ops = tuple(_REL_CANON[sep] for _, sep in pieces[:-1])
    nodes = tuple(_node(t) for t in texts)
    if all(op == "=" for op in ops):  # "x = 2 + 3 = 5" means x = 5
        relation = Relation((nodes[0], nodes[-1]), ("=",), texts[0], (texts[0], texts[-1]))
        if is_label(texts[0]):
            return Labelled(canonical_label(texts[0]), Scalar(nodes[-1], ""), relation)
        return relation
    return Relation(nodes, ops, texts[0], tuple(texts))


def _as_intervals_if_inequalities(seq: Seq) -> Answer:
    """``x < 0 or x > 1`` -> the union of intervals; anything else unchanged."""
    if not seq.items or not all(isinstance(i, Relation) for i in seq.items):
        return seq
    parts: list[Interval] = []
    for item in seq.items:
        assert isinstance(item, Relation)
        converted = relation_to_intervals(item)
        if converted is None:
            return seq
        parts.extend(converted.parts)
    return Intervals(tuple(parts))


def relation_to_intervals(rel: Relation) -> Intervals | None:
    """``x > 2`` / ``2 < x`` / ``-1 <= x < 3`` / ``x \\ne 2`` -> intervals; None otherwise."""
    if rel.ops == ("!=",) and isinstance(rel.parts[0], Sym) and not free_symbols(rel.parts[1]):
        point = rel.parts[1]
        return Intervals((Interval(NEG_INF, point, True, True), Interval(point, INF, True, True)))
    if any(op in ("=", "!=") for op in rel.ops):
        return None
    variables = [i for i, part in enumerate(rel.parts) if free_symbols(part)]
    if len(variables) != 1:
        return None
    k = variables[0]
    subject = rel.parts[k]
    text = rel.texts[k] if len(rel.texts) == len(rel.parts) else ""
    is_abs = (
        isinstance(subject, Call) and subject.name == "abs" and isinstance(subject.args[0], Sym)
    )
    # The subject is a variable, a named quantity (g(x), h(t)) or |w|.
    if not (isinstance(subject, Sym) or is_abs or (text and is_label(text))):
        return None
    lo: Node = NEG_INF
    hi: Node = INF
    lo_open = hi_open = True
    for i, op in enumerate(rel.ops):
        left, right = rel.parts[i], rel.parts[i + 1]
        if i + 1 == k:  # bound  op  x
            bound, increasing = left, op in ("<", "<=")
            strict = op in ("<", ">")
        elif i == k:  # x  op  bound
            bound, increasing = right, op in (">", ">=")
            strict = op in ("<", ">")
        else:
            return None
        if increasing:
            lo, lo_open = bound, strict
        else:
            hi, hi_open = bound, strict
    interval = Interval(lo, hi, lo_open, hi_open)
    return _mirror_abs(interval) if is_abs else Intervals((interval,))


def sign_of(node: Node) -> int | None:
    """-1, 0 or +1 for a constant bound (infinities included), None when unknown."""
    inf = infinity_sign(node)
    if inf:
        return inf
    try:
        value = exact_value(node)
        if value is None:
            approx, err = numeric_value(node, {})
            if abs(approx.imag) > err or abs(approx.real) <= err:
                return None
            return 1 if approx.real > 0 else -1
    except (Undefined, TooLarge):
        return None
    return (value > 0) - (value < 0)


def _mirror_abs(interval: Interval) -> Intervals | None:
    """The values of ``w`` for which ``|w|`` lies in ``interval`` (constant bounds only)."""
    lo_sign, hi_sign = sign_of(interval.lo), sign_of(interval.hi)
    if lo_sign is None or hi_sign is None or hi_sign < 0:
        return None
    hi, hi_open = interval.hi, interval.hi_open
    if hi_sign == 0:
        return Intervals(()) if hi_open else None  # |w| <= 0 is {0}: not an interval here
    if lo_sign < 0 or (lo_sign == 0 and not interval.lo_open):  # the lower bound is vacuous
        return Intervals((Interval(Neg(hi), hi, hi_open, hi_open),))
    lo, lo_open = interval.lo, interval.lo_open
    return Intervals(
        (Interval(Neg(hi), Neg(lo), hi_open, lo_open), Interval(lo, hi, lo_open, hi_open))
    )
