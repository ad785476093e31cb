"""Numbers and expressions: exact where possible, floats only where provably conclusive.

Rules (the documented behaviour of ``verify_math``; the full list is docs/math_verifier.md):

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
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from reasongym.envs.verifiers.math_answer import DeadlineExceeded, Relation, Scalar
from reasongym.envs.verifiers.math_eval import (
    EPS,
    Approx,
    Undefined,
    approx_div,
    exact_value,
    numeric_value,
)
from reasongym.envs.verifiers.math_expr import (
    Add,
    Neg,
    Node,
    Num,
    free_symbols,
    has_decimal,
    has_step,
    infinity_sign,
)

_RNG = random.Random(20240611)
_MAX_VARS = 12
# Six evaluation points; two of them put every variable at a negative value.
_POINTS: tuple[tuple[complex, ...], ...] = tuple(
    tuple(complex((-1 if j in (1, 4) else 1) * _RNG.uniform(0.35, 2.4)) for _ in range(_MAX_VARS))
    for j in range(6)
)
# Relative tolerance for an exact gold, and for a gold written with decimals (an approximation).
# Both come from the gold alone; see certainly.
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


def certainly(gold: Approx, pred: Approx, tol: float) -> bool | None:
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
    equal = certainly(g_val, p_val, _gold_tol(g_val, rel))
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


def points_for(names: list[str], scale: float = 1.0) -> list[dict[str, complex]]:
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
        agreed = _agreements(g, p, names, scale, rel)
        if agreed is None:
            return False
        if agreed >= _MIN_POINTS:
            # Step functions are constant on long stretches (\lfloor n/2 \rfloor! is 1 for
            # 0 <= n < 4): they must also agree at points of size ~10, where they step.
            if has_step(g) or has_step(p):
                far = _agreements(g, p, names, _STEP_SCALE, rel)
                if far is None:
                    return False
                if far < 2:
                    return None
            return True
    return None


_STEP_SCALE = 9.7


def _agreements(g: Node, p: Node, names: list[str], scale: float, rel: float) -> int | None:
    """How many sample points certainly agree; None as soon as one certainly disagrees."""
    agreed = 0
    for env in points_for(names, scale):
        try:
            g_val = numeric_value(g, env)
            p_val = numeric_value(p, env)
        except Undefined:
            continue
        equal = certainly(g_val, p_val, _gold_tol(g_val, rel))
        if equal is False:
            return None
        agreed += equal is True
    return agreed


def scalars_equal(g: Scalar, p: Scalar) -> Outcome:
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


def equations_equivalent(g: Relation, p: Relation) -> bool | None:
    """``lhs - rhs`` of one is a constant multiple of the other's (positive for inequalities)."""
    f = Add((g.parts[0], Neg(g.parts[-1])))
    h = Add((p.parts[0], Neg(p.parts[-1])))
    names = sorted(free_symbols(f) | free_symbols(h))
    if not names:
        return None
    ratio: Approx | None = None
    valid = 0
    for env in points_for(names):
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
            same = certainly(ratio, r, 1e-8 * abs(ratio[0]))
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
