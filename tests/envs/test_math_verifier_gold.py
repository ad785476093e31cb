"""Gold-side readings of human-written golds (issue 15): forms, glosses, value sentences,
plain-text functions, statements. A gold verifies as itself, a natural prediction of the
same value verifies, a wrong value does not, and no rule lets a prediction gain."""

from __future__ import annotations

import pytest

from reasongym.envs.verifiers import math_sympy
from reasongym.envs.verifiers.math import verify_math

# (gold, a natural prediction of the same answer, a wrong prediction)
CASES = [
    # equivalent forms offered by the gold
    (
        "C(n, 4), or an equivalent form such as n(n-1)(n-2)(n-3)/4!",
        r"\binom{n}{4}",
        r"\binom{n}{3}",
    ),
    ("C(m, 2), or equivalently m(m-1)/2", r"\frac{m^2-m}{2}", r"\frac{m^2+m}{2}"),
    (
        "sum_(k=1)^n k^2, or equivalently n(n+1)(2n+1)/6",
        r"\frac{n(n+1)(2n+1)}{6}",
        r"\frac{n(n+1)}{2}",
    ),
    ("2^n - 1 (equivalently, the number of non-empty subsets)", "2^n-1", "2^n"),
    # a parenthetical gloss is dropped
    ("250 (i.e., every one of them)", r"\boxed{250}", r"\boxed{249}"),
    ("m+3 (i.e., all of the remaining ones)", r"\boxed{m+3}", r"\boxed{m+2}"),
    ("0 (none of the cases work)", "The answer is $0$.", "The answer is $1$."),
    (
        "(n+(-1)^n)/2 (i.e., n/2 for even n and (n-1)/2 for odd n)",
        r"\frac{n+(-1)^n}{2}",
        r"\frac{n}{2}",
    ),
    # value sentences
    ("-7 is the only possible value", r"\boxed{-7}", r"\boxed{7}"),
    ("The only possible value for the limit is sqrt(b)", r"\boxed{\sqrt{b}}", r"\boxed{b}"),
    (
        "The limit exists and is equal to (2a+b)/3",
        r"\boxed{\frac{2a+b}{3}}",
        r"\boxed{\frac{a+2b}{3}}",
    ),
    ("The sequence is periodic, with a period of 6", r"\boxed{6}", r"\boxed{3}"),
    ("At least 2 numbers", r"\boxed{2}", r"\boxed{3}"),
    ("At most 1 integer-valued root (i.e., a single root)", r"\boxed{1}", r"\boxed{0}"),
    # plain-text functions
    (
        "3^floor(n/3)*floor(n/2)!",
        r"3^{\lfloor n/3 \rfloor} \cdot \lfloor n/2 \rfloor!",
        r"3^{\lfloor n/3 \rfloor}",
    ),
    ("ceil(n/2)+1", r"\lceil \frac{n}{2} \rceil + 1", r"\lceil \frac{n}{2} \rceil"),
    ("binom(2n, n)/(n+1)", r"\frac{1}{n+1}\binom{2n}{n}", r"\binom{2n}{n}"),
    # statements: text equality with the gold itself
    (
        "The series does not converge",
        "Therefore, the series does not converge.",
        "The series converges",
    ),
    (
        "a(n)<b(n+1) for all n≥4",
        r"<answer>a(n) < b(n+1) for all n \ge 4</answer>",
        "a(n)>b(n+1) for all n≥4",
    ),
    (
        "No such polynomial exists",
        "<answer>No such polynomial exists.</answer>",
        "<answer>Such a polynomial exists</answer>",
    ),
]


@pytest.mark.parametrize(("gold", "natural", "wrong"), CASES, ids=[c[0][:40] for c in CASES])
def test_gold_forms(gold: str, natural: str, wrong: str) -> None:
    assert verify_math(gold, gold).correct, verify_math(gold, gold).details
    assert verify_math(f"<answer>{gold}</answer>", gold).correct
    assert verify_math(natural, gold).correct, verify_math(natural, gold).details
    assert not verify_math(wrong, gold).correct, verify_math(wrong, gold).details


@pytest.mark.parametrize(
    ("prediction", "gold", "correct"),
    [
        # a prediction offering several forms is right only when every one is
        (r"\frac{1}{2}, or equivalently 0.5", "1/2", True),
        (r"\frac{1}{2}, or equivalently 0.6", "1/2", False),
        (r"0.6, or equivalently \frac{1}{2}", "1/2", False),
        ("2^n, or equivalently 2^n - 1", "2^n - 1 (equivalently, the non-empty subsets)", False),
        # a gold form never lends the prediction a hedge
        (r"\boxed{5} or \boxed{6}", "5 is the only possible value", False),
        (r"\boxed{0, 1}", "0 (i.e., no such values)", False),
        # negated value sentences state no value
        (r"\boxed{2}", "The limit is not equal to 2", False),
        (r"\boxed{3}", "3 is not the only possible value", False),
        # a value sentence names one value, not the rest of a clause
        ("5, 20", "The sum, with a margin of 5, is 20", False),
        # C(2, 3) may be a point: not read as a binomial (which would be 0)
        (r"\boxed{0}", "C(2, 3)", False),
        # statements match only word for word
        ("It is false that the limit does not exist", "The limit does not exist", False),
        ("The limit does not exist, or it is 2", "The limit does not exist", False),
        ("The limit does not exist", "The limit does not exist", True),
        ("the limit DOES NOT exist.", "The limit does not exist", True),
    ],
)
def test_prediction_never_gains_from_gold_rules(prediction: str, gold: str, correct: bool) -> None:
    verdict = verify_math(prediction, gold)
    assert verdict.correct is correct, verdict.details


def test_every_competition_gold_verifies_as_itself() -> None:
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the envs

    env = gym.make("reasongym/Competition-v0")
    try:
        unwrapped = env.unwrapped
        failing = [
            unwrapped.task_row(i)["answer"]
            for i in range(unwrapped.num_tasks)
            if not verify_math(
                f"<answer>{unwrapped.task_row(i)['answer']}</answer>",
                unwrapped.task_row(i)["answer"],
            ).correct
        ]
    finally:
        env.close()
    assert not failing


def test_binomial_of_a_variable_is_its_falling_factorial() -> None:
    # at negative and fractional points too (the gamma function changes sign there)
    assert verify_math(r"\binom{n}{4}", "n(n-1)(n-2)(n-3)/24").correct
    assert verify_math(r"\binom{x}{2}", "x(x-1)/2").correct
    assert not verify_math(r"\binom{n}{4}", "n(n-1)(n-2)(n-3)/12").correct


def test_a_timeout_resets_the_state_later_comparisons_share() -> None:
    import mpmath
    from sympy.core.parameters import global_parameters

    math_sympy.warm_up()
    mpmath.mp.prec = 7  # what an interrupted workprec() block could leave behind
    global_parameters.evaluate = False
    with pytest.raises(math_sympy.SympyTimeout):
        math_sympy.sympy_equal(r"\frac{3}{4}", r"\sin(10^{300}x)", 0.02)
    assert mpmath.mp.prec == 53
    assert global_parameters.evaluate is True
    assert math_sympy.sympy_equal(r"\frac{3}{4}", "0.75", 5.0)
    assert not math_sympy.sympy_equal(r"\frac{3}{4}", r"\frac{3}{5}", 5.0)


def test_equal_found_while_an_abandoned_worker_runs_counts_as_a_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    math_sympy.warm_up()
    monkeypatch.setattr(math_sympy, "_workers_running", lambda: True)
    with pytest.raises(math_sympy.SympyTimeout):
        math_sympy.sympy_equal(r"\sum_{i=1}^{3} i", "6", 5.0)
    # A comparison that finds "not equal" needs no such care.
    assert not math_sympy.sympy_equal(r"\sum_{i=1}^{3} i", "7", 5.0)
