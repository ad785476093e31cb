"""Math verifier soundness against an adversarial policy.

A prediction is judged correct only when its value is known to be the gold's: numeric
tolerance comes from the gold, and an ill-conditioned evaluation (huge intermediate terms,
cancellation, functions of huge arguments) is never evidence of equality. Hostile input
returns a Verdict promptly and never raises.
"""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasongym.envs.types import Verdict
from reasongym.envs.verifiers.math import verify_math
from reasongym.envs.verifiers.math_sympy import warm_up

# Golds of many kinds, each with its value at x = 0.7 (None: not a function of x).
GOLDS = ["17", "\\frac{3}{4}", "-2", "\\sqrt{2}", "\\pi", "x+1", "2x^2-3", "0", "e", "x"]


@pytest.fixture(scope="module", autouse=True)
def _sympy_imported() -> None:
    warm_up()


# -- the reported attacks -------------------------------------------------------------------

HUGE_TERM_PREDICTIONS = [
    "\\sin(10^{300})",
    "\\cos(10^{300})",
    "\\sin(10^{20})",
    "\\tan(10^{17})",
    "x+10^{300}-10^{300}",
    "10^{20}+1-10^{20}",
    "e^{100}-e^{100}+17",
    "\\sqrt{10^{40}+1}-10^{20}",
    "\\frac{1}{10^{20}+1-10^{20}}",
    "\\sin(10^{300}x)",
    "(1+10^{-16})^{10^{16}}",
    "10^{300}\\sin(10^{300}) - 10^{300}\\sin(10^{300}) + x",
    "\\cos(e^{50}) \\cdot 2",
]


def _true_gold_matches(pred: str, gold: str) -> bool:
    """The few (pred, gold) pairs above that are mathematically equal."""
    return (pred, gold) in {
        ("x+10^{300}-10^{300}", "x"),
        ("e^{100}-e^{100}+17", "17"),
        ("10^{300}\\sin(10^{300}) - 10^{300}\\sin(10^{300}) + x", "x"),
    }


@pytest.mark.parametrize("pred", HUGE_TERM_PREDICTIONS)
@pytest.mark.parametrize("gold", GOLDS)
def test_huge_terms_do_not_match_a_different_gold(pred: str, gold: str) -> None:
    # The equivalence engine alone (a computation of a numeric gold allowed) ...
    verdict = verify_math(f"\\boxed{{{pred}}}", gold, require_number_for_numeric_gold=False)
    assert verdict.correct == _true_gold_matches(pred, gold), verdict.details
    assert verdict.score == (1.0 if verdict.correct else 0.0)
    # ... and by default, where a computation of a plain-number gold earns nothing as well.
    default = verify_math(f"\\boxed{{{pred}}}", gold)
    assert not default.correct or _true_gold_matches(pred, gold), default.details
    if gold == "17":
        assert not default.correct and default.details["method"] == "computation"


def test_reported_attack_through_the_math_env_scores_nothing() -> None:
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the envs

    env = gym.make("reasongym/Math-v0")
    try:
        for seed in range(5):
            env.reset(seed=seed)
            _, reward, terminated, _, info = env.step("<answer>\\sin(10^{300})</answer>")
            assert terminated
            assert reward < 1.0
            assert not info["is_success"]
    finally:
        env.close()


# -- properties -----------------------------------------------------------------------------

_SMALL = st.integers(min_value=-40, max_value=40)
_POS = st.integers(min_value=1, max_value=40)


@st.composite
def exact_values(draw: st.DrawFn) -> tuple[str, float]:
    """A LaTeX exact constant and its float value."""
    kind = draw(st.sampled_from(["int", "frac", "sqrt", "pi", "e", "mixed"]))
    a, b = draw(_SMALL), draw(_POS)
    if kind == "int":
        return str(a), float(a)
    if kind == "frac":
        return f"\\frac{{{a}}}{{{b}}}", a / b
    if kind == "sqrt":
        n = draw(st.integers(2, 99).filter(lambda n: int(n**0.5) ** 2 != n))
        return f"{b}\\sqrt{{{n}}}", b * n**0.5
    if kind == "pi":
        return f"\\frac{{{b}\\pi}}{{3}}", b * 3.141592653589793 / 3
    if kind == "e":
        return f"e^{{{b % 5 + 1}}}", 2.718281828459045 ** (b % 5 + 1)
    return f"{b}+\\sqrt{{{a * a + 2}}}", b + (a * a + 2) ** 0.5


_HUGE = st.sampled_from(
    ["10^{300}", "10^{200}", "10^{40}", "e^{400}", "2^{900}", "10^{300}\\pi", "\\frac{10^{250}}{3}"]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gold=exact_values(), other=exact_values(), huge=_HUGE, shape=st.integers(0, 5))
def test_crafted_cancellation_never_matches_a_different_gold(
    gold: tuple[str, float], other: tuple[str, float], huge: str, shape: int
) -> None:
    gold_text, gold_value = gold
    other_text, other_value = other
    if abs(gold_value - other_value) <= 1e-6 * max(1.0, abs(gold_value)):
        return  # the same value: not a different gold
    forms = [
        f"{other_text}+{huge}-{huge}",
        f"{huge}+{other_text}-{huge}",
        f"\\sin({huge})",
        f"\\cos({huge})+{other_text}",
        f"({huge}+{other_text})-{huge}",
        f"\\frac{{{huge}+1}}{{{huge}}}+{other_text}-1",
    ]
    verdict = verify_math(f"\\boxed{{{forms[shape]}}}", gold_text, timeout_s=0.5)
    assert not verdict.correct, (forms[shape], gold_text, verdict.details)


@st.composite
def answers(draw: st.DrawFn) -> str:
    """Well-formed answers of the kinds the verifier reads."""
    kinds = ["value", "poly", "tuple", "set", "interval", "decimal", "labelled", "ratio"]
    kinds += ["union", "inequality", "matrix", "comma", "thousands", "approx", "solutions"]
    kind = draw(st.sampled_from(kinds))
    if kind == "value":
        return draw(exact_values())[0]
    a, b, c = draw(_SMALL), draw(_POS), draw(_SMALL)
    if kind == "labelled":
        return f"PQ = {a}, RS = {draw(exact_values())[0]}"
    if kind == "ratio":
        return f"{a}:{b}"
    if kind == "union":
        return f"(-\\infty, {a}) \\cup [{a + b}, \\infty)"
    if kind == "inequality":
        return f"{a} < x \\le {a + b}"
    if kind == "matrix":
        return f"\\begin{{pmatrix}} {a} & {b} \\\\ {c} & {draw(exact_values())[0]} \\end{{pmatrix}}"
    if kind == "comma":
        return f"{abs(a)},{b}"
    if kind == "thousands":
        return f"{b},\\! {abs(a):03d},\\! {abs(c):03d}"
    if kind == "approx":
        return f"\\frac{{{a}}}{{{b}}} \\approx {a / b:.2f}"
    if kind == "solutions":
        return f"({a}, {b}); ({c}, {a + b})"
    if kind == "poly":
        return f"{b}x^2+{a}x-{abs(c)}"
    if kind == "tuple":
        return f"({a}, {draw(exact_values())[0]})"
    if kind == "set":
        return f"\\{{{a}, {a + b}\\}}"
    if kind == "interval":
        return f"[{a}, {a + b})"
    return f"{a}.{b:02d}"


@settings(max_examples=200, deadline=None)
@given(answer=answers(), wrapper=st.integers(0, 3))
def test_an_answer_equals_itself(answer: str, wrapper: int) -> None:
    prediction = [
        answer,
        f"\\boxed{{{answer}}}",
        f"The final answer is ${answer}$.",
        f"<answer>{answer}</answer>",
    ][wrapper]
    verdict = verify_math(prediction, answer)
    assert verdict.correct, (prediction, answer, verdict.details)


@settings(max_examples=200, deadline=None)
@given(gold=exact_values(), k=st.integers(1, 8), sign=st.sampled_from(["+", "-"]))
def test_perturbed_values_do_not_match(gold: tuple[str, float], k: int, sign: str) -> None:
    gold_text, value = gold
    # A relative perturbation of 10^-k (k <= 8): far beyond rounding, far below any
    # tolerance a gold could be given.
    delta = Fraction(1, 10**k) * Fraction(max(abs(value), 1e-3)).limit_denominator(10**6)
    perturbed = f"{gold_text}{sign}\\frac{{{delta.numerator}}}{{{delta.denominator}}}"
    verdict = verify_math(f"\\boxed{{{perturbed}}}", gold_text, timeout_s=0.5)
    assert not verdict.correct, (perturbed, gold_text, verdict.details)


@settings(max_examples=100, deadline=None)
@given(a=_SMALL, b=_POS, k=st.integers(1, 8))
def test_perturbed_functions_do_not_match(a: int, b: int, k: int) -> None:
    gold = f"{b}x^2+{a}x+1"
    pred = f"{b}x^2+{a}x+1+\\frac{{x}}{{10^{{{k}}}}}"
    assert not verify_math(f"\\boxed{{{pred}}}", gold, timeout_s=0.5).correct


# -- hostile input --------------------------------------------------------------------------

HOSTILE = [
    "\\boxed{" + "1" * 1_000_000 + "}",
    "x" * 1_000_000,
    "\\boxed{" + "{" * 100_000 + "}",
    "\\boxed{" + "\\sqrt{" * 50_000 + "2" + "}" * 50_000 + "}",
    "\\boxed{2^{2^{2^{2^{2^{2^{2^{2}}}}}}}}",
    "\\boxed{10^{10^{10^{10}}}-10^{10^{10^{10}}}+1}",
    "\\boxed{\ud800\udfff\ud800}",
    "\\boxed{1\x00 2}",
    "\x00" * 100_000,
    "\\boxed{" + "1+" * 200_000 + "1}",
    "The answer is " + "9" * 5_000,
    "\\boxed{1e99999999}",
    "\\boxed{(10^{100})!}",
    "\\boxed{\\sin(" * 5_000 + "1" + ")}" * 5_000,
    "\\boxed{1" + " " * 9_990 + "%x}",  # quadratic whitespace scans once took 19 s
    "\\boxed{a" + "\\," * 5_000 + "a}",
    "\\boxed{" + "x_" * 5_000 + "}",
]


@pytest.mark.parametrize("index", range(len(HOSTILE)))
@pytest.mark.parametrize("gold", ["1", "x+1", "\ud800", "1" * 100_000])
def test_hostile_input_returns_a_verdict_promptly(index: int, gold: str) -> None:
    start = time.perf_counter()
    verdict = verify_math(HOSTILE[index], gold, timeout_s=0.3)
    elapsed = time.perf_counter() - start
    assert isinstance(verdict, Verdict)
    assert verdict.score in (0.0, 1.0)
    assert elapsed < 3.0, (index, elapsed)
    if gold == "x+1":
        assert not verdict.correct


_HOSTILE_TOKENS = st.sampled_from(
    ["\\boxed{", "}", "{", "^{", "10^{300}", "\\sin(", ")", "-", "+", "\x00", "\ud800", "e^{"]
    + ["9" * 60, "\\frac{", "\\sqrt{", "!", "(", "x", "1", "$", "\\left(", "<answer>"]
)


@settings(max_examples=200, deadline=None)
@given(pred=st.lists(_HOSTILE_TOKENS, max_size=60).map("".join), gold=st.sampled_from(GOLDS))
def test_random_hostile_tokens_never_raise(pred: str, gold: str) -> None:
    verdict = verify_math(pred, gold, timeout_s=0.2)
    assert isinstance(verdict, Verdict)
    assert verdict.details["method"] != "error", verdict.details


_TEMPLATES = [
    "({0}, {1})",
    "\\{{{0}, {1}, {2}\\}}",
    "[{0}, {1})",
    "PQ = {0}, RS = {1}",
    "{0}:{1}:{2}",
    "({0}, {1}); ({2}, {1})",
    "\\begin{{pmatrix}} {0} & {1} \\\\ {2} & 1 \\end{{pmatrix}}",
    "x = {0}, y = {1}",
    "{0}x^2 + {1}x + {2}",
    "(-\\infty, {0}] \\cup ({1}, \\infty)",
]


@settings(max_examples=200, deadline=None)
@given(
    template=st.sampled_from(_TEMPLATES),
    values=st.lists(st.integers(1, 30), min_size=3, max_size=3, unique=True).map(sorted),
    slot=st.integers(0, 2),
    step=st.sampled_from([1, -1, 7]),
)
def test_perturbing_one_value_of_a_structure_breaks_equality(
    template: str, values: list[int], slot: int, step: int
) -> None:
    if f"{{{slot}}}" not in template:
        return
    gold = template.format(*values)
    changed = list(values)
    changed[slot] += step
    if sorted(changed) != changed or len(set(changed)) != 3:
        return  # keep the shapes valid (increasing intervals, distinct set items)
    pred = template.format(*changed)
    if template.startswith("{0}:{1}:{2}") and all(
        c * values[0] == v * changed[0] for c, v in zip(changed, values, strict=True)
    ):
        return  # a proportional ratio is the same ratio
    assert verify_math(gold, gold).correct, gold
    verdict = verify_math(f"\\boxed{{{pred}}}", gold, timeout_s=0.5)
    assert not verdict.correct, (pred, gold, verdict.details)


_HEDGES = [
    "\\boxed{{{0}}} or \\boxed{{{1}}}",
    "\\boxed{{{1}}}\\boxed{{{0}}}",
    "$\\boxed{{{0}}}$, maybe $\\boxed{{{1}}}$",
    "\\boxed{{{0} \\text{{ or }} {1}}}",
    "\\boxed{{{1}, {0}}}",
    "The answer is ${0}$ or ${1}$.",
    "The answer is either {0} or {1}.",
    "<answer>{1} or {0}</answer>",
    "Final answer: {0}, {1}",
    "\\boxed{{x = {0} \\text{{ or }} x = {1}}}",
]


@settings(max_examples=300, deadline=None)
@given(
    gold=exact_values(),
    other=exact_values(),
    form=st.sampled_from(_HEDGES),
    letters=st.sampled_from([("A", "B"), ("C", "A"), ("(B)", "(D)")]),
    use_letters=st.booleans(),
)
def test_a_hedge_is_never_correct(
    gold: tuple[str, float], other: tuple[str, float], form: str, letters, use_letters: bool
) -> None:
    """Offering two different answers to a single-answer gold earns nothing."""
    if use_letters:
        right, wrong = letters
        gold_text = right.strip("()")
    else:
        (gold_text, gold_value), (wrong, other_value) = gold, other
        if abs(gold_value - other_value) <= 1e-6 * max(1.0, abs(gold_value)):
            return
        right = gold_text
    verdict = verify_math(form.format(right, wrong), gold_text, timeout_s=0.5)
    assert not verdict.correct, (form.format(right, wrong), gold_text, verdict.details)


@pytest.mark.parametrize(
    "pred, correct",
    [
        ("\\boxed{17 = 5}", False),
        ("\\boxed{1 = 2 = 3 = 4 = 5}", False),
        ("\\boxed{2 + 3 = 5}", True),
        ("\\boxed{\\sqrt{25} = 5}", True),
    ],
)
def test_a_false_equation_gives_nothing(pred: str, correct: bool) -> None:
    assert verify_math(pred, "5").correct == correct
