"""Labels in answers: the ``PQ`` of ``PQ = 6``, the ``(a, b)`` of ``(a,b) = (5,1)``.

Golds and predictions often name what they give: ``x = 2``, ``|PQ| = 2``, ``V_1:V_2 = 3:8``,
``\\frac{AM}{MB} = \\frac{2}{\\sqrt5}``, ``f(2) = 7``. A *label* is a left-hand side that only
names a quantity: letters (Latin or Greek commands), subscripts, primes, a function applied
to plain arguments (``f(2)``, ``g(x)``), ``|...|``, ``\\overline{...}``, ``\\angle``; or a
tuple, ratio or quotient of labels. It holds no operator (``+``, ``-``, ``^``) and no number
outside a subscript or an argument list, so ``x + y = 1`` and ``2x = 4`` are equations, not
labelled values.

When one side of a comparison is labelled and the other is not, the label is dropped and
the values are compared. When both are labelled, the labels must agree (after the
canonical form below); see :mod:`.math_answer` for how labelled lists are ordered.
"""

from __future__ import annotations

import re

_DECORATION_RE = re.compile(
    r"\\(?:overline|overrightarrow|vec|widehat|hat|bar|mathrm|text|mathit|operatorname)\s*\{([^{}]*)\}"
)
_PREFIX_RE = re.compile(r"^(?:m\s*)?\\(?:angle|measuredangle|triangle)\s*|^\\#")
_ATOM_RE = re.compile(
    r"^(?:[A-Za-z]+|\\[A-Za-z]+)(?:'+|_\{[^{}=]+\}|_[A-Za-z0-9])*"
    r"(?:\([A-Za-z0-9,]*\))?(?:'+)?$"
)
_FRAC_RE = re.compile(r"^\\frac\{([^{}]+)\}\{([^{}]+)\}$")
_NOT_NAMES = frozenset(
    """
    sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh ln log exp sqrt frac pi
    infty cdot times div pm mp le leq ge geq lt gt ne neq approx in cup cap emptyset binom
    left right boxed sum prod int lim
    """.split()
)
_MAX_LABEL = 60


def canonical_label(text: str) -> str:
    """The comparable form of a label: no spaces, bars, decorations or ``\\left``."""
    s = re.sub(r"\s+|\\left|\\right|\\[,;!]", "", text)
    for _ in range(3):
        s = _DECORATION_RE.sub(r"\1", s)
    s = s.replace("|", "").replace("\\lvert", "").replace("\\rvert", "")
    frac = _FRAC_RE.match(s)
    if frac:  # \frac{AM}{MB}, AM/MB and AM:MB name the same ratio
        s = f"{frac.group(1)}:{frac.group(2)}"
    return s.replace("/", ":")


def is_label(text: str, depth: int = 0) -> bool:
    """Whether ``text`` (a left-hand side) only names a quantity; see the module docstring."""
    s = re.sub(r"\s+|\\left|\\right|\\[,;!]", "", text)
    if not s or len(s) > _MAX_LABEL or depth > 3:
        return False
    s = _PREFIX_RE.sub("", s)
    for _ in range(3):
        s = _DECORATION_RE.sub(r"\1", s)
    if len(s) >= 2 and s[0] == "|" and s[-1] == "|":
        s = s[1:-1]
    if s.startswith("(") and s.endswith(")") and "," in s:
        parts = s[1:-1].split(",")
        return len(parts) >= 2 and all(is_label(p, depth + 1) for p in parts)
    frac = _FRAC_RE.match(s)
    if frac:
        return is_label(frac.group(1), depth + 1) and is_label(frac.group(2), depth + 1)
    for sep in (":", "/"):
        if sep in s:
            parts = s.split(sep)
            return len(parts) >= 2 and all(is_label(p, depth + 1) for p in parts)
    if not _ATOM_RE.match(s):
        return False
    names = re.findall(r"\\([A-Za-z]+)", s)
    return not any(name in _NOT_NAMES for name in names)


def tuple_label_parts(label: str) -> list[str] | None:
    """``"(a,b)"`` -> ``["a", "b"]``; None when the label is not a tuple of labels."""
    s = canonical_label(label)
    if s.startswith("(") and s.endswith(")") and "," in s:
        return s[1:-1].split(",")
    return None
