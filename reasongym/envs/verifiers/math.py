"""Math answer verifier: extract the final answer, decide equivalence with the gold, fast.

Usage::

    from reasongym.envs.verifiers.math import verify_math, extract_answer

    verdict = verify_math("... so the answer is \\\\boxed{\\\\frac{3}{4}}.", "0.75")
    verdict.correct, verdict.details["method"]  # True, "numeric"

Pipeline (each step in its own module):

1. :mod:`.math_extract` finds the answer in free text (boxed, ``<answer>``, "the answer is",
   bare answers, the last ``=``, the last number); the gold goes through the same, gentler,
   extraction, and :mod:`.math_gold` reads a human-written gold into the forms it accepts
   (``X, or equivalently Y``; ``100 (i.e., all values)``; ``N is the only possible value``;
   ``C(n, 4)``, ``floor(x)``, ``sum_(i=1)^n``); a statement gold ("The limit does not
   exist") is matched by normalised text equality with the gold itself.
2. :mod:`.math_normalize` canonicalises the string (units, degrees, percent, thousands, ...).
3. :mod:`.math_answer` reads it into a structure (number/expression, set, tuple, interval,
   matrix, equation, label, ratio, choice, text) with the parser of :mod:`.math_expr`;
   :mod:`.math_compare` decides equivalence between structures and :mod:`.math_numeric`
   between numbers and expressions, with exact rationals and floats carrying error bounds
   (:mod:`.math_eval`). Most pairs end here, in tens of microseconds, without sympy.
4. Only when step 3 cannot read or decide an answer does :mod:`.math_sympy` try
   latex2sympy2_extended + sympy, bounded in time.

Guarantees: ``verify_math`` never raises and returns within about ``timeout_s`` (see
:mod:`.math_sympy` for how, in the main thread and in other threads). When it cannot decide in
time, or an exact value would be astronomically large (``9^{9^{9^9}}``, ``(10^8)!``), it
returns ``Verdict(correct=False, score=0.0, details={"method": "timeout", ...})``. One
exception: the first call in a process that needs the slow path also imports sympy (~0.5 s,
outside the budget); :func:`~.math_sympy.warm_up` does that import up front. It is thread
safe; parsed answers are cached (golds recur across samples).

Soundness: numeric tolerance comes from the gold only (relative 1e-10 of an exact gold's
value, 1e-6 of a gold written with decimals, none for a zero gold), and floats count only
when their forward error bounds (:mod:`.math_eval`) fit inside it; an ill-conditioned
comparison (``x + 10^{300} - 10^{300}``, ``\\sin(10^{300})``) is undecided, goes to the
exact/symbolic slow path (``evalf(strict=True)`` or a symbolic zero), and is otherwise not
equal.

The rules for real-world answers, in full in docs/math_verifier.md:

- *one answer*: boxes separated only by separators, "and"/"or", hedging words or variable
  labels form one answer (``\\boxed{3}\\boxed{7}`` is ``3, 7``); a gold with named parts
  (``a_n = ..., S_n = ...``) is also read against the last k boxes;
- *hedge*: several different values where the gold has one are a list, and a list never equals
  a single value;
- *order*: tuples ordered, sets/lists/solution sets unordered, a gold's distinct labels
  (``PQ=6, RS=9``) give positions, indexed labels (``x_1, x_2``) do not; ratios are equal
  when proportional;
- *labels* (:mod:`.math_labels`) are dropped when only one side has one, and must agree
  when both do;
- ``a \\approx b``: the exact value ``a`` is the answer; inequalities in one quantity (also
  ``|w|``, ``g(x)``) compare as intervals; decimal commas (``3,75``) read as one number when
  the other side is one number; LaTeX thousands separators, percent and unit words are
  dropped (:mod:`.math_normalize`).

The per-kind equivalence rules (decimals vs exact values, percent, intervals, sets vs
tuples, ...) are listed in :mod:`.math_numeric` and :mod:`.math_compare`.

``details["method"]`` is one of: ``"exact"`` (same canonical string or text), ``"numeric"``,
``"symbolic"`` (expressions with variables), ``"set"``, ``"tuple"``, ``"interval"``,
``"matrix"``, ``"equation"``, ``"label"``, ``"ratio"``, ``"choice"``, ``"sympy"`` (slow
path), ``"text"`` (a statement gold said back word for word), ``"timeout"``,
``"no_answer"`` (nothing extracted), ``"undecided"`` (neither path could decide: incorrect),
``"error"`` (an unexpected internal error, reported instead of raised), ``"computation"``
(the gold is a plain number and the answer is an expression still to be evaluated, such as
the question's own ``70 * 12 * 52``: incorrect, with ``details["feedback"]`` saying so; see
:mod:`.math_number_form` and ``require_number_for_numeric_gold``).
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Any

from reasongym.envs.types import Verdict
from reasongym.envs.verifiers.math_answer import (
    Answer,
    DeadlineExceeded,
    Scalar,
    Text,
    Unparsed,
    parse_answer,
)
from reasongym.envs.verifiers.math_compare import compare, labelled_parts
from reasongym.envs.verifiers.math_eval import TooLarge
from reasongym.envs.verifiers.math_extract import (
    clean_answer,
    extract_answer,
    extract_gold,
    find_last_boxed,
    last_answer_tag,
    last_boxes,
)
from reasongym.envs.verifiers.math_gold import equivalent_parts, gold_forms, text_key
from reasongym.envs.verifiers.math_normalize import normalize_answer
from reasongym.envs.verifiers.math_number_form import computation_in
from reasongym.envs.verifiers.math_numeric import CompareContext
from reasongym.envs.verifiers.math_sympy import SympyTimeout, sympy_equal

__all__ = ["verify_math", "extract_answer", "clear_caches"]

# The one comma of such an answer as written, with what normalisation dropped (%, units).
_DECIMAL_MARK_RE = re.compile(r"\{,\}|,")
_DECIMAL_COMMA_RE = re.compile(r"^-?\d+,\d+$")  # thousands were removed by normalisation
_CACHE_SIZE = 8_192
_MAX_ANSWER_CHARS = 10_000  # longer "answers" are garbage; bound the work spent on them
# Decided slow-path results by (gold, prediction); timeouts are not cached.
_SYMPY_CACHE: dict[tuple[str, str], bool] = {}


@lru_cache(maxsize=_CACHE_SIZE)
def _analyse(answer: str) -> tuple[str, Answer]:
    """Normalise and parse one extracted answer (cached: golds recur across samples)."""
    normalized = normalize_answer(answer[:_MAX_ANSWER_CHARS])
    return normalized.text, parse_answer(normalized.text, normalized.percent)


@lru_cache(maxsize=_CACHE_SIZE)
def _gold_answer(gold: str) -> str:
    return extract_gold(gold)


@lru_cache(maxsize=_CACHE_SIZE)
def _gold_forms(gold: str) -> tuple[str, ...]:
    """The gold's forms (:mod:`.math_gold`), those the fast path reads first: a statement
    or a form only sympy reads should not spend the time budget before a readable form."""
    forms = gold_forms(gold, _gold_answer(gold))
    return tuple(sorted(forms, key=lambda form: _is_statement(_analyse(form)[1])))


def _is_statement(parsed: Answer) -> bool:
    return isinstance(parsed, (Text, Unparsed))


def clear_caches() -> None:
    """Forget every parsed answer and slow-path result (for cold-start measurements)."""
    _analyse.cache_clear()
    _gold_answer.cache_clear()
    _gold_forms.cache_clear()
    _SYMPY_CACHE.clear()


def _verdict(correct: bool, method: str, extracted: str | None, gold: str, **extra: Any) -> Verdict:
    details: dict[str, Any] = {"extracted": extracted, "gold": gold, "method": method}
    details.update(extra)
    return Verdict(correct=correct, score=1.0 if correct else 0.0, details=details)


def verify_math(
    prediction: str,
    gold: str,
    *,
    timeout_s: float = 1.0,
    require_number_for_numeric_gold: bool = True,
) -> Verdict:
    """Decide whether a model's output answers a math problem correctly.

    Args:
        prediction: the model's full output (or just its answer).
        gold: the reference answer, LaTeX or plain text (a sentence is fine).
        timeout_s: time budget for the whole call, in seconds.
        require_number_for_numeric_gold: when the gold is made of plain numbers (``43680``,
            ``3/4``, ``x = 7``, ``(2, 3)``), the answer must be written as numbers too: a
            computation of the gold (``70 * 12 * 52``, ``\\frac{84}{12}`` for 7,
            ``\\sqrt{49}``) is wrong, ``details["method"]`` ``"computation"``
            (:mod:`.math_number_form`). False accepts any expression equal to the gold.

    Returns:
        ``Verdict(correct, score in {0.0, 1.0}, details)`` with ``details`` holding
        ``"extracted"`` (the predicted answer, or None), ``"gold"`` (the gold answer
        extracted), ``"method"`` (how it was decided) and, for timeouts/errors, ``"reason"``.
    """
    start = time.perf_counter()
    gold_text = gold if isinstance(gold, str) else ("" if gold is None else str(gold))
    pred_text = (
        prediction
        if isinstance(prediction, str)
        else ("" if prediction is None else str(prediction))
    )
    extracted: str | None = None
    gold_answer = gold_text
    try:
        gold_answer = _gold_answer(gold_text)
        extracted = extract_answer(pred_text)
        deadline = start + max(timeout_s, 0.0)
        verdict: Verdict | None = None
        if extracted is not None:
            strict = bool(require_number_for_numeric_gold)
            verdict = _decide_forms(extracted, _gold_forms(gold_text), deadline, strict)
            if verdict.correct:
                return verdict
            multi = _multi_part(pred_text, extracted, gold_answer, deadline, strict)
            if multi is not None:
                return multi
        if _states_the_gold(pred_text, extracted, gold_text):
            return _verdict(True, "text", extracted, gold_answer)
        return verdict or _verdict(False, "no_answer", None, gold_answer)
    except (TooLarge, DeadlineExceeded, SympyTimeout, RecursionError, MemoryError) as exc:
        return _verdict(
            False, "timeout", extracted, gold_answer, reason=str(exc) or type(exc).__name__
        )
    except Exception as exc:  # noqa: BLE001 - a verifier must never crash the env
        return _verdict(False, "error", extracted, gold_answer, reason=repr(exc)[:300])


_CONNECTIVE_RE = re.compile(
    r"^(?:so|thus|therefore|hence|finally|in\s+conclusion|in\s+summary)\b\s*,?\s*", re.I
)
_LAST_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n")


def _decide_forms(extracted: str, forms: tuple[str, ...], deadline: float, strict: bool) -> Verdict:
    """The prediction against every form of the gold (:mod:`.math_gold`).

    Each form the prediction offers (``X, or equivalently Y``) must equal one of the gold's
    forms; a timeout on one form moves on to the next, and a timeout is "not equal".
    """
    verdict: Verdict | None = None
    timed_out: BaseException | None = None
    for part in equivalent_parts(extracted):
        part_verdict: Verdict | None = None
        for form in forms:
            try:
                candidate = _decide(part, form, deadline, strict)
            except (TooLarge, DeadlineExceeded, SympyTimeout, RecursionError) as exc:
                timed_out = timed_out or exc
                continue
            if candidate.correct:
                part_verdict = candidate
                break
            part_verdict = part_verdict or candidate
        if part_verdict is None or not part_verdict.correct:
            if timed_out is not None:
                reason = str(timed_out) or type(timed_out).__name__
                return _verdict(False, "timeout", extracted, forms[0], reason=reason)
            return part_verdict or _verdict(False, "undecided", extracted, forms[0])
        verdict = part_verdict
    if verdict is None:  # equivalent_parts returns at least one part; never reached
        return _verdict(False, "undecided", extracted, forms[0])
    if verdict.details["extracted"] != extracted:
        return _verdict(True, verdict.details["method"], extracted, forms[0])
    return verdict


def _states_the_gold(pred_text: str, extracted: str | None, gold_text: str) -> bool:
    """A gold statement ("The limit does not exist") said back word for word.

    Only golds (and gold forms) that read as no value are compared as text, and only with
    the prediction's answer spans taken whole: its extracted answer, last ``<answer>``, last
    box, last sentence (a leading "so"/"thus" dropped) or the whole output. Text equality
    with the gold itself can only accept the gold.
    """
    keys = {
        text_key(form)
        for form in (gold_text, *_gold_forms(gold_text))
        if form.strip() and _is_statement(_analyse(form)[1])
    }
    keys.discard("")
    if not keys or not pred_text.strip():
        return False
    tail = pred_text[-_MAX_ANSWER_CHARS:]
    spans = [extracted or "", tail, last_answer_tag(tail) or "", find_last_boxed(tail) or ""]
    sentences = [p for p in _LAST_SENTENCE_RE.split(tail.strip()) if p.strip()]
    if sentences:
        spans.append(_CONNECTIVE_RE.sub("", sentences[-1].strip()))
    return any(text_key(clean_answer(span)) in keys for span in spans if span.strip())


def _multi_part(
    pred_text: str, extracted: str, gold_answer: str, deadline: float, strict: bool
) -> Verdict | None:
    """A gold of k named parts ("a_n = 2n - 1, S_n = n^2") against the last k boxes.

    Multi-part problems are answered one box per part, with prose between the boxes, so the
    last box alone is one part. Only the last k boxes are read, k from the gold alone: a
    single-answer gold still reads one box, and extra boxes cannot hedge.
    """
    _, gold_parsed = _analyse(gold_answer)
    labels = labelled_parts(gold_parsed)
    # Only a gold whose parts are named (a_n = ..., S_n = ...) is read this way: the roots of
    # an equation boxed one by one with prose between them may have been rejected in it.
    if labels is None or len(labels) < 2:
        return None
    parts = len(labels)
    boxes = last_boxes(pred_text, parts)
    if len(boxes) != parts or not all(boxes):
        return None
    joined = ", ".join(boxes)
    if joined == extracted:
        return None
    verdict = _decide(joined, gold_answer, deadline, strict)
    return verdict if verdict.correct else None


def _decide(extracted: str, gold_answer: str, deadline: float, strict: bool) -> Verdict:
    """One answer against one gold form; ``strict``: a numeric gold needs a number."""
    gold_norm, gold_parsed = _analyse(gold_answer)
    pred_norm, pred_parsed = _analyse(extracted)
    # A decimal comma ("3,75") reads as one number when the other side is one number.
    gold_comma, pred_comma = _DECIMAL_COMMA_RE.match(gold_norm), _DECIMAL_COMMA_RE.match(pred_norm)
    if pred_comma and not gold_comma and isinstance(gold_parsed, Scalar):
        pred_norm, pred_parsed = _analyse(_DECIMAL_MARK_RE.sub(".", extracted))
    elif gold_comma and not pred_comma and isinstance(pred_parsed, Scalar):
        gold_norm, gold_parsed = _analyse(_DECIMAL_MARK_RE.sub(".", gold_answer))
    if gold_norm and gold_norm.replace(" ", "") == pred_norm.replace(" ", ""):
        return _verdict(True, "exact", extracted, gold_answer)
    computed = computation_in(gold_parsed, pred_parsed) if strict else None
    if computed is not None:
        message = (
            f"The answer must be a number: {computed!r} is a computation still to be done "
            f"(the gold is a plain number)."
        )
        return _verdict(False, "computation", extracted, gold_answer, feedback=message)
    ctx = CompareContext(pred_text=pred_norm, deadline=deadline)
    equal, method = compare(gold_parsed, pred_parsed, ctx)
    if equal is not None:
        return _verdict(equal, method, extracted, gold_answer)
    if isinstance(gold_parsed, Text) or isinstance(pred_parsed, Text):
        return _verdict(False, "undecided", extracted, gold_answer)
    key = (gold_norm, pred_norm)
    cached = _SYMPY_CACHE.get(key)
    if cached is None:
        cached = sympy_equal(gold_norm, pred_norm, deadline - time.perf_counter())
        if len(_SYMPY_CACHE) >= _CACHE_SIZE:
            _SYMPY_CACHE.clear()
        _SYMPY_CACHE[key] = cached
    return _verdict(cached, "sympy", extracted, gold_answer)
