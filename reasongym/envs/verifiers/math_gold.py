"""Gold-side readings: the forms a human-written gold answer accepts.

Golds in competition data sets are written by people, often as a sentence. Each rule below
reads *the gold alone* and yields further forms of the same answer; a prediction is right
when it equals one of them (:func:`gold_forms`). Nothing here looks at the prediction, so a
prediction cannot gain from these rules: it still has to state one of the gold's own forms,
and a prediction that offers several forms is still a hedge unless every one is right
(:func:`equivalent_parts`).

1. *Equivalent forms*: ``X, or equivalently Y`` / ``X, or an equivalent form such as Y`` /
   ``X (equivalently Y)`` gives ``X`` and ``Y``.
2. *Gloss*: a trailing parenthetical in words, ``100 (i.e., all values)``, ``0 (none of the
   values)``, is dropped: ``100``, ``0``. A parenthetical with math only (``(1, 4)``) is not a
   gloss and stays.
3. *Value sentences* (affirmative only; a sentence with a negation word gives nothing):
   ``N is the only possible value`` -> ``N``; ``The only possible value for the limit is X``,
   ``The limit exists and is equal to X``, ``... with a period of X`` -> ``X``; ``At least N
   numbers`` / ``At most N values`` (answers to "at least/most how many") -> ``N``.
4. *Plain-text function notation* is also written in LaTeX: ``C(n, 4)`` / ``binom(n, 4)`` /
   ``comb(n, 4)`` -> ``\\binom{n}{4}`` (``C(...)`` only with a variable among its arguments:
   ``C(2, 3)`` may be a point), ``floor(x)`` / ``ceil(x)`` -> ``\\lfloor x \\rfloor``,
   ``sum_(i=1)^n`` -> ``\\sum_{i=1}^{n}``.
5. *Statements* that read as no value (``The limit does not exist``, ``x(n)>y(n-1) for all
   n≥2``) are matched by normalised text equality with the gold itself (:func:`text_key`).
"""

from __future__ import annotations

import re
import unicodedata

from reasongym.envs.verifiers.math_extract import clean_answer, is_bare_answer

_MAX_GOLD = 2_000
_MAX_FORMS = 8

_WHITESPACE_RE = re.compile(r"\s+")
_EQUIVALENT_HINT_RE = re.compile(r"equivalent|other\s+words", re.IGNORECASE)
_EQUIVALENT_RE = re.compile(
    r"\s?(?:,\s?|;\s?|\(\s?)?(?:or\s)?(?:equivalently|in\s+other\s+words"
    r"|an?\s+equivalent\s+(?:form|expression|answer)(?:\s(?:such\s+as|like|is))?)\s?[:,]?\s?",
    re.IGNORECASE,
)
_GLOSS_START_RE = re.compile(r"^\(\s*(?:i\.\s*e\.|e\.\s*g\.|that\s+is|namely)", re.IGNORECASE)
_PROSE_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|none|neither|nor|cannot|can't|isn't|doesn't|don't|impossible)\b",
    re.IGNORECASE,
)
_VALUE_SENTENCE_RES = (
    re.compile(r"^(?P<v>.+?)\s+is\s+the\s+only\s+(?:possible\s+)?(?:value|answer|solution)\b"),
    re.compile(r"^the\s+only\s+(?:possible\s+)?(?:value|answer|solution)\b[^=]*?\bis\s+(?P<v>.+)$"),
    re.compile(r"\b(?:is|are)\s+(?:equal\s+to|equals?)\s+(?P<v>.+)$"),
    re.compile(r"\bequals\s+(?P<v>.+)$"),
    re.compile(r"\bwith\s+an?\s+[a-z]+\s+of\s+(?P<v>.+)$"),
    re.compile(r"^at\s+(?:least|most)\s+(?P<v>-?\d+(?:\.\d+)?)(?:\s+[a-z][a-z-]*){0,3}$"),
)
_CLAUSE_WORD_RE = re.compile(
    r"\b(?:is|are|was|were|be|if|but|when|for|with|of|the|then|so)\b", re.IGNORECASE
)
_FUNCTION_RES = (
    (re.compile(r"(?<![A-Za-z\\])(?:binom|comb)\(([^(),]+),([^(),]+)\)"), r"\\binom{\1}{\2}"),
    (
        re.compile(r"(?<![A-Za-z\\])floor\(([^()]*(?:\([^()]*\)[^()]*)*)\)"),
        r"{\\lfloor \1 \\rfloor}",
    ),
    (re.compile(r"(?<![A-Za-z\\])ceil\(([^()]*(?:\([^()]*\)[^()]*)*)\)"), r"{\\lceil \1 \\rceil}"),
    (
        re.compile(r"(?<![A-Za-z\\])sum_\(([^()]*)\)\^(\w+|\([^()]*\)|\{[^{}]*\})"),
        r"\\sum_{\1}^{\2}",
    ),
)
# C(n, 4): a binomial only when an argument holds a variable (C(2, 3) may be a point).
_CHOOSE_RE = re.compile(r"(?<![A-Za-z\\])C\(([^(),]+),([^(),]+)\)")


def gold_forms(gold: str, extracted: str) -> tuple[str, ...]:
    """Every form the gold accepts, ``extracted`` (the gold's extracted answer) first.

    Args:
        gold: the gold as written.
        extracted: what :func:`~.math_extract.extract_gold` found in it.

    Returns:
        Distinct non-empty forms, at most a few (rules 1-4 of the module docstring).
    """
    forms: list[str] = []

    def add(form: str) -> None:
        form = clean_answer(form)
        if form and form not in forms and len(forms) < _MAX_FORMS:
            forms.append(form)

    # Whitespace collapsed first: every pattern below then runs in linear time.
    text = _WHITESPACE_RE.sub(" ", gold[:_MAX_GOLD]).strip() if isinstance(gold, str) else ""
    parts = _equivalent_split(text)
    if len(parts) == 1 or len(_equivalent_split(extracted)) == 1:
        add(extracted)  # "X, or equivalently Y" as a whole is not one of its forms
        add(_latex_functions(extracted))
    for part in parts:
        readings = _readings(part)
        # A gold of one part is already read by its extraction: only what a rule derived
        # from it is another form (the raw "\\boxed{5}" or "The answer is $5$." is not).
        for reading in readings if len(parts) > 1 else readings[1:]:
            add(reading)
            add(_latex_functions(reading))
    return tuple(forms) if forms else (extracted,)


def equivalent_parts(answer: str) -> list[str]:
    """The forms a prediction offers (``X, or equivalently Y`` -> ``[X, Y]``; else ``[X]``).

    Every part must be right for the prediction to be right: offering a second form can
    only lose.
    """
    if len(answer) > _MAX_GOLD or not _EQUIVALENT_HINT_RE.search(answer):
        return [answer]
    parts = _equivalent_split(_WHITESPACE_RE.sub(" ", answer))
    return parts if len(parts) > 1 else [answer]


def text_key(text: str) -> str:
    """Normalised text for statement equality: NFKC, ``\\text{}`` and ``$`` unwrapped,
    case and whitespace folded, trailing punctuation dropped."""
    s = unicodedata.normalize("NFKC", text)[:_MAX_GOLD]
    s = re.sub(r"\\(?:text|mathrm|textbf|mbox|textrm)\s*\{([^{}]*)\}", r"\1", s)
    s = s.replace("$", "").replace("≥", "\\ge").replace("≤", "\\le")
    s = re.sub(r"\\geq?(?![A-Za-z])", ">=", s)
    s = re.sub(r"\\leq?(?![A-Za-z])", "<=", s)
    s = re.sub(r"\s+", "", s.casefold())
    return s.rstrip(".!;,")


def _equivalent_split(text: str) -> list[str]:
    if not _EQUIVALENT_HINT_RE.search(text):
        return [text]
    pieces = [p.strip() for p in _EQUIVALENT_RE.split(text) if p and p.strip()]
    if len(pieces) < 2:
        return [text]
    # "X (equivalently Y)": the closing parenthesis belongs to the phrase.
    return [
        p[:-1].strip() if p.endswith(")") and p.count("(") < p.count(")") else p for p in pieces
    ]


def _readings(part: str) -> list[str]:
    """The part itself, without a trailing gloss, and the value a value sentence states."""
    readings = [part]
    bare = _drop_gloss(part)
    if bare != part:
        readings.append(bare)
    for sentence in list(readings):
        value = _stated_value(sentence)
        if value is not None:
            readings.append(value)
    return readings


def _drop_gloss(text: str) -> str:
    """``X (i.e., words)`` / ``X (words)`` -> ``X``: a trailing parenthetical in prose."""
    s = text.rstrip().rstrip(".")
    if not s.endswith(")"):
        return text
    depth = 0
    for i in range(len(s) - 1, -1, -1):
        if s[i] == ")":
            depth += 1
        elif s[i] == "(":
            depth -= 1
            if depth == 0:
                head, gloss = s[:i].rstrip(), s[i:]
                if not head or head.endswith((",", "=")):
                    return text
                prose = _GLOSS_START_RE.match(gloss) or len(_PROSE_WORD_RE.findall(gloss)) >= 2
                return head if prose else text
    return text


def _stated_value(sentence: str) -> str | None:
    s = clean_answer(sentence)
    if _NEGATION_RE.search(s):
        return None
    for pattern in _VALUE_SENTENCE_RES:
        match = pattern.search(s.lower())
        if match is None:
            continue
        value = clean_answer(s[match.start("v") : match.end("v")])
        if _CLAUSE_WORD_RE.search(value):  # "with a margin of 5, is 20": not one value
            continue
        if value and is_bare_answer(value) and re.search(r"[\d\\(]|^[A-Za-z]$", value):
            return value
    return None


def _latex_functions(text: str) -> str:
    s = text
    for pattern, replacement in _FUNCTION_RES:
        s = pattern.sub(replacement, s)

    def choose(match: re.Match[str]) -> str:
        n, k = match.group(1).strip(), match.group(2).strip()
        if re.search(r"[A-Za-z]", n + k):
            return f"\\binom{{{n}}}{{{k}}}"
        return match.group(0)

    return _CHOOSE_RE.sub(choose, s)
