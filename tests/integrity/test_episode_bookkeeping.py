"""Episode bookkeeping under pressure, at every registered id: ends, seeds, options, limits.

What tests/test_contract.py does not already hold every id to:

* **after the end**, by every way an episode ends (solved, out of attempts, out of turns),
  *any* further action -- the oracle's, tool calls, native calls, the typed tools' own
  callables -- pays 0.0, keeps the flags and changes nothing in ``get_state``;
* a **bad reset** (bad seed, bad options) raises and leaves the running episode as it was;
  huge seeds and ``None`` work, and the same huge seed poses the same task;
* **max_turns edges**: with ``max_turns=1`` the first step ends the episode, and a right
  answer on the last turn is paid and *terminates* (it is not lost to truncation);
* **vector envs**: the autoreset step after an episode's end pays nothing, and no sub-env
  episode returns more than one solve;
* **curricula** (reasongym/envs/curriculum.py): which schedules a policy can move by failing on
  purpose (only ``demote_below`` moves a level down), and asking ``is_final`` about a solving
  move does not count an episode.
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import SyncVectorEnv

import reasongym
from reasongym.envs.actions import Answer, ToolCall
from reasongym.envs.curriculum import Curriculum, CurriculumSpec
from reasongym.envs.puzzles.base import PuzzleEnv
from reasongym.envs.text import TextTaskEnv

ENV_IDS = sorted(reasongym.list_envs())


def _sandboxed(env_id: str) -> bool:
    kwargs = gym.spec(env_id).kwargs
    return kwargs.get("verifier") == "code_tests" or "python" in kwargs.get("tools", [])


QUICK_IDS = [env_id for env_id in ENV_IDS if not _sandboxed(env_id)]
SWEEP_IDS = [
    pytest.param(env_id, marks=pytest.mark.slow) if _sandboxed(env_id) else env_id
    for env_id in ENV_IDS
]


def _discrete(env: gym.Env) -> bool:
    return isinstance(env.action_space, spaces.Discrete)


def _filler(env: gym.Env) -> Any:
    return 0 if _discrete(env) else "I am still thinking."


def _oracle(env: gym.Env) -> Any | None:
    try:
        return env.unwrapped.oracle_action()
    except Exception:  # noqa: BLE001 - none, or none after the end
        return None


def after_end_actions(env: gym.Env, oracle: Any) -> list[Any]:
    """Everything a policy could send once the episode is over."""
    if _discrete(env):
        return [oracle, 0, int(env.action_space.n) - 1, np.int64(1)]
    out: list[Any] = [
        oracle,
        "<answer>1</answer>",
        "\\boxed{1}",
        '<tool name="calculator">1+1</tool>',
        '<tool name="python">print(1)</tool>',
        '{"name": "submit_answer", "arguments": {"answer": "1"}}',
        {"name": "submit_answer", "arguments": {"answer": "1"}},
        {"name": "move", "arguments": {"move": "up"}},
        "up",
        "",
    ]
    if isinstance(env.unwrapped, TextTaskEnv):
        out += [Answer("1"), ToolCall("calculator", "1+1")]
    return out


def _end_by(env: gym.Env, how: str) -> tuple[bool, bool] | None:
    """End the episode by solving, by running out of attempts, or by running out of turns;
    the ``(terminated, truncated)`` of the ending step (None if this way does not apply)."""
    env.reset(seed=5)
    inner = env.unwrapped
    for _ in range(inner.max_turns + 1):
        if how == "solve":
            action = _oracle(env)
            if action is None:
                return None
        elif how == "attempts":
            if _discrete(env) or isinstance(inner, PuzzleEnv):
                return None  # puzzles have no attempts
            action = "<answer>-123456789</answer>"
        else:
            action = _filler(env)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            if how == "solve" and not info["is_success"]:
                return None  # e.g. a puzzle whose oracle ran out of turns
            return bool(terminated), bool(truncated)
    raise AssertionError(f"no end after max_turns steps ({how})")


@pytest.mark.parametrize("how", ["solve", "attempts", "turns"])
@pytest.mark.parametrize("env_id", SWEEP_IDS)
def test_nothing_is_paid_or_changed_after_any_end(env_id, how):
    env = gym.make(env_id)
    try:
        flags = _end_by(env, how)
        if flags is None:
            pytest.skip(f"{env_id} does not end by {how}")
        inner = env.unwrapped
        before = inner.get_state()
        oracle = _oracle(env)
        for action in after_end_actions(env, oracle):
            obs, reward, terminated, truncated, info = env.step(action)
            label = str(action)[:60]
            assert reward == 0.0, (label, reward)
            assert (terminated, truncated) == flags, label
            assert info.get("episode_over") is True, label
            assert inner.is_final(action) is True, label
            assert env.observation_space.contains(obs), label
        for spec in inner.tools:  # the typed tools' callables are a way in too
            args = {key: "1" for key in spec.parameters.get("properties", {})}
            spec.fn(**args)
        assert data_equivalence(before, inner.get_state()), "a step after the end changed state"
    finally:
        env.close()


# -- bad resets ----------------------------------------------------------------------------
BAD_SEEDS = [-1, 1.5, "3", np.int64(5), [1], {"seed": 1}]
BAD_OPTIONS = [
    {"task_index": 2**70},
    {"task_index": np.float64(1.0)},
    {"task_index": None},
    {"task_index": 1, "level": 0},
    {"seed": 1},
    [("task_index", 1)],
    "task_index=1",
    {"task_index": np.array([1])},
    {"task_index": -(2**70)},
    {"task_index": np.uint64(2**63)},
    {"task_index": float("nan")},
]


@pytest.mark.parametrize("env_id", QUICK_IDS)
def test_a_bad_reset_raises_and_changes_nothing(env_id):
    env = gym.make(env_id)
    try:
        env.reset(seed=1)
        env.step(_filler(env))
        inner = env.unwrapped
        before = inner.get_state()
        for seed in BAD_SEEDS:
            with pytest.raises((TypeError, ValueError, gym.error.Error)):
                env.reset(seed=seed)
            assert data_equivalence(before, inner.get_state()), f"reset(seed={seed!r})"
        for options in BAD_OPTIONS:
            with pytest.raises((TypeError, ValueError)):
                env.reset(seed=2, options=options)
            assert data_equivalence(before, inner.get_state()), f"reset(options={options!r})"
        # the running episode goes on exactly as it would have
        state = inner.get_state()
        first = env.step(_filler(env))
        inner.set_state(state)
        assert data_equivalence(first[:4], env.step(_filler(env))[:4])
    finally:
        env.close()


@pytest.mark.parametrize("env_id", QUICK_IDS)
def test_huge_and_none_seeds(env_id):
    env = gym.make(env_id)
    try:
        huge = 2**128 + 7
        _, a = env.reset(seed=huge)
        _, b = env.reset(seed=huge)
        assert a["task_id"] == b["task_id"]
        _, c = env.reset(seed=None)
        assert isinstance(c["task_id"], str) and c["turn"] == 0
    finally:
        env.close()


# -- max_turns edges -------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", QUICK_IDS)
def test_one_turn_episodes_end_on_the_first_step(env_id):
    env = gym.make(env_id, max_turns=1)
    try:
        env.reset(seed=0)
        assert env.unwrapped.is_final(_filler(env)) is True
        _, reward, terminated, truncated, _ = env.step(_filler(env))
        assert terminated != truncated  # exactly one
        assert reward <= 0.0
        assert env.step(_filler(env))[1] == 0.0
    finally:
        env.close()


def _one_step_solvers() -> list[str]:
    """Ids whose oracle solves in one action (text and ARC answers)."""
    out = []
    for env_id in QUICK_IDS:
        entry = str(gym.spec(env_id).entry_point)
        if "puzzles" not in entry or "arc" in entry:
            out.append(env_id)
    return out


@pytest.mark.parametrize("env_id", _one_step_solvers())
def test_a_right_answer_on_the_last_turn_is_paid_and_terminates(env_id):
    env = gym.make(env_id, max_turns=2)
    try:
        env.reset(seed=0)
        env.step(_filler(env))
        oracle = env.unwrapped.oracle_action()
        _, reward, terminated, truncated, info = env.step(oracle)
        assert info["is_success"] and terminated and not truncated
        assert reward == pytest.approx(env.unwrapped.config.reward.correct + _step_cost(env))
    finally:
        env.close()


def _step_cost(env: gym.Env) -> float:
    return float(env.unwrapped.config.reward.per_step)


def test_a_time_limit_truncation_is_the_end_too():
    env = gym.make("reasongym/Arithmetic-v0", max_episode_steps=1)
    try:
        env.reset(seed=0)
        assert env.step("hmm")[3]  # truncated by the TimeLimit
        _, reward, _, _, info = env.step(env.unwrapped.oracle_action())
    finally:
        env.close()
    assert reward == 0.0 and info.get("episode_over"), (reward, info.get("is_success"))


# -- vector envs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "env_id", ["reasongym/MazeDiscrete-v0", "reasongym/Arithmetic-v0", "reasongym/ARC-v0"]
)
def test_vector_autoreset_steps_pay_nothing_and_episodes_one_solve(env_id):
    n = 2
    vec = SyncVectorEnv([lambda: gym.make(env_id)] * n)
    try:
        vec.reset(seed=4)
        correct = vec.envs[0].unwrapped.config.reward.correct
        returns, ended, episodes = np.zeros(n), np.zeros(n, bool), 0
        for step in range(60):
            chosen = [_oracle(e) for e in vec.envs]  # None on a solved (not yet reset) env
            chosen = [
                _filler(e) if a is None or step % 3 == 2 else a  # mix in non-solving steps
                for e, a in zip(vec.envs, chosen, strict=True)
            ]
            actions = np.asarray(chosen) if _discrete(vec.envs[0]) else tuple(chosen)
            _, rewards, terms, truncs, _ = vec.step(actions)
            for i in range(n):
                if ended[i]:  # this step was the autoreset: nothing is paid
                    assert rewards[i] == 0.0, (step, i, rewards[i])
                    returns[i] = 0.0
                returns[i] += rewards[i]
                assert returns[i] <= correct + 1e-9, (step, i, returns[i])
            ended = np.logical_or(terms, truncs)
            episodes += int(ended.sum())
        assert episodes >= n  # the rollout did cross episode ends
    finally:
        vec.close()


# -- curricula ---------------------------------------------------------------------------------
def _levels(spec: CurriculumSpec, outcomes: list[bool]) -> list[int]:
    curriculum = Curriculum(spec)
    out = []
    for success in outcomes:
        curriculum.end_episode(success)
        out.append(curriculum.level)
    return out


def test_only_a_demoting_curriculum_can_be_moved_down_by_failing():
    """What a policy can do to its level by failing on purpose (the reward per solve is the
    same at every level, so an easier level is an easier reward):

    * ``episodes``: nothing -- the level follows the episode count;
    * ``success_rate``: it can *hold* a level (stay below ``promote_at``), never lower it;
    * ``success_rate`` with ``demote_below``: it can lower it (that is what demotion is for).
    """
    fail, win = [False] * 40, [True] * 40
    by_count = CurriculumSpec(levels=[1, 2, 3], episodes_per_level=10)
    assert _levels(by_count, fail) == _levels(by_count, win)
    rate = CurriculumSpec(levels=[1, 2, 3], schedule="success_rate", window=5, start_level=1)
    assert min(_levels(rate, fail)) == 1  # held, not lowered
    assert _levels(rate, win)[-1] == 2
    demoting = rate.model_copy(update={"demote_below": 0.3})
    assert _levels(demoting, fail)[-1] == 0


def test_is_final_and_task_row_do_not_count_episodes():
    """Asking whether a solving move ends the episode steps a snapshot; the curriculum
    (part of the snapshot) must not count that probe as a finished episode."""
    env = gym.make(
        "reasongym/SlidingPuzzleDiscrete-v0",
        curriculum={"levels": [{"scramble": 2}, {"scramble": 6}], "episodes_per_level": 1},
    )
    try:
        env.reset(seed=0)
        inner = env.unwrapped
        before = inner.get_state()
        for _ in range(5):
            inner.is_final(inner.oracle_action())
            inner.task_row(3)
        assert data_equivalence(before, inner.get_state())
        _, info = env.reset(seed=1)
        assert info["curriculum"]["episodes"] == 0 and info["curriculum"]["level"] == 0
    finally:
        env.close()


def test_native_after_end_is_json_too():
    """A JSON-string call after the end of a native-format text env pays nothing either."""
    env = gym.make("reasongym/Arithmetic-v0", action_format="native", max_turns=1)
    try:
        env.reset(seed=0)
        env.step("{}")
        call = json.dumps({"name": "submit_answer", "arguments": {"answer": "1"}})
        assert env.step(call)[1] == 0.0
        assert env.step(env.unwrapped.oracle_action())[1] == 0.0
    finally:
        env.close()
