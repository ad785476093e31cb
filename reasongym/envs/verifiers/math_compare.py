"""The fast equivalence check between structured answers (no sympy).

:func:`compare` dispatches on the two answers' kinds (:mod:`.math_answer`): options, labels,
ratios, sets/lists/tuples, intervals, relations, matrices; numbers and expressions go to
:mod:`.math_numeric`. Its rules (what counts as one answer, when order matters, when a label
is dropped) are written down in docs/math_verifier.md; in short:

- sets and bare lists ignore order, tuples do not; ``(a, b)`` is a pair that also equals the
  open interval; intervals must agree on every endpoint and on open/closed ends
  (an infinite end is always open); a singleton set equals its element;
- ``x = 2`` equals ``2``; ``y = 2x+1`` equals ``2x+1``; two equations are equivalent when
  ``lhs - rhs`` of one is a non-zero constant multiple of the other's;
  single-variable inequalities compare as intervals (``x > 2 == (2, \\infty)``);
- multiple choice: the gold is a letter A-J; the prediction's leading letter
  (``B``, ``(B)``, ``B) 12``, ``\\text{(B)}``) must match.
- labels are dropped when only one side has one and must agree when both do; a gold's
  distinct labels give its values positions; ratios are equal when proportional (non-zero
  factor); a hedge (several values where the gold has one) is a list, never a single value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from reasongym.envs.verifiers.math_answer import (
    FUNC_LHS_RE,
    OTHER_OPTION_RE,
    PRED_CHOICE_RE,
    Answer,
    Choice,
    Interval,
    Intervals,
    Labelled,
    Matrix,
    Relation,
    Scalar,
    Seq,
    Text,
    Unparsed,
    relation_to_intervals,
    sign_of,
    spliced,
)
from reasongym.envs.verifiers.math_expr import Div, Mul, free_symbols, parse_expr
from reasongym.envs.verifiers.math_labels import tuple_label_parts
from reasongym.envs.verifiers.math_numeric import (
    CompareContext,
    Outcome,
    equations_equivalent,
    scalars_equal,
)

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def _relations_equal(g: Relation, p: Relation, ctx: CompareContext) -> Outcome:
    same_lhs = g.lhs_text.replace(" ", "") == p.lhs_text.replace(" ", "")
    if g.ops == p.ops == ("=",) and same_lhs and _is_assignment(g):
        return compare(_rhs_answer(g), _rhs_answer(p), ctx)[0], "equation"
    g_int, p_int = relation_to_intervals(g), relation_to_intervals(p)
    if g_int is not None and p_int is not None:
        return _intervals_equal(g_int, p_int, ctx), "interval"
    if len(g.ops) != 1 or len(p.ops) != 1:
        return None, "equation"
    if g.ops[0] != p.ops[0]:
        if _FLIP[g.ops[0]] != p.ops[0]:
            return False, "equation"
        p = Relation((p.parts[1], p.parts[0]), (g.ops[0],), "")
    return equations_equivalent(g, p), "equation"


def _is_assignment(rel: Relation) -> bool:
    return (
        rel.ops[0] == "="
        and bool(FUNC_LHS_RE.match(rel.lhs_text))
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
    pivot = next((j for j, node in enumerate(g_nodes) if sign_of(node) not in (0, None)), None)
    if pivot is None:
        return None, "ratio"
    if sign_of(p_nodes[pivot]) in (0, None):
        return (False if sign_of(p_nodes[pivot]) == 0 else None), "ratio"
    for gi, pi in zip(g_nodes, p_nodes, strict=True):
        ctx.check()
        left = Scalar(Mul((gi, p_nodes[pivot])), "")
        right = Scalar(Mul((pi, g_nodes[pivot])), "")
        equal = scalars_equal(left, right)[0]
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
    return Seq(spliced(items), seq.kind)


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
        return relation_to_intervals(answer)
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
    match = PRED_CHOICE_RE.match(text)
    if not match or OTHER_OPTION_RE.search(text, match.end()):
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
        return scalars_equal(g, p)
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
        intervals = relation_to_intervals(g)
        p_int = _as_intervals(p)
        if intervals is not None and p_int is not None:
            return _intervals_equal(intervals, p_int, ctx), "interval"
        return False, "equation"
    assert isinstance(p, Relation)
    if all(op == "=" for op in p.ops) and isinstance(g, (Scalar, Seq, Matrix)):
        if not free_symbols(p.parts[0]):
            # "2 + 3 = 5" gives 5; "17 = 5" is a false statement and gives nothing.
            lhs, rhs = Scalar(p.parts[0], ""), Scalar(p.parts[-1], "")
            if scalars_equal(lhs, rhs)[0] is not True:
                return False, "equation"
        return compare(g, _rhs_answer(p), ctx)[0], "equation"
    intervals = relation_to_intervals(p)
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
