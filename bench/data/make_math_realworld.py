"""Generate bench/data/math_realworld.jsonl: labelled pairs of real-world answer shapes.

``make_math_pairs.py`` writes clean golds and clean predictions. Real RL data is messier:
golds are written by people (MATH, NuminaMath, competition keys) and carry labels, LaTeX
spacing and several values; predictions are long model traces in many styles. This script
writes pairs of those kinds, each labelled *by construction* (never by running a verifier):

- ``decimal_comma``: ``3,75`` for 3.75, ``{,}`` as decimal mark, sentences in French/German;
- ``thousands``: ``12,\\! 345,\\! 600``, ``12{,}345``, ``12\\,345``, ``12 345``;
- ``multi_box``: several boxes forming one answer (``\\boxed{3}\\boxed{7}``);
- ``hedge``: different answers offered as alternatives (always wrong for a single gold);
- ``labelled_gold``: ``(a,b)=(5,1)``, ``PQ=6, RS=9``, ``|PQ|=2``, ``V_1:V_2=3:8``;
- ``solution_set``: tuples separated by ``;``/``or``/``and``, unordered, ``\\pm``;
- ``inequality``: inequalities vs intervals (``2\\le|w|\\le5``, ``0<g(x)<2``);
- ``approximation``: an exact value followed by ``\\approx`` a decimal;
- ``units``: percent and unit words (``12 percent``, ``40 cm``, ``3.5 \\text{ dollars}``);
- ``long_trace``: long reasoning with many numbers and intermediate boxes;
- ``gold_format``: golds written as sentences, boxed, ``\\text{}``, ``\\$``, ``$x=5$``;
- ``hand_written``: single pairs written by hand (options with values, set-builder sets,
  units such as ``m/s``, CJK and French sentences, sequences, trig labels, ...).

Each item states its gold, forms known equal, and forms known different; every form is
wrapped in one of several model-output styles. The hand-written items below were written for
this file from the description of the kinds (no other verifier's test cases were copied).

Usage::

    python bench/data/make_math_realworld.py          # writes bench/data/math_realworld.jsonl
    python bench/data/make_math_realworld.py --seed 3 --out /tmp/rw.jsonl

Each line: ``{"id", "category", "gold", "prediction", "label", "form", "template"}``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

DEFAULT_OUT = Path(__file__).with_name("math_realworld.jsonl")


@dataclass
class Item:
    """One gold with forms known equal (``same``) and known different (``different``).

    ``wrap``: whether the forms are bare answers to be wrapped in an output style
    (False: the form already is a whole model output).
    """

    gold: str
    same: list[str]
    different: list[str]
    wrap: bool = True
    styles: list[str] = field(default_factory=list)


# -- output styles --------------------------------------------------------------------------

_REASONING = [
    "We begin by reading the problem carefully and naming the unknowns.",
    "Let me set up the equations from the given conditions.",
    "First, we simplify the expression step by step.",
    "Consider the two cases separately and then combine them.",
    "Substituting the known values gives a simpler equation.",
]


def _filler(rng: random.Random) -> str:
    a, b = rng.randint(2, 30), rng.randint(2, 30)
    return (
        f"{rng.choice(_REASONING)} We have ${a} \\times {b} = {a * b}$ and "
        f"${a} + {b} = {a + b}$, which we will use below."
    )


STYLES: dict[str, Callable[[str, random.Random], str]] = {
    "boxed": lambda f, r: f"{_filler(r)}\n\nTherefore the answer is $\\boxed{{{f}}}$.",
    "final_answer": lambda f, r: (
        f"{_filler(r)}\n\nFinal Answer: The final answer is ${f}$. I hope it is correct."
    ),
    "bold_final": lambda f, r: f"{_filler(r)}\n\n**Final Answer**\n\\[\n\\boxed{{{f}}}\n\\]",
    "answer_tag": lambda f, r: f"<think>{_filler(r)}</think>\n<answer>{f}</answer>",
    "display": lambda f, r: f"{_filler(r)} Putting everything together,\n\\[ \\boxed{{{f}}} \\]",
    "bare": lambda f, r: f,
    "answer_colon": lambda f, r: f"{_filler(r)}\n\nAnswer: ${f}$",
}
_DEFAULT_STYLES = list(STYLES)


# -- generators, one per kind ---------------------------------------------------------------


def decimal_comma(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(10):
        whole, frac = rng.randint(0, 99), rng.randint(1, 99)
        frac_text = f"{frac:02d}" if rng.random() < 0.5 else str(frac % 10 or 5)
        value = f"{whole}.{frac_text}"
        comma = f"{whole},{frac_text}"
        wrong = f"{whole},{frac_text}1" if rng.random() < 0.5 else f"{whole + 1},{frac_text}"
        swapped = (
            [f"{frac_text},{whole}"] if Fraction(value) != Fraction(f"{frac_text}.{whole}") else []
        )
        items.append(Item(value, [comma, f"{whole}{{,}}{frac_text}"], [wrong, *swapped]))
        unit = rng.choice(["kg", "m", "L", "cm", "km"])
        items.append(
            Item(
                value,
                [
                    f"Il reste donc {comma} {unit} de farine.",
                    f"Die Antwort ist {comma} {unit}.",
                    f"Donc la réponse est $\\boxed{{{comma}}}$.",
                ],
                [f"Il reste donc {wrong} {unit} de farine.", f"Die Antwort ist {wrong}."],
                wrap=False,
            )
        )
        items.append(Item(comma, [value, comma], [wrong.replace(",", ".")]))  # gold-side comma
    return items


def thousands(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(12):
        n = rng.randint(1_000, 99_999_999)
        groups = f"{n:,}".split(",")
        forms = [
            ",\\! ".join(groups),
            ",\\!".join(groups),
            "{,}".join(groups),
            "\\,".join(groups),
            " ".join(groups),
            ",".join(groups),
        ]
        wrong_n = n + rng.choice([1, 10, 1000, -1])
        wrong_groups = f"{wrong_n:,}".split(",")
        items.append(
            Item(
                str(n),
                rng.sample(forms, 4),
                [",\\! ".join(wrong_groups), "{,}".join(wrong_groups), str(n)[:-1]],
            )
        )
        items.append(Item(",\\! ".join(groups), [str(n), "{,}".join(groups)], [str(wrong_n)]))
    return items


def multi_box(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(10):
        a, b = rng.sample(range(-9, 20), 2)
        c = rng.choice([v for v in range(-9, 20) if v not in (a, b)])
        gold = rng.choice([f"{a}, {b}", f"\\{{{a}, {b}\\}}", f"{a},{b}"])
        same = [
            f"So the solutions are $\\boxed{{{a}}}\\boxed{{{b}}}$.",
            f"Hence $x = \\boxed{{{a}}}$ or $x = \\boxed{{{b}}}$.",
            f"The values are $\\boxed{{{b}}}$ and $\\boxed{{{a}}}$.",
            f"Both work: $\\boxed{{{a}}}, \\boxed{{{b}}}$.",
            f"{_filler(rng)} The answer is $\\boxed{{{a}, {b}}}$.",
        ]
        different = [
            f"So the solution is $\\boxed{{{a}}}$.",
            f"Hence $x = \\boxed{{{a}}}$ or $x = \\boxed{{{c}}}$.",
            f"The values are $\\boxed{{{a}}}$, $\\boxed{{{b}}}$ and $\\boxed{{{c}}}$.",
        ]
        items.append(Item(gold, same, different, wrap=False))
        p, q = rng.randint(1, 9), rng.randint(10, 19)
        gold = f"({p}, {q}), ({q}, {p})"
        same = [
            f"The pairs are $\\boxed{{({p}, {q})}} \\quad \\text{{and}} \\quad \\boxed{{({q}, {p})}}$.",
            f"$\\boxed{{({q}, {p})}}$ and $\\boxed{{({p}, {q})}}$",
            f"Thus $(x,y) = \\boxed{{({p},{q})}}$ or $\\boxed{{({q},{p})}}$.",
        ]
        different = [
            f"The only pair is $\\boxed{{({p}, {q})}}$.",
            f"$\\boxed{{({p}, {q})}} \\quad \\text{{and}} \\quad \\boxed{{({p}, {p})}}$",
        ]
        items.append(Item(gold, same, different, wrap=False))
        # Multi-part problems: one box per named part, prose in between.
        d, a1 = rng.randint(2, 6), rng.randint(1, 9)
        c0 = a1 - d
        an = f"{d}n {'+' if c0 >= 0 else '-'} {abs(c0)}"
        sn = f"\\frac{{{d}}}{{2}}n^2 + {_frac(Fraction(2 * a1 - d, 2))}n"
        gold = f"a_n = {an}, S_n = {sn}"
        lead = f"(1) With $a_1 = {a1}$ and common difference ${d}$,"
        same = [
            f"{lead} $\\boxed{{a_n = {an}}}$.\n\n(2) Summing the first $n$ terms, "
            f"$\\boxed{{S_n = {sn}}}$.",
            f"{lead} the general term is $\\boxed{{{an}}}$.\n\n(2) Hence the sum is "
            f"$\\boxed{{{sn}}}$.",
        ]
        different = [
            f"{lead} $\\boxed{{a_n = {an}}}$.\n\n(2) Summing the first $n$ terms, "
            f"$\\boxed{{S_n = {d}n^2}}$.",
            f"(2) Summing the first $n$ terms, $\\boxed{{S_n = {sn}}}$.",
        ]
        items.append(Item(gold, same, different, wrap=False))
        # Roots boxed one at a time, one of them rejected in the prose: not both.
        items.append(
            Item(
                f"{a}, {b}",
                [f"Both check out: $x = \\boxed{{{a}}}$ and $x = \\boxed{{{b}}}$."],
                [
                    f"Trying $x = \\boxed{{{a}}}$ fails the check, so the answer is $\\boxed{{{b}}}$."
                ],
                wrap=False,
            )
        )
    return items


def hedge(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(14):
        a = rng.randint(2, 60)
        b = a + rng.choice([1, 2, -1, 5])
        frac = Fraction(rng.randint(1, 9), rng.randint(2, 9))
        gold = rng.choice([str(a), str(b)])
        different = [
            f"It is either $\\boxed{{{a}}}$ or $\\boxed{{{b}}}$.",
            f"The answer is $\\boxed{{{a}}}$ or possibly $\\boxed{{{b}}}$.",
            f"The answer is $\\boxed{{{a} \\text{{ or }} {b}}}$.",
            f"$\\boxed{{{a}}}\\boxed{{{b}}}$",
            f"So the answer is either {a} or {b}.",
            f"The answer is ${a}$ or ${b}$.",
            f"The final answer is ${a}$, or possibly ${b}$.",
            f"The answer is {a} or {b}.",
        ]
        same = [
            f"I first thought $\\boxed{{{b if gold == str(a) else a}}}$, but rechecking the last "
            f"step, the correct value is $\\boxed{{{gold}}}$.",
            f"So the answer is $\\boxed{{{gold}}}$. Double-checking confirms $\\boxed{{{gold}}}$.",
        ]
        items.append(Item(gold, same, different, wrap=False))
        gold_frac = f"\\frac{{{frac.numerator}}}{{{frac.denominator}}}"
        items.append(
            Item(
                gold_frac,
                [f"The probability is $\\boxed{{{gold_frac}}}$."],
                [
                    f"The probability is $\\boxed{{{gold_frac}}}$ or $\\boxed{{{frac + 1}}}$.",
                    f"$\\boxed{{{gold_frac}, {frac.numerator + 1}}}$",
                ],
                wrap=False,
            )
        )
    return items


def labelled_gold(rng: random.Random) -> list[Item]:
    items = []
    names = ["PQ", "RS", "AB", "CD", "MN", "XY"]
    for _ in range(10):
        a, b = rng.sample(range(1, 30), 2)
        items.append(
            Item(
                f"(a,b)=({a},{b})",
                [f"({a},{b})", f"a={a}, b={b}", f"(a, b) = ({a}, {b})"],
                [f"({b},{a})", f"a={b}, b={a}", f"({a},{b + 1})"],
            )
        )
        n1, n2 = rng.sample(names, 2)
        items.append(
            Item(
                f"{n1}={a}, {n2}={b}",
                [f"{a}, {b}", f"{n1} = {a}, {n2} = {b}", f"{n2}={b}, {n1}={a}"],
                [f"{b}, {a}", f"{n1} = {b}, {n2} = {a}", f"{a}"],
            )
        )
        items.append(
            Item(f"|{n1}|={a}", [str(a), f"|{n1}| = {a}", f"{n1} = {a}"], [str(b), str(-a)])
        )
        p, q = rng.sample(range(1, 12), 2)
        items.append(
            Item(
                f"V_1:V_2={p}:{q}",
                [f"{p}:{q}", f"{2 * p}:{2 * q}", f"V_1 : V_2 = {p} : {q}"],
                [f"{q}:{p}", f"{p}:{q + 1}"],
            )
        )
        k = rng.choice([2, 3, 5, 6, 7])
        items.append(
            Item(
                f"\\frac{{AM}}{{MB}}=\\frac{{{a}}}{{\\sqrt{{{k}}}}}",
                [
                    f"\\frac{{{a}\\sqrt{{{k}}}}}{{{k}}}",
                    f"\\frac{{{a}}}{{\\sqrt{{{k}}}}}",
                    f"AM:MB = {a}:\\sqrt{{{k}}}",
                ],
                [f"\\frac{{{a}}}{{{k}}}", f"\\frac{{\\sqrt{{{k}}}}}{{{a}}}"],
            )
        )
        items.append(Item(f"x={a}", [str(a), f"x = {a}", f"x={a}.0"], [f"x = {b}", f"y = {a + 1}"]))
        items.append(Item(f"f(2)={a}", [str(a), f"f(2) = {a}"], [str(b)]))
    return items


def _frac(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"\\frac{{{v.numerator}}}{{{v.denominator}}}"


def solution_set(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(10):
        pts = [(rng.randint(-5, 9), rng.randint(-5, 9)) for _ in range(rng.choice([2, 3]))]
        while (
            len(set(pts)) != len(pts)
            or any(x == y for x, y in pts)
            or {(y, x) for x, y in pts} == set(pts)
        ):
            pts = [(rng.randint(-5, 9), rng.randint(-5, 9)) for _ in range(len(pts))]
        tup = [f"({x}, {y})" for x, y in pts]
        shuffled = tup[::-1]
        gold = rng.choice([", ".join(tup), "; ".join(tup), "\\{" + ", ".join(tup) + "\\}"])
        same = [
            "; ".join(shuffled),
            " \\text{ or } ".join(shuffled),
            " \\text{ and } ".join(tup),
            "(x, y) = " + ", ".join(shuffled),
            "\\{" + ",".join(shuffled) + "\\}",
        ]
        x0, y0 = pts[0]
        different = [
            ", ".join(tup[:-1]),
            ", ".join(f"({y}, {x})" for x, y in pts),
            ", ".join(tup + [f"({x0 + 1}, {y0})"]),
        ]
        items.append(Item(gold, same, different))
        r = rng.randint(-6, 6)
        k = rng.choice([2, 3, 5, 6, 7])
        m = rng.randint(1, 4)
        roots = [f"\\frac{{{m} + \\sqrt{{{k}}}}}{{2}}", f"\\frac{{{m} - \\sqrt{{{k}}}}}{{2}}"]
        gold = rng.choice(
            [f"{r}, " + ", ".join(roots), f"x = {r}, x = \\frac{{{m} \\pm \\sqrt{{{k}}}}}{{2}}"]
        )
        same = [
            f"x = {r}, x = \\frac{{{m} \\pm \\sqrt{{{k}}}}}{{2}}",
            f"x = {r} \\text{{ or }} x = \\frac{{{m} \\pm \\sqrt{{{k}}}}}{{2}}",
            ", ".join(roots[::-1]) + f", {r}",
            f"\\left\\{{{r}, \\frac{{{m}\\pm\\sqrt{{{k}}}}}{{2}}\\right\\}}",
        ]
        different = [
            f"x = {r}, x = \\frac{{{m} + \\sqrt{{{k}}}}}{{2}}",
            f"x = {r + 1}, x = \\frac{{{m} \\pm \\sqrt{{{k}}}}}{{2}}",
            f"x = \\frac{{{m} \\pm \\sqrt{{{k}}}}}{{2}}",
        ]
        items.append(Item(gold, same, different))
    return items


def inequality(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(10):
        lo, hi = sorted(rng.sample(range(1, 12), 2))
        var = rng.choice(["w", "x", "t"])
        items.append(
            Item(
                f"[-{hi},-{lo}]\\cup[{lo},{hi}]",
                [
                    f"{lo}\\le|{var}|\\le {hi}",
                    f"{lo} \\leq |{var}| \\leq {hi}",
                    f"[{lo},{hi}]\\cup[-{hi},-{lo}]",
                    f"-{hi} \\le {var} \\le -{lo} \\text{{ or }} {lo} \\le {var} \\le {hi}",
                ],
                [f"[{lo},{hi}]", f"(-{hi},-{lo})\\cup({lo},{hi})", f"{lo}<|{var}|\\le {hi}"],
            )
        )
        f = rng.choice(["g(x)", "f(x)", "y", "h(t)"])
        items.append(
            Item(
                f"({lo}, {hi})",
                [f"{lo}<{f}<{hi}", f"{f} \\in ({lo}, {hi})", f"{hi} > {f} > {lo}"],
                [f"{lo}\\le {f}<{hi}", f"({lo}, {hi}]", f"{lo}<{f}<{hi + 1}"],
            )
        )
        a = rng.randint(-9, 9)
        b = a + rng.randint(1, 9)
        items.append(
            Item(
                f"(-\\infty, {a}) \\cup ({b}, \\infty)",
                [
                    f"x < {a} \\text{{ or }} x > {b}",
                    f"x<{a} \\text{{ or }} x>{b}",
                    f"({b}, \\infty) \\cup (-\\infty, {a})",
                    f"x \\in (-\\infty, {a}) \\cup ({b}, +\\infty)",
                ],
                [f"x \\le {a} \\text{{ or }} x > {b}", f"({a}, {b})", f"x < {a}"],
            )
        )
        items.append(
            Item(
                f"x \\ge {a}",
                [f"[{a}, \\infty)", f"x\\geq {a}", f"{a} \\le x", f"[{a},+\\infty)"],
                [f"({a}, \\infty)", f"x > {a}", f"x \\le {a}"],
            )
        )
    return items


def approximation(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(14):
        v = Fraction(rng.randint(1, 40), rng.choice([3, 6, 7, 9, 11, 12]))
        if v.denominator % 3 and v.denominator % 7 and v.denominator % 11:
            continue  # a terminating decimal is exact, not an approximation
        approx2 = f"{float(v):.2f}"
        approx3 = f"{float(v):.3f}"
        exact = _frac(v)
        slash = f"{v.numerator}/{v.denominator}"
        wrong = _frac(v + Fraction(1, v.denominator))
        items.append(
            Item(
                exact,
                [
                    f"y = {slash} \\approx {approx2}",
                    f"{exact} \\approx {approx3}",
                    f"{exact} \\approx {approx2}",
                    f"\\frac{{{2 * v.numerator}}}{{{2 * v.denominator}}} \\approx {approx2}",
                ],
                [
                    f"{wrong} \\approx {float(v + Fraction(1, v.denominator)):.2f}",
                    approx2,
                    f"y = {v.denominator}/{v.numerator} \\approx {float(1 / v):.2f}",
                ],
            )
        )
        k = rng.choice([2, 3, 5, 7, 10])
        c = rng.randint(2, 9)
        items.append(
            Item(
                f"{c}\\sqrt{{{k}}}",
                [
                    f"{c}\\sqrt{{{k}}} \\approx {c * k**0.5:.3f}",
                    f"\\sqrt{{{c * c * k}}} \\approx {c * k**0.5:.2f}",
                ],
                [f"{c + 1}\\sqrt{{{k}}} \\approx {(c + 1) * k**0.5:.3f}", f"{c * k**0.5:.2f}"],
            )
        )
    return items


def units(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(10):
        p = rng.randint(2, 95)
        items.append(
            Item(
                str(p),
                [f"{p} percent", f"{p}\\%", f"{p}\\text{{ percent}}", f"{p} \\%"],
                [f"{p + 1} percent", f"{p * 10}\\%"],
            )
        )
        items.append(Item(f"{p}\\%", [f"{p} percent", f"{p}", f"{p / 100:g}"], [f"{p + 1}\\%"]))
        n = rng.randint(2, 90)
        unit = rng.choice(["cm", "meters", "km", "inches", "feet", "kg", "seconds", "hours", "mph"])
        items.append(
            Item(
                str(n),
                [
                    f"{n} {unit}",
                    f"{n}\\text{{ {unit}}}",
                    f"{n} \\mbox{{ {unit}}}",
                    f"{n}\\,\\text{{{unit}}}",
                ],
                [f"{n + 1} {unit}", f"{n * 10}\\text{{ {unit}}}"],
            )
        )
        d = f"{rng.randint(1, 99)}.{rng.randint(1, 9)}"
        items.append(
            Item(
                d,
                [f"{d} \\text{{ dollars}}", f"\\${d}", f"{d}0 dollars", f"\\${d}0"],
                [f"{float(d) + 1:g} \\text{{ dollars}}", f"\\${float(d) * 10:g}"],
            )
        )
        items.append(
            Item(
                f"{n}\\text{{ cm}}^2",
                [str(n), f"{n} \\text{{cm}}^2", f"{n} square centimeters"],
                [str(n + 1)],
            )
        )
    return items


def long_trace(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(14):
        answer = rng.randint(10, 500)
        decoys = [rng.randint(1, 999) for _ in range(6)]
        steps = "\n".join(
            f"Step {i + 1}: from the previous line, ${d} - {i} = {d - i}$, so the partial total is {d}."
            for i, d in enumerate(decoys)
        )
        wrong = answer + rng.choice([1, -1, 10, 7])
        endings_same = [
            f"{steps}\n\nLet's double check with a quick case: $\\boxed{{{decoys[0]}}}$ was only "
            f"an intermediate value.\n\nThus the final count is $\\boxed{{{answer}}}$.",
            f"{steps}\n\nAdding everything up, the total is {answer}.\n\n**Final Answer**\n\\[\n"
            f"\\boxed{{{answer}}}\n\\]",
            f"{steps}\n\nTherefore, the answer is $\\boxed{{{answer}}}$.\n\nVerification: "
            f"plugging back in, ${decoys[1]} + {decoys[2]} = {decoys[1] + decoys[2]}$, consistent.",
            f"{steps}\n\nSo the answer is {answer}.",
            f"{steps}\n\nIn total there are {answer} ways.\n\nFinal answer: {answer}",
        ]
        endings_diff = [
            f"{steps}\n\nIt is tempting to answer {answer}, but that double counts.\n\nThus the final "
            f"count is $\\boxed{{{wrong}}}$.",
            f"{steps}\n\nThe intermediate sum was {answer}.\n\n**Final Answer**\n\\[\n\\boxed{{{wrong}}}\n\\]",
            f"{steps}\n\nSo the answer is {wrong}.",
        ]
        items.append(Item(str(answer), endings_same, endings_diff, wrap=False))
    return items


def gold_format(rng: random.Random) -> list[Item]:
    items = []
    for _ in range(10):
        n = rng.randint(2, 99)
        v = Fraction(rng.randint(1, 9), rng.randint(2, 9))
        if v.denominator == 1:
            v = Fraction(1, 2)
        items.append(Item(f"The answer is ${n}$.", [str(n), f"{n}.0"], [str(n + 1)]))
        items.append(
            Item(
                f"\\boxed{{{_frac(v)}}}",
                [_frac(v), f"{v.numerator}/{v.denominator}"],
                [_frac(v + 1)],
            )
        )
        items.append(Item(f"$x = {n}$", [str(n), f"x={n}"], [str(n - 1), f"x = {-n}"]))
        items.append(Item(f"\\text{{{n}}}", [str(n)], [str(n + 2)]))
        items.append(
            Item(f"\\${n}.50", [f"{n}.5", f"\\${n}.50", f"{n}.50 dollars"], [f"{n}.05", f"{n}"])
        )
        letter = rng.choice("ABCDE")
        other = rng.choice([c for c in "ABCDE" if c != letter])
        items.append(
            Item(
                f"\\text{{({letter})}}",
                [f"({letter})", letter, f"\\textbf{{({letter})}}"],
                [other, f"({other})", f"{letter} or {other}", f"({other}), ({letter})"],
            )
        )
        items.append(
            Item(f"{n}^\\circ", [str(n), f"{n}^{{\\circ}}", f"{n} degrees"], [str(n + 10)])
        )
    return items


# Hand-written (prediction, gold, label) pairs: shapes seen in model outputs and dataset golds.
HAND_WRITTEN: list[tuple[str, str, bool]] = [
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nHence, she has 15 apples left.",
        "15",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nSo, the total number of marbles is 42.",
        "42",
        True,
    ),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe answer is 42 marbles.", "42", True),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nTherefore, the value of $x$ is $5$.",
        "5",
        True,
    ),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThus, the value of x is 5.", "5", True),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\n**Answer:** 42", "42", True),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe final answer is $\\boxed{42}$.",
        "42",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nTherefore, $\\boxed{42}$ is the answer.",
        "42",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nSo the answer is $\\frac{3}{4}$, which is 0.75.",
        "\\frac34",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe probability is $\\dfrac{1}{6}$.",
        "\\frac16",
        True,
    ),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nSo $m + n = 3 + 4 = 7$.", "7", True),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nSo $m + n = \\boxed{7}$.", "7", True),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe area of the triangle is $24\\text{ cm}^2$.",
        "24",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nTherefore, the smallest possible value is $-3$.",
        "-3",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe sum of all solutions is $-\\frac{b}{a} = 5$.",
        "5",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nTherefore there are 120 ways to arrange them, since 5! = 120.",
        "120",
        True,
    ),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe answer is: $\\boxed{12}$", "12", True),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\n### Final Answer\nThe number of ways is $\\boxed{12}$.",
        "12",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\n## Step 3: Conclude\nThe final answer is: $\\boxed{12}$",
        "12",
        True,
    ),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe correct answer is B.", "B", True),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe correct option is (C) 12.", "C", True),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nAnswer: C", "C", True),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\n$\\boxed{C}$", "C", True),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nSo x = 3.", "3", True),
    ("Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nx = 3", "3", True),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe solutions are x = 3 and x = -2.",
        "3, -2",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe answer is $x \\in (1, 3)$.",
        "(1,3)",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe range of $a$ is $a > 2$.",
        "(2, \\infty)",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nTherefore, $a$ must satisfy $a \\geq 2$, i.e. $a \\in [2, +\\infty)$.",
        "[2, \\infty)",
        True,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nThe maximum value is $\\sqrt{2}$ and is attained at $x = \\frac{\\pi}{4}$.",
        "\\sqrt2",
        False,
    ),
    (
        "Let me think. First 3 + 4 = 7. Then 7 * 2 = 14.\n\nIn conclusion, the answer is $\\boxed{\\sqrt{2}}$, attained at $x = \\frac{\\pi}{4}$.",
        "\\sqrt2",
        True,
    ),
    ("\\boxed{x=2}", "2", True),
    ("\\boxed{\\text{C}}", "C", True),
    ("\\boxed{12\\%}", "0.12", True),
    ("\\boxed{2 \\text{ and } 3}", "2, 3", True),
    ("x \\in \\{2, 3\\}", "2,3", True),
    ("The answer is $\\boxed{5}$ cm.", "5", True),
    ("\\boxed{5\\text{ cm}}", "5", True),
    ("\\boxed{\\$ 1,234.56}", "1234.56", True),
    ("\\boxed{-\\frac{1}{2}}", "-0.5", True),
    ("$x_1 = 3, x_2 = 2$", "2, 3", True),
    ("x_1 = 3, x_2 = 2", "x_1 = 2, x_2 = 3", True),
    ("a=5, b=1", "(5,1)", True),
    ("a=1, b=5", "(5,1)", False),
    ("so the answer is **3**.", "3", True),
    ("x = 3 or x = -3", "\\pm 3", True),
    ("y = 3 - x/2", "y=-\\frac{1}{2}x+3", True),
    ("2 < x \\le 3", "(2,3]", True),
    ("\\boxed{\\text{(A)}}", "A", True),
    ("\\boxed{20}", "20\\%", True),
    ("0.001", "10^{-3}", True),
    ("\\[ \\boxed{ \\text{Yes} } \\]", "Yes", True),
    ("\\boxed{3 \\text{ and } 7}", "3, 7", True),
    ("\\boxed{2, 5}", "2,5", True),
    ("\\boxed{2.5}", "2,5", True),
    ("The final answer is $\\boxed{\\frac{\\sqrt{3}}{2}}$", "\\frac{\\sqrt3}{2}", True),
    ("</think> Therefore the answer is \\(\\boxed{42}\\).", "42", True),
    ("\\boxed{\\infty}", "\\infty", True),
    ("\\boxed{\\text{No solution}}", "no solution", True),
    ("\\boxed{(1,2) \\text{ and } (2,1)}", "\\{(1,2),(2,1)\\}", True),
    ("\\boxed{1, 2, 3}", "\\{1,2,3\\}", True),
    ("\\boxed{[1, 2]}", "[1,2]", True),
    ("The answer is $\\boxed{A}$", "\\text{(A)}", True),
    ("The answer is (B) 12", "B", True),
    ("\\boxed{3}", "\\boxed{3}", True),
    ("\\boxed{\\dfrac{9}{4}}", "2.25", True),
    ("\\boxed{0.67}", "\\frac23", False),
    ("\\boxed{4,5}", "4.5", True),
    ("\\boxed{4{,}5}", "4.5", True),
    ("\\boxed{12,345}", "12345", True),
    ("\\boxed{12\\,345}", "12345", True),
    ("\\boxed{12{,}345}", "12345", True),
    ("\\boxed{1.5 \\text{ hours}}", "1.5", True),
    ("\\boxed{90^\\circ}", "90", True),
    ("\\boxed{\\frac{1}{2}\\text{ mile}}", "\\frac12", True),
    ("\\boxed{x^2 - 4x + 4}", "(x-2)^2", True),
    ("\\boxed{\\left( \\frac{1}{2}, 3 \\right)}", "(0.5,3)", True),
    ("\\boxed{3\\sqrt{2}}", "\\sqrt{18}", True),
    ("The answer is 5 or 6.", "5", False),
    ("\\boxed{5} or \\boxed{6}", "5", False),
    ("\\boxed{5}\\quad\\boxed{6}", "5, 6", True),
    ("$\\boxed{1}$, $\\boxed{2}$, and $\\boxed{3}$", "1,2,3", True),
    ("\\boxed{a=2, b=3}", "(2,3)", True),
    ("\\boxed{m+n=13}", "13", True),
    ("\\boxed{\\angle ABC = 45^\\circ}", "45", True),
    ("\\boxed{m\\angle A=30^\\circ}", "30^\\circ", True),
    ("\\boxed{n=4}", "4", True),
    ("\\boxed{k \\geq 2}", "[2,\\infty)", True),
    ("\\boxed{x \\in [2, 5)}", "[2,5)", True),
    ("\\boxed{(-\\infty,1)\\cup(2,\\infty)}", "x<1 \\text{ or } x>2", True),
    ("\\boxed{15\\text{ minutes}}", "15", True),
    ("\\boxed{\\text{15 minutes}}", "15", True),
    ("\\boxed{50\\%}", "50", True),
    ("\\boxed{7.5\\%}", "0.075", True),
    ("The area is $12 \\text{ cm}^2$.", "12", True),
    ("Thus, $AB = 12$.", "12", True),
    ("The total cost is \\$45.", "45", True),
    ("\\boxed{45 dollars}", "\\$45", True),
    ("\\boxed{\\frac{3}{4}} \\approx 0.75", "\\frac34", True),
    ("\\boxed{\\frac{2}{3} \\approx 0.667}", "\\frac23", True),
    ("\\boxed{x = \\frac{2}{3} \\approx 0.67}", "\\frac23", True),
    ("\\boxed{1,000,000}", "10^6", True),
    ("\\boxed{1 000 000}", "1000000", True),
    ("\\boxed{B}", "\\textbf{(B)}\\ 5", True),
    ("The answer is $\\boxed{\\textbf{(B)}\\ 5}$", "B", True),
    ("\\boxed{\\text{all real numbers}}", "\\mathbb{R}", True),
    ("\\boxed{(-\\infty,\\infty)}", "\\mathbb{R}", True),
    ("\\boxed{a=1, b=2, c=3}", "(1,2,3)", True),
    ("(1,2,3)", "a=1, b=2, c=3", True),
    ("So $\\frac{3}{4}$ of the pie is left.", "\\frac34", True),
    ("**Final Answer:** The number is 42.", "42", True),
    ("The final answer is: $\\boxed{42}$", "42", True),
    ("\\boxed{3 \\times 10^8}", "300000000", True),
    ("\\boxed{\\pm 2}", "2,-2", True),
    ("x = \\pm 2", "\\pm 2", True),
    ("答案是 12", "12", True),
    ("\\boxed{(2, 3)}", "x=2, y=3", True),
    ("\\boxed{+\\infty}", "\\infty", True),
    ("\\boxed{1210_3}", "1210_3", True),
    ("\\boxed{\\frac{1}{2}}", "1/2", True),
    ("\\boxed{\\frac{9}{2}}", "4.5", True),
    ("Thus, the answer is $\\boxed{-\\dfrac{3}{2}}$.", "-\\frac32", True),
    ("\\boxed{2\\pi}", "6.28", False),
    ("\\boxed{k = 3}", "3", True),
    ("\\boxed{3}", "k=3", True),
    ("\\boxed{\\{-1, 1\\}}", "\\pm 1", True),
    ("\\boxed{[-1, 1]}", "-1 \\le x \\le 1", True),
    ("\\boxed{\\frac{\\pi}{4}}", "45^\\circ", False),
    ("\\boxed{\\text{even}}", "\\text{Even}", True),
    ("\\boxed{\\text{The function is even}}", "\\text{even}", False),
    ("\\boxed{5\\sqrt{2}}", "\\sqrt{50}", True),
    ("\\boxed{x^{2}}", "x^2", True),
    ("\\boxed{\\frac{x+1}{x-1}}", "\\frac{1+x}{x-1}", True),
    ("\\boxed{2^{10}}", "1024", True),
    ("\\boxed{1.0}", "1", True),
    ("\\boxed{01}", "1", True),
    ("\\boxed{\\sqrt[3]{2}}", "2^{1/3}", True),
    ("\\boxed{e^{i\\pi}}", "-1", True),
    ("\\boxed{\\log_2 8}", "3", True),
    ("\\boxed{y=-2x+3}", "2x + y = 3", True),
    ("\\boxed{-2x+3}", "y=-2x+3", True),
    ("\\boxed{(-2, 3)}", "(-2,3)", True),
    ("\\boxed{3, 5, 7}", "7, 5, 3", True),
    ("\\boxed{\\$ 12.50}", "12.5", True),
    ("\\boxed{12.50\\ \\text{dollars}}", "\\$12.50", True),
    ("The probability is $\\frac{1}{6}$.", "\\frac16", True),
    ("The answer is \\(\\frac{1}{6}\\).", "\\frac16", True),
    ("Hence, there are 20 ways in total.", "20", True),
    ("The final answer is 20 ways.", "20", True),
    ("\\boxed{20 \\text{ ways}}", "20", True),
    ("\\boxed{4 \\text{ and } 5}", "4,5", True),
    ("\\boxed{4} \\text{ and } \\boxed{5}", "\\{4,5\\}", True),
    ("\\boxed{\\frac{1}{2}, \\frac{1}{3}}", "\\frac13, \\frac12", True),
    ("\\boxed{t = 2 \\text{ s}}", "2", True),
    ("\\boxed{2\\text{ s}}", "2", True),
    ("\\boxed{v = 5 \\text{ m/s}}", "5", True),
    ("\\boxed{5 \\text{ m/s}}", "5", True),
    ("\\boxed{9.8 \\, \\text{m/s}^2}", "9.8", True),
    ("\\boxed{100^\\circ \\text{C}}", "100", True),
    ("\\boxed{60\\text{ km/h}}", "60", True),
    ("\\boxed{x=3 \\text{ and } y=4}", "(3,4)", True),
    ("4,50 €", "4.5", True),
    ("Le prix est de 4,50 €.", "4.5", True),
    ("\\boxed{1.234,56}", "1234.56", True),
    ("\\boxed{12~345}", "12345", True),
    ("\\boxed{12\\ 345}", "12345", True),
    ("\\boxed{6}", "S_{\\triangle ABC} = 6", True),
    ("\\boxed{S_{\\triangle ABC}=6}", "6", True),
    ("\\boxed{\\{x \\mid x > 2\\}}", "(2, \\infty)", True),
    ("\\boxed{\\{x : x > 2\\}}", "(2, \\infty)", True),
    ("\\boxed{\\{x \\mid x \\geq 2\\}}", "(2, \\infty)", False),
    ("\\boxed{\\frac{2}{3} (\\approx 0.67)}", "\\frac23", True),
    ("\\boxed{40 \\mathrm{~cm}}", "40", True),
    ("\\boxed{40\\,\\mathrm{cm}^{2}}", "40", True),
    ("\\boxed{3.50 USD}", "3.5", True),
    ("\\boxed{\\text{(A) } 1}", "A", True),
    ("\\boxed{x=1}, \\boxed{y=2}", "(1,2)", True),
    ("\\boxed{5}\\%", "5\\%", True),
    ("The answer is $50\\%$.", "0.5", True),
    ("The answer is 50%.", "50", True),
    ("\\boxed{\\frac{1}{2}\\text{ or }50\\%}", "0.5", False),
    ("\\boxed{8\\sqrt{2}\\text{ cm}}", "8\\sqrt2", True),
    ("\\boxed{12\\pi \\text{ cm}^2}", "12\\pi", True),
    ("\\boxed{\\frac{5}{2}\\text{ hours}}", "2.5", True),
    ("\\boxed{2\\sqrt{3}\\ \\text{units}}", "2\\sqrt3", True),
    ("\\boxed{(1,2)}\\text{ and }\\boxed{(3,4)}", "(1,2),(3,4)", True),
    ("\\boxed{-1 < x < 3}", "(-1,3)", True),
    ("\\boxed{x \\in (-1, 3)}", "-1<x<3", True),
    ("\\boxed{1 < x \\leq 3}", "(1,3]", True),
    ("\\boxed{a_n = 3^{n-1}}", "3^{n-1}", True),
    ("\\boxed{3^{n-1}}", "a_n=3^{n-1}", True),
    ("\\boxed{a_n = 2n+1}", "a_n=2n-1", False),
    ("\\boxed{f(x)=x^2-2x}", "x^2-2x", True),
    ("\\boxed{f^{-1}(x) = \\sqrt{x}}", "\\sqrt{x}", True),
    ("\\boxed{T_n = \\frac{n}{2n+1}}", "\\frac{n}{2n+1}", True),
    ("\\boxed{\\overrightarrow{AB} = (1, 2)}", "(1,2)", True),
    ("\\boxed{\\sin \\theta = \\frac{3}{5}}", "\\frac35", True),
    ("\\boxed{\\tan\\alpha=2}", "2", True),
    ("\\boxed{\\cos A = \\frac{1}{2}}", "\\frac12", True),
]


GENERATORS: dict[str, Callable[[random.Random], list[Item]]] = {
    "decimal_comma": decimal_comma,
    "thousands": thousands,
    "multi_box": multi_box,
    "hedge": hedge,
    "labelled_gold": labelled_gold,
    "solution_set": solution_set,
    "inequality": inequality,
    "approximation": approximation,
    "units": units,
    "long_trace": long_trace,
    "gold_format": gold_format,
}


def build(seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    for category, generator in GENERATORS.items():
        for item in generator(rng):
            for label, forms in ((True, item.same), (False, item.different)):
                for form in forms:
                    if item.wrap:
                        template = rng.choice(item.styles or _DEFAULT_STYLES)
                        prediction = STYLES[template](form, rng)
                    else:
                        template, prediction = "whole", form
                    rows.append(
                        {
                            "category": category,
                            "gold": item.gold,
                            "prediction": prediction,
                            "label": label,
                            "form": form,
                            "template": template,
                        }
                    )
    for prediction, gold, label in HAND_WRITTEN:
        rows.append(
            {
                "category": "hand_written",
                "gold": gold,
                "prediction": prediction,
                "label": label,
                "form": prediction,
                "template": "whole",
            }
        )
    for i, row in enumerate(rows):
        row["id"] = i
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rows = build(args.seed)
    with args.out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    positives = sum(r["label"] for r in rows)
    print(f"wrote {len(rows)} pairs ({positives} positive) to {args.out}")


if __name__ == "__main__":
    main()
