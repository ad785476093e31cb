"""Structured answers and the fast equivalence check between them (no sympy).

An answer string (already normalised) becomes one of: :class:`Scalar` (an expression),
:class:`Seq` (tuple, set, bare list, or an ambiguous ``(a, b)`` pair), :class:`Intervals`
(a union of intervals), :class:`Matrix`, :class:`Relation` (``x = 2``, ``y = 2x+1``,
``x > 2``), :class:`Choice` (``(B)``), :class:`Text`, or :class:`Unparsed` (LaTeX this module
does not read, for the sympy fallback).

Equivalence rules (the documented behaviour of ``verify_math``):

- numbers: exact rationals compare exactly (``0.5 == 1/2 == \\frac{1}{2}``; ``1234567`` never
  equals ``1234568``). A decimal literal matches an irrational or non-terminating value when
  it has at least 6 significant digits and is within one unit of its last digit
  (``0.333333 == 1/3``, ``3.14159 == \\pi``; ``0.333`` and ``3.14`` are not). Other exact
  values (radicals, pi, e, i) must agree to a relative 1e-10 *of the gold* (1e-6 when the
  gold itself is written with decimals). Soundness: the tolerance comes from the gold alone,
  and floats count as evidence only when their forward error bounds (:mod:`.math_eval`) are
  inside it; an ill-conditioned evaluation (``x + 10^{300} - 10^{300}``, ``\\sin(10^{300})``)
  is undecided, goes to the exact/symbolic slow path, and is otherwise not equal;
- percent: ``50\\%`` equals ``50`` and ``0.5``;
- expressions with variables: equal when they certainly agree (as above) at three or more of
  six fixed points where the evaluation is well conditioned (mixed signs, so
  ``\\sqrt{x^2} != x``); any certain disagreement is decisive. Odd roots of negatives are real;
- sets and bare lists ignore order, tuples do not; ``(a, b)`` is a pair that also equals the
  open interval; intervals must agree on every endpoint and on open/closed ends
  (an infinite end is always open); a singleton set equals its element;
- ``x = 2`` equals ``2``; ``y = 2x+1`` equals ``2x+1``; two equations are equivalent when
  ``lhs - rhs`` of one is a non-zero constant multiple of the other's;
  single-variable inequalities compare as intervals (``x > 2 == (2, \\infty)``);
- multiple choice: the gold is a letter A-J; the prediction's leading letter
  (``B``, ``(B)``, ``B) 12``, ``\\text{(B)}``) must match.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeVar

from reasongym.envs.verifiers.math_eval import (
    EPS,
    Approx,
    TooLarge,
    Undefined,
    approx_div,
    exact_value,
    numeric_value,
)
from reasongym.envs.verifiers.math_expr import (
    Add,
    Call,
    Const,
    Div,
    ExprSyntaxError,
    Mul,
    Neg,
    Node,
    Num,
    Sym,
    free_symbols,
    has_decimal,
    infinity_sign,
    parse_expr,
)
from reasongym.envs.verifiers.math_labels import canonical_label, is_label, tuple_label_parts

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

_INF = Const("inf")
_NEG_INF = Neg(_INF)
_REALS = Intervals((Interval(_NEG_INF, _INF, True, True),))

# -- parsing --------------------------------------------------------------------------------

_CHOICE_RE = re.compile(r"^\(?([A-J])\)?$|^\(([a-j])\)$")
_OTHER_OPTION_RE = re.compile(r"(?<![A-Za-z\\])[A-J](?![A-Za-z])")
_CHOICE_VALUE_RE = re.compile(r"^\(([A-J])\)\s*(?![,)])(\S.*)$")
_PRED_CHOICE_RE = re.compile(
    r"^(?:(?:option|choice)\s*)?\(?([A-Ja-j])\)?(?:$|[\s.:)\]]|\\)", re.IGNORECASE
)
_MATRIX_RE = re.compile(
    r"^\\begin\{(?P<env>[pbBvV]?matrix|smallmatrix|array)\}(?:\{[^{}]*\})?(?P<body>.*)"
    r"\\end\{(?P=env)\}$",
    re.DOTALL,
)
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
_FUNC_LHS_RE = re.compile(r"^\s*[A-Za-z](?:_\{?\w+\}?)?\s*(?:\([^()]*\))?\s*$")
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
        and not _OTHER_OPTION_RE.search(choice.group(2))
        and len(split_top(choice.group(2), LIST_SEP_RE)) == 1
    ):  # "(B) 5": the option and its value (but "(A) or (B)" is a hedge)
        return Choice(choice.group(1), _parse(choice.group(2).strip(), percent, depth))
    compact = s.replace(" ", "")
    if compact in _EMPTY_SET:
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
            Seq(_spliced(_parse(i, False, depth) for i in items), "list")
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


def _spliced(items: Iterable[Answer]) -> tuple[Answer, ...]:
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
            return Seq(_spliced(_parse(i, False, depth) for i in items), kind)
    if _encloses(s, "{", "}"):
        inner = s[1:-1].strip()
        items = [p.strip() for p, _ in split_top(inner, re.compile(","))]
        if len(items) == 1:
            return _parse(inner, False, depth)
        return Seq(_spliced(_parse(i, False, depth) for i in items), "set")
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
        converted = _relation_to_intervals(item)
        if converted is None:
            return seq
        parts.extend(converted.parts)
    return Intervals(tuple(parts))


def _relation_to_intervals(rel: Relation) -> Intervals | None:
    """``x > 2`` / ``2 < x`` / ``-1 <= x < 3`` / ``x \\ne 2`` -> intervals; None otherwise."""
    if rel.ops == ("!=",) and isinstance(rel.parts[0], Sym) and not free_symbols(rel.parts[1]):
        point = rel.parts[1]
        return Intervals((Interval(_NEG_INF, point, True, True), Interval(point, _INF, True, True)))
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
    lo: Node = _NEG_INF
    hi: Node = _INF
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


def _sign(node: Node) -> int | None:
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
    lo_sign, hi_sign = _sign(interval.lo), _sign(interval.hi)
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


# -- comparison -----------------------------------------------------------------------------

_RNG = random.Random(20240611)
_MAX_VARS = 12
# Six evaluation points; two of them put every variable at a negative value.
_POINTS: tuple[tuple[complex, ...], ...] = tuple(
    tuple(complex((-1 if j in (1, 4) else 1) * _RNG.uniform(0.35, 2.4)) for _ in range(_MAX_VARS))
    for j in range(6)
)
# Relative tolerance for an exact gold, and for a gold written with decimals (an approximation).
# Both come from the gold alone; see _certainly.
_TIGHT_REL = 1e-10
_LOOSE_REL = 1e-6
_MIN_SIGNIFICANT = 6
# A value whose error bound exceeds this fraction of a decimal's last-digit unit is too
# imprecise to compare with that decimal.
_ULP_SHARE = 1e-3


@dataclass
class CompareContext:
    """What a comparison needs besides the two answers."""

    pred_text: str
    deadline: float

    def check(self) -> None:
        if time.perf_counter() > self.deadline:
            raise DeadlineExceeded


Outcome = tuple[bool | None, str]  # (equal, or None when undecided; method)


def _certainly(gold: Approx, pred: Approx, tol: float) -> bool | None:
    """Whether the true values are within ``tol`` of each other, when the floats can tell.

    ``tol`` comes from the gold only. Equal means: even with every rounding error against
    us, the true values are within ``tol``; different means: even with every error in our
    favour they are further apart. Anything in between (an ill-conditioned evaluation:
    huge intermediate terms, cancellation, a function of a huge argument) is undecided,
    never evidence of equality.
    """
    (g, g_err), (p, p_err) = gold, pred
    slack = g_err + p_err
    if not math.isfinite(slack):
        return None
    distance = abs(g - p)
    if distance + slack <= tol:
        return True
    if distance - slack > tol:
        return False
    return None


def _gold_tol(gold: Approx, rel: float) -> float:
    return rel * abs(gold[0])


def _literal(node: Node) -> Num | None:
    """The decimal literal that ``node`` is (possibly negated), if it is one."""
    inner = node.arg if isinstance(node, Neg) else node
    return inner if isinstance(inner, Num) and inner.is_decimal else None


def _literal_matches(node: Node, literal: Num, scale: Fraction, target: Approx) -> bool | None:
    """A decimal approximation of ``target``: >= 6 significant digits, within 1 ulp.

    The ulp is that of the decimal as written; it never exceeds 1e-5 of the value (six
    significant digits), so no way of writing the decimal loosens the match beyond that.
    """
    value, err = target
    if abs(value.imag) > 1e-12 * abs(value) + err:
        return False
    try:
        digits = Decimal(literal.text).as_tuple()
    except InvalidOperation:
        return False
    significant = len("".join(map(str, digits.digits)).lstrip("0"))
    if significant < _MIN_SIGNIFICANT:
        return False
    exponent = digits.exponent if isinstance(digits.exponent, int) else 0
    ulp = float(Fraction(10) ** exponent * scale)
    if not err <= _ULP_SHARE * ulp:
        return None
    literal_value = float((-literal.value if isinstance(node, Neg) else literal.value) * scale)
    return abs(literal_value - value.real) <= max(ulp, 1e-12 * abs(value)) * (1 + 1e-9)


def _terminates(value: Fraction) -> bool:
    """Whether the decimal expansion ends: the denominator divides a power of 10."""
    den = value.denominator
    return pow(10, den.bit_length(), den) == 0 if den > 1 else True


def _numbers_equal(g: Node, p: Node, g_scale: Fraction, p_scale: Fraction) -> bool | None:
    try:
        g_exact, p_exact = exact_value(g), exact_value(p)
    except Undefined:
        g_exact = p_exact = None
    g_lit, p_lit = _literal(g), _literal(p)
    if g_exact is not None and p_exact is not None:
        g_exact, p_exact = g_exact * g_scale, p_exact * p_scale
        if g_exact == p_exact:
            return True
        try:
            if p_lit is not None and not _terminates(g_exact):
                return bool(_literal_matches(p, p_lit, p_scale, (complex(g_exact), 0.0)))
            if g_lit is not None and not _terminates(p_exact):
                return bool(_literal_matches(g, g_lit, g_scale, (complex(p_exact), 0.0)))
        except OverflowError:  # beyond float range: only the exact comparison counts
            return False
        return False
    try:
        g_val = _scaled(numeric_value(g, {}), g_scale)
        p_val = _scaled(numeric_value(p, {}), p_scale)
    except Undefined:
        return None
    rel = _LOOSE_REL if has_decimal(g) else _TIGHT_REL
    equal = _certainly(g_val, p_val, _gold_tol(g_val, rel))
    if equal:  # e.g. \cos 60^\circ and 0.5
        return True
    if p_lit is not None and g_exact is None:
        return _literal_matches(p, p_lit, p_scale, g_val)
    if g_lit is not None and p_exact is None:
        return _literal_matches(g, g_lit, g_scale, p_val)
    return equal


def _scaled(approx: Approx, scale: Fraction) -> Approx:
    factor = float(scale)
    return approx[0] * factor, approx[1] * factor * (1 + 2 * EPS)


def _points_for(names: list[str], scale: float = 1.0) -> list[dict[str, complex]]:
    return [
        {name: point[k % _MAX_VARS] * (1 + k // _MAX_VARS) * scale for k, name in enumerate(names)}
        for point in _POINTS
    ]


_MIN_POINTS = 3


def _functions_equal(g: Node, p: Node, names: list[str]) -> bool | None:
    """Equal at >= 3 points where the evaluation is well conditioned, and nowhere unequal."""
    rel = _LOOSE_REL if has_decimal(g) else _TIGHT_REL
    # Points of size ~1 first; points ten times smaller when those overflow ((x+1)^{1000}).
    for scale in (1.0, 0.1):
        agreed = 0
        for env in _points_for(names, scale):
            try:
                g_val = numeric_value(g, env)
                p_val = numeric_value(p, env)
            except Undefined:
                continue
            equal = _certainly(g_val, p_val, _gold_tol(g_val, rel))
            if equal is False:
                return False
            agreed += equal is True
        if agreed >= _MIN_POINTS:
            return True
    return None


def _scalars_equal(g: Scalar, p: Scalar) -> Outcome:
    g_inf, p_inf = infinity_sign(g.node), infinity_sign(p.node)
    if g_inf or p_inf:
        return g_inf == p_inf, "exact"
    if g.text and g.text == p.text and g.percent == p.percent:
        return True, "exact"
    names = sorted(free_symbols(g.node) | free_symbols(p.node))
    if names:
        return _functions_equal(g.node, p.node, names), "symbolic"
    one, hundredth = Fraction(1), Fraction(1, 100)
    scales = [(one, one)]
    if g.percent and not p.percent:
        scales.append((hundredth, one))
    elif p.percent and not g.percent:
        scales.append((one, hundredth))
    undecided = False
    for g_scale, p_scale in scales:
        equal = _numbers_equal(g.node, p.node, g_scale, p_scale)
        if equal:
            return True, "numeric"
        undecided = undecided or equal is None
    return (None if undecided else False), "numeric"


def _equations_equivalent(g: Relation, p: Relation) -> bool | None:
    """``lhs - rhs`` of one is a constant multiple of the other's (positive for inequalities)."""
    f = Add((g.parts[0], Neg(g.parts[-1])))
    h = Add((p.parts[0], Neg(p.parts[-1])))
    names = sorted(free_symbols(f) | free_symbols(h))
    if not names:
        return None
    ratio: Approx | None = None
    valid = 0
    for env in _points_for(names):
        try:
            a = numeric_value(f, env)
            b = numeric_value(h, env)
        except Undefined:
            continue
        a_known, b_known = abs(a[0]) > a[1], abs(b[0]) > b[1]  # certainly non-zero
        a_zero, b_zero = a == (0j, 0.0), b == (0j, 0.0)  # certainly zero
        if (a_zero and b_known) or (b_zero and a_known):
            return False
        if not (a_known and b_known):
            continue  # too close to zero to tell at this point
        try:
            r = approx_div(a, b)
        except Undefined:
            continue
        if not r[1] <= 1e-9 * abs(r[0]):
            continue  # ill-conditioned here
        if ratio is None:
            ratio = r
        else:
            same = _certainly(ratio, r, 1e-8 * abs(ratio[0]))
            if same is False:
                return False
            if same is None:
                continue
        valid += 1
    if ratio is None or valid < 2:
        return None
    value = ratio[0]
    if g.ops[0] != "=" and not (value.real > 0 and abs(value.imag) <= 1e-9 * abs(value)):
        return False
    return True


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def _relations_equal(g: Relation, p: Relation, ctx: CompareContext) -> Outcome:
    same_lhs = g.lhs_text.replace(" ", "") == p.lhs_text.replace(" ", "")
    if g.ops == p.ops == ("=",) and same_lhs and _is_assignment(g):
        return compare(_rhs_answer(g), _rhs_answer(p), ctx)[0], "equation"
    g_int, p_int = _relation_to_intervals(g), _relation_to_intervals(p)
    if g_int is not None and p_int is not None:
        return _intervals_equal(g_int, p_int, ctx), "interval"
    if len(g.ops) != 1 or len(p.ops) != 1:
        return None, "equation"
    if g.ops[0] != p.ops[0]:
        if _FLIP[g.ops[0]] != p.ops[0]:
            return False, "equation"
        p = Relation((p.parts[1], p.parts[0]), (g.ops[0],), "")
    return _equations_equivalent(g, p), "equation"


def _is_assignment(rel: Relation) -> bool:
    return (
        rel.ops[0] == "="
        and bool(_FUNC_LHS_RE.match(rel.lhs_text))
        and all(op == "=" for op in rel.ops)
    )


def _intervals_equal(g: Intervals, p: Intervals, ctx: CompareContext) -> bool | None:
    if len(g.parts) != len(p.parts):
        return False

    def same(a: Interval, b: Interval) -> bool | None:
        if a.lo_open != b.lo_open or a.hi_open != b.hi_open:
            return False
        lo = compare(Scalar(a.lo, ""), Scalar(b.lo, ""), ctx)[0]
        hi = compare(Scalar(a.hi, ""), Scalar(b.hi, ""), ctx)[0]
        if lo is False or hi is False:
            return False
        return None if lo is None or hi is None else True

    return _match_unordered(list(g.parts), list(p.parts), same, ctx)


_T = TypeVar("_T")


def _match_unordered(
    gs: list[_T], ps: list[_T], same: Callable[[_T, _T], bool | None], ctx: CompareContext
) -> bool | None:
    """Every gold item has an equal prediction item and vice versa."""
    if len(gs) != len(ps):
        return False
    undecided = False
    used = [False] * len(ps)
    for g in gs:
        found = False
        for j, p in enumerate(ps):
            if used[j]:
                continue
            ctx.check()
            equal = same(g, p)
            if equal:
                used[j] = found = True
                break
            undecided = undecided or equal is None
        if not found:
            return None if undecided else False
    return True


def _ratio_value(ratio: Seq) -> Answer:
    if len(ratio.items) != 2:
        return Text("")
    a, b = ratio.items
    assert isinstance(a, Scalar) and isinstance(b, Scalar)
    return Scalar(Div(a.node, b.node), "")


def _ratios_equal(g: Seq, p: Seq, ctx: CompareContext) -> Outcome:
    """``3:8 == 6:16``: ``p = c g`` for some ``c != 0`` (so ``0:0`` equals nothing).

    With a pivot ``j`` where the gold term is non-zero, every ``g_i p_j == p_i g_j`` and
    ``p_j != 0``.
    """
    if g.kind != p.kind or len(g.items) != len(p.items):
        return False, "ratio"
    g_nodes = [i.node for i in g.items if isinstance(i, Scalar)]
    p_nodes = [i.node for i in p.items if isinstance(i, Scalar)]
    if len(g_nodes) != len(g.items) or len(p_nodes) != len(p.items):
        return None, "ratio"
    pivot = next((j for j, node in enumerate(g_nodes) if _sign(node) not in (0, None)), None)
    if pivot is None:
        return None, "ratio"
    if _sign(p_nodes[pivot]) in (0, None):
        return (False if _sign(p_nodes[pivot]) == 0 else None), "ratio"
    for gi, pi in zip(g_nodes, p_nodes, strict=True):
        ctx.check()
        left = Scalar(Mul((gi, p_nodes[pivot])), "")
        right = Scalar(Mul((pi, g_nodes[pivot])), "")
        equal = _scalars_equal(left, right)[0]
        if not equal:
            return equal, "ratio"
    return True, "ratio"


def _expand(labelled: Labelled) -> Seq | None:
    """``(a,b) = (5,1)`` -> the labelled list ``a = 5, b = 1``."""
    parts = tuple_label_parts(labelled.label)
    value = labelled.value
    if parts is None or not isinstance(value, Seq) or len(value.items) != len(parts):
        return None
    return Seq(
        tuple(Labelled(part, item) for part, item in zip(parts, value.items, strict=True)), "list"
    )


def _compare_labelled(g: Answer, p: Answer, ctx: CompareContext) -> Outcome:
    """Labels must agree when both sides have one; otherwise the label is dropped."""
    if isinstance(g, Labelled) and isinstance(p, Labelled):
        if g.label == p.label:
            return compare(g.value, p.value, ctx)[0], "label"
        if g.relation is not None and p.relation is not None:
            return _relations_equal(g.relation, p.relation, ctx)
        return False, "label"
    if isinstance(g, Labelled):
        if isinstance(p, Relation):
            return _relations_equal(g.relation, p, ctx) if g.relation else (False, "label")
        expanded = _expand(g)
        if expanded is not None and isinstance(p, Seq) and _labels(p) is not None:
            return compare(expanded, p, ctx)[0], "label"
        return compare(g.value, p, ctx)[0], "label"
    assert isinstance(p, Labelled)
    if isinstance(g, Relation):
        return _relations_equal(g, p.relation, ctx) if p.relation else (False, "label")
    expanded = _expand(p)
    if expanded is not None and isinstance(g, Seq) and _labels(g) is not None:
        return compare(g, expanded, ctx)[0], "label"
    return compare(g, p.value, ctx)[0], "label"


_INDEXED_RE = re.compile(r"^([A-Za-z]+|\\[A-Za-z]+)_\{?\d+\}?$")


def _labels(seq: Seq) -> dict[str, Answer] | None:
    """``{label: value}`` when every item has its own label; else None.

    Labels that differ only by an index (``x_1 = 3, x_2 = 2``: the roots) are
    interchangeable, so they give no positions either: None.
    """
    if not seq.items or not all(isinstance(i, Labelled) for i in seq.items):
        return None
    labels = {i.label: i.value for i in seq.items if isinstance(i, Labelled)}
    if len(labels) != len(seq.items):
        return None
    bases = {m.group(1) if (m := _INDEXED_RE.match(label)) else None for label in labels}
    if len(bases) == 1 and None not in bases:
        return None
    return labels


def labelled_parts(answer: Answer) -> dict[str, Answer] | None:
    """The named parts of a labelled answer (``PQ = 6, RS = 9``), or None."""
    if isinstance(answer, Labelled):
        answer = _expand(answer) or answer
    return _labels(answer) if isinstance(answer, Seq) else None


def _unlabelled(seq: Seq) -> Seq:
    items = tuple(i.value if isinstance(i, Labelled) else i for i in seq.items)
    return Seq(_spliced(items), seq.kind)


def _seqs_equal(g: Seq, p: Seq, ctx: CompareContext) -> Outcome:
    if g.kind == "ratio" or p.kind == "ratio":
        return _ratios_equal(g, p, ctx)
    g_labels, p_labels = _labels(g), _labels(p)
    if g_labels is not None and p_labels is not None:
        if set(g_labels) != set(p_labels):
            return False, "label"
        g = Seq(tuple(g_labels[k] for k in sorted(g_labels)), "tuple")
        p = Seq(tuple(p_labels[k] for k in sorted(g_labels)), "tuple")
    elif g_labels is not None:
        # A gold's distinct labels give its values positions: "PQ=6, RS=9" is not "9, 6".
        g = Seq(_unlabelled(g).items, "tuple" if g.kind == "list" else g.kind)
        p = Seq(_unlabelled(p).items, "tuple" if p.kind == "list" else p.kind)
    else:
        g, p = _unlabelled(g), _unlabelled(p)
    ordered_kinds = ("tuple", "pair")
    if (g.kind == "set" and p.kind in ordered_kinds) or (
        p.kind == "set" and g.kind in ordered_kinds
    ):
        return False, "set"
    if len(g.items) != len(p.items):
        return False, "set" if "set" in (g.kind, p.kind) else "tuple"

    def same(a: Answer, b: Answer) -> bool | None:
        return compare(a, b, ctx)[0]

    if g.kind in ordered_kinds or p.kind in ordered_kinds:
        for a, b in zip(g.items, p.items, strict=True):
            ctx.check()
            equal = same(a, b)
            if not equal:
                return equal, "tuple"
        return True, "tuple"
    return _match_unordered(list(g.items), list(p.items), same, ctx), "set"


def _as_intervals(answer: Answer) -> Intervals | None:
    if isinstance(answer, Intervals):
        return answer
    if isinstance(answer, Relation):
        return _relation_to_intervals(answer)
    if isinstance(answer, Seq) and answer.kind == "pair":
        lo, hi = answer.items
        if isinstance(lo, Scalar) and isinstance(hi, Scalar):
            return Intervals((Interval(lo.node, hi.node, True, True),))
    return None


def _vector(answer: Matrix) -> tuple[Answer, ...] | None:
    if len(answer.rows) == 1:
        return answer.rows[0]
    if all(len(row) == 1 for row in answer.rows):
        return tuple(row[0] for row in answer.rows)
    return None


def pred_choice(pred_text: str) -> str | None:
    """The option letter a prediction names: ``B``, ``(B)``, ``B) 12``, ``Option B``.

    None when a second option letter follows (``A or B``, ``(A), (C)``): a hedge names no
    option.
    """
    text = re.sub(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}", r"\1", pred_text).strip()
    match = _PRED_CHOICE_RE.match(text)
    if not match or _OTHER_OPTION_RE.search(text, match.end()):
        return None
    return match.group(1).upper()


def compare(g: Answer, p: Answer, ctx: CompareContext) -> Outcome:
    """Decide whether prediction ``p`` is equivalent to gold ``g`` (see module docstring).

    Returns:
        ``(equal, method)``; ``equal`` is None when the fast path cannot decide.

    Raises:
        TooLarge: a value exceeds the size guard.
        DeadlineExceeded: the context's deadline passed.
    """
    if isinstance(g, Choice):
        letter = p.letter if isinstance(p, Choice) else pred_choice(ctx.pred_text)
        if letter is None and g.value is not None:  # "(B) 5" answered with 5
            return compare(g.value, p, ctx)[0], "choice"
        return letter == g.letter, "choice"
    if isinstance(g, Labelled) or isinstance(p, Labelled):
        return _compare_labelled(g, p, ctx)
    if isinstance(g, Seq) and g.kind == "ratio" and not isinstance(p, Seq):
        return compare(_ratio_value(g), p, ctx)[0], "ratio"
    if isinstance(p, Seq) and p.kind == "ratio" and not isinstance(g, Seq):
        return compare(g, _ratio_value(p), ctx)[0], "ratio"
    if isinstance(g, Unparsed) or isinstance(p, Unparsed):
        return None, "unparsed"
    if isinstance(g, Text) or isinstance(p, Text):
        if isinstance(g, Text) and isinstance(p, Text):
            return g.text == p.text and bool(g.text), "exact"
        return False, "exact"
    if isinstance(p, Choice):
        if p.value is not None:
            return compare(g, p.value, ctx)[0], "choice"
        p = Scalar(parse_expr(p.letter), p.letter)
    if isinstance(g, Scalar) and isinstance(p, Scalar):
        return _scalars_equal(g, p)
    if isinstance(g, Relation) or isinstance(p, Relation):
        return _compare_relation(g, p, ctx)
    g_int, p_int = _as_intervals(g), _as_intervals(p)
    if isinstance(g, Intervals) or isinstance(p, Intervals):
        if g_int is None or p_int is None:
            return False, "interval"
        return _intervals_equal(g_int, p_int, ctx), "interval"
    if isinstance(g, Seq) and isinstance(p, Seq):
        return _seqs_equal(g, p, ctx)
    if isinstance(g, Matrix) or isinstance(p, Matrix):
        return _compare_matrix(g, p, ctx)
    if isinstance(g, Seq) and g.kind == "set" and len(g.items) == 1:
        return compare(g.items[0], p, ctx)[0], "set"
    if isinstance(p, Seq) and p.kind == "set" and len(p.items) == 1:
        return compare(g, p.items[0], ctx)[0], "set"
    return False, "set" if isinstance(g, Seq) or isinstance(p, Seq) else "exact"


def _compare_relation(g: Answer, p: Answer, ctx: CompareContext) -> Outcome:
    if isinstance(g, Relation) and isinstance(p, Relation):
        return _relations_equal(g, p, ctx)
    if isinstance(g, Relation):
        if _is_assignment(g) and isinstance(p, (Scalar, Seq, Intervals, Matrix)):
            return compare(_rhs_answer(g), p, ctx)[0], "equation"
        intervals = _relation_to_intervals(g)
        p_int = _as_intervals(p)
        if intervals is not None and p_int is not None:
            return _intervals_equal(intervals, p_int, ctx), "interval"
        return False, "equation"
    assert isinstance(p, Relation)
    if all(op == "=" for op in p.ops) and isinstance(g, (Scalar, Seq, Matrix)):
        return compare(g, _rhs_answer(p), ctx)[0], "equation"
    intervals = _relation_to_intervals(p)
    g_int = _as_intervals(g)
    if intervals is not None and g_int is not None:
        return _intervals_equal(g_int, intervals, ctx), "interval"
    return False, "equation"


def _rhs_answer(rel: Relation) -> Answer:
    return Scalar(rel.parts[-1], "")


def _compare_matrix(g: Answer, p: Answer, ctx: CompareContext) -> Outcome:
    if isinstance(g, Matrix) and isinstance(p, Matrix):
        if len(g.rows) != len(p.rows) or len(g.rows[0]) != len(p.rows[0]):
            return False, "matrix"
        g_items = tuple(c for row in g.rows for c in row)
        p_items = tuple(c for row in p.rows for c in row)
        return _seqs_equal(Seq(g_items, "tuple"), Seq(p_items, "tuple"), ctx)[0], "matrix"
    matrix, other = (g, p) if isinstance(g, Matrix) else (p, g)
    assert isinstance(matrix, Matrix)
    vector = _vector(matrix)
    if vector is None or not isinstance(other, Seq) or other.kind not in ("tuple", "pair"):
        return False, "matrix"
    if isinstance(g, Matrix):
        return _seqs_equal(Seq(vector, "tuple"), other, ctx)[0], "matrix"
    return _seqs_equal(other, Seq(vector, "tuple"), ctx)[0], "matrix"
