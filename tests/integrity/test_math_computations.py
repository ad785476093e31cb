"""Property: no generated computation of a plain-number gold is ever paid.

Expressions are built to *equal* the gold exactly (nested sums, differences, products,
quotients, powers, roots, factorials), written in many syntaxes and wrapped the ways answers
are (boxes, tags, ``$...$``, units, ``\\text{}``, ``x =``). The same gold written as a number
is paid. This is the general rule (reasongym/envs/verifiers/math_number_form.py), not a
list of known attacks.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs.verifiers.math import verify_math

_PLUS = ("+", " + ")
_TIMES = ("*", " \\cdot ", " \\times ", "\\ast ")
_WRAPS = (
    "\\boxed{{{}}}",
    "<answer>{}</answer>",
    "The answer is ${}$.",
    "Final answer: \\boxed{{{} \\text{{ dollars}}}}",
    "\\boxed{{x = {}}}",
    "\\boxed{{\\text{{{}}}}}",
    "\\boxed{{\\left({}\\right)}}",
)


@st.composite
def equal_expression(draw, value: int, depth: int = 2) -> str:
    """LaTeX or plain text whose exact value is ``value`` and which has an operator in it."""
    kind = draw(st.sampled_from(["add", "sub", "mul", "div", "pow", "sqrt", "fact", "neg"]))
    a = draw(st.integers(min_value=1, max_value=999))

    def operand(number: int) -> str:
        if depth > 0 and draw(st.booleans()):
            return "(" + draw(equal_expression(number, depth - 1)) + ")"
        return f"({number})" if number < 0 else str(number)

    if kind == "add":
        return f"{operand(a)}{draw(st.sampled_from(_PLUS))}{operand(value - a)}"
    if kind == "sub":
        return f"{operand(value + a)} - {operand(a)}"
    if kind == "mul":
        return f"{operand(value)}{draw(st.sampled_from(_TIMES))}1"
    if kind == "div":
        k = draw(st.integers(min_value=2, max_value=50))
        style = draw(st.sampled_from(["\\frac{{{}}}{{{}}}", "{}/{}", "{} \\div {}"]))
        return style.format(operand(value * k), operand(k))
    if kind == "pow":
        return f"{operand(value)}^{{1}}"
    if kind == "sqrt" and value >= 0:
        return f"\\sqrt{{{value * value}}}"
    if kind == "fact" and value in (1, 2, 6, 24, 120, 720):
        n = {1: 1, 2: 2, 6: 3, 24: 4, 120: 5, 720: 6}[value]
        return f"{n}!"
    return f"-({-value} + 0)" if value != 0 else "0 + 0"


@settings(max_examples=300, deadline=None)
@given(data=st.data(), value=st.integers(min_value=-(10**6), max_value=10**6))
def test_no_computation_of_an_integer_gold_is_paid(data, value: int) -> None:
    expression = data.draw(equal_expression(value))
    wrap = data.draw(st.sampled_from(_WRAPS))
    prediction = wrap.format(expression)
    gold = data.draw(st.sampled_from([str(value), f"{value:,}", f"x = {value}"]))
    verdict = verify_math(prediction, gold, timeout_s=0.5)
    assert not verdict.correct and verdict.score == 0.0, (prediction, gold, verdict.details)
    number = verify_math(wrap.format(value), gold, timeout_s=0.5)
    assert number.correct, (wrap.format(value), gold, number.details)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    num=st.integers(min_value=1, max_value=999),
    den=st.integers(min_value=2, max_value=999),
)
def test_no_computation_of_a_fraction_gold_is_paid(data, num: int, den: int) -> None:
    if num % den == 0:
        return
    gold = data.draw(st.sampled_from([f"{num}/{den}", f"\\frac{{{num}}}{{{den}}}"]))
    a = data.draw(st.integers(min_value=1, max_value=99))
    expression = data.draw(
        st.sampled_from(
            [
                f"\\frac{{{num + a * den}}}{{{den}}} - {a}",
                f"\\frac{{{num}}}{{{den}}} \\cdot 1",
                f"\\frac{{{num * a}}}{{{den}}} \\div {a}",
                f"\\frac{{1}}{{{den}}} \\cdot {num}",
                f"\\frac{{{num}}}{{{den * a}}} + \\frac{{{num * (a - 1)}}}{{{den * a}}}",
            ]
        )
    )
    verdict = verify_math(f"\\boxed{{{expression}}}", gold, timeout_s=0.5)
    assert not verdict.correct, (expression, gold, verdict.details)
    assert verify_math(f"\\boxed{{\\frac{{{num * a}}}{{{den * a}}}}}", gold).correct
