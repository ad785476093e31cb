"""Generated function-writing tasks with hidden tests.

Each family has a reference implementation (its source is the gold answer) and an input
generator; expected outputs come from running the reference here, at generation time.
Difficulty d scales input sizes and the number of hidden tests (4 + 3d); two examples are
shown in the prompt. Task ``i`` is generated from ``np.random.default_rng(i)``.

No function that ignores its input solves a task: a hidden test set never has one of
``TRIVIAL_RETURNS`` (or the first argument, returned as is) as the expected value of more than
half its tests (rounded up); a drawn case that would tip one over is drawn again. Predicates
draw true and false cases about equally often (e.g. ``is_balanced`` builds a nested string
and breaks it half the time), so few cases are redrawn.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from reasongym.envs.tasks.base import TaskSource
from reasongym.envs.types import Task

_INDEX_SPACE = 2**62
#: What the constant baselines of the ``code_tests`` verifier return
#: (``reasongym.envs.verifiers.code.BASELINES``, whose last one returns the first argument).
TRIVIAL_RETURNS: tuple[Any, ...] = (None, 0, False, True, 1, "", [])
#: Draws of one hidden case before a family is called broken (a case passes at odds >= 1/2).
_MAX_REDRAWS = 1000


def sum_multiples(nums: list[int], k: int) -> int:
    return sum(x for x in nums if x % k == 0)


def count_vowels(s: str) -> int:
    return sum(1 for c in s.lower() if c in "aeiou")


def reverse_words(s: str) -> str:
    return " ".join(reversed(s.split()))


def running_max(nums: list[int]) -> list[int]:
    out, best = [], None
    for x in nums:
        best = x if best is None or x > best else best
        out.append(best)
    return out


def caesar(s: str, shift: int) -> str:
    out = []
    for c in s:
        if c.islower():
            out.append(chr((ord(c) - 97 + shift) % 26 + 97))
        elif c.isupper():
            out.append(chr((ord(c) - 65 + shift) % 26 + 65))
        else:
            out.append(c)
    return "".join(out)


def second_largest(nums: list[int]) -> int | None:
    distinct = sorted(set(nums))
    return distinct[-2] if len(distinct) >= 2 else None


def run_length(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        out.append(f"{s[i]}{j - i}")
        i = j
    return "".join(out)


def is_balanced(s: str) -> bool:
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    for c in s:
        if c in "([{":
            stack.append(c)
        elif c in pairs:
            if not stack or stack.pop() != pairs[c]:
                return False
    return not stack


def rotate_list(nums: list[int], k: int) -> list[int]:
    if not nums:
        return []
    k %= len(nums)
    return nums[-k:] + nums[:-k] if k else list(nums)


def digit_power_sum(n: int, p: int) -> int:
    return sum(int(d) ** p for d in str(abs(n)))


def _ints(rng: np.random.Generator, d: int, lo: int = -50, hi: int = 50) -> list[int]:
    return [int(x) for x in rng.integers(lo * d, hi * d + 1, size=int(rng.integers(0, 4 + 3 * d)))]


def _word(rng: np.random.Generator, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz") -> str:
    return "".join(alphabet[int(i)] for i in rng.integers(len(alphabet), size=n))


def _brackets(rng: np.random.Generator, d: int) -> str:
    """A properly nested string of up to 2d + 1 bracket pairs, broken (one bracket changed,
    dropped, added, or two neighbours swapped) half the time, with a few ``x`` mixed in."""
    pairs, out, stack = int(rng.integers(0, 2 * d + 2)), [], []
    opened = 0
    while opened < pairs or stack:
        if opened < pairs and (not stack or rng.random() < 0.5):
            c = "([{"[int(rng.integers(3))]
            out.append(c)
            stack.append(c)
            opened += 1
        else:
            out.append({"(": ")", "[": "]", "{": "}"}[stack.pop()])
    if rng.random() < 0.5:
        how = int(rng.integers(4)) if out else 2
        at = int(rng.integers(len(out))) if out else 0
        bracket = "()[]{}"[int(rng.integers(6))]
        if how == 0:
            out[at] = bracket
        elif how == 1:
            del out[at]
        elif how == 2:
            out.insert(int(rng.integers(len(out) + 1)), bracket)
        elif at + 1 < len(out):
            out[at], out[at + 1] = out[at + 1], out[at]
        else:
            del out[at]
    for _ in range(int(rng.integers(0, d + 1))):
        out.insert(int(rng.integers(len(out) + 1)), "x")
    return "".join(out)


def trivial_matches(args: tuple[Any, ...], expected: Any) -> list[int]:
    """Which trivial functions return ``expected`` for ``args``: indices into
    ``TRIVIAL_RETURNS``, and ``len(TRIVIAL_RETURNS)`` for "the first argument back". Compared
    with ``==``, like the tests (so 0 and False both match False)."""
    hits = [i for i, value in enumerate(TRIVIAL_RETURNS) if value == expected]
    if args and args[0] == expected:
        hits.append(len(TRIVIAL_RETURNS))
    return hits


@dataclass(frozen=True)
class Family:
    """One kind of function: its reference, what to say, and how to draw arguments."""

    fn: Callable[..., Any]
    signature: str
    description: str
    draw: Callable[[np.random.Generator, int], tuple[Any, ...]]


FAMILIES: dict[str, Family] = {
    "sum_multiples": Family(
        sum_multiples,
        "sum_multiples(nums: list[int], k: int) -> int",
        "returns the sum of the elements of nums that are divisible by k (k >= 1)",
        lambda r, d: (_ints(r, d), int(r.integers(1, 3 + 2 * d))),
    ),
    "count_vowels": Family(
        count_vowels,
        "count_vowels(s: str) -> int",
        "returns how many vowels (a, e, i, o, u, either case) s contains",
        lambda r, d: (_word(r, int(r.integers(0, 6 * d + 2)), "aAbBeEiIoOuUxyz !"),),
    ),
    "reverse_words": Family(
        reverse_words,
        "reverse_words(s: str) -> str",
        "returns the words of s (separated by any white space) in reverse order, joined by single spaces",
        lambda r, d: (
            " ".join(_word(r, int(r.integers(1, 6))) for _ in range(int(r.integers(0, 2 + 2 * d)))),
        ),
    ),
    "running_max": Family(
        running_max,
        "running_max(nums: list[int]) -> list[int]",
        "returns a list whose i-th element is the maximum of nums[0..i]",
        lambda r, d: (_ints(r, d),),
    ),
    "caesar": Family(
        caesar,
        "caesar(s: str, shift: int) -> str",
        "shifts every ASCII letter of s by shift places in the alphabet (wrapping, keeping case; shift may be negative or larger than 26) and leaves other characters unchanged",
        lambda r, d: (
            _word(r, int(r.integers(0, 4 * d + 2)), "abcxyzABCXYZ .!"),
            int(r.integers(-30 * d, 30 * d + 1)),
        ),
    ),
    "second_largest": Family(
        second_largest,
        "second_largest(nums: list[int]) -> int | None",
        "returns the second largest distinct value in nums, or None if there are fewer than two distinct values",
        lambda r, d: (_ints(r, d, -5, 5),),
    ),
    "run_length": Family(
        run_length,
        "run_length(s: str) -> str",
        "run-length encodes s: each maximal run of a character c of length n becomes c followed by n (e.g. 'aab' -> 'a2b1')",
        lambda r, d: (_word(r, int(r.integers(0, 5 * d + 2)), "aab"),),
    ),
    "is_balanced": Family(
        is_balanced,
        "is_balanced(s: str) -> bool",
        "returns whether the brackets (), [] and {} in s are balanced and properly nested (other characters are ignored)",
        lambda r, d: (_brackets(r, d),),
    ),
    "rotate_list": Family(
        rotate_list,
        "rotate_list(nums: list[int], k: int) -> list[int]",
        "returns nums rotated to the right by k places (k >= 0, possibly larger than len(nums)); an empty list stays empty",
        lambda r, d: (_ints(r, d), int(r.integers(0, 10 * d))),
    ),
    "digit_power_sum": Family(
        digit_power_sum,
        "digit_power_sum(n: int, p: int) -> int",
        "returns the sum of the p-th powers of the decimal digits of abs(n)",
        lambda r, d: (int(r.integers(-(10 ** (2 + d)), 10 ** (2 + d))), int(r.integers(1, 2 + d))),
    ),
}


def _call(name: str, args: tuple[Any, ...]) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


class CodeProceduralSource(TaskSource):
    """Function-writing tasks from FAMILIES (all, or the ones named) at a difficulty."""

    def __init__(self, difficulty: int = 1, families: list[str] | None = None):
        self.difficulty = difficulty
        self.families = list(families or FAMILIES)

    def __len__(self) -> int:
        return _INDEX_SPACE

    def _case(self, family: Family, rng: np.random.Generator) -> tuple[tuple[Any, ...], Any]:
        args = family.draw(rng, self.difficulty)
        return args, family.fn(*args)

    def _hidden_cases(
        self, name: str, family: Family, rng: np.random.Generator, n: int
    ) -> list[tuple[tuple[Any, ...], Any]]:
        """``n`` cases where no trivial function (``trivial_matches``) gets more than half
        right (rounded up: with an odd ``n`` a predicate's answers cannot split evenly)."""
        cap = (n + 1) // 2
        counts = [0] * (len(TRIVIAL_RETURNS) + 1)
        cases = []
        for _ in range(n):
            for _ in range(_MAX_REDRAWS):
                args, expected = self._case(family, rng)
                hits = trivial_matches(args, expected)
                if all(counts[i] < cap for i in hits):
                    break
            else:  # a generator bug (the family's cases are nearly all trivial), not bad luck
                raise RuntimeError(
                    f"code_procedural family {name!r} (difficulty {self.difficulty}) drew "
                    f"{_MAX_REDRAWS} cases in a row that a constant function passes"
                )
            for i in hits:
                counts[i] += 1
            cases.append((args, expected))
        return cases

    def __getitem__(self, index: int) -> Task:
        if not 0 <= index < _INDEX_SPACE:
            raise IndexError(index)
        rng = np.random.default_rng(index)
        name = self.families[int(rng.integers(len(self.families)))]
        family = FAMILIES[name]
        shown = [self._case(family, rng) for _ in range(2)]
        hidden = self._hidden_cases(name, family, rng, 4 + 3 * self.difficulty)
        examples = "\n".join(f"    {_call(name, a)} == {e!r}" for a, e in shown)
        question = (
            f"Write a Python function `{family.signature}` that {family.description}.\n"
            f"Examples:\n{examples}\n"
            "Answer with the function in a ```python code block inside <answer>...</answer>. "
            f"It will be run against {len(hidden)} hidden tests."
        )
        steps = [
            {
                "name": f"test{i + 1}",
                "code": f"assert {_call(name, a)} == {e!r}, {_call(name, a)!r}",
                "test": True,
            }
            for i, (a, e) in enumerate(hidden)
        ]
        source = textwrap.dedent(inspect.getsource(family.fn))
        return Task(
            id=f"code/{name}/d{self.difficulty}/{index}",
            question=question,
            answer=f"```python\n{source}```",
            meta={"entry_point": name, "prompt": "", "steps": steps},
        )
