"""Procedural math generators: ``generator(rng, difficulty) -> (question, answer)``.

Difficulty is an integer >= 1; each generator documents what it scales.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import gcd

import numpy as np

from reasongym.envs.tools.calculator import evaluate

Generator = Callable[[np.random.Generator, int], tuple[str, str]]


def _number(rng: np.random.Generator, digits: int) -> int:
    return int(rng.integers(10 ** (digits - 1) if digits > 1 else 0, 10**digits))


def arithmetic(rng: np.random.Generator, difficulty: int) -> tuple[str, str]:
    """Chains of + - * on integers; difficulty d: d digits per operand, d+1 operands."""
    digits, terms = max(1, difficulty), difficulty + 1
    ops = ["+", "-", "*"] if difficulty > 1 else ["+", "-"]
    parts = [str(_number(rng, digits))]
    for _ in range(terms - 1):
        op = ops[int(rng.integers(len(ops)))]
        parts += [op, str(_number(rng, digits))]
    expr = " ".join(parts)
    return f"Compute {expr}.", str(evaluate(expr))


def addition(rng: np.random.Generator, difficulty: int) -> tuple[str, str]:
    """a + b with d-digit operands (the tiny-model pretraining task)."""
    a, b = _number(rng, difficulty), _number(rng, difficulty)
    return f"What is {a} + {b}?", str(a + b)


def _fraction(rng: np.random.Generator, max_den: int) -> Fraction:
    den = int(rng.integers(2, max_den + 1))
    num = int(rng.integers(1, den * 2))
    return Fraction(num, den)


def _latex(f: Fraction) -> str:
    if f.denominator == 1:
        return str(f.numerator)
    sign = "-" if f < 0 else ""
    return f"{sign}\\frac{{{abs(f.numerator)}}}{{{f.denominator}}}"


def fractions(rng: np.random.Generator, difficulty: int) -> tuple[str, str]:
    """Add/subtract/multiply d+1 fractions with denominators up to 4d+2; answer in lowest terms."""
    max_den = 4 * difficulty + 2
    terms = [_fraction(rng, max_den) for _ in range(difficulty + 1)]
    value = terms[0]
    text = _latex(terms[0])
    for term in terms[1:]:
        op = ["+", "-", "\\times"][int(rng.integers(3))]
        value = value + term if op == "+" else value - term if op == "-" else value * term
        text += f" {op} {_latex(term)}"
    answer = (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )
    return f"Compute ${text}$ and give the result as a fraction in lowest terms.", answer


def linear_equations(rng: np.random.Generator, difficulty: int) -> tuple[str, str]:
    """Solve a*x + b = c*x + d for x; difficulty scales coefficients; integer or fraction answers."""
    span = 5 * difficulty + 4
    while True:
        a, c = (int(v) for v in rng.integers(-span, span + 1, size=2))
        if a != c and a != 0:
            break
    x = Fraction(
        int(rng.integers(-span, span + 1)), 1 if difficulty < 3 else int(rng.integers(1, 4))
    )
    b = int(rng.integers(-span * 3, span * 3 + 1))
    # d is chosen so the solution is exactly x
    d_val = a * x + b - c * x
    if d_val.denominator != 1:
        b = b * d_val.denominator
        a, c = a * d_val.denominator, c * d_val.denominator
        d_val = a * x + b - c * x
    d = int(d_val)

    def side(coef: int, const: int) -> str:
        if coef == 0:
            return str(const)
        lead = {1: "x", -1: "-x"}.get(coef, f"{coef}x")
        return lead if const == 0 else f"{lead} {'+' if const > 0 else '-'} {abs(const)}"

    answer = str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    return f"Solve for x: {side(a, b)} = {side(c, d)}.", answer


def percentages(rng: np.random.Generator, difficulty: int) -> tuple[str, str]:
    """p% of n with p a multiple of 5 and n a multiple of 20 (exact answers)."""
    p = 5 * int(rng.integers(1, 20 * difficulty))
    n = 20 * int(rng.integers(1, 10 * difficulty + 1))
    value = Fraction(p * n, 100)
    answer = str(value.numerator) if value.denominator == 1 else str(float(value))
    return f"What is {p}% of {n}?", answer


def gcd_lcm(rng: np.random.Generator, difficulty: int) -> tuple[str, str]:
    """gcd or lcm of two distinct numbers in [2, 10**(d+1)).

    The gcd g is drawn first, uniform over 1..10**d, and the numbers are g*p and g*q with p, q
    coprime: two uniform numbers have gcd 1 about 61% of the time, which would pay a policy
    that answers "1" to every gcd question without computing anything.
    """
    top = 10 ** (difficulty + 1)
    g = int(rng.integers(1, 10**difficulty + 1))
    limit = (top - 1) // g  # g * p < top
    while True:
        p, q = (int(v) for v in rng.integers(1, limit + 1, size=2))
        if p != q and gcd(p, q) == 1 and min(p, q) * g >= 2:
            break
    a, b = g * p, g * q
    if rng.integers(2):
        return f"What is the greatest common divisor of {a} and {b}?", str(g)
    return f"What is the least common multiple of {a} and {b}?", str(g * p * q)


GENERATORS: dict[str, Generator] = {
    "arithmetic": arithmetic,
    "addition": addition,
    "fractions": fractions,
    "linear_equations": linear_equations,
    "percentages": percentages,
    "gcd_lcm": gcd_lcm,
}
