"""When the gold is a number, the answer must be a number too — not a computation of it.

A policy asked "Compute 70 * 12 * 52." that answers ``70 * 12 * 52`` has not computed
anything, yet the expression *equals* the gold. Equivalence alone pays for restating the
question, so :func:`computation_in` adds a rule on the *written form* of the answer, decided
from the gold alone:

- The rule applies when the gold is **made of plain numbers**: every value in it (a scalar, a
  labelled value ``x = 7``, the items of a tuple/set/list, the entries of a matrix, interval
  ends, where ``\\infty`` is allowed) is a *number literal* (below). A gold with any operator
  left in it (``\\frac{\\sqrt3}{2}``, ``2\\pi``, ``2^{10}``, ``x + 1``) is symbolic, and then
  the answer may be symbolic too: the rule is off for that gold form.
- Then every value in the answer must be a number literal as well; anything that still has to
  be evaluated (``+ - * / ^`` between numbers, ``\\sqrt{49}``, ``3!``, ``\\binom{5}{2}``,
  ``\\sum``, ``\\operatorname{lcm}``, any LaTeX only sympy reads) makes the answer wrong,
  whatever its value. An equation counts when one side is a literal (``2 + 3 = 5`` shows
  the working, then the result; ``m + n = 13`` names what the number is); against a
  labelled gold (``x = 7``) its sides with a variable must be names (``x``, ``|x|``,
  ``g(x)``), so ``x + 1 = 8`` is the question restated, not its answer; an inequality needs
  names and literal bounds (``0 < g(x) < 2``).

A **number literal** is one of:

- an integer or decimal, with an optional sign, in any form the normaliser reads
  (thousands separators ``12,345`` / ``12{,}345``, decimal commas, ``1.5e3``, percent,
  units and currency around it, ``\\boxed{}``, ``$...$``): ``integer``, ``decimal``;
- scientific (or engineering) notation ``m \\times 10^{k}`` (also ``\\cdot``, ``*``) with an
  integer or decimal ``m`` and an integer ``|k| <= 400`` (``1.5 \\times 10^{3}``,
  ``15 \\times 10^{-4}``), or ``10^{k}`` alone (``10^{-3}``): ``scientific``;
- a fraction of two integer literals, ``a/b``, ``\\frac{a}{b}`` (``\\dfrac``, ``\\tfrac``),
  ``-\\frac{a}{b}``, ``\\frac{-a}{b}``, reduced or not, or a mixed number ``2\\frac{1}{2}``
  (a proper fraction, no ``+`` written): ``fraction``. A fraction counts only when the gold is not an integer
  (``3/4``, ``0.75``, ``37.5\\%``) or is itself written as a fraction: for an integer gold
  ``\\frac{84}{12}`` is the division still to be done, not a way of writing 7.

An answer identical to the gold (after normalisation) is always accepted, before this rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from reasongym.envs.verifiers.math_answer import (
    Answer,
    Choice,
    Intervals,
    Labelled,
    Matrix,
    Relation,
    Scalar,
    Seq,
    Text,
    Unparsed,
)
from reasongym.envs.verifiers.math_expr import (
    Add,
    Const,
    Div,
    Mul,
    Neg,
    Node,
    Num,
    Pow,
    Sym,
    free_symbols,
)
from reasongym.envs.verifiers.math_labels import is_label

__all__ = ["computation_in", "gold_is_numbers", "literal_kind"]

_FRACTION = "fraction"
_MAX_EXP = 400  # the parser's own bound on 1e400; 10^{10^9} is no literal we evaluate


def _integer(node: Node) -> Fraction | None:
    """The value of an unsigned integer literal (``12``; not ``1.2e1``), else None."""
    if isinstance(node, Num) and not node.is_decimal:
        return node.value
    return None


def _signed_integer(node: Node) -> Fraction | None:
    if isinstance(node, Neg):
        value = _integer(node.arg)
        return None if value is None else -value
    return _integer(node)


def _literal(node: Node, text: str | None) -> tuple[str, Fraction] | None:
    """``(kind, value)`` of a number literal, or None when ``node`` is a computation.

    ``text`` is the scalar as written (normalised); without it a mixed number (``Add``)
    cannot be told from ``2 + 1/2`` and is not a literal.
    """
    if isinstance(node, Neg):
        inner = _unsigned_literal(node.arg, text)
        return None if inner is None else (inner[0], -inner[1])
    return _unsigned_literal(node, text)


def _unsigned_literal(node: Node, text: str | None) -> tuple[str, Fraction] | None:
    if isinstance(node, Num):
        return ("decimal" if node.is_decimal else "integer", node.value)
    if isinstance(node, Div):
        num, den = _signed_integer(node.num), _integer(node.den)
        if num is None or den is None or den == 0:
            return None
        return (_FRACTION, num / den)
    if isinstance(node, Add) and len(node.args) == 2 and text is not None and "+" not in text:
        whole, part = _integer(node.args[0]), _unsigned_literal(node.args[1], None)
        proper = part is not None and part[0] == _FRACTION and 0 < part[1] < 1
        if whole is not None and proper:
            return (_FRACTION, whole + part[1])  # the mixed number 2\frac{1}{2}
        return None
    if isinstance(node, Pow):  # 10^{-3}: scientific notation with the mantissa 1
        exponent = _signed_integer(node.exp)
        if _integer(node.base) == 10 and exponent is not None and abs(exponent) <= _MAX_EXP:
            return ("scientific", Fraction(10) ** int(exponent))
        return None
    if isinstance(node, Mul) and len(node.args) == 2 and isinstance(node.args[1], Pow):
        mantissa, power = node.args
        exponent = _signed_integer(power.exp)
        if (
            isinstance(mantissa, Num)
            and _integer(power.base) == 10
            and exponent is not None
            and abs(exponent) <= _MAX_EXP
        ):
            return ("scientific", mantissa.value * Fraction(10) ** int(exponent))
    return None


def literal_kind(node: Node, text: str | None = None) -> str | None:
    """``"integer"``, ``"decimal"``, ``"scientific"`` or ``"fraction"``; None for anything
    that still has to be evaluated."""
    found = _literal(node, text)
    return None if found is None else found[0]


def _is_infinity(node: Node) -> bool:
    inner = node.arg if isinstance(node, Neg) else node
    return isinstance(inner, Const) and inner.name == "inf"


def _values(answer: Answer) -> Iterator[tuple[Node | None, str | None, bool]]:
    """Every value in an answer as ``(node, text, percent)``; ``node`` None for a part that is
    no value at all (an unread LaTeX string, an equation)."""
    if isinstance(answer, Scalar):
        yield answer.node, answer.text, answer.percent
    elif isinstance(answer, Labelled):
        yield from _values(answer.value)
    elif isinstance(answer, Seq):
        for item in answer.items:
            yield from _values(item)
    elif isinstance(answer, Matrix):
        for row in answer.rows:
            for item in row:
                yield from _values(item)
    elif isinstance(answer, Intervals):
        for part in answer.parts:
            for end in (part.lo, part.hi):
                if not _is_infinity(end):
                    yield end, None, False
    else:  # Unparsed (only sympy reads it), Text, Choice
        yield None, None, False


def gold_is_numbers(gold: Answer) -> tuple[bool, bool]:
    """``(made_of_numbers, fractions_allowed)`` for a parsed gold.

    ``made_of_numbers``: every value in the gold is a number literal (and there is one).
    ``fractions_allowed``: the gold writes a fraction, or one of its values (or a percent
    value / 100) is not an integer.
    """
    if isinstance(gold, Relation):  # an equation gold ("x + y = 1") states no number
        return False, False
    seen, fractions = False, False
    for node, text, percent in _values(gold):
        found = None if node is None else _literal(node, text)
        if found is None:
            return False, False
        kind, value = found
        seen = True
        fractions = fractions or kind == _FRACTION or value.denominator != 1
        fractions = fractions or (percent and (value / 100).denominator != 1)
    return seen, fractions


def computation_in(gold: Answer, prediction: Answer) -> str | None:
    """The first part of ``prediction`` that is a computation where ``gold`` is made of
    plain numbers (the text of that part), or None when the rule holds or does not apply."""
    if isinstance(gold, Choice) and gold.value is not None:
        gold = gold.value  # \textbf{(B)}\ 5 also accepts the value 5: the rule is the value's
    numbers, fractions = gold_is_numbers(gold)
    if not numbers or isinstance(prediction, (Text, Choice)):
        return None  # text and option letters are no computation (and equal no number)
    if isinstance(prediction, Unparsed):
        return prediction.text
    if isinstance(prediction, Relation):
        return _computation_in_relation(prediction, fractions, named=_has_label(gold))
    for node, text, _ in _values(prediction):
        kind = None if node is None else literal_kind(node, text)
        if kind is None or (kind == _FRACTION and not fractions):
            return text if text is not None else _describe(prediction)
    return None


def _has_label(answer: Answer) -> bool:
    if isinstance(answer, Labelled):
        return True
    if isinstance(answer, Seq):
        return any(_has_label(item) for item in answer.items)
    return False


def _computation_in_relation(relation: Relation, fractions: bool, named: bool) -> str | None:
    """An equation or inequality offered for a numeric gold.

    An equation states its number when one of its sides is a literal (``2 + 3 = 5``: the
    working, then the result; the comparison still needs every side without a variable to
    equal the gold), and a side with a variable says what the number is (``m + n = 13``,
    ``\\sin\\theta = \\frac35``). Against a *labelled* gold (``x = 7``), which an equation
    is compared with by solving it, a side with a variable must be a *name* (``x``, ``|x|``,
    ``g(x)``: :mod:`.math_labels`), so ``x + 1 = 8`` (the question restated) is a
    computation; in an inequality too (``0 < g(x) < 2``, not ``2x + 1 < 7``), and there
    every bound must be a literal (not ``x < 3 + 4``).
    """
    texts = relation.texts if len(relation.texts) == len(relation.parts) else None
    equation = all(op == "=" for op in relation.ops)
    stated, computed = False, None
    for index, node in enumerate(relation.parts):
        text = texts[index] if texts is not None else None
        if free_symbols(node):
            if equation and not named:
                continue
            if text is None or not (isinstance(node, Sym) or is_label(text)):
                return text if text is not None else relation.lhs_text
            continue
        kind = literal_kind(node, text)
        if kind is None or (kind == _FRACTION and not fractions):
            computed = computed or (text if text is not None else "an expression")
        else:
            stated = True
    if equation:
        return None if stated else (computed or relation.lhs_text)
    return computed


def _describe(prediction: Answer) -> str:
    text = getattr(prediction, "text", None) or getattr(prediction, "lhs_text", None)
    return text if isinstance(text, str) else type(prediction).__name__.lower()
