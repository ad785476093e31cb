"""String normalisation of an extracted math answer (LaTeX or plain text).

What is removed or rewritten, and why it is safe:

- math delimiters, ``\\left``/``\\right``, spacing commands (``\\,``, ``\\quad``, ``~``), and
  ``\\displaystyle``: layout only;
- ``\\dfrac``/``\\tfrac``/``\\cfrac`` -> ``\\frac``; unicode ``−×÷·π∞√≤≥≠°`` -> LaTeX;
- thousands separators (``1,000``, ``1{,}000``, ``1\\,000``) when the answer is one number;
- degrees (``30^\\circ``, ``30°``, ``30 degrees``): a degree mark is dropped, so
  ``30^\\circ`` equals ``30`` (it does not equal ``\\pi/6``); inside a trigonometric
  function it means what it says: ``\\sin 30^\\circ`` is sin(pi/6);
- percent (``50\\%``, ``50 percent``): dropped and remembered in ``percent``; the comparison
  then accepts either the number or the number / 100, as math-verify does;
- units and currency after/before a numeric answer (``5 cm``, ``5\\text{ cm}^2``, ``\\$5``,
  ``12 dollars``);
- text wrappers (``\\text{...}``, ``\\mathrm{...}``, ``\\textbf{...}``) are unwrapped;
- a whole answer that is a number word up to twenty (``"two"``) becomes the number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

UNIT_WORDS = frozenset(
    """
    cm cms m meter meters metre metres km kms mm inch inches in ft feet foot yd yard yards
    centimeter centimeters centimetre centimetres millimeter millimeters kilometer kilometers
    kilogram kilograms milliliter milliliters millilitre millilitres mps kmph rpm
    mile miles mi kg kgs g gram grams mg lb lbs pound pounds oz ounce ounces ton tons
    s sec secs second seconds min mins minute minutes h hr hrs hour hours day days week weeks
    month months year years yr yrs dollar dollars cent cents usd euro euros rupee rupees rs
    unit units sq square cubic degree degrees deg mph kmh kph l ml liter liters litre litres
    gallon gallons cup cups people persons students apples marbles cookies times ways
    """.split()
)

_UNICODE = str.maketrans(
    {
        "\u2212": "-",
        "\u2013": "-",
        "\u00d7": "\\times ",
        "\u22c5": "\\cdot ",
        "\u00b7": "\\cdot ",
        "\u00f7": "\\div ",
        "\u03c0": "\\pi ",
        "\u221e": "\\infty ",
        "\u221a": "\\sqrt",
        "\u2264": "\\le ",
        "\u2265": "\\ge ",
        "\u2260": "\\ne ",
        "\u00b0": "^\\circ",
        "\u222a": "\\cup ",
        "\u2229": "\\cap ",
        "\u2205": "\\emptyset ",
        "\u211d": "\\mathbb{R}",
        "\u00bd": "\\frac{1}{2}",
        "\u2153": "\\frac{1}{3}",
        "\u00bc": "\\frac{1}{4}",
        "\u00be": "\\frac{3}{4}",
        "\u00a0": " ",
        "\u2009": " ",
    }
)

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPERSCRIPT_RE = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_SUBSCRIPT_RE = re.compile("[₀₁₂₃₄₅₆₇₈₉]+")
_LEFT_RIGHT_RE = re.compile(r"\\(?:left|right)\s*\.|\\(?:left|right|[bB]igg?[lr]?)(?![A-Za-z])")
_NEG_SPACE_RE = re.compile(r"(?<!\\)\\!")
_SPACING_RE = re.compile(
    r"(?<!\\)\\(?:[,;: ]|quad|qquad|displaystyle|textstyle|scriptstyle|limits|nolimits)(?![A-Za-z])|~"
)
_DIGIT_THIN_SPACE_RE = re.compile(r"(?<=\d)(?:\\,|\{,\}|\\ |\\;)(?=\d{3}(?!\d))")
_FRAC_VARIANT_RE = re.compile(r"\\[dtc]frac(?![A-Za-z])")
_BINOM_VARIANT_RE = re.compile(r"\\[dt]binom(?![A-Za-z])")
_DEGREE_RE = re.compile(
    r"\^\s*\{?\s*\\circ\s*\}?|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}|\\degree(?![A-Za-z])"
)
_TRIG_RE = re.compile(r"\\?(?:arc)?(?:sin|cos|tan|sec|csc|cot)(?![a-z])")
_PERCENT_RE = re.compile(
    r"\s*(?:\\?%|\\text\{\s*\\?%\s*\}|\\text\{\s*percent\s*\}|\bpercent\b|\bpct\b)\s*$"
)
_DOLLAR_RE = re.compile(r"\\\$|\$")
_CURRENCY_PREFIX_RE = re.compile(r"^(?:\\text\{\s*(?:USD|Rs\.?)\s*\}|USD|Rs\.?|€|£|¥|₹)\s*")
_TEXT_WRAP_RE = re.compile(
    r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mathsf|mbox|boldsymbol|bm)"
    r"\s*\{([^{}]*)\}"
)
_OPERATORNAME_RE = re.compile(r"\\operatorname\s*\{([A-Za-z]+)\}")
_TRAILING_TEXT_UNIT_RE = re.compile(
    r"^(?P<head>.*?[\d}).|\\pi\s])\s*\\(?:text|mathrm|mbox|textnormal)\s*\{\s*[A-Za-z][A-Za-z ./]*(?:\^\d)?\s*\}"
    r"(?:\s*\^\s*\{?\s*[23]\s*\}?)?\s*$"
)
_TRAILING_WORD_RE = re.compile(
    r"^(?P<head>.*?[\d}).])(?P<space>\s*)(?P<word>[A-Za-z]+(?:/[A-Za-z]+)?(?:\s+[A-Za-z]+(?:/[A-Za-z]+)?)?)\.?"
    r"(?:\s*\^\s*\{?\s*[23]\s*\}?)?\s*$"
)
_CURRENCY_SUFFIX_RE = re.compile(r"\s*(?:€|£|¥|₹|\\euro(?![A-Za-z]))\s*$")
_APPROX_NOTE_RE = re.compile(r"\s*\(\s*(?:\\approx|\\simeq|≈|approx\.?|approximately)[^()]*\)\s*$")
_EUROPEAN_RE = re.compile(r"^-?[1-9]\d{0,2}(?:\.\d{3})+,\d+$")
_REPEATING_RE = re.compile(r"(\d*)\.(\d{0,12})\\(?:overline|bar|dot)\s*\{(\d{1,12})\}")
_THOUSANDS_RE = re.compile(r"^-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")
# LaTeX thousands "12,\! 345": the comma stays, the negative space and blanks go.
_LATEX_THOUSANDS_RE = re.compile(r"(?<=\d),\s*\\!\s*(?=\d{3}(?!\d))")
# "{,}" before anything but a group of three digits is a decimal comma: 3{,}75.
_BRACED_COMMA_RE = re.compile(r"(?<=\d)\{,\}(?=\d)")
_SPACED_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$")
_WS_RE = re.compile(r"\s+")
_NUMBER_WORDS = {
    word: str(i)
    for i, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}


@dataclass(frozen=True)
class NormalizedAnswer:
    """An answer string in canonical form.

    Attributes:
        text: the normalised LaTeX/plain text.
        percent: whether a percent sign was dropped.
    """

    text: str
    percent: bool = False


def _strip_units(s: str) -> str:
    for _ in range(3):
        match = _TRAILING_TEXT_UNIT_RE.match(s)
        if match:
            s = match.group("head").strip()
            continue
        match = _TRAILING_WORD_RE.match(s)
        word = match.group("word") if match else ""
        # "2m" may be 2 times m: a one-letter unit needs a space before it.
        if (
            match
            and (len(word) > 1 or match.group("space"))
            and all(w.lower() in UNIT_WORDS for w in re.split(r"[\s/]+", word))
        ):
            s = match.group("head").strip()
            continue
        break
    return s


def _repeating_fraction(match: re.Match[str]) -> str:
    """``0.1\\overline{6}`` -> ``\\frac{1}{6}``: a repeating decimal is an exact value."""
    whole, fixed, period = match.group(1) or "0", match.group(2), match.group(3)
    value = Fraction(int(whole + fixed), 10 ** len(fixed)) + Fraction(
        int(period), (10 ** len(period) - 1) * 10 ** len(fixed)
    )
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def normalize_answer(answer: str) -> NormalizedAnswer:
    """Normalise an extracted answer; see the module docstring for what changes."""
    s = _SUPERSCRIPT_RE.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPTS) + "}", answer)
    s = _SUBSCRIPT_RE.sub(lambda m: "_{" + m.group(0).translate(_SUBSCRIPTS) + "}", s)
    # Full-width digits and letters, ligatures: NFKC (after the symbols above kept meaning).
    s = unicodedata.normalize("NFKC", s.translate(_UNICODE))
    # Whitespace runs collapse first: every pattern below then scans in linear time.
    s = _WS_RE.sub(" ", s).strip()
    s = _REPEATING_RE.sub(_repeating_fraction, s)
    s = _LATEX_THOUSANDS_RE.sub(",", s)
    s = _DIGIT_THIN_SPACE_RE.sub("", s)
    s = _BRACED_COMMA_RE.sub(",", s)
    s = _LEFT_RIGHT_RE.sub("", s)
    s = _NEG_SPACE_RE.sub("", s)  # 16,\!386 is 16,386
    s = _WS_RE.sub(" ", _SPACING_RE.sub(" ", s))
    s = _FRAC_VARIANT_RE.sub(r"\\frac", s)
    s = _BINOM_VARIANT_RE.sub(r"\\binom", s)
    s = _OPERATORNAME_RE.sub(r"\\\1", s)
    s = _DOLLAR_RE.sub("", s)
    s = s.replace("\\\\%", "\\%")
    s = _CURRENCY_PREFIX_RE.sub("", s.strip())
    s = _CURRENCY_SUFFIX_RE.sub("", s)
    s = _APPROX_NOTE_RE.sub("", s)  # "\\frac23 (\\approx 0.67)": the note is not the answer
    if not _TRIG_RE.search(s):  # inside sin/cos/tan the parser turns degrees into radians
        s = _DEGREE_RE.sub("", s)
    else:
        s = _DEGREE_RE.sub(lambda _: "^\\circ", s)
    percent = False
    match = _PERCENT_RE.search(s)
    if match:
        percent = True
        s = s[: match.start()]
    s = _strip_units(s.strip())
    s = re.sub(r"\s*\\?(?:degrees?|deg)\s*$", "", s)
    for _ in range(3):
        unwrapped = _TEXT_WRAP_RE.sub(r"\1", s)
        if unwrapped == s:
            break
        s = unwrapped
    s = _strip_units(s.strip())
    s = _WS_RE.sub(" ", s).strip()
    while s.endswith((".", ",", ";")) and not s.endswith("\\."):
        s = s[:-1].rstrip()
    word = _NUMBER_WORDS.get(s.lower())
    if word is not None:  # "two" -> 2 (the whole answer only)
        s = word
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    elif _SPACED_THOUSANDS_RE.match(s):
        s = s.replace(" ", "")
    elif _EUROPEAN_RE.match(s):  # 1.234,56
        s = s.replace(".", "").replace(",", ".")
    return NormalizedAnswer(text=s, percent=percent)
