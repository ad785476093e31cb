"""Reward farming by cycles, at every registered id: going round in circles never pays.

An env whose step rewards are not potential-based pays a policy for going back and forth
(place and remove a digit, left then right, toggle a light twice, call a tool again, repeat a
wrong answer). For every id in ``reasongym.list_envs()``, with its registered kwargs and with
the reward terms a YAML author may switch on (puzzles: potential-based ``shaping``; text envs:
``tool_success``, partial credit, several attempts), this explores seeded episodes -- random
actions, oscillations (an action and the one two steps back), repeats, the oracle's moves,
format errors, tool calls, wrong and right answers -- and checks:

* **cycles**: whenever the env's state content repeats within an episode, the rewards paid
  along the way sum to at most 0 (+1e-9). States are compared by their content (the
  ``EnvSnapshot`` without the turn counter, the transcript and the RNG), not by identity;
  a 2-cycle hunter also tries action pairs from snapshots (``get_state``/``set_state``);
* **one solve's worth**: no episode returns more than the env can pay for one solve
  (``correct``, plus the shaping potential of the start for puzzles, plus ``tool_success``
  for every turn but the answer's in text envs).

Ids whose answers run in a sandbox are ``slow`` (as in test_hostile_actions.py).
"""

from __future__ import annotations

import collections
import json
import random
import re
import zlib
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import reasongym
from reasongym.envs.puzzles.arc import ARCEnv
from reasongym.envs.puzzles.base import PuzzleEnv
from reasongym.envs.text import TextTaskEnv

ENV_IDS = sorted(reasongym.list_envs())
EPS = 1e-9
EPISODES = 6
STEPS = 40  # per episode at most (the env's own max_turns may end it first)
TRANSCRIPT_KEYS = frozenset({"messages", "feedback"})  # history, not state content


def _sandboxed(env_id: str) -> bool:
    return gym.spec(env_id).kwargs.get("verifier") == "code_tests"


def _variants(env_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The registered kwargs, and the same with every optional reward term switched on."""
    kwargs = gym.spec(env_id).kwargs
    reward = dict(kwargs.get("reward", {}))
    entry = str(gym.spec(env_id).entry_point)
    out: list[tuple[str, dict[str, Any]]] = [("registered", {})]
    if "puzzles.arc" in entry:
        out.append(("partial", {"reward": {**reward, "partial_credit": True}}))
    elif "puzzles" in entry:
        out.append(("shaping", {"reward": {**reward, "shaping": True, "shaping_weight": 0.5}}))
    else:
        terms = {**reward, "tool_success": 0.1, "partial_credit": True}
        out.append(("process", {"reward": terms, "max_attempts": 3, "max_turns": 10}))
    return out


CASES = [
    pytest.param(
        env_id,
        name,
        overrides,
        id=f"{env_id}-{name}",
        marks=[pytest.mark.slow] if _sandboxed(env_id) else [],
    )
    for env_id in ENV_IDS
    for name, overrides in _variants(env_id)
]


# -- state content ------------------------------------------------------------------------
def content_key(env: gym.Env) -> str:
    """The episode's state content as a canonical string: ``get_state()`` without the turn
    counter, the transcript (messages, feedback text) and the RNG state."""
    state = env.unwrapped.get_state()
    status = {k: v for k, v in state["status"].items() if k != "turn"}
    data = state["data"]
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in TRANSCRIPT_KEYS}
    return json.dumps([status, data], sort_keys=True, default=repr)


# -- the action pools -----------------------------------------------------------------------
def _oracle(env: gym.Env) -> Any | None:
    try:
        return env.unwrapped.oracle_action()
    except Exception:  # noqa: BLE001 - no oracle, or already solved
        return None


def action_pool(env: gym.Env) -> list[Any]:
    """Actions worth cycling with: every move, tool calls (repeats included), wrong answers,
    format errors. The oracle's action is added at each step by the explorer."""
    inner = env.unwrapped
    if isinstance(env.action_space, spaces.Discrete):
        return list(range(int(env.action_space.n)))
    if isinstance(inner, PuzzleEnv):
        moves = [inner.action_of_move(m) for m in range(inner.num_actions)]
        if inner.config.action_format == "tags":
            pairs = [
                f"{inner.action_of_move(a)}, {inner.action_of_move(b)}"
                for a, b in [(0, 1), (1, 0), (0, 0)]
                if max(a, b) < inner.num_actions
            ]
            return [*moves, *pairs, *(f"<answer>{m}</answer>" for m in moves[:4]), "hmm"]
        return [*moves, "hmm"]
    if isinstance(inner, ARCEnv):
        return ["0", "1 1\n1 1", "[[0]]", "hmm", "<answer>1</answer>"]
    assert isinstance(inner, TextTaskEnv)
    gold = inner._row_answer()
    calls = [
        '<tool name="calculator">1+1</tool>',
        '<tool name="calculator">1+1</tool>',
        '<tool name="calculator">2*3</tool>',
        '<tool name="python">print(1)</tool>',
        '{"name": "calculator", "arguments": {"expression": "1+1"}}',
    ]
    answers = [
        "<answer>0</answer>",
        "<answer>-1</answer>",
        f"<answer>{gold}0</answer>",
        f"<answer>{gold}, 1</answer>",
        '{"name": "submit_answer", "arguments": {"answer": "0"}}',
    ]
    return [*calls, *answers, "hmm", "The answer is 0."]


# -- the checks -------------------------------------------------------------------------------
def one_solve_bound(env: gym.Env) -> float:
    """The most one solving episode can return under the env's reward spec."""
    inner = env.unwrapped
    spec = inner.config.reward
    bound = float(spec.correct)
    if isinstance(inner, PuzzleEnv) and spec.shaping:
        bound += spec.shaping_weight * inner.get_state()["data"]["distance"]
    if isinstance(inner, TextTaskEnv):
        bound += max(0.0, spec.tool_success) * (inner.max_turns - 1)
    return bound + EPS


class CycleLedger:
    """Prefix sums of one episode's rewards, by state content: a repeat must not gain."""

    def __init__(self, key: str):
        self.total = 0.0
        self.lowest: dict[str, tuple[float, int]] = {key: (0.0, 0)}

    def record(self, key: str, reward: float, step: int, where: str) -> None:
        self.total += reward
        if key in self.lowest:
            before, at = self.lowest[key]
            gain = self.total - before
            assert gain <= EPS, f"{where}: the cycle from step {at} to {step} paid {gain}"
            if self.total < before:
                self.lowest[key] = (self.total, step)
        else:
            self.lowest[key] = (self.total, step)


def explore(env: gym.Env, seed: int) -> dict[str, int]:
    """Seeded adversarial episodes; asserts the cycle and one-solve rules on each."""
    rng = random.Random(seed)
    counts = {"steps": 0, "repeats": 0, "solved": 0}
    for episode in range(EPISODES):
        follow = 0.1 if episode % 2 else 0.7  # every other episode mostly solves, with detours
        env.reset(seed=seed + episode)
        pool = action_pool(env)  # after reset: text pools use the task's gold
        bound = one_solve_bound(env)
        ledger = CycleLedger(content_key(env))
        history: list[Any] = []
        for step in range(1, STEPS + 1):
            roll = rng.random()
            oracle = _oracle(env)
            if roll < follow and oracle is not None:
                action = oracle
            elif roll < follow + 0.2 and len(history) >= 2:
                action = history[-2]  # oscillate: a, b, a, b, ...
            elif roll < follow + 0.3 and history:
                action = history[-1]
            else:
                action = rng.choice(pool)
            history.append(action)
            key_count = len(ledger.lowest)
            _, reward, terminated, truncated, info = env.step(action)
            where = f"episode {episode} step {step} action {str(action)[:60]!r}"
            ledger.record(content_key(env), float(reward), step, where)
            counts["repeats"] += len(ledger.lowest) == key_count
            counts["steps"] += 1
            assert ledger.total <= bound, f"{where}: episode return {ledger.total} > {bound}"
            if terminated or truncated:
                counts["solved"] += bool(info["is_success"])
                break
    return counts


def hunt_two_cycles(env: gym.Env, seed: int, pairs: int = 150) -> int:
    """From a few reachable states, try action pairs (a, b) on snapshots; whenever b brings
    the content back, a + b must not have paid. Returns the number of 2-cycles found."""
    rng = random.Random(seed + 7)
    found = 0
    env.reset(seed=seed)
    pool = action_pool(env)
    for _ in range(3):
        start, key = env.unwrapped.get_state(), content_key(env)
        for _ in range(pairs):
            env.unwrapped.set_state(start)
            a, b = rng.choice(pool), rng.choice(pool)
            _, r1, te, tr, _ = env.step(a)
            if te or tr:
                continue
            _, r2, *_ = env.step(b)
            if content_key(env) == key:
                found += 1
                assert r1 + r2 <= EPS, f"{a!r} then {b!r} returned to the state and paid {r1 + r2}"
        env.unwrapped.set_state(start)
        _, _, te, tr, _ = env.step(rng.choice(pool))
        if te or tr:
            env.reset(seed=seed + 1)
    return found


@pytest.mark.parametrize(("env_id", "variant", "overrides"), CASES)
def test_cycles_never_pay_and_episodes_earn_one_solve_at_most(env_id, variant, overrides):
    env = gym.make(env_id, **overrides)
    try:
        seed = zlib.crc32(f"{env_id}:{variant}".encode()) % 10_000
        counts = explore(env, seed)
        counts["two_cycles"] = hunt_two_cycles(env, seed)
    finally:
        env.close()
    # the exploration must have met repeated states, or it proved nothing
    assert counts["repeats"] + counts["two_cycles"] > 0, counts


def test_cycle_ledger_catches_a_paying_cycle():
    """The ledger fails on a cycle that pays (so the property above can fail)."""
    ledger = CycleLedger("a")
    ledger.record("b", 0.1, 1, "x")
    with pytest.raises(AssertionError, match="cycle"):
        ledger.record("a", 0.1, 2, "x")  # a -> b -> a paid 0.2


def test_content_key_ignores_the_transcript_not_the_board():
    env = gym.make("reasongym/Maze-v0")
    try:
        env.reset(seed=0)
        before = content_key(env)
        env.step("hmm")  # a format error: the board and everything but the transcript stay
        assert content_key(env) == before
        legal = next(m for m in range(4) if env.unwrapped._is_legal(m))
        env.step(env.unwrapped.action_of_move(legal))
        assert content_key(env) != before
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ["reasongym/Maze-v0", "reasongym/SlidingPuzzleDiscrete-v0"])
def test_shaped_back_and_forth_pays_nothing(env_id):
    """With shaping on, a legal move and its inverse together pay only the step costs."""
    env = gym.make(env_id, reward={"shaping": True, "shaping_weight": 1.0, "per_step": -0.01})
    try:
        env.reset(seed=3)
        inner = env.unwrapped
        inverse = {0: 1, 1: 0, 2: 3, 3: 2}  # up/down, left/right in both puzzles
        for move in range(4):
            start = inner.get_state()
            if not inner._is_legal(move):
                continue
            _, r1, *_ = env.step(inner.action_of_move(move))
            _, r2, *_ = env.step(inner.action_of_move(inverse[move]))
            assert content_key(env) == content_key_of(inner, start)
            assert r1 + r2 == pytest.approx(-0.02)
            assert max(r1, r2) > 0 or min(r1, r2) < -0.01  # shaping did pay one way
            inner.set_state(start)
    finally:
        env.close()


def content_key_of(inner: Any, state: dict[str, Any]) -> str:
    saved = inner.get_state()
    try:
        inner.set_state(state)
        return content_key(inner)
    finally:
        inner.set_state(saved)


def test_repeated_tool_results_are_not_paid_again():
    """A call that only repeats an earlier call's result (same tool, same output) earns no
    more process reward: '1+1', '1+1 ', '(1+1)', '1 + 1' are one piece of work."""
    env = gym.make("reasongym/Arithmetic-v0", reward={"tool_success": 0.1}, max_turns=10)
    try:
        env.reset(seed=0)
        paid = [
            env.step(f'<tool name="calculator">{expr}</tool>')[1]
            for expr in ["1+1", "1+1 ", " 1+1", "(1+1)", "1 + 1", "2"]
        ]
    finally:
        env.close()
    assert paid[0] == pytest.approx(0.1)
    assert sum(paid) == pytest.approx(0.1), paid


def test_trivial_arc_answers_earn_no_partial_credit():
    """With ``partial_credit``, the answers a policy can give without reading the train pairs
    -- the test input copied, or one colour over the input's shape -- earn (almost) nothing."""
    from reasongym.envs.puzzles.arc import grid_text

    env = gym.make("reasongym/ARC-v0", reward={"partial_credit": True}, max_attempts=1)
    inner = env.unwrapped
    earned = []
    try:
        for index in range(0, 120, 6):
            env.reset(options={"task_index": index})
            test_input = inner.task[1]
            colour = int(np.bincount(np.asarray(test_input).ravel()).argmax())
            for grid in (test_input, np.full_like(np.asarray(test_input), colour).tolist()):
                env.reset(options={"task_index": index})
                earned.append(env.step(grid_text(grid))[1])
    finally:
        env.close()
    assert float(np.mean(earned)) < 0.05, float(np.mean(earned))


def test_constant_functions_earn_no_partial_credit():
    """A function that ignores its arguments and returns a constant solved nothing."""
    env = gym.make("reasongym/CodeProcedural-v0", sandbox={"backend": "process"}, max_attempts=1)
    inner = env.unwrapped
    earned = []
    try:
        for index in range(10):
            env.reset(options={"task_index": index})
            name = inner._state.task.meta["entry_point"]
            for constant in ("0", "False"):
                env.reset(options={"task_index": index})
                answer = f"def {name}(*args, **kwargs):\n    return {constant}\n"
                earned.append(env.step(f"<answer>\n{answer}</answer>")[1])
    finally:
        env.close()
    assert float(np.mean(earned)) < 0.05, float(np.mean(earned))


# -- constant answers per question form --------------------------------------------------------
FORM_TASKS = 600  # task indices scanned per id
FORM_MIN_GROUP = 30  # question forms with fewer tasks are not judged
FORM_MAX_SHARE = 0.25  # the most common gold of one form may be at most this share


def _question_form(question: str) -> str:
    """The question with its numbers taken out: what a policy can condition a constant on."""
    form = re.sub(r"\d+", "#", question)
    return re.sub(r"[-+*/#() ]{2,}", "#", form)


def _answer_ids() -> list[Any]:
    out = []
    for env_id in ENV_IDS:
        spec = gym.spec(env_id)
        if "puzzles" in str(spec.entry_point) or spec.kwargs.get("verifier", "math") not in (
            "math",
            "exact",
        ):
            continue
        out.append(pytest.param(env_id))
    return out


@pytest.mark.parametrize("env_id", _answer_ids())
def test_no_constant_answer_is_often_right_for_one_question_form(env_id):
    """A policy that answers the same constant to every question of one form (numbers aside)
    must not be right often: that reward is the generator's bias, not reasoning."""
    env = gym.make(env_id)
    inner = env.unwrapped
    forms: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    questions: dict[str, set[str]] = collections.defaultdict(set)
    try:
        for index in range(min(inner.num_tasks or FORM_TASKS, FORM_TASKS)):
            env.reset(options={"task_index": index})
            task = inner._state.task
            form = _question_form(task.question)
            forms[form][task.answer.strip()] += 1
            questions[form].add(task.question)
    finally:
        env.close()
    biased = []
    for form, golds in forms.items():
        total = sum(golds.values())
        gold, count = golds.most_common(1)[0]
        # One question drawn again and again (a mixture repeating a small set) is not a form
        # whose numbers vary: only forms with enough distinct questions are judged.
        distinct = len(questions[form])
        if distinct >= FORM_MIN_GROUP and count / total > FORM_MAX_SHARE:
            biased.append((form[:60], gold, round(count / total, 2), total))
    assert not biased, biased


# -- world models ------------------------------------------------------------------------------
def test_cycles_inside_a_fitted_world_model_never_pay(tmp_path):
    """The cycle rule holds inside a learned simulator too (what Dyna and planning train on):
    seeded random exploration, and from every step that paid without ending the episode an
    oscillation (that move, its inverse, ...) through the same boards."""
    pytest.importorskip("torch")
    from reasongym.world_models import WorldModelEnv
    from reasongym.world_models.collect import collect
    from reasongym.world_models.data import TransitionDataset
    from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig

    env_id = "reasongym/SlidingPuzzleDiscrete-v0"
    collect(env_id, "oracle:0.5", 3000, tmp_path / "train", seed=0)
    collect(env_id, "oracle:0.5", 600, tmp_path / "val", seed=10**6)
    data = TransitionDataset.load(tmp_path / "train")
    val = TransitionDataset.load(tmp_path / "val")
    model = GridDynamicsModel.for_dataset(data, GridModelConfig(epochs=6, seed=0))
    model.fit(data, val)
    env = WorldModelEnv(model, env_id)
    inverse = {0: 1, 1: 0, 2: 3, 3: 2}

    def key(obs: Any) -> str:  # the predicted board's content
        return np.asarray(obs).tobytes().hex()

    try:
        for stream in range(3):
            rng = np.random.default_rng(stream)
            for episode in range(40):
                obs, _ = env.reset(seed=episode)
                ledger = CycleLedger(key(obs))
                for step in range(1, 101):
                    state, move = env.get_state(), int(rng.integers(4))
                    obs, reward, terminated, truncated, _ = env.step(move)
                    ledger.record(key(obs), reward, step, f"stream {stream} episode {episode}")
                    if terminated or truncated:
                        break
                    if reward > 0:  # paid without ending: come back and take it again
                        after = env.get_state()
                        env.set_state(state)
                        loop = CycleLedger(key(env.observe()))
                        for turn in range(1, 11):
                            obs, r, te, tr, _ = env.step(move if turn % 2 else inverse[move])
                            loop.record(key(obs), r, turn, f"back and forth on move {move}")
                            if te or tr:
                                break
                        env.set_state(after)
    finally:
        env.close()
