"""The math verifier on real-world answer shapes: one regression table per kind.

Each row is ``(prediction, gold, expected)``; the rule behind each kind is written down in
docs/math_verifier.md.
"""

from __future__ import annotations

import pytest

from reasongym.envs.verifiers.math import verify_math

KINDS: dict[str, list[tuple[str, str, bool]]] = {
    "decimal_comma": [
        ("3,75", "3.75", True),
        ("Il reste donc 4,5 kg de farine.", "4.5", True),
        ("\\boxed{4{,}5}", "4.5", True),
        ("\\boxed{0,125}", "0.125", True),
        ("3.75", "3,75", True),  # a gold written with a decimal comma
        ("3,76", "3.75", False),
        ("\\boxed{2, 5}", "2,5", True),  # against a two-item gold it stays a list
        ("\\boxed{3,7}", "3, 7", True),
        ("Le taux est de 12,5 %.", "0.125", True),
        ("\\boxed{4{,}5 \\text{ kg}}", "4.5", True),
    ],
    "thousands": [
        ("\\boxed{12,\\! 345,\\! 600}", "12345600", True),
        ("\\boxed{12{,}345{,}600}", "12345600", True),
        ("\\boxed{12\\,345\\,600}", "12,\\! 345,\\! 600", True),
        ("\\boxed{1 000 000}", "10^6", True),
        ("\\boxed{12,\\! 345,\\! 601}", "12345600", False),
    ],
    "multi_box": [
        ("\\boxed{3}\\boxed{7}", "\\boxed{3,7}", True),
        ("$x = \\boxed{3}$ or $x = \\boxed{7}$", "3, 7", True),
        ("\\boxed{(1, 4)} \\quad \\text{and} \\quad \\boxed{(4, 1)}", "(1, 4), (4, 1)", True),
        ("$\\boxed{1}$, $\\boxed{2}$, and $\\boxed{3}$", "\\{1,2,3\\}", True),
        ("\\boxed{3}\\boxed{8}", "3, 7", False),
        ("Trying $x = \\boxed{3}$ fails, so the answer is $\\boxed{7}$.", "3, 7", False),
        (
            "(1) So $\\boxed{a_n = 2n - 1}$.\n\n(2) Summing, $\\boxed{S_n = n^2}$.",
            "a_n = 2n-1, S_n = n^2",
            True,
        ),
        (
            "(1) So $\\boxed{2n - 1}$.\n\n(2) Summing, $\\boxed{2n}$.",
            "a_n = 2n-1, S_n = n^2",
            False,
        ),
    ],
    "hedge": [
        ("It is either $\\boxed{5}$ or $\\boxed{6}$.", "6", False),
        ("The answer is $\\boxed{5}$ or possibly $\\boxed{6}$.", "6", False),
        ("\\boxed{5}\\boxed{6}", "5", False),
        ("\\boxed{5 \\text{ or } 6}", "5", False),
        ("The answer is 5 or 6.", "6", False),
        ("The answer is $5$ or $6$.", "5", False),
        ("The final answer is $5$, or possibly $6$.", "5", False),
        ("Answer: $5$ and $6$", "5, 6", True),
        ("The roots are $x=2$ and $x=3$.", "2, 3", True),
        ("Thus the solutions are x = 3 and x = -2.", "3, -2", True),
        ("Thus the solutions are x = 3 and x = -2.", "-2", False),
        ("\\boxed{2, 3}", "The roots are $2$ and $3$.", True),
        ("\\boxed{3}", "The roots are $2$ and $3$.", False),
        ("I first wrote \\boxed{5}, but rechecking the sign it is \\boxed{6}.", "6", True),
        ("So \\boxed{6}. Double-checking confirms \\boxed{6}.", "6", True),
    ],
    "labelled_gold": [
        ("(5,1)", "(a,b)=(5,1)", True),
        ("a=5, b=1", "(a,b)=(5,1)", True),
        ("(1,5)", "(a,b)=(5,1)", False),
        ("6, 9", "PQ=6, RS=9", True),
        ("RS = 9, PQ = 6", "PQ=6, RS=9", True),
        ("9, 6", "PQ=6, RS=9", False),
        ("2", "|PQ|=2", True),
        ("PQ = 2", "|PQ|=2", True),
        ("3:8", "V_1:V_2=3:8", True),
        ("6:16", "V_1:V_2=3:8", True),
        ("8:3", "V_1:V_2=3:8", False),
        ("\\frac{2\\sqrt{5}}{5}", "\\frac{AM}{MB}=\\frac{2}{\\sqrt{5}}", True),
        ("AM:MB = 2:\\sqrt{5}", "\\frac{AM}{MB}=\\frac{2}{\\sqrt{5}}", True),
        ("x_1 = 3, x_2 = 2", "x_1 = 2, x_2 = 3", True),
        ("y = 2", "x = 2", False),
        ("Thus, $AB = 12$.", "12", True),
        ("\\boxed{m\\angle A=30^\\circ}", "30^\\circ", True),
    ],
    "solution_set": [
        ("(3,4); (1,2)", "(1,2), (3,4)", True),
        ("(1,2) \\text{ or } (3,4)", "\\{(1,2),(3,4)\\}", True),
        ("(x, y) = (3, 4), (1, 2)", "(1,2); (3,4)", True),
        ("(2,1), (4,3)", "(1,2), (3,4)", False),
        ("(1,2)", "(1,2), (3,4)", False),
        (
            "x = 2, x = \\frac{1 \\pm \\sqrt{5}}{2}",
            "2, \\frac{1+\\sqrt5}{2}, \\frac{1-\\sqrt5}{2}",
            True,
        ),
        (
            "x = 2, x = \\frac{1 + \\sqrt{5}}{2}",
            "2, \\frac{1+\\sqrt5}{2}, \\frac{1-\\sqrt5}{2}",
            False,
        ),
    ],
    "inequality": [
        ("2\\le|w|\\le 5", "[-5,-2]\\cup[2,5]", True),
        ("2<|w|\\le 5", "[-5,-2]\\cup[2,5]", False),
        ("|x| < 3", "(-3, 3)", True),
        ("|x| > 1", "(-\\infty,-1)\\cup(1,\\infty)", True),
        ("0<g(x)<2", "(0,2)", True),
        ("0\\le g(x)<2", "(0,2)", False),
        ("2 > f(x) > 0", "(0,2)", True),
        ("x < -1 \\text{ or } x > 3", "(-\\infty, -1) \\cup (3, \\infty)", True),
        ("[3, \\infty)", "x \\ge 3", True),
        ("(3, \\infty)", "x \\ge 3", False),
    ],
    "approximation": [
        ("y = 2/3 \\approx 0.67", "\\frac{2}{3}", True),
        ("\\boxed{\\frac{2}{3} \\approx 0.667}", "\\frac23", True),
        ("\\sqrt{2} \\approx 1.414", "\\sqrt2", True),
        ("\\frac{5}{3} \\approx 1.67", "\\frac23", False),
        ("0.67", "\\frac23", False),
    ],
    "units": [
        ("12 percent", "12", True),
        ("12 percent", "12\\%", True),
        ("40 cm", "40", True),
        ("3.5 \\text{ dollars}", "3.5", True),
        ("\\$3.50", "3.5", True),
        ("49 square centimeters", "49\\text{ cm}^2", True),
        ("13 percent", "12", False),
        ("4 cm", "40", False),
    ],
    "options_and_words": [
        ("\\boxed{B}", "\\textbf{(B)}\\ 5", True),
        ("\\boxed{5}", "\\textbf{(B)}\\ 5", True),
        ("\\boxed{C}", "\\textbf{(B)}\\ 5", False),
        ("\\boxed{A or B}", "A", False),
        ("\\boxed{(A) or (B)}", "A", False),
        ("\\boxed{A B C D}", "A", False),
        ("\\boxed{(A) 12}", "A", True),
        ("\\boxed{x \\neq 2}", "(-\\infty, 2) \\cup (2, \\infty)", True),
        ("\\boxed{\\text{all real numbers}}", "\\mathbb{R}", True),
        ("\\boxed{v = 5 \\text{ m/s}}", "5", True),
        ("\\boxed{9.8 \\, \\text{m/s}^2}", "9.8", True),
        ("答案是 12", "12", True),
        ("所以答案是 $\\frac{1}{2}$。", "0.5", True),
        ("\\boxed{0.\\overline{36}}", "\\frac{4}{11}", True),
        ("\\boxed{0.1\\overline{6}}", "\\frac16", True),
        ("\\boxed{0.\\overline{3}}", "0.3", False),
        ("(1) First, $\\boxed{2}$. (2) Then $\\boxed{5}$.", "(1) 2; (2) 5", True),
        ("(1) First, $\\boxed{5}$. (2) Then $\\boxed{2}$.", "(1) 2; (2) 5", False),
        ("3 × 10⁸", "300000000", True),
        ("10⁻³", "0.001", True),
        ("１２", "12", True),
        ("\\boxed{\\emptyset}", "\\text{No solution}", True),
        ("\\boxed{\\{1\\}}", "\\text{No solution}", False),
        ("0:0", "3:8", False),
        ("-3:-8", "3:8", True),
    ],
    "long_trace": [
        (
            "Step 1: 12 + 30 = 42. Step 2: \\boxed{42} is only a partial sum.\n\n"
            "Step 3: subtract the 5 overlaps.\n\nThus the final count is $\\boxed{37}$.",
            "37",
            True,
        ),
        (
            "Step 1: 12 + 30 = 42. Step 2: \\boxed{42} is only a partial sum.\n\n"
            "Thus the final count is $\\boxed{37}$.\n\nCheck: 37 + 5 = 42, consistent.",
            "42",
            False,
        ),
        ("We add 3 and 4 to get 7; doubling gives 14.\n\nSo the answer is 14.", "14", True),
        ("<think>maybe 9? no, 12</think>\n\n**Final Answer**\n\\[\\boxed{12}\\]", "12", True),
        ("<think>so maybe \\boxed{5}</think>\n\nThe answer is 7.", "7", True),
        ("<think>so maybe \\boxed{5}</think>\n\nThe answer is 7.", "5", False),
        ("Step 1: \\boxed{12} is the subtotal.\n\nFinal answer: 15", "15", True),
        ("16 - 3 - 4 = 9 eggs, so 9 * 2 = 18 dollars.\n#### 18", "18", True),
        ("16 - 3 - 4 = 9 eggs, so 9 * 2 = 18 dollars.\n#### 18", "9", False),
        ("Step 1: \\boxed{12} is the subtotal.\n\nFinal answer: 15", "12", False),
    ],
}


def _cases() -> list:
    return [
        pytest.param(pred, gold, expected, id=f"{kind}-{i}")
        for kind, rows in KINDS.items()
        for i, (pred, gold, expected) in enumerate(rows)
    ]


@pytest.mark.parametrize("pred, gold, expected", _cases())
def test_real_world_kinds(pred: str, gold: str, expected: bool) -> None:
    verdict = verify_math(pred, gold)
    assert verdict.correct == expected, (pred, gold, verdict.details)
    assert verdict.score == (1.0 if expected else 0.0)


@pytest.mark.parametrize(
    "gold",
    ["(a,b)=(5,1)", "PQ=6, RS=9", "V_1:V_2=3:8", "2\\le|w|\\le 5", "y = 2/3 \\approx 0.67", "3,75"],
)
def test_a_labelled_or_rich_gold_matches_itself(gold: str) -> None:
    assert verify_math(f"\\boxed{{{gold}}}", gold).correct
    assert verify_math(gold, gold).correct
