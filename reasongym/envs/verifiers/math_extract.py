"""Find the final answer in a model's free-text output.

The rules, in order (the first one that finds something wins):

1. the last ``\\boxed{...}`` / ``\\fbox{...}`` (balanced braces; ``\\boxed 5`` too), joined
   with the boxes before it when only separators, "and"/"or", hedging words or variable
   labels stand between them (``\\boxed{3}\\boxed{7}`` is ``"3, 7"``; a hedge such as
   ``\\boxed{5}`` or ``\\boxed{6}`` becomes a list, which a single gold never equals);
2. the last ``<answer>...</answer>`` block (its content is searched again with these rules);
3. a GSM8K-style ``#### X`` line; then the last anchor phrase: "final answer is X", "the answer is X", "Answer: X", "answer = X",
   "the correct option is B";
4. a bare answer: text that is not a sentence (``"\\frac{3}{4}"``, ``"x = 2"``, ``"5 cm"``)
   is the answer as a whole;
5. in the last sentence: the last ``$...$`` math, or what follows the last ``=``;
6. the last number in the text (``-1,234.5``, ``3/4``, ``\\frac{3}{4}``, ``12%``);
7. a short phrase with no number at all (``"no real solutions"``) is returned whole.

Nothing here imports sympy: extraction is plain string work and always fast.
"""

from __future__ import annotations

import re

from reasongym.envs.verifiers.math_normalize import UNIT_WORDS

# Model outputs can be long; the answer is near the end, and regexes stay linear anyway.
_MAX_SCAN = 100_000
_MAX_BOXES = 16
_MAX_JOINER = 120  # longer text between two boxes is prose: they are not one answer
_MAX_SENTENCE = 2_000
# A sentence with no number is returned whole only when it is this short.
_MAX_TEXT_ANSWER = 40

_BOX_RE = re.compile(r"\\(?:boxed|fbox)")
# Between two boxes that form one answer (or one hedge): nothing but separators, math
# delimiters, "and"/"or" and hedging words, and variable labels ("$ or $x = ", "\\quad
# \\text{and} \\quad", "" for \\boxed{3}\\boxed{7}). Any other word (", but rechecking, it
# is ") means the earlier box was superseded.
_BOX_JOINER_RE = re.compile(
    r"^(?:\s|\$|\\[()\[\]]|[,;&]|\\\\|\\(?:quad|qquad|[,;:!])(?![A-Za-z])"
    r"|\\(?:text|mbox|textrm|mathrm)\s*\{\s*(?:and|or|,)?\s*\}"
    r"|\b(?:and|or|possibly|maybe|perhaps|also|either|alternatively)\b"
    r"|[A-Za-z](?:_\{?\w+\}?)?\s*=|\(\s*[A-Za-z](?:\s*,\s*[A-Za-z])*\s*\)\s*=)*$",
    re.IGNORECASE,
)
_ANCHOR_RE = re.compile(
    r"\b(?:final\s+answer|answer)\b\s*(?:\*\*)?\s*"
    r"(?:is\s*:?|would\s+be|should\s+be|will\s+be|:|=|(?=\$|\\\(|\\\[))\s*(?:\*\*)?[ \t]*",
    re.IGNORECASE,
)
_END_OF_THOUGHT = ("</think>", "<|end_of_thought|>")
_FINAL_ANSWER_RE = re.compile(r"\bfinal\s+answer\b\s*(?:\*\*)?\s*(?:is|:|=)", re.IGNORECASE)
_HASH_ANSWER_RE = re.compile(r"(?m)^[ \t]*####[ \t]*(\S[^\n]{0,200})")
_ASSIGN = r"[A-Za-z](?:_\{?\w+\}?)?\s*=\s*[^=,;\s][^=,;]{0,40}?"
_ASSIGNMENTS_RE = re.compile(
    rf"(?<![\w\\])({_ASSIGN}(?:\s*(?:,|;|\band\b|\bor\b)\s*{_ASSIGN})+)\s*[.!]?\s*$"
)
_OPTION_RE = re.compile(
    r"\b(?:option|choice)\s*(?:is\s*)?:?\s*\(?([A-J])\)?(?![A-Za-z])", re.IGNORECASE
)
_MATH_ENV_RE = re.compile(
    r"\$\$(.+?)\$\$|(?<!\\)\$((?:\\\$|[^$])+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)
_HOPE_RE = re.compile(r"I hope it is correct\.?$", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\$])|\n")
_NUMBER_RE = re.compile(
    r"-?\\[dt]?frac\{[^{}]*\}\{[^{}]*\}"
    r"|-?\d{1,3}(?:,\d{3})+(?![\d,])(?:\.\d+)?%?"
    r"|-?\d+,\d+(?![\d,])(?:\s?%)?"  # a decimal comma: "il reste 4,5 kg", "12,5 %"
    r"|-?\d+(?:\.\d+)?(?:/\d+)?%?"
    r"|-?\.\d+%?"
)
_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_ENV_NAME_RE = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}")
_EQUALS_RE = re.compile(r"(?<![<>!=\\])=(?!=)")
_SINGLE_VAR_RE = re.compile(r"^\s*[A-Za-z](?:_\{?\w+\}?)?\s*$")

_MATH_WORDS = (
    frozenset(
        """
    sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh ln log exp sqrt frac pi
    and or le ge lt gt infty inf oo dx dy mod pmod gcd lcm text mathrm
    """.split()
    )
    | UNIT_WORDS
)


def _boxed_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, content)`` of every well-formed ``\\boxed{...}``/``\\fbox{...}``."""
    spans: list[tuple[int, int, str]] = []
    # Only the last few boxes matter; scanning each costs O(len(text)).
    for match in list(_BOX_RE.finditer(text))[-_MAX_BOXES:]:
        j = match.end()
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "{":
            depth = 0
            for k in range(j, len(text)):
                char = text[k]
                if char == "{":
                    depth += 1
                elif char == "}":
                    depth -= 1
                    if depth == 0:
                        spans.append((match.start(), k + 1, text[j + 1 : k]))
                        break
            else:  # unbalanced (truncated output): take the rest
                spans.append((match.start(), len(text), text[j + 1 :]))
        elif j > match.end():  # "\boxed 5": one token
            token = re.match(r"[^\s$]+", text[j:])
            if token:
                spans.append((match.start(), j + token.end(), token.group(0)))
    return spans


def find_last_boxed(text: str) -> str | None:
    """Return the content of the last ``\\boxed{...}`` or ``\\fbox{...}``, or None.

    Boxes written as one answer, ``x = \\boxed{2}`` or ``x = \\boxed{3}``, are joined:
    ``"2, 3"``.
    """
    spans = _boxed_spans(text)
    if not spans:
        return None
    picked = [spans[-1]]
    for span in reversed(spans[:-1]):
        between = text[span[1] : picked[0][0]]
        if len(between) > _MAX_JOINER or not _BOX_JOINER_RE.match(between):
            break
        picked.insert(0, span)
    contents = [content for _, _, content in picked]
    unique = [
        c for i, c in enumerate(contents) if c.strip() not in {d.strip() for d in contents[:i]}
    ]
    return ", ".join(unique)  # "\\boxed{5} and \\boxed{5}" is just 5


def last_boxes(text: str, count: int) -> list[str]:
    """The contents of the last ``count`` boxes (fewer when the text has fewer)."""
    if not isinstance(text, str) or count < 1:
        return []
    spans = _boxed_spans(text[-_MAX_SCAN:])
    return [clean_answer(content) for _, _, content in spans[-count:]]


def clean_answer(answer: str) -> str:
    """Strip math delimiters, markdown bold and trailing punctuation from an answer span."""
    s = answer.strip()
    hope = _HOPE_RE.search(s[-40:])  # searched on the tail only: linear on any input
    if hope:
        s = s[: len(s) - 40 + hope.start() if len(s) > 40 else hope.start()].rstrip()
    for _ in range(3):
        before = s
        s = s.strip().strip("*").strip()
        for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
                s = s[len(left) : len(s) - len(right)].strip()
        while s and s[-1] in ".,;:":
            s = s[:-1].rstrip()
        if s.startswith(("is ", ": ")):
            s = s[2:].lstrip()
        if s == before:
            break
    return s


def is_bare_answer(text: str) -> bool:
    """True when ``text`` reads as an answer on its own rather than a sentence."""
    stripped = text.strip()
    if not stripped or len(stripped) > 300 or "\n" in stripped:
        return False
    if not re.search(r"\s", stripped) and re.search(r"[\d+\-*/^=()]", stripped):
        return True  # one token with math in it ("(x+y)(x^2-xy+y^2)") is not a sentence
    outside = _MATH_ENV_RE.sub(" ", stripped)
    outside = _ENV_NAME_RE.sub(" ", outside)
    outside = re.sub(r"\\(?:text|mathrm|textbf|mbox)\s*\{([^{}]*)\}", r" \1 ", outside)
    outside = _COMMAND_RE.sub(" ", outside)
    # Upper-case runs of two or three letters name points and segments (AB, PQ, ABC).
    words = [
        w
        for w in _WORD_RE.findall(outside)
        if w.lower() not in _MATH_WORDS and not (w.isupper() and len(w) <= 3)
    ]
    if _CJK_RE.search(outside):  # "答案是 12": a sentence in a script without spaces
        return False
    if words and outside != stripped and _MATH_ENV_RE.search(stripped):
        return False  # "Thus, $AB = 12$.": prose around math
    return len(words) <= 1


def _from_anchor(text: str) -> str | None:
    anchors = list(_ANCHOR_RE.finditer(text))
    if not anchors:
        return None
    rest = text[anchors[-1].end() :]
    if not rest.strip():
        return None
    lines = rest.split("\n")
    first = lines[0].strip()
    if not first:  # "Answer:\n\n5"
        first = next((line.strip() for line in lines if line.strip()), "")
    body = rest.lstrip()
    env = _MATH_ENV_RE.match(body)
    if env:
        # "$5$ or $6$" after the anchor is one (hedged) answer, not the first of them.
        envs = [env]
        for following in _MATH_ENV_RE.finditer(body, env.end()):
            between = body[envs[-1].end() : following.start()]
            if len(between) > _MAX_JOINER or not _BOX_JOINER_RE.match(between):
                break
            envs.append(following)
        return _joined_math(body, envs) or None
    span = re.split(r"(?<=[^\d\s])\.(?:\s|$)|\.\s", first + " ", maxsplit=1)[0]
    span = clean_answer(span)
    if span and not is_bare_answer(span):  # "The largest $n$ is 34", "... grew 3 hours ago"
        return _from_phrase(span)
    return span or None


def _from_phrase(span: str) -> str:
    """The answer inside a short phrase: after its last "is"/"="; else its last number."""
    tail = re.split(r"\s(?:is|are|equals|=)\s", span)[-1]
    if tail != span and is_bare_answer(tail):
        return clean_answer(tail)
    return _last_number(span) or span


def _from_last_sentence(text: str) -> str | None:
    tail = text.rstrip()
    pieces = [p for p in _SENTENCE_END_RE.split(tail) if p.strip()]
    if not pieces:
        return None
    last = pieces[-1][-_MAX_SENTENCE:]
    envs = list(_MATH_ENV_RE.finditer(last))
    if envs:
        content = _joined_math(last, envs)
        return content if ", " in content else _rhs_unless_assignment(content)
    assignments = _ASSIGNMENTS_RE.search(last[-300:])
    if assignments:  # "The solutions are x = 3 and x = -2."
        return assignments.group(1)
    if _EQUALS_RE.search(last):
        candidate = clean_answer(_EQUALS_RE.split(last)[-1])
        if candidate and is_bare_answer(candidate) and len(candidate) <= 80:
            return candidate
    return None


def _joined_math(text: str, envs: list[re.Match[str]]) -> str:
    """The last ``$...$`` span, joined with the spans before it that form one answer with it
    (only separators and "and"/"or" between them, as for boxes): "$2$ and $3$" is "2, 3"."""
    picked = [envs[-1]]
    for env in reversed(envs[:-1]):
        between = text[env.end() : picked[0].start()]
        if len(between) > _MAX_JOINER or not _BOX_JOINER_RE.match(between):
            break
        picked.insert(0, env)
    contents = [next(g for g in env.groups() if g is not None).strip() for env in picked]
    unique = [c for i, c in enumerate(contents) if c not in contents[:i]]
    return ", ".join(unique)


def _rhs_unless_assignment(content: str) -> str:
    """``"2+3 = 5"`` -> ``"5"``; ``"x = 5"`` and ``"x <= 2"`` stay (the variable may matter)."""
    parts = _EQUALS_RE.split(content)
    if len(parts) == 1 or (len(parts) == 2 and _SINGLE_VAR_RE.match(parts[0])):
        return content
    return parts[-1].strip()


def last_answer_tag(text: str) -> str | None:
    """Content of the last ``<answer>...</answer>`` (or of an unclosed last ``<answer>``)."""
    lowered = text.lower()
    close = lowered.rfind("</answer>")
    if close >= 0:
        start = lowered.rfind("<answer>", 0, close)
        if start >= 0:
            return text[start + len("<answer>") : close]
    start = lowered.rfind("<answer>")
    if start > close:
        return text[start + len("<answer>") :]
    return None


def _last_number(text: str) -> str | None:
    numbers = list(_NUMBER_RE.finditer(text))
    return numbers[-1].group(0) if numbers else None


def extract_answer(text: str) -> str | None:
    """Extract the final answer from free text (a model's output or a gold sentence).

    Args:
        text: the full output, e.g. ``"... so the answer is \\boxed{\\frac{3}{4}}."``.

    Returns:
        The answer span as written (delimiters stripped, not normalised), or None when the
        text holds no recognisable answer.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = text[-_MAX_SCAN:]
    # A reasoning model's answer follows its thinking: "<think>...</think> The answer is 7".
    lowered = text.lower()
    end = max(
        (lowered.rfind(marker) + len(marker) for marker in _END_OF_THOUGHT if marker in lowered),
        default=-1,
    )
    if end > 0 and text[end:].strip():
        found = _extract(text[end:])
        if found is not None:
            return found
    return _extract(text)


def _extract(text: str) -> str | None:
    boxed = find_last_boxed(text)
    if boxed is not None:
        # "... \boxed{12} was the subtotal. Final answer: 15": a later final answer wins.
        later = _final_answer_after(text, _boxed_spans(text)[-1][1])
        if later is not None:
            return later
        boxed = clean_answer(boxed)
        return boxed or None
    tagged = last_answer_tag(text)
    if tagged is not None:
        return extract_answer(tagged) if tagged.strip() else None
    marked = list(_HASH_ANSWER_RE.finditer(text))  # GSM8K style: "#### 18"
    if marked:
        span = clean_answer(marked[-1].group(1))
        if span:
            return span
    anchored = _from_anchor(text)
    if anchored:
        return anchored
    option = list(_OPTION_RE.finditer(text))
    if option:
        return option[-1].group(1).upper()
    if is_bare_answer(text):
        return clean_answer(text) or None
    from_sentence = _from_last_sentence(text)
    if from_sentence:
        return clean_answer(from_sentence) or None
    number = _last_number(text)
    if number is not None:
        return number
    stripped = clean_answer(text)
    short = 0 < len(stripped) <= _MAX_TEXT_ANSWER and len(stripped.split()) <= 4
    return stripped if short else None  # "no real solutions"; not a whole sentence


def _final_answer_after(text: str, start: int) -> str | None:
    """An explicit "final answer: X" after ``start`` whose X holds a number or math."""
    rest = text[start:]
    if not _FINAL_ANSWER_RE.search(rest):
        return None
    anchored = _from_anchor(rest)
    return anchored if anchored and re.search(r"[\d\\]", anchored) else None


def extract_gold(text: str) -> str:
    """Extract a gold answer: usually bare LaTeX already, sometimes a sentence with ``$...$``.

    Unlike :func:`extract_answer`, a gold never falls back to "the last number": a gold that
    is neither boxed, tagged, bare nor holds math is compared as written.
    """
    if not isinstance(text, str):
        return ""
    stripped = text.strip()[-_MAX_SENTENCE:]
    if find_last_boxed(stripped) is not None or last_answer_tag(stripped) is not None:
        return extract_answer(stripped) or stripped
    if is_bare_answer(stripped):
        return clean_answer(stripped)
    anchored = _from_anchor(stripped)
    if anchored:
        return anchored
    envs = list(_MATH_ENV_RE.finditer(stripped))
    if envs:
        return _joined_math(stripped, envs)
    return clean_answer(stripped)
