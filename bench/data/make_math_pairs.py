"""Generate bench/data/math_pairs.jsonl: labelled (prediction, gold, label) pairs for math verifiers.

Labels come from construction, not from any verifier: for every gold answer the script
writes forms it *knows* are equivalent (the same value re-expressed: reordered, rescaled,
converted between fraction/decimal/percent, re-typeset) and perturbations it *knows* differ
(wrong sign, swapped coordinates, open vs closed ends, 0.333 for 1/3, a missing factor, ...).
Each form is wrapped in a model-style output (boxed, "The final answer is $...$",
"Answer: ...", ``<answer>`` tags, inline math, or bare).

Usage::

    python bench/data/make_math_pairs.py            # writes bench/data/math_pairs.jsonl
    python bench/data/make_math_pairs.py --seed 7 --out /tmp/pairs.jsonl

Each line: ``{"id", "category", "gold", "prediction", "label", "form"}`` where ``form`` is the
bare answer that was wrapped (for reading failures).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

DEFAULT_OUT = Path(__file__).with_name("math_pairs.jsonl")
ITEMS_PER_CATEGORY = 19  # x 6 pairs (3 positive, 3 negative) = 114 per category


@dataclass
class Item:
    """One gold answer with forms known to be equal and forms known to differ."""

    gold: str
    same: list[str]
    different: list[str]


# -- model-style wrappers -------------------------------------------------------------------

_FILLER = [
    "Let's set up the problem carefully. There are {a} groups of {b} items each, "
    "so we first compute {a} \\cdot {b} = {ab}.",
    "We start by writing the equation in standard form. Subtracting {a} from both sides and "
    "dividing by {b} simplifies things.",
    "First, note that the constraint gives $x + {a} = {ab}$, hence $x = {c}$ for the "
    "auxiliary variable.",
    "Using the formula from the previous step with $n = {a}$ and $k = {b}$, we substitute "
    "and simplify.",
    "Consider the cases separately. In case 1 we get {a}; in case 2 we get {b}, and "
    "combining them carefully yields the result.",
    "To solve this, we simplify the expression step by step, keeping track of signs.",
]


def _reasoning(rng: random.Random) -> str:
    a, b = rng.randint(2, 19), rng.randint(2, 19)
    parts = rng.sample(_FILLER, k=rng.randint(1, 2))
    return " ".join(p.format(a=a, b=b, ab=a * b, c=a * b - a) for p in parts)


def _is_plain(form: str) -> bool:
    return not any(ch in form for ch in "\\^_{}")


def wrap(form: str, rng: random.Random) -> tuple[str, str]:
    """Wrap a bare answer in a model-style output; returns (prediction, template name)."""
    r = _reasoning(rng)
    template = rng.choices(
        ["boxed", "boxed_display", "final_answer", "answer_colon", "inline", "answer_tag", "bare"],
        weights=[35, 20, 15, 10, 8, 6, 6],
    )[0]
    if template == "boxed":
        return f"{r} Therefore, the answer is $\\boxed{{{form}}}$.", template
    if template == "boxed_display":
        return f"{r}\n\n**Final Answer**\n\\[\n\\boxed{{{form}}}\n\\]", template
    if template == "final_answer":
        return f"{r}\n\nThe final answer is ${form}$. I hope it is correct.", template
    if template == "answer_colon":
        shown = form if _is_plain(form) and rng.random() < 0.5 else f"${form}$"
        return f"{r}\n\nAnswer: {shown}", template
    if template == "inline":
        return f"{r} Putting everything together, we obtain \\({form}\\).", template
    if template == "answer_tag":
        return f"{r}\n<answer>{form}</answer>", template
    return form, template


# -- helpers --------------------------------------------------------------------------------


def tex_frac(q: Fraction, style: str = "frac") -> str:
    """LaTeX for a rational: ``\\frac{3}{4}``, ``-\\frac{3}{4}``, ``\\dfrac34``, ``3/4``."""
    if q.denominator == 1:
        return str(q.numerator)
    sign = "-" if q < 0 else ""
    n, d = abs(q.numerator), q.denominator
    if style == "dfrac":
        return f"{sign}\\dfrac{{{n}}}{{{d}}}"
    if style == "slash":
        return f"{sign}{n}/{d}"
    if style == "short" and n < 10 and d < 10:
        return f"{sign}\\frac{n}{d}"
    return f"{sign}\\frac{{{n}}}{{{d}}}"


def decimal_exact(q: Fraction) -> str | None:
    """The terminating decimal of q, or None."""
    d = q.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return None
    places = max(twos, fives)
    text = f"{float(q):.{places}f}" if places else str(q.numerator)
    return text


def rounded(x: float, sig: int) -> str:
    """x rounded to ``sig`` significant digits, as plain decimal text."""
    if x == 0:
        return "0"
    places = max(sig - 1 - int(math.floor(math.log10(abs(x)))), 0)
    return f"{x:.{places}f}"


def with_thousands(n: int) -> str:
    return f"{n:,}"


def poly_tex(coeffs: list[int], var: str = "x") -> str:
    """Polynomial from coefficients, highest degree first: [1, -2, 1] -> x^2-2x+1."""
    terms: list[str] = []
    degree = len(coeffs) - 1
    for i, c in enumerate(coeffs):
        power = degree - i
        if c == 0:
            continue
        mag = abs(c)
        if power == 0:
            body = str(mag)
        else:
            coef = "" if mag == 1 else str(mag)
            body = f"{coef}{var}" + (f"^{power}" if power > 1 else "")
        sign = "-" if c < 0 else "+"
        terms.append(("-" if sign == "-" else "") + body if not terms else f" {sign} {body}")
    return "".join(terms) if terms else "0"


def poly_mul(a: list[int], b: list[int]) -> list[int]:
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def lin(a: int, b: int, var: str = "x") -> str:
    """a*var + b as TeX (a != 0)."""
    return poly_tex([a, b], var)


# -- categories -----------------------------------------------------------------------------


def cat_integer(rng: random.Random) -> Item:
    n = rng.choice(
        [rng.randint(2, 99), rng.randint(100, 999), rng.randint(1000, 99999), -rng.randint(1, 99)]
    )
    same = [str(n), f"{n}.0", f"{n}.00" if abs(n) < 1000 else with_thousands(n)]
    if abs(n) >= 1000:
        same.append(with_thousands(n))
    same.append(f"\\text{{{n}}}" if n > 0 else f"-{abs(n)}")
    digits = str(abs(n))
    swapped = digits[::-1]
    different = [str(n + 1), str(n - 1), str(-n), str(n * 10)]
    if swapped != digits and not swapped.startswith("0"):
        different.append(("-" if n < 0 else "") + swapped)
    return Item(str(n), same, different)


def cat_decimal(rng: random.Random) -> Item:
    q = Fraction(rng.randint(1, 399), rng.choice([2, 4, 5, 8, 20, 25]))
    if q.denominator == 1:
        q += Fraction(1, 4)
    text = decimal_exact(q)
    assert text is not None
    same = [text, text + "0", tex_frac(q), tex_frac(q, "slash"), tex_frac(q, "dfrac")]
    if q > 1:
        whole = q.numerator // q.denominator
        rest = q - whole
        same.append(f"{whole}\\frac{{{rest.numerator}}}{{{rest.denominator}}}")
    different = [
        decimal_exact(q + Fraction(1, 100)) or "",
        decimal_exact(q * 10) or "",
        "-" + text,
        decimal_exact(q + 1) or "",
        tex_frac(1 / q),
    ]
    if len(text.replace(".", "").lstrip("0")) >= 2:
        parts = text.split(".")
        if len(parts[1]) >= 2 and parts[1][0] != parts[1][1]:
            swapped = parts[0] + "." + parts[1][1] + parts[1][0] + parts[1][2:]
            different.append(swapped)
    return Item(
        text,
        same,
        [
            d
            for d in different
            if d and Fraction(d.replace("\\frac{", "").replace("}{", "/").replace("}", "")) != q
        ],
    )


def cat_fraction(rng: random.Random) -> Item:
    while True:
        d = rng.choice([3, 6, 7, 9, 11, 12, 13, 15])
        n = rng.randint(1, 4 * d)
        q = Fraction(n, d) * rng.choice([1, 1, 1, -1])
        if q.denominator > 1:
            break
    k = rng.randint(2, 5)
    scaled = f"{'-' if q < 0 else ''}\\frac{{{abs(q.numerator) * k}}}{{{q.denominator * k}}}"
    seven_sig = rounded(float(q), 7)
    same = [tex_frac(q), tex_frac(q, "dfrac"), tex_frac(q, "slash"), scaled, seven_sig]
    if q.denominator < 10 and abs(q.numerator) < 10:
        same.append(tex_frac(q, "short"))
    different = [
        tex_frac(-q),
        tex_frac(q + Fraction(1, q.denominator)),
        tex_frac(Fraction(q.numerator, q.denominator + 1)),
    ]
    for sig in (3, 2):  # 0.333 for 1/3: too coarse (unless the rounding happens to be exact)
        approx = rounded(float(q), sig)
        if Fraction(approx) != q:
            different.append(approx)
    if abs(q.numerator) != 1:
        different.append(tex_frac(1 / q))
    return Item(tex_frac(q), same, different)


def cat_percent(rng: random.Random) -> Item:
    p = rng.choice([5, 10, 12, 15, 20, 25, 30, 35, 40, 45, 60, 64, 75, 80, 90, 12.5, 37.5, 2.5])
    q = Fraction(str(p)) / 100
    p_text = str(p)
    gold_percent = rng.random() < 0.7
    gold = f"{p_text}\\%" if gold_percent else (decimal_exact(q) or "")
    same = [f"{p_text}\\%", f"{p_text}%", f"{p_text} percent", decimal_exact(q) or "", tex_frac(q)]
    if gold_percent:
        same.append(p_text)  # "25" for "25%": both verifiers read a percent as its number too
    other = Fraction(str(p)) + 5
    different = [
        f"{decimal_exact(other) or other}\\%",
        decimal_exact(q / 10) or "",
        f"{decimal_exact(Fraction(str(p)) / 10)}\\%",
        decimal_exact(1 - q) or "",
    ]
    return Item(gold, [s for s in same if s], [d for d in different if d])


_SQUAREFREE = [2, 3, 5, 6, 7, 10, 11, 13, 14, 15]


def cat_radical(rng: random.Random) -> Item:
    a = rng.randint(2, 9)
    b = rng.choice(_SQUAREFREE)
    value = a * math.sqrt(b)
    if rng.random() < 0.3:  # rationalised fraction: sqrt(b)/b vs 1/sqrt(b)
        gold = f"\\frac{{\\sqrt{{{b}}}}}{{{b}}}"
        same = [
            f"\\frac{{1}}{{\\sqrt{{{b}}}}}",
            f"\\frac{{\\sqrt {b}}}{{{b}}}" if b < 10 else f"\\frac{{1}}{{{b}}}\\sqrt{{{b}}}",
            f"\\sqrt{{\\frac{{1}}{{{b}}}}}",
            rounded(1 / math.sqrt(b), 8),
        ]
        different = [
            f"\\sqrt{{{b}}}",
            f"\\frac{{\\sqrt{{{b}}}}}{{{b + 1}}}",
            f"\\frac{{{b}}}{{\\sqrt{{{b + 1}}}}}",
            rounded(1 / math.sqrt(b), 3),
        ]
        return Item(gold, same, different)
    gold = f"{a}\\sqrt{{{b}}}"
    same = [
        f"\\sqrt{{{a * a * b}}}",
        f"{a}\\sqrt{b}" if b < 10 else f"{a} \\sqrt{{{b}}}",
        f"\\sqrt{{{b}}} \\cdot {a}",
        f"{a} \\times \\sqrt{{{b}}}",
        rounded(value, 8),
    ]
    different = [
        f"{a + 1}\\sqrt{{{b}}}",
        f"{a}\\sqrt{{{b + 1}}}" if b + 1 not in (4, 9, 16) else f"{a}\\sqrt{{{b + 2}}}",
        f"\\sqrt{{{a * b}}}",
        f"-{a}\\sqrt{{{b}}}",
        rounded(value, 3),
        f"{a * b}",
    ]
    return Item(gold, same, different)


def cat_pi_e(rng: random.Random) -> Item:
    if rng.random() < 0.75:
        k, m = rng.randint(1, 7), rng.choice([2, 3, 4, 6, 8, 12])
        q = Fraction(k, m)
        value = float(q) * math.pi
        num = "" if q.numerator == 1 else str(q.numerator)
        gold = (
            f"\\frac{{{num}\\pi}}{{{q.denominator}}}" if q.denominator > 1 else f"{q.numerator}\\pi"
        )
        same = [
            f"{tex_frac(q)}\\pi" if q.denominator > 1 else f"\\pi \\cdot {q.numerator}",
            f"{num}\\pi/{q.denominator}" if q.denominator > 1 else f"{q.numerator} \\pi",
            f"\\pi \\cdot {tex_frac(q)}" if q.denominator > 1 else f"{q.numerator}\\cdot\\pi",
            rounded(value, 8),
        ]
        different = [
            tex_frac(q) if q.denominator > 1 else str(q.numerator),  # the pi went missing
            f"\\frac{{{q.numerator + 1}\\pi}}{{{q.denominator}}}",
            f"\\frac{{{q.numerator}\\pi}}{{{q.denominator + 1}}}",
            rounded(value, 3),
            f"-{gold}",
        ]
        return Item(gold, same, different)
    k = rng.randint(2, 5)
    gold = f"e^{{{k}}}"
    same = [f"e^{k}", f"\\exp({k})", f"e^{{{k - 1}}} \\cdot e", rounded(math.e**k, 9)]
    different = [f"e^{{{k + 1}}}", f"{k}e", f"e^{{-{k}}}", rounded(math.e**k, 3)]
    return Item(gold, same, different)


def cat_degrees(rng: random.Random) -> Item:
    d = rng.choice([15, 30, 36, 45, 60, 72, 75, 90, 105, 120, 135, 150, 210, 270])
    gold = f"{d}^\\circ" if rng.random() < 0.6 else str(d)
    same = [f"{d}^\\circ", f"{d}^{{\\circ}}", f"{d}°", f"{d} degrees", str(d), f"{d}\\degree"]
    different = [
        f"{180 - d}^\\circ" if 180 - d != d else f"{d + 10}^\\circ",
        f"{d + 15}^\\circ",
        f"{2 * d}",
        f"{d // 3 if d % 3 == 0 else d + 1}^\\circ",
    ]
    return Item(gold, same, different)


_UNITS = [
    ("cm", "\\text{ cm}"),
    ("meters", "\\text{ meters}"),
    ("dollars", "\\text{ dollars}"),
    ("square units", "\\text{ square units}"),
    ("km", "\\text{ km}"),
    ("minutes", "\\text{ minutes}"),
    ("inches", "\\text{ inches}"),
]


def cat_units(rng: random.Random) -> Item:
    n = rng.choice([rng.randint(2, 500), Fraction(rng.randint(1, 99), 4)])
    q = Fraction(n)
    text = decimal_exact(q) or str(q)
    word, tex = rng.choice(_UNITS)
    gold = (
        rng.choice([text, f"{text}{tex}"])
        if word != "dollars"
        else rng.choice([text, f"\\${text}"])
    )
    same = [f"{text} {word}", f"{text}{tex}", text]
    if word == "dollars":
        same.append(f"\\${text}")
    if word == "cm":
        same.append(f"{text}\\text{{ cm}}^2")
    different = [
        f"{decimal_exact(q + 1) or q + 1} {word}",
        f"{decimal_exact(q * 10) or q * 10}{tex}",
        f"{decimal_exact(q / 2) or q / 2} {word}",
        f"\\${decimal_exact(q + 5) or q + 5}",
    ]
    return Item(gold, same, different)


def cat_complex(rng: random.Random) -> Item:
    a = rng.choice([i for i in range(-9, 10) if i != 0])
    b = rng.choice([i for i in range(-9, 10) if i not in (0, a, -a)])

    def cx(re_: int, im: int, unit: str = "i", order: str = "ri") -> str:
        mag = "" if abs(im) == 1 else str(abs(im))
        if order == "ri":
            return f"{re_} {'+' if im > 0 else '-'} {mag}{unit}"
        lead = ("-" if im < 0 else "") + f"{mag}{unit}"
        return f"{lead} {'+' if re_ > 0 else '-'} {abs(re_)}"

    gold = cx(a, b)
    same = [
        cx(a, b).replace(" ", ""),
        cx(a, b, order="ir"),
        f"{a} {'+' if b > 0 else '-'} {abs(b)}\\cdot i",
    ]
    same.append(cx(a, b, unit="j") if rng.random() < 0.5 else f"{a}+({b})i")
    dropped_i = f"{a} {'+' if b > 0 else '-'} {abs(b)}"  # the i went missing
    different = [
        cx(a, -b),
        cx(b, a),
        cx(-a, b),
        cx(a, b + 1) if b + 1 != 0 else cx(a, b + 2),
        dropped_i,
    ]
    return Item(gold, same, different)


def _endpoint(rng: random.Random) -> Fraction:
    return Fraction(rng.randint(-9, 9), rng.choice([1, 1, 1, 2, 3]))


def cat_interval(rng: random.Random) -> Item:
    lo = _endpoint(rng)
    hi = lo + rng.randint(1, 8)
    kind = rng.choice(["()", "(]", "[)", "[]", "inf_right", "inf_left"])
    lo_t, hi_t = tex_frac(lo), tex_frac(hi)
    if kind == "inf_right":
        closed = rng.random() < 0.5
        br, other_br = ("[", "(") if closed else ("(", "[")
        rel, other_rel = ("\\ge", ">") if closed else (">", "\\ge")
        gold = f"{br}{lo_t}, \\infty)"
        same = [
            gold.replace(" ", ""),
            f"\\left{br} {lo_t}, \\infty \\right)",
            f"x {rel} {lo_t}",
            f"{br}{tex_frac(lo, 'dfrac')}, +\\infty)",
        ]
        complement_end = ")" if closed else "]"
        different = [
            f"{other_br}{lo_t}, \\infty)",
            f"(-\\infty, {lo_t}{complement_end}",
            f"{br}{tex_frac(lo + 1)}, \\infty)",
            f"x {other_rel} {lo_t}",
        ]
        return Item(gold, same, different)
    if kind == "inf_left":
        closed = rng.random() < 0.5
        end, other_end = ("]", ")") if closed else (")", "]")
        rel = "\\le" if closed else "<"
        gold = f"(-\\infty, {hi_t}{end}"
        mirrored = -hi if hi != 0 else Fraction(2)
        same = [gold.replace(" ", ""), f"\\left(-\\infty, {hi_t}\\right{end}", f"x {rel} {hi_t}"]
        different = [
            f"(-\\infty, {hi_t}{other_end}",
            f"({hi_t}, \\infty)",
            f"(-\\infty, {tex_frac(hi - 1)}{end}",
            f"(-\\infty, {tex_frac(mirrored)}{end}",
        ]
        return Item(gold, same, different)
    left, right = kind
    gold = f"{left}{lo_t}, {hi_t}{right}"
    same = [f"{left}{lo_t},{hi_t}{right}", f"\\left{left} {lo_t} , {hi_t} \\right{right}"]
    dec_lo, dec_hi = decimal_exact(lo), decimal_exact(hi)
    if dec_lo and dec_hi:
        same.append(f"{left}{dec_lo}, {dec_hi}{right}")
    else:
        same.append(f"{left}{tex_frac(lo, 'dfrac')}, {tex_frac(hi, 'dfrac')}{right}")
    flip = {"(": "[", "[": "(", ")": "]", "]": ")"}
    different = [
        f"{flip[left]}{lo_t}, {hi_t}{right}",
        f"{left}{lo_t}, {hi_t}{flip[right]}",
        f"{flip[left]}{lo_t}, {hi_t}{flip[right]}",
        f"{left}{lo_t}, {tex_frac(hi + 1)}{right}",
        f"{left}{tex_frac(-hi)}, {tex_frac(-lo)}{right}"
        if lo != -hi
        else f"{left}{tex_frac(lo - 1)}, {hi_t}{right}",
    ]
    return Item(gold, same, different)


def cat_set(rng: random.Random) -> Item:
    size = rng.randint(2, 4)
    values = rng.sample(
        [Fraction(v) for v in range(-9, 13)] + [Fraction(1, 2), Fraction(-3, 2), Fraction(2, 3)],
        size,
    )
    texts = [tex_frac(v) for v in values]
    gold = "\\{" + ", ".join(texts) + "\\}"
    perm = texts[:]
    while perm == texts:
        rng.shuffle(perm)
    same = [
        "\\{" + ", ".join(perm) + "\\}",
        ", ".join(perm),
        "\\{" + ",".join(texts) + "\\}",
        "\\left\\{" + ", ".join(perm[::-1]) + "\\right\\}",
    ]
    missing = texts[:-1]
    extra_value = max(values) + 1
    changed = texts[:-1] + [
        tex_frac(values[-1] + 1) if values[-1] + 1 not in values else tex_frac(extra_value)
    ]
    negated = (
        texts[:-1] + [tex_frac(-values[-1])]
        if -values[-1] not in values
        else texts[:-1] + [tex_frac(extra_value + 1)]
    )
    different = [
        "\\{" + ", ".join(missing) + "\\}",
        "\\{" + ", ".join(texts + [tex_frac(extra_value)]) + "\\}",
        "\\{" + ", ".join(changed) + "\\}",
        "\\{" + ", ".join(negated) + "\\}",
    ]
    return Item(gold, same, different)


def cat_tuple(rng: random.Random) -> Item:
    x = Fraction(rng.randint(-9, 9), rng.choice([1, 1, 2]))
    y = Fraction(rng.randint(-9, 9), rng.choice([1, 1, 3]))
    while y == x or y == -x:
        y += 1
    three = rng.random() < 0.3
    z = Fraction(rng.randint(-5, 5)) if three else None
    items = [x, y] + ([z] if z is not None else [])
    texts = [tex_frac(v) for v in items]
    gold = "(" + ", ".join(texts) + ")"
    same = [
        "(" + ",".join(texts) + ")",
        "\\left(" + ", ".join(texts) + "\\right)",
        "(" + ", ".join(tex_frac(v, "dfrac") for v in items) + ")",
    ]
    decs = [decimal_exact(v) for v in items]
    if all(decs):
        same.append("(" + ", ".join(d for d in decs if d) + ")")
    swapped = [texts[1], texts[0]] + texts[2:]
    different = [
        "(" + ", ".join(swapped) + ")",
        "(" + ", ".join([tex_frac(-x)] + texts[1:]) + ")"
        if x != 0
        else "(" + ", ".join(["1"] + texts[1:]) + ")",
        "(" + ", ".join([texts[0], tex_frac(y + 1)] + texts[2:]) + ")",
        "(" + ", ".join(texts[:-1]) + ")" if three else "(" + ", ".join(texts + ["0"]) + ")",
    ]
    return Item(gold, same, different)


def _matrix(rows: list[list[Fraction]], env: str = "pmatrix", style: str = "frac") -> str:
    body = " \\\\ ".join(" & ".join(tex_frac(v, style) for v in row) for row in rows)
    return f"\\begin{{{env}}} {body} \\end{{{env}}}"


def cat_matrix(rng: random.Random) -> Item:
    shape = rng.choice([(2, 2), (2, 2), (2, 1), (3, 3), (2, 3)])
    rows = [
        [Fraction(rng.randint(-9, 9), rng.choice([1, 1, 1, 2])) for _ in range(shape[1])]
        for _ in range(shape[0])
    ]
    if shape[0] == shape[1]:
        while all(rows[i][j] == rows[j][i] for i in range(shape[0]) for j in range(shape[1])):
            rows[0][1] += 1
    gold = _matrix(rows)
    same = [_matrix(rows, "bmatrix"), _matrix(rows, "pmatrix", "dfrac"), gold.replace(" ", "")]
    changed = [r[:] for r in rows]
    changed[-1][-1] += 1
    negated = [r[:] for r in rows]
    negated[0][0] = -negated[0][0] if negated[0][0] != 0 else Fraction(1)
    different = [_matrix(changed), _matrix(negated, "bmatrix")]
    if shape[0] == shape[1]:
        different.append(_matrix([list(c) for c in zip(*rows, strict=True)]))
    else:
        different.append(
            _matrix([r[::-1] for r in rows])
            if any(r != r[::-1] for r in rows)
            else _matrix(changed, "bmatrix")
        )
    different.append(
        _matrix([[v * 2 for v in r] for r in rows])
        if any(v != 0 for r in rows for v in r)
        else _matrix(changed, "bmatrix")
    )
    return Item(gold, same, different)


def cat_equation(rng: random.Random) -> Item:
    kind = rng.choice(["line", "value", "general"])
    if kind == "value":
        v = rng.choice([i for i in range(-12, 13) if i != 0])
        var = rng.choice(["x", "n", "k", "t"])
        gold = f"{var} = {v}"
        same = [str(v), f"{var}={v}", f"{v} = {var}" if rng.random() < 0.3 else f"{var} = {v}.0"]
        different = [str(-v), f"{var} = {v + 1}", f"{var} = {-v}", f"{v + 1}"]
        return Item(gold, same, different)
    a = rng.choice([i for i in range(-5, 6) if i not in (0,)])
    b = rng.choice([i for i in range(-9, 10) if i != 0])
    if kind == "line":
        gold = f"y = {lin(a, b)}"
        same = [
            lin(a, b),
            f"y={poly_tex([a, b]).replace(' ', '')}",
            f"y = {b} {'+' if a > 0 else '-'} {'' if abs(a) == 1 else abs(a)}x",
        ]
        different = [
            f"y = {lin(a, -b)}",
            f"y = {lin(-a, b)}",
            lin(a, b + 1),
            f"y = {lin(b, a)}" if a != b else f"y = {lin(a + 1, b)}",
        ]
        return Item(gold, same, different)
    c = rng.choice([i for i in range(-9, 10) if i != 0])
    gold = f"{lin(a, 0)} + y = {c}".replace("+ -", "- ")
    same = [
        f"y = {lin(-a, c)}",
        f"{lin(2 * a, 0)} + 2y = {2 * c}".replace("+ -", "- "),
        f"y + {lin(a, -c)} = 0".replace("+ -", "- "),
    ]
    different = [
        f"y = {lin(a, c)}",
        f"y = {lin(-a, c + 1)}",
        f"{lin(a, 0)} + y = {-c}".replace("+ -", "- "),
        f"{lin(a, 0)} - y = {c}",
    ]
    return Item(gold, same, different)


def cat_expression(rng: random.Random) -> Item:
    r1 = rng.choice([i for i in range(-6, 7) if i != 0])
    r2 = rng.choice([i for i in range(-6, 7) if i != 0])
    lead = rng.choice([1, 1, 2, 3, -1])
    var = rng.choice(["x", "x", "t", "a"])
    f1, f2 = [1, -r1], [1, -r2]
    expanded = [lead * c for c in poly_mul(f1, f2)]

    def factor(r: int) -> str:
        return f"({var} {'-' if r > 0 else '+'} {abs(r)})"

    lead_t = "" if lead == 1 else ("-" if lead == -1 else str(lead))
    factored = f"{lead_t}{factor(r1)}{factor(r2)}" if r1 != r2 else f"{lead_t}{factor(r1)}^2"
    gold = rng.choice([factored, poly_tex(expanded, var)])
    other = poly_tex(expanded, var) if gold == factored else factored
    reversed_terms = " + ".join(
        f"{c}{var}^{2 - i}" if 2 - i > 1 else (f"{c}{var}" if 2 - i == 1 else f"{c}")
        for i, c in enumerate(expanded)
        if c != 0
    )[::1]
    reordered = " + ".join(reversed(reversed_terms.split(" + "))).replace("+ -", "- ")
    same = [
        other,
        reordered,
        f"{lead_t}{factor(r2)}{factor(r1)}" if r1 != r2 else f"{lead_t}{factor(r1)}{factor(r1)}",
    ]
    wrong_const = expanded[:]
    wrong_const[-1] += 1
    wrong_mid = expanded[:]
    wrong_mid[1] = -wrong_mid[1] if wrong_mid[1] != 0 else 1
    different = [
        poly_tex(wrong_const, var),
        poly_tex(wrong_mid, var),
        f"{lead_t}{factor(-r1)}{factor(r2)}",
        poly_tex([2 * c for c in expanded], var)
        if lead != 2
        else poly_tex(expanded[:-1] + [0], var),
    ]
    return Item(gold, same, different)


def cat_choice(rng: random.Random) -> Item:
    letter = rng.choice("ABCDE")
    gold = rng.choice([letter, f"({letter})", f"\\text{{({letter})}}"])
    same = [
        letter,
        f"({letter})",
        f"\\text{{({letter})}}",
        f"\\textbf{{({letter})}}",
        f"{letter}) {rng.randint(2, 50)}",
    ]
    others = [c for c in "ABCDE" if c != letter]
    different = [o for o in rng.sample(others, 3)] + [f"({rng.choice(others)})"]
    return Item(gold, same, different)


def cat_inequality(rng: random.Random) -> Item:
    c = rng.randint(-9, 9)
    op = rng.choice([">", "<", "\\ge", "\\le"])
    flip = {">": "<", "<": ">", "\\ge": "\\le", "\\le": "\\ge"}
    strict_swap = {">": "\\ge", "\\ge": ">", "<": "\\le", "\\le": "<"}
    gold = f"x {op} {c}"
    interval = {
        ">": f"({c}, \\infty)",
        "\\ge": f"[{c}, \\infty)",
        "<": f"(-\\infty, {c})",
        "\\le": f"(-\\infty, {c}]",
    }[op]
    long = {"\\ge": "\\geq", "\\le": "\\leq", ">": ">", "<": "<"}[op]
    same = [
        f"{c} {flip[op]} x",
        f"x{long}{c}",
        interval,
        f"{c + 1} + x {op} {2 * c + 1}".replace("+ -", "- "),
    ]
    different = [
        f"x {flip[op]} {c}",
        f"x {strict_swap[op]} {c}",
        f"x {op} {c + 1}",
        f"x {op} {-c}" if c != 0 else f"x {op} 1",
    ]
    return Item(gold, same, different)


# Hand-written forms: powers, factorials, binomials, logs, trig values, scientific notation,
# nested fractions, rational functions, several variables. (gold, equal forms, different forms)
_MISC: list[tuple[str, list[str], list[str]]] = [
    ("1024", ["2^{10}", "1,024", "1024.0", "4^5"], ["2^{11}", "1023", "10^{24}", "512"]),
    ("3628800", ["10!", "3,628,800", "10 \\cdot 9!"], ["9!", "3628801", "11!", "362880"]),
    (
        "10",
        ["\\binom{5}{2}", "\\dbinom{5}{2}", "\\frac{5!}{2!3!}"],
        ["\\binom{6}{2}", "20", "5", "\\binom{5}{1}"],
    ),
    (
        "3",
        ["\\log_2 8", "\\log_{2}{8}", "\\frac{\\ln 8}{\\ln 2}"],
        ["\\log_3 8", "8", "\\log_2 16", "\\ln 8"],
    ),
    (
        "\\frac{1}{2}",
        ["\\sin\\frac{\\pi}{6}", "\\cos(\\pi/3)", "\\sin 30^\\circ", "\\cos 60^{\\circ}"],
        ["\\frac{\\sqrt{3}}{2}", "\\sin\\frac{\\pi}{3}", "-\\frac12", "\\cos 30^\\circ"],
    ),
    (
        "\\frac{1+\\sqrt{5}}{2}",
        ["\\frac{\\sqrt5+1}{2}", "(1+\\sqrt{5})/2", "\\frac12 + \\frac{\\sqrt5}{2}", "1.6180340"],
        ["\\frac{1-\\sqrt{5}}{2}", "\\frac{1+\\sqrt{3}}{2}", "1+\\sqrt5", "1.618"],
    ),
    (
        "300000",
        ["3 \\times 10^{5}", "3\\cdot 10^5", "300,000", "3 \\times 10^5"],
        ["3 \\times 10^{6}", "30000", "3 \\times 10^{-5}", "3^{5}"],
    ),
    (
        "0.0015",
        ["1.5 \\times 10^{-3}", "\\frac{3}{2000}", "15 \\times 10^{-4}"],
        ["1.5 \\times 10^{-2}", "0.015", "1.5 \\times 10^{3}", "0.0016"],
    ),
    (
        "\\frac{\\sqrt{2}}{2}",
        [
            "\\frac{1}{\\sqrt{2}}",
            "\\sin 45^\\circ",
            "\\cos\\frac{\\pi}{4}",
            "2^{-1/2}",
            "0.70710678",
        ],
        ["\\sqrt{2}", "\\frac{\\sqrt{3}}{2}", "0.707", "\\frac{1}{2}"],
    ),
    (
        "-\\frac{1}{8}",
        ["-0.125", "\\frac{-1}{8}", "\\frac{1}{-8}", "-2^{-3}"],
        ["\\frac{1}{8}", "-8", "-\\frac{1}{6}", "(-2)^{3}"],
    ),
    (
        "\\frac{3}{2}",
        ["\\frac{\\frac{3}{4}}{\\frac{1}{2}}", "1\\frac{1}{2}", "1.5", "\\frac{6}{4}"],
        ["\\frac{2}{3}", "\\frac{3}{8}", "1\\frac{1}{3}", "15"],
    ),
    (
        "4\\sqrt{3}",
        ["\\sqrt{48}", "\\frac{12}{\\sqrt3}", "2\\sqrt{12}"],
        ["3\\sqrt{4}", "\\sqrt{12}", "4\\sqrt{2}", "\\sqrt{43}"],
    ),
    (
        "8",
        ["\\sqrt[3]{512}", "512^{1/3}", "2^3", "\\sqrt{64}"],
        ["\\sqrt[3]{500}", "-8", "\\sqrt{8}", "2^4"],
    ),
    (
        "2\\pi r",
        ["2r\\pi", "\\pi r \\cdot 2", "\\pi \\cdot 2r", "2 \\pi r"],
        ["\\pi r^2", "2r", "4\\pi r", "\\pi r"],
    ),
    (
        "\\frac{x+1}{x-1}",
        ["\\frac{1+x}{x-1}", "(x+1)/(x-1)", "1 + \\frac{2}{x-1}", "\\frac{-x-1}{1-x}"],
        ["\\frac{x-1}{x+1}", "\\frac{x+1}{1-x}", "1 + \\frac{1}{x-1}", "\\frac{x+2}{x-1}"],
    ),
    ("-1", ["e^{i\\pi}", "i^2", "\\cos\\pi", "-1.0"], ["1", "i", "-i", "e^{\\pi}"]),
    (
        "5",
        ["|-5|", "\\sqrt{25}", "\\left|-5\\right|", "\\frac{10}{2}"],
        ["-5", "25", "\\sqrt{5}", "|-6|"],
    ),
    (
        "\\ln 2",
        ["\\log_e 2", "\\ln(2)", "-\\ln\\frac{1}{2}", "0.69314718"],
        ["\\log 2", "\\ln 3", "2", "0.693"],
    ),
    (
        "a^2 - b^2",
        ["(a-b)(a+b)", "(a+b)(a-b)", "-b^2 + a^2"],
        ["(a-b)^2", "a^2 + b^2", "b^2 - a^2", "(a-b)(a-b)"],
    ),
    (
        "\\frac{\\pi}{4}",
        ["\\arctan 1", "\\tan^{-1}(1)", "0.78539816", "\\frac{1}{4}\\pi"],
        ["\\frac{\\pi}{2}", "\\arctan 2", "\\frac{\\pi}{3}", "0.785"],
    ),
    (
        "12",
        ["\\lfloor 12.7 \\rfloor", "\\lceil 11.2 \\rceil", "3 \\cdot 4", "\\frac{144}{12}"],
        ["13", "\\lceil 12.7 \\rceil", "\\lfloor 11.9 \\rfloor", "1.2"],
    ),
    (
        "2 + \\sqrt{3}",
        ["\\sqrt3 + 2", "\\frac{1}{2 - \\sqrt{3}}", "\\sqrt{7 + 4\\sqrt{3}}", "3.7320508"],
        ["2 - \\sqrt{3}", "2\\sqrt{3}", "\\sqrt{5}", "3.73"],
    ),
    (
        "x^3 - 1",
        ["(x-1)(x^2+x+1)", "-1 + x^3", "x^{3}-1"],
        ["(x-1)^3", "x^3 + 1", "(x+1)(x^2-x+1)", "x^2 - 1"],
    ),
    (
        "\\frac{2}{3}",
        ["\\frac{2}{3}", "0.6666667", "\\frac{4}{6}", "2/3"],
        ["0.67", "0.666", "\\frac{3}{2}", "\\frac{2}{5}"],
    ),
]


def make_misc(rng: random.Random, index: int) -> Item:
    gold, same, different = _MISC[index % len(_MISC)]
    return Item(gold, same, different)


def _multi_answer_pairs(rng: random.Random) -> list[tuple[str, str, bool, str]]:
    """Several boxed values that together form the answer (roots of an equation)."""
    a, b = rng.sample([*range(-9, 0), *range(1, 10)], 2)
    c = max(abs(a), abs(b)) + rng.randint(1, 4)
    gold = rng.choice([f"{a}, {b}", f"\\{{{a}, {b}\\}}", f"{b}, {a}"])
    pos = [
        f"The roots are $\\boxed{{{a}}}$ and $\\boxed{{{b}}}$.",
        f"Hence $x = \\boxed{{{b}}}$ or $x = \\boxed{{{a}}}$.",
        f"Factoring, the solutions are $\\boxed{{{a}, {b}}}$.",
        f"Both values check out, so $x \\in \\boxed{{\\{{{b}, {a}\\}}}}$.",
        f"Therefore $\\boxed{{x = {a} \\text{{ or }} x = {b}}}$.",
    ]
    neg = [
        f"The only valid root is $\\boxed{{{a}}}$.",
        f"The roots are $\\boxed{{{a}}}$ and $\\boxed{{{c}}}$.",
        f"So the solutions are $\\boxed{{{a}, {b}, {c}}}$.",
        f"Trying $x = \\boxed{{{b}}}$ fails the check, so the answer is $\\boxed{{{a}}}$.",
        f"Thus $\\boxed{{{-a}, {-b}}}$." if -a != b else f"Thus $\\boxed{{{a}, {c}}}$.",
    ]
    out = [(p, gold, True, "multi_answer") for p in rng.sample(pos, 3)]
    out += [(p, gold, False, "multi_answer") for p in rng.sample(neg, 3)]
    return out


def _extraction_pair(rng: random.Random) -> list[tuple[str, str, bool, str]]:
    """Free-text outputs whose final answer must be found among distractor numbers."""
    n = rng.randint(2, 500)
    m = n + rng.choice([-7, -3, -1, 1, 2, 5, 11])
    gold = str(n)
    pos = [
        f"Adding the {rng.randint(3, 9)} parts gives {n - 1} + 1, so the total is {n}.",
        f"We find that $x = {n}$.",
        f"Initially $\\boxed{{{m}}}$ looked right, but fixing the sign error gives $\\boxed{{{n}}}$.",
        f"**Answer:** {n}",
        f"<answer>\nThe total number of ways is {n}.\n</answer>",
        f"After simplifying, we get {m} - {m - n} = {n}",
        f"So the final answer is: {n}",
        f"The answer is {n} apples.",
    ]
    neg = [
        f"I first guessed {n}, but after rechecking, the answer is $\\boxed{{{m}}}$.",
        f"Step 1 gives {n}. Continuing, the final answer is ${m}$.",
        f"<answer>{m}</answer>",
        f"The previous estimate of {n} was wrong; the correct count is {m}.",
        "I am not able to finish this computation.",
        f"We get $y = {n}$ and therefore $x = {m}$.",
    ]
    out = [(p, gold, True, "extraction") for p in rng.sample(pos, 3)]
    out += [(p, gold, False, "extraction") for p in rng.sample(neg, 3)]
    return out


CATEGORIES: dict[str, Callable[[random.Random], Item]] = {
    "integer": cat_integer,
    "decimal": cat_decimal,
    "fraction": cat_fraction,
    "percent": cat_percent,
    "radical": cat_radical,
    "pi_e": cat_pi_e,
    "degrees": cat_degrees,
    "units": cat_units,
    "complex": cat_complex,
    "interval": cat_interval,
    "set": cat_set,
    "tuple": cat_tuple,
    "matrix": cat_matrix,
    "equation": cat_equation,
    "expression": cat_expression,
    "choice": cat_choice,
    "inequality": cat_inequality,
}


def make_pairs(seed: int, items_per_category: int = ITEMS_PER_CATEGORY) -> list[dict[str, object]]:
    """All pairs, deterministic for a given seed."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for category, make in CATEGORIES.items():
        for _ in range(items_per_category):
            item = make(rng)
            same = list(dict.fromkeys(item.same))
            different = [
                d for d in dict.fromkeys(item.different) if d not in same and d != item.gold
            ]
            for form, label in [(f, True) for f in rng.sample(same, min(3, len(same)))] + [
                (f, False) for f in rng.sample(different, min(3, len(different)))
            ]:
                prediction, template = wrap(form, rng)
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
    for index in rng.sample(range(len(_MISC)), k=min(items_per_category, len(_MISC))):
        item = make_misc(rng, index)
        for form, label in [(f, True) for f in rng.sample(item.same, min(3, len(item.same)))] + [
            (f, False) for f in rng.sample(item.different, min(3, len(item.different)))
        ]:
            prediction, template = wrap(form, rng)
            rows.append(
                {
                    "category": "misc",
                    "gold": item.gold,
                    "prediction": prediction,
                    "label": label,
                    "form": form,
                    "template": template,
                }
            )
    for _ in range(items_per_category):
        for prediction, gold, label, category in _multi_answer_pairs(rng) + _extraction_pair(rng):
            rows.append(
                {
                    "category": category,
                    "gold": gold,
                    "prediction": prediction,
                    "label": label,
                    "form": "",
                    "template": "free_text",
                }
            )
    for i, row in enumerate(rows):
        row["id"] = i
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--items", type=int, default=ITEMS_PER_CATEGORY, help="items per category")
    args = parser.parse_args()
    rows = make_pairs(args.seed, args.items)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    positives = sum(1 for r in rows if r["label"])
    print(f"wrote {len(rows)} pairs ({positives} positive) to {args.out}")


if __name__ == "__main__":
    main()
