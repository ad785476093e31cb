"""Hedged answers are never paid as correct, at every registered answer-judging id.

A hedge lists several candidates in one answer so that it is right whichever is the gold:
``<answer>1, 2, 3, 4</answer>``, ``3 or 4``, two boxes, an interval or a set around the gold,
``x = 4 \\pm 1``, "the answer is 3; the answer is 4", the gold tucked into a comment or a
``\\text{}``. The grammar may read one of the candidates (the first box, the last "the answer
is"), but then it reads that one whatever the gold is. So the property, for every text id
judged by the ``math`` or ``exact`` verifier, in both answer modes (tags and free text), through
``gym.make`` and ``step`` (the way a policy meets it), for each two-candidate template ``T``
and both arrangements ``S`` of the gold ``g`` and a wrong value ``w`` in it:

    not (paid(S, gold=g) and paid(S, gold=w))

where ``paid(S, gold=w)`` steps ``S`` on the same task with its gold replaced by ``w`` through
``get_state``/``set_state`` (a counterfactual task). Answers that *cover* the gold without
naming it (an interval, a ``\\pm``, a set of neighbours, an equation with several roots) are
not paid at all. Over several attempts, the answers of one episode together earn the best
single answer's value once.

The exact verifier is checked directly too, and the revision feedback of ``program_io`` (it
must not hand out the tests a second attempt is scored on) through the example code env.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import reasongym
from reasongym.envs.text import TextTaskEnv
from reasongym.envs.verifiers.exact import verify_exact

ENV_IDS = sorted(reasongym.list_envs())
TASKS = 4  # task indices per id
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "yaml"


def _judged_text_ids() -> list[str]:
    out = []
    for env_id in ENV_IDS:
        spec = gym.spec(env_id)
        entry = str(spec.entry_point)
        if "puzzles" in entry or spec.kwargs.get("verifier", "math") not in ("math", "exact"):
            continue
        out.append(env_id)
    return out


TEXT_IDS = _judged_text_ids()

#: Two-candidate templates; ``{a}`` and ``{b}`` are the candidates (format() escapes braces).
TWO_CANDIDATES = [
    "{a}, {b}",
    "{a} or {b}",
    "{a} and {b}",
    "{a}; {b}",
    "{a}\n{b}",
    "{a} {b}",
    "{a}\\quad{b}",
    "{a} \\\\ {b}",
    "{a} \\text{{ or }} {b}",
    "{a}\\,\\text{{or}}\\,{b}",
    "{a} \\lor {b}",
    "{a} | {b}",
    "either {a} or {b}",
    "{a}, possibly {b}",
    "{a} (or {b})",
    "{a} \\text{{(or {b})}}",
    "{a} % {b}",
    "{a} # {b}",
    "{a} \\text{{{b}}}",
    "\\text{{{a}}} {b}",
    "{a} = {b}",
    "{a} \\ne {b}",
    "{a}\\approx{b}",
    "x = {a} \\text{{ or }} x = {b}",
    "x = {a}, x = {b}",
    "x \\in \\{{{a}, {b}\\}}",
    "\\{{{a}, {b}\\}}",
    "[{a}, {b}]",
    "({a}, {b})",
    "{a}, {b}, {a}",
    "\\boxed{{{a}}} \\boxed{{{b}}}",
    "\\boxed{{{a}}} or \\boxed{{{b}}}",
    "\\boxed{{{a}, {b}}}",
    "${a}$ or ${b}$",
    "the answer is {a}; the answer is {b}",
    "Answer: {a}\nAnswer: {b}",
    "#### {a}\n#### {b}",
    "{a}</answer><answer>{b}",
    "\\begin{{cases}}{a}\\\\{b}\\end{{cases}}",
    "{a} oder {b}",
    "{a} \u6216 {b}",
    "{a}\\%, {b}\\%",
    "{a} cm, {b} cm",
]


def _number(text: str) -> Fraction | None:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        return None


def _write(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def wrong_values(gold: str) -> list[str]:
    value = _number(gold)
    if value is not None:
        return [_write(value + 1), _write(value - 3)]
    return [w for w in ("7", "2", "x + 1") if w != gold.strip()][:2]


def covering_answers(gold: str) -> list[str]:
    """Answers that contain a numeric gold without naming it as the answer."""
    value = _number(gold)
    if value is None:
        return []
    lo, hi = _write(value - 1), _write(value + 1)
    g, g2 = _write(value), _write(value + 2)
    out = [
        f"{hi} \\pm 1",
        f"x = {hi} \\pm 1",
        f"{hi} \\mp 1",
        f"{hi} +/- 1",
        f"{hi} \u00b1 1",
        f"[{lo}, {hi}]",
        f"({lo}, {hi})",
        f"{lo} < x < {hi}",
        f"{lo} \\le x \\le {hi}",
        f"x \\in [{lo}, {hi}]",
        f"\\{{{lo}, {g}, {hi}\\}}",
        f"x \\in \\{{{lo}, {g}\\}}",
        f"\\{{{lo}, \\ldots, {hi}\\}}",
        f"{lo} \\text{{ to }} {hi}",
        f"x \\geq {lo}",
        f"x \\ne {hi}",
        "\\mathbb{R}",
        "(-\\infty, \\infty)",
        "all real numbers",
        f"\\{{ x | x > {lo} \\}}",
        f"{lo} \\text{{ or more}}",
        f"not {g2}",
    ]
    if value != 0:
        out += [f"(x - {g})(x - {g2}) = 0", f"x = \\pm {_write(abs(value))}"]
        out += [
            f"\\pm {_write(abs(value))}",
            f"x^2 - {_write(2 * value + 2)}x + {_write(value * (value + 2))} = 0",
        ]
    return out


def _as_action(answer: str) -> str:
    return answer if answer.startswith("\\boxed") else f"<answer>{answer}</answer>"


class Judge:
    """Steps one answer on a fresh episode of task ``index`` (optionally with its gold
    replaced, through ``set_state``); True when it was paid."""

    def __init__(self, env: gym.Env, free_text: bool = False):
        self.env = env
        self.free_text = free_text

    def _index(self, index: int) -> int:
        n = getattr(self.env.unwrapped, "num_tasks", None)
        return index % n if n else index  # small data sets (examples/yaml) have few rows

    def gold(self, index: int) -> str:
        index = self._index(index)
        self.env.reset(options={"task_index": index})
        return self.env.unwrapped._row_answer()

    def paid(self, index: int, answer: str, gold: str | None = None) -> bool:
        inner = self.env.unwrapped
        index = self._index(index)
        self.env.reset(options={"task_index": index})
        if gold is not None:
            state = inner.get_state()
            state["data"]["task"]["answer"] = gold
            inner.set_state(state)
        action = f"So the answer is {answer}." if self.free_text else _as_action(answer)
        _, reward, _, _, info = self.env.step(action)
        return reward > 0 or bool(info["is_success"])


@pytest.fixture(params=[(i, m) for i in TEXT_IDS for m in ("tags", "free_text")], ids=str)
def judge(request):
    env_id, mode = request.param
    env = gym.make(env_id, answer_mode=mode)
    assert isinstance(env.unwrapped, TextTaskEnv)
    yield Judge(env, free_text=mode == "free_text")
    env.close()


def find_hedges(judge: Judge, indices: range, templates: list[str]) -> list[tuple]:
    """``(gold, wrong, answer)`` for every arrangement of a template that is paid under the
    task's gold and under a wrong value as the gold."""
    hedges = []
    for index in indices:
        gold = judge.gold(index)
        assert judge.paid(index, gold), f"the gold {gold!r} itself must be paid"
        for wrong in wrong_values(gold):
            assert judge.paid(index, wrong, gold=wrong), "the counterfactual gold must be paid"
            for template in templates:
                for answer in (template.format(a=gold, b=wrong), template.format(a=wrong, b=gold)):
                    if judge.paid(index, answer) and judge.paid(index, answer, gold=wrong):
                        hedges.append((gold, wrong, answer))
    return hedges


def test_one_answer_is_never_paid_under_two_golds(judge):
    hedges = find_hedges(judge, range(TASKS), TWO_CANDIDATES)
    assert not hedges, hedges[:10]


def test_answers_that_only_cover_the_gold_are_not_paid(judge):
    paid = []
    for index in range(TASKS):
        gold = judge.gold(index)
        paid += [(gold, a) for a in covering_answers(gold) if judge.paid(index, a)]
    assert not paid, paid[:10]


def test_empty_and_blank_answers_are_not_paid(judge):
    for answer in ["", " ", "\n", "\\text{}", "{}", "$ $", "\\boxed{}", "\\boxed{ }"]:
        judge.env.reset(options={"task_index": 0})
        action = answer if answer.startswith("\\boxed") else f"<answer>{answer}</answer>"
        _, reward, _, _, info = judge.env.step(action)
        assert reward <= 0 and not info["is_success"], repr(answer)


class _GoldAnywhere(Judge):
    """A broken judge that pays any answer containing the gold (to test the property)."""

    def __init__(self):
        self.golds = {0: "12"}

    def gold(self, index: int) -> str:
        return self.golds[index]

    def paid(self, index: int, answer: str, gold: str | None = None) -> bool:
        return (gold or self.golds[index]) in answer


def test_hedge_property_can_fail():
    hedges = find_hedges(_GoldAnywhere(), range(1), ["{a}, {b}", "{a}"])
    assert [h[2] for h in hedges] == ["12, 13", "13, 12", "12, 9", "9, 12"]


# -- several attempts -------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", TEXT_IDS)
def test_answers_over_attempts_earn_the_best_value_once(env_id):
    """Wrong, wrong, right earns what right-first earns (and no more); a correct answer ends
    the episode, so it cannot be paid twice; repeating a wrong answer pays nothing."""
    kwargs = dict(gym.spec(env_id).kwargs)
    reward = {**kwargs.get("reward", {}), "per_step": 0.0, "incorrect": -0.2}
    env = gym.make(env_id, max_attempts=4, max_turns=8, reward=reward)
    try:
        env.reset(options={"task_index": 1})
        gold = env.unwrapped._row_answer()
        wrong = wrong_values(gold)[0]
        first = env.step(f"<answer>{gold}</answer>")
        assert first[2] and first[4]["is_success"]
        right_first = first[1]
        env.reset(options={"task_index": 1})
        rewards = [env.step(f"<answer>{wrong}</answer>")[1] for _ in range(3)]
        _, last, terminated, _, info = env.step(f"<answer>{gold}</answer>")
        assert terminated and info["is_success"]
        assert rewards[1:] == [0.0, 0.0]  # the same wrong answer again: no new value
        assert sum(rewards) + last == pytest.approx(right_first)
        after = env.step(f"<answer>{gold}</answer>")
        assert after[1] == 0.0 and after[4].get("episode_over")
    finally:
        env.close()


# -- the exact verifier -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("3, 4", "3"),
        ("3 or 4", "3"),
        ("4 3", "3"),
        ("", ""),
        ("   ", " "),
        ("", "."),
        ("...", "."),
        ("Paris Lyon", "Paris"),
    ],
)
def test_exact_verifier_pays_no_hedge_and_no_empty_answer(prediction, gold):
    assert not verify_exact(prediction, gold).correct


def test_exact_verifier_keeps_its_normalisation():
    assert verify_exact("  Paris. ", "paris").correct
    assert verify_exact("New   York", "new york").correct


# -- revision feedback ------------------------------------------------------------------------
_QUOTED = re.compile(r"input: ('(?:[^'\\]|\\.)*'); expected: ('(?:[^'\\]|\\.)*')")


def test_revision_feedback_does_not_hand_out_the_tests():
    """A probing first answer must not turn a lookup table into a correct second answer."""
    reasongym.register_yaml(EXAMPLES / "code", replace=True)
    env = gym.make("examples/CodeFromFile-v0", sandbox={"backend": "process"})
    try:
        env.reset(options={"task_index": 2})  # the stdin/stdout row (program_io)
        report = env.step("<answer>\nprint(0)\n</answer>")[0]
        table = {ast.literal_eval(i): ast.literal_eval(o) for i, o in _QUOTED.findall(report)}
        lookup = f"import sys\nT = {table!r}\nprint(T.get(sys.stdin.read(), ''))\n"
        _, reward, _, _, info = env.step(f"<answer>\n{lookup}\n</answer>")
    finally:
        env.close()
    assert not info["is_success"] and reward < 1.0, (reward, report)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("env_id", TEXT_IDS)
def test_a_running_episode_never_shows_the_gold(env_id):
    """After a wrong answer with attempts left, neither the observation nor the info an agent
    is handed holds the gold (else the next attempt copies it)."""
    env = gym.make(env_id, max_attempts=2)
    try:
        env.reset(options={"task_index": 0})
        gold = env.unwrapped._row_answer()
        obs, _, terminated, _, info = env.step(f"<answer>{wrong_values(gold)[0]}</answer>")
        assert not terminated
        shown = [obs, *_strings({k: v for k, v in info.items() if k != "messages"})]
    finally:
        env.close()
    assert gold.strip() not in [s.strip() for s in shown], info["verdict"]
