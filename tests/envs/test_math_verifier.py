"""The math answer verifier: extraction, equivalence per answer kind, never hanging."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasongym.envs.types import Verdict
from reasongym.envs.verifiers.math import extract_answer, verify_math
from reasongym.envs.verifiers.math_sympy import warm_up

# -- extraction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("... so the answer is \\boxed{\\frac{3}{4}}.", "\\frac{3}{4}"),
        ("First \\boxed{1}, then \\boxed{\\{1, 2\\}} finally.", "\\{1, 2\\}"),
        ("\\fbox{7}", "7"),
        ("\\boxed{\\frac{a}{b}} is wrong, so \\boxed{x^{2}}", "x^{2}"),
        ("The roots are $x = \\boxed{2}$ or $x = \\boxed{3}$.", "2, 3"),
        ("I guessed \\boxed{4}, but after rechecking the sign it is \\boxed{5}.", "5"),
        ("Reasoning...\n<answer>42</answer>", "42"),
        ("<answer>The total is 17.</answer>", "17"),
        ("<answer>\\boxed{9}</answer>", "9"),
        ("The final answer is $\\frac12$. I hope it is correct.", "\\frac12"),
        ("Final Answer: The final answer is 12,000,023. I hope it is correct.", "12,000,023"),
        ("Answer: (0, 1]", "(0, 1]"),
        ("**Answer:** 12", "12"),
        ("Therefore, the answer is: B.", "B"),
        ("The correct option is (C).", "C"),
        ("Final Answer: The largest $n$ is 34.", "34"),
        ("Answer $ 9 $", "9"),
        ("Adding them, we get $2 + 3 = 5$.", "5"),
        ("So we conclude that $x = 7$.", "x = 7"),
        ("Thus $x <= 2$ is our answer.", "x <= 2"),
        ("We have 3 apples and then 4 more, giving 7 in total", "7"),
        ("\\frac{3}{4}", "\\frac{3}{4}"),
        ("$\\frac{3}{4}$", "\\frac{3}{4}"),
        ("x^2 + 2x + 1", "x^2 + 2x + 1"),
        ("5 cm", "5 cm"),
        ("The answer is $\\$19$.", "\\$19"),
    ],
)
def test_extract_answer(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "I could not finish this computation.", "<answer></answer>"]
)
def test_extract_answer_none(text: str) -> None:
    assert extract_answer(text) is None


# -- equivalence ----------------------------------------------------------------------------

EQUAL = {
    "integer": [
        ("42", "42"),
        ("1,000", "1000"),
        ("1 000", "1000"),
        ("-7.0", "-7"),
        ("\\text{12}", "12"),
    ],
    "decimal": [
        ("0.5", "\\frac{1}{2}"),
        ("2.750", "\\frac{11}{4}"),
        ("2\\frac34", "2.75"),
        (".4", "0.4"),
    ],
    "fraction": [
        ("3/4", "\\frac{3}{4}"),
        ("\\dfrac{6}{8}", "\\frac34"),
        ("0.3333333", "\\frac13"),
        ("-\\frac{3}{4}", "\\frac{-3}{4}"),
    ],
    "percent": [
        ("50\\%", "0.5"),
        ("50%", "50\\%"),
        ("50", "50\\%"),
        ("\\frac12", "50\\%"),
        ("12.5 percent", "0.125"),
    ],
    "radical": [
        ("2\\sqrt{2}", "\\sqrt{8}"),
        ("\\frac{1}{\\sqrt3}", "\\frac{\\sqrt{3}}{3}"),
        ("\\sqrt[3]{-8}", "-2"),
        ("2^{3/2}", "2\\sqrt2"),
    ],
    "pi_e": [
        ("\\frac{\\pi}{2}", "\\pi/2"),
        ("0.5\\pi", "\\frac{\\pi}{2}"),
        ("3.141593", "\\pi"),
        ("e^{2}", "\\exp(2)"),
    ],
    "degrees": [
        ("30^\\circ", "30"),
        ("30°", "30^{\\circ}"),
        ("30 degrees", "30"),
        ("\\sin 30^\\circ", "\\frac12"),
    ],
    "units": [
        ("5 cm", "5"),
        ("5\\text{ cm}^2", "5"),
        ("\\$12", "12 dollars"),
        ("12 \\text{ square units}", "12"),
    ],
    "complex": [("3+4i", "4i+3"), ("3+4j", "3+4i"), ("i^2", "-1"), ("\\sqrt{-4}", "2i")],
    "interval": [
        ("(0, 1]", "(0,1]"),
        ("\\left[ 2, \\infty \\right)", "[2, \\infty)"),
        ("x > 2", "(2, \\infty)"),
        ("\\mathbb{R}", "(-\\infty, \\infty)"),
    ],
    "union": [
        ("(-\\infty, 0) \\cup (1, \\infty)", "(1, \\infty) \\cup (-\\infty, 0)"),
        ("x < 0 \\text{ or } x > 1", "(-\\infty,0)\\cup(1,\\infty)"),
    ],
    "set": [
        ("\\{1, 2\\}", "\\{2, 1\\}"),
        ("2, 1", "\\{1, 2\\}"),
        ("\\{5\\}", "5"),
        ("x = 1 \\text{ or } x = 2", "1, 2"),
        ("\\pm 2", "2, -2"),
    ],
    "tuple": [
        ("(1, 2)", "\\left(1,2\\right)"),
        ("(\\frac12, 3)", "(0.5, 3)"),
        ("x = 1, y = 2", "(1, 2)"),
    ],
    "matrix": [
        (
            "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}",
            "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
        ),
        ("\\begin{pmatrix}\\frac12\\\\2\\end{pmatrix}", "\\begin{pmatrix}0.5\\\\2\\end{pmatrix}"),
    ],
    "equation": [
        ("x = 2", "2"),
        ("2", "x=2"),
        ("2x+1", "y = 2x + 1"),
        ("y = 1 - x", "x + y = 1"),
        ("2x + 2y = 2", "x + y = 1"),
        ("x = 2 + 3 = 5", "x = 5"),
    ],
    "expression": [
        ("x^2+2x+1", "(x+1)^2"),
        ("(x-1)(x+1)", "x^2-1"),
        ("\\frac{x^2-1}{x-1}", "x+1"),
        ("2\\pi r", "2r\\pi"),
        ("\\sqrt{x^2}", "|x|"),
    ],
    "choice": [("(B)", "B"), ("B", "\\text{(B)}"), ("\\textbf{(B)} 12", "B"), ("Option B", "(B)")],
    "text": [("\\text{even}", "even"), ("Yes", "yes")],
    "misc": [
        ("10!", "3628800"),
        ("\\binom{5}{2}", "10"),
        ("\\log_2 8", "3"),
        ("\\ln e", "1"),
        ("3 \\times 10^{5}", "300000"),
        ("1.5e-3", "0.0015"),
    ],
}

DIFFERENT = {
    "integer": [("41", "42"), ("-42", "42"), ("1234568", "1234567"), ("420", "42")],
    "decimal": [("12345.68", "12345.67"), ("0.76", "0.75"), ("7.5", "0.75")],
    "fraction": [
        ("0.333", "\\frac13"),
        ("0.33333", "\\frac13"),
        ("\\frac{4}{3}", "\\frac34"),
        ("-\\frac34", "\\frac34"),
    ],
    "percent": [("5\\%", "50\\%"), ("0.05", "50\\%"), ("50", "0.5")],
    "radical": [("3\\sqrt{2}", "\\sqrt{8}"), ("\\sqrt{6}", "2\\sqrt{3}"), ("1.41", "\\sqrt2")],
    "pi_e": [
        ("\\frac{\\pi}{3}", "\\frac{\\pi}{2}"),
        ("3.14", "\\pi"),
        ("\\frac{1}{2}", "\\frac{\\pi}{2}"),
    ],
    "degrees": [("60^\\circ", "30^\\circ"), ("150", "30^\\circ")],
    "units": [("6 cm", "5 cm"), ("50 cm", "5")],
    "complex": [("3-4i", "3+4i"), ("4+3i", "3+4i"), ("3+4", "3+4i")],
    "interval": [
        ("[0, 1]", "(0, 1]"),
        ("(0, 1)", "(0, 1]"),
        ("[2, \\infty)", "(2, \\infty)"),
        ("x \\ge 2", "x > 2"),
    ],
    "set": [
        ("\\{1, 3\\}", "\\{1, 2\\}"),
        ("\\{1, 2, 3\\}", "\\{1, 2\\}"),
        ("(1, 2)", "\\{1, 2\\}"),
    ],
    "tuple": [("(2, 1)", "(1, 2)"), ("(1, -2)", "(1, 2)"), ("(1, 2, 0)", "(1, 2)")],
    "matrix": [
        ("\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}"),
        ("\\begin{pmatrix}1&2\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}"),
    ],
    "equation": [
        ("x = -2", "x = 2"),
        ("y = 2", "x = 2"),
        ("y = 2x - 1", "y = 2x + 1"),
        ("y = x - 1", "x + y = 1"),
        ("11a + c", "7 = 11a+c"),
    ],
    "expression": [
        ("x^2+x+1", "(x+1)^2"),
        ("(x-1)^2", "(x+1)^2"),
        ("x", "\\sqrt{x^2}"),
        ("x^3", "|x|^3"),
    ],
    "choice": [("C", "B"), ("(A)", "B"), ("\\text{(D)}", "B")],
    "text": [("odd", "\\text{even}")],
    "misc": [("9!", "3628800"), ("\\log 2", "\\ln 2"), ("\\binom{6}{2}", "10")],
}


def _cases(table: dict[str, list[tuple[str, str]]]) -> list:
    return [
        pytest.param(pred, gold, id=f"{cat}-{i}")
        for cat, pairs in table.items()
        for i, (pred, gold) in enumerate(pairs)
    ]


@pytest.mark.parametrize("pred, gold", _cases(EQUAL))
def test_equivalent_forms_are_correct(pred: str, gold: str) -> None:
    """The equivalence engine: every form equals its gold when computations are allowed;
    by default the same holds unless the gold is a plain number and the form a computation
    of it (tests/envs/test_math_verifier_number_form.py)."""
    for prediction in (pred, f"Some reasoning first. So the answer is $\\boxed{{{pred}}}$."):
        verdict = verify_math(prediction, gold, require_number_for_numeric_gold=False)
        assert verdict.correct, (prediction, gold, verdict.details)
        assert verdict.score == 1.0
        default = verify_math(prediction, gold)
        assert default.correct or default.details["method"] == "computation", default.details


@pytest.mark.parametrize("pred, gold", _cases(DIFFERENT))
def test_near_misses_are_wrong(pred: str, gold: str) -> None:
    verdict = verify_math(f"Therefore, the final answer is $\\boxed{{{pred}}}$.", gold)
    assert not verdict.correct, (pred, gold, verdict.details)
    assert verdict.score == 0.0


def test_gold_given_as_a_sentence() -> None:
    assert verify_math("\\boxed{0.5}", "The answer is $\\frac12$.").correct
    assert verify_math("\\boxed{0.5}", "$\\frac12$").correct
    assert verify_math("\\boxed{0.5}", "\\boxed{\\frac{1}{2}}").correct


def test_verdict_details() -> None:
    verdict = verify_math("... so the answer is \\boxed{\\frac{3}{4}}.", "0.75")
    assert isinstance(verdict, Verdict)
    assert verdict.details["extracted"] == "\\frac{3}{4}"
    assert verdict.details["gold"] == "0.75"
    assert verdict.details["method"] == "numeric"
    assert verify_math("(x+1)^2", "x^2+2x+1").details["method"] == "symbolic"
    assert verify_math("\\{2, 1\\}", "\\{1, 2\\}").details["method"] == "set"
    assert verify_math("(B)", "B").details["method"] == "choice"
    assert verify_math("\\boxed{42}", "42").details["method"] == "exact"


def test_no_answer() -> None:
    verdict = verify_math("I could not finish this computation.", "5")
    assert verdict == Verdict(False, 0.0, {"extracted": None, "gold": "5", "method": "no_answer"})


def test_sympy_fallback_for_what_the_fast_path_cannot_read() -> None:
    verdict = verify_math("\\boxed{\\frac{1}{2}}", "\\int_0^1 x \\, dx", timeout_s=5.0)
    assert verdict.correct and verdict.details["method"] == "sympy"


# -- robustness -----------------------------------------------------------------------------

PATHOLOGICAL = [
    ("\\boxed{9^{9^{9^9}}}", "1"),
    ("9**9**9**9", "9**9**9**8"),
    ("\\boxed{(10^8)!}", "5"),
    ("\\boxed{100000000!}", "100000000! + 1"),
    ("\\boxed{10^{10^{10}}}", "10^{10^{10}} + 1"),
    ("\\boxed{x^{99999999}}", "x"),
    ("\\boxed{(((2^{100})^{100})^{100})^{100}}", "2"),
    ("\\boxed{\\binom{10^7}{5000000}}", "3"),
    ("\\boxed{\\prod_{k=1}^{1000000} k}", "5"),
    ("\\boxed{1e999999}", "1"),
    ("\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}", "1"),
    ("\\boxed{" + "\\frac{1}{" * 400 + "2" + "}" * 400 + "}", "2"),
    ("\\boxed{" + "2^" * 3000 + "2}", "4"),
    ("\\boxed{" + "-" * 3000 + "5}", "5"),
    ("1+" * 100_000 + "1", "100001"),
    ("\\boxed{" * 20_000, "1"),
    ("\\(" * 30_000 + "1", "1"),
    ("<answer>" * 20_000 + "5", "5"),
    (" " * 200_000 + "x", "x"),
    ("$$" * 50_000, "1"),
    ("\\boxed{\\sum_{n=1}^{\\infty} \\frac{1}{n^2}}", "\\frac{\\pi^2}{6}"),  # slow in sympy
]


def _run_all(results: list[tuple[float, Verdict]], timeout_s: float) -> None:
    for prediction, gold in PATHOLOGICAL:
        start = time.perf_counter()
        verdict = verify_math(prediction, gold, timeout_s=timeout_s)
        results.append((time.perf_counter() - start, verdict))


@pytest.mark.parametrize("where", ["main thread", "worker thread"])
def test_pathological_inputs_return_promptly(where: str) -> None:
    warm_up()  # the one-time sympy import is not part of any call's budget
    timeout_s = 0.3
    results: list[tuple[float, Verdict]] = []
    if where == "main thread":
        assert threading.current_thread() is threading.main_thread()
        _run_all(results, timeout_s)
    else:
        worker = threading.Thread(target=_run_all, args=(results, timeout_s))
        worker.start()
        worker.join(60)
        assert not worker.is_alive()
    assert len(results) == len(PATHOLOGICAL)
    for (elapsed, verdict), (prediction, _) in zip(results, PATHOLOGICAL, strict=True):
        assert isinstance(verdict, Verdict)
        assert elapsed < timeout_s + 1.0, (prediction[:60], elapsed, verdict.details)
    methods = {verdict.details["method"] for _, verdict in results}
    assert "timeout" in methods


@settings(max_examples=150, deadline=None)
@given(prediction=st.text(max_size=200), gold=st.text(max_size=40))
def test_random_unicode_never_raises(prediction: str, gold: str) -> None:
    verdict = verify_math(prediction, gold, timeout_s=0.2)
    assert verdict.score in (0.0, 1.0)
    assert verdict.correct == (verdict.score == 1.0)
    assert {"extracted", "gold", "method"} <= set(verdict.details)


_TOKENS = [*"0123456789+-*/^_{}()[]|!.,=<> xyzie", "\\frac", "\\sqrt", "\\pi", "\\infty"]
_TOKENS += ["\\boxed{", "\\cdot", "\\left(", "\\right)", "\\{", "\\}", "\\cup", "\\pm", "%"]
_TOKENS += ["^\\circ", "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "\\text{", "\\le", "$"]
_LATEXISH = st.lists(st.sampled_from(_TOKENS), max_size=40).map("".join)


@settings(max_examples=150, deadline=None)
@given(prediction=_LATEXISH, gold=_LATEXISH)
def test_random_latex_never_raises(prediction: str, gold: str) -> None:
    verdict = verify_math(prediction, gold, timeout_s=0.2)
    assert verdict.score in (0.0, 1.0)
    assert verdict.details["method"] != "error", verdict.details


def test_non_string_inputs_do_not_raise() -> None:
    assert not verify_math(None, "1").correct  # type: ignore[arg-type]
    assert verify_math(1, "1").correct  # type: ignore[arg-type]


def test_threads_agree_with_sequential() -> None:
    pairs = [
        (pred, gold)
        for table in (EQUAL, DIFFERENT)
        for cases in table.values()
        for pred, gold in cases
    ]
    sequential = [verify_math(p, g).correct for p, g in pairs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda pair: verify_math(*pair).correct, pairs))
    assert threaded == sequential


def test_import_does_not_load_sympy() -> None:
    code = "import sys, reasongym.envs.verifiers.math; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
