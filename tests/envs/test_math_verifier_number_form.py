"""A plain-number gold needs a number: computations of the gold score 0, number forms score 1.

The rule is ``require_number_for_numeric_gold`` (default on; reasongym/envs/verifiers/
math_number_form.py, docs/math_verifier.md). Every computation below is *equal* to its gold,
which the same call with the rule off confirms, so it is the rule that rejects it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs.verifiers.math import verify_math

COMPUTATIONS = [
    ("70 * 12 * 52", "43680"),
    ("70 \\times 12 \\times 52", "43680"),
    ("70 \\cdot 12 \\cdot 52", "43,680"),
    ("\\frac{84}{12}", "7"),
    ("84/12", "7"),
    ("\\dfrac{84}{12}", "x = 7"),
    ("\\frac{7}{1}", "7"),
    ("84 \\div 12", "7"),
    ("3+4", "7"),
    ("7 + 0", "7"),
    ("-(3+4)", "-7"),
    ("x = 3+4", "7"),
    ("x = 3 + 4", "x = 7"),
    ("x + 1 = 8", "x = 7"),
    ("\\sqrt{49}", "7"),
    ("sqrt(49)", "7"),
    ("\\sqrt[3]{-8}", "-2"),
    ("3!", "6"),
    ("10 \\cdot 9!", "3628800"),
    ("\\binom{5}{2}", "10"),
    ("2^{10}", "1024"),
    ("2**10", "1024"),
    ("\\log_2 8", "3"),
    ("e^{i\\pi}", "-1"),
    ("\\lfloor 12.7 \\rfloor", "12"),
    ("|-5|", "5"),
    ("\\operatorname{lcm}(3,4)", "12"),
    ("\\sum_{i=1}^{3} i", "6"),
    ("\\frac{9}{12} + \\frac{2}{12}", "\\frac{11}{12}"),
    ("\\frac{3}{4} \\cdot 1", "3/4"),
    ("1 - \\frac14", "0.75"),
    ("1\\frac{3}{2}", "5/2"),
    ("1.5 \\times 1000", "1.5e3"),
    ("25 \\cdot 2\\%", "50\\%"),
    ("\\$70 \\cdot 12", "\\$840"),
    ("(1+1, 3)", "(2, 3)"),
    ("\\{1+1, 3\\}", "\\{2, 3\\}"),
    ("[1+1, 5]", "[2, 5]"),
    ("2+3", "\\textbf{(B)}\\ 5"),
]

NUMBER_FORMS = [
    ("43680", "43680"),
    ("43,680", "43680"),
    ("43{,}680", "43680"),
    ("43\\,680", "43680"),
    ("+7", "7"),
    ("7.0", "7"),
    ("7.00", "x = 7"),
    ("-30", "-30"),
    ("\\$1,000", "\\$1,000"),
    ("1000 \\text{ dollars}", "\\$1,000"),
    ("1.5e3", "1.5e3"),
    ("1500", "1.5e3"),
    ("1.5 \\times 10^{3}", "1500"),
    ("15 \\times 10^{-4}", "0.0015"),
    ("10^{-3}", "0.001"),
    ("50\\%", "50\\%"),
    ("0.5", "50\\%"),
    ("\\frac{1}{2}", "50\\%"),
    ("\\frac{3}{4}", "0.75"),
    ("\\dfrac{6}{8}", "3/4"),
    ("0.75", "3/4"),
    ("-\\frac{3}{4}", "-3/4"),
    ("\\frac{-3}{4}", "-3/4"),
    ("2\\frac{1}{2}", "5/2"),
    ("\\frac{14}{2}", "\\frac{14}{2}"),
    ("0.\\overline{36}", "4/11"),
    ("x = 7", "7"),
    ("7", "x = 7"),
    ("(2, 3)", "(2,3)"),
    ("2 + 3 = 5", "5"),
    ("70 \\cdot 12 \\cdot 52 = 43680", "43680"),
    ("m+n=13", "13"),
    ("\\sin\\theta = \\frac{3}{5}", "\\frac35"),
    ("x < 3", "(-\\infty, 3)"),
    ("4,5", "4.5"),
    ("40 cm", "40"),
    ("5", "\\textbf{(B)}\\ 5"),
    ("(B)", "\\textbf{(B)}\\ 5"),
]

SYMBOLIC_GOLDS = [
    ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}"),
    ("\\frac{\\sqrt{12}}{4}", "\\frac{\\sqrt3}{2}"),
    ("\\pi + \\pi", "2\\pi"),
    ("1024", "2^{10}"),
    ("4^5", "2^{10}"),
    ("x^2 + 2x + 1", "(x+1)^2"),
    ("\\sqrt{8}", "2\\sqrt{2}"),
]


@pytest.mark.parametrize("pred, gold", COMPUTATIONS)
def test_a_computation_of_a_numeric_gold_scores_nothing(pred: str, gold: str) -> None:
    for prediction in (f"\\boxed{{{pred}}}", f"So the answer is $\\boxed{{{pred}}}$."):
        verdict = verify_math(prediction, gold)
        assert not verdict.correct and verdict.score == 0.0, (prediction, gold, verdict.details)
        assert verdict.details["method"] == "computation", verdict.details
        assert "must be a number" in verdict.details["feedback"]
        # equal to the gold all the same: the rule, not the comparison, rejects it
        allowed = verify_math(prediction, gold, require_number_for_numeric_gold=False)
        assert allowed.correct, (prediction, gold, allowed.details)


@pytest.mark.parametrize("pred, gold", NUMBER_FORMS)
def test_a_number_in_an_accepted_written_form_scores_one(pred: str, gold: str) -> None:
    for prediction in (f"\\boxed{{{pred}}}", f"Therefore the answer is $\\boxed{{{pred}}}$."):
        verdict = verify_math(prediction, gold)
        assert verdict.correct and verdict.score == 1.0, (prediction, gold, verdict.details)


@pytest.mark.parametrize("pred, gold", SYMBOLIC_GOLDS)
def test_a_symbolic_gold_still_accepts_an_equivalent_expression(pred: str, gold: str) -> None:
    verdict = verify_math(f"\\boxed{{{pred}}}", gold)
    assert verdict.correct, (pred, gold, verdict.details)


def test_a_wrong_number_is_still_wrong_and_not_called_a_computation() -> None:
    verdict = verify_math("\\boxed{43681}", "43680")
    assert not verdict.correct and verdict.details["method"] != "computation"


def test_the_rule_does_not_touch_text_and_statement_golds() -> None:
    assert verify_math("The limit does not exist.", "The limit does not exist").correct
    assert verify_math("\\boxed{\\text{even}}", "\\text{even}").correct


@settings(max_examples=150, deadline=None)
@given(
    value=st.integers(min_value=-(10**9), max_value=10**9),
    a=st.integers(min_value=1, max_value=10**6),
    k=st.integers(min_value=2, max_value=99),
)
def test_generated_computations_of_an_integer_never_pay(value: int, a: int, k: int) -> None:
    gold = str(value)
    computations = [
        f"{a} + {value - a}",
        f"{value + a} - {a}",
        f"\\frac{{{value * k}}}{{{k}}}",
        f"{value * k}/{k}",
        f"{value} \\cdot 1",
        f"\\sqrt{{{value * value}}}" if value >= 0 else f"-\\sqrt{{{value * value}}}",
        f"x = {a} + {value - a}",
    ]
    for pred in computations:
        verdict = verify_math(f"\\boxed{{{pred}}}", gold)
        assert not verdict.correct, (pred, gold, verdict.details)
    for pred in (gold, f"{value:,}", f"{value}.0", f"x = {value}"):
        assert verify_math(f"\\boxed{{{pred}}}", gold).correct, (pred, gold)


@settings(max_examples=100, deadline=None)
@given(
    num=st.integers(min_value=-999, max_value=999),
    den=st.integers(min_value=2, max_value=999),
    k=st.integers(min_value=2, max_value=9),
)
def test_fractions_stay_fractions_and_sums_of_them_do_not_pay(num: int, den: int, k: int) -> None:
    if num % den == 0:
        return  # an integer gold: covered above
    gold = f"{num}/{den}"
    unreduced = f"\\frac{{{num * k}}}{{{den * k}}}"
    assert verify_math(f"\\boxed{{{unreduced}}}", gold).correct
    split = f"\\frac{{{num - 1}}}{{{den}}} + \\frac{{1}}{{{den}}}"
    assert not verify_math(f"\\boxed{{{split}}}", gold).correct
