"""Generated function-writing tasks with hidden tests.

Each family has a reference implementation (its source is the gold answer) and an input
generator; expected outputs come from running the reference here, at generation time.
Difficulty d scales input sizes and the number of hidden tests (4 + 3d); two examples are
shown in the prompt. Task ``i`` is generated from ``np.random.default_rng(i)``.
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
        lambda r, d: (_word(r, int(r.integers(0, 4 * d + 2)), "()[]{}x"),),
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

    def __getitem__(self, index: int) -> Task:
        if not 0 <= index < _INDEX_SPACE:
            raise IndexError(index)
        rng = np.random.default_rng(index)
        name = self.families[int(rng.integers(len(self.families)))]
        family = FAMILIES[name]
        cases = []
        for _ in range(2 + 4 + 3 * self.difficulty):
            args = family.draw(rng, self.difficulty)
            cases.append((args, family.fn(*args)))
        shown, hidden = cases[:2], cases[2:]
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
