"""``check_contract(env)``: test one env against every rule of the ``ReasonEnv`` contract.

The rules are written once, in :mod:`reasongym.envs.base`; this module checks them on a live
env, so the registry-generated tests (``tests/test_contract.py``) hold every registered id
(and any third-party ``ReasonEnv``) to the same contract. It collects every violation and
raises one :class:`ContractViolation` listing them all.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import data_equivalence

from reasongym.envs.base import ReasonEnv

COMMON_INFO_KEYS = ("task_id", "turn", "verdict", "is_success")


class ContractViolation(AssertionError):
    """An env broke one or more rules of the contract; ``problems`` lists them."""

    def __init__(self, env_name: str, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{env_name} breaks the ReasonEnv contract:\n{lines}")


def check_contract(env: gym.Env, *, seed: int = 0, use_oracle: bool = True) -> None:
    """Check every rule of the contract on ``env`` (wrapped or not).

    Args:
        env: the env; it is reset and stepped (its episode afterwards is arbitrary).
        seed: the seed of the rollouts.
        use_oracle: also play the env's oracle (if it has one) to check that solving pays
            once and that ``is_final`` foresees the end.

    Raises:
        ContractViolation: listing every broken rule.
    """
    inner = env.unwrapped
    name = getattr(getattr(inner, "spec", None), "id", None) or type(inner).__name__
    problems: list[str] = []
    if not isinstance(inner, ReasonEnv):
        raise ContractViolation(name, [f"{type(inner).__name__} is not a ReasonEnv"])
    checks = (
        _check_attributes,
        _check_reset_options,
        _check_task_index_is_deterministic,
        _check_step_limit_and_after_end,
        _check_state_round_trip,
        _check_task_row,
    )
    for check in checks:
        try:
            check(inner, seed, problems)
        except Exception as exc:  # noqa: BLE001 - a crash is itself a violation
            problems.append(f"{check.__name__[7:]} raised {type(exc).__name__}: {exc}")
    if use_oracle:
        try:
            _check_oracle_episode(inner, seed, problems)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"oracle_episode raised {type(exc).__name__}: {exc}")
    if problems:
        raise ContractViolation(name, problems)


# -- the rules -------------------------------------------------------------------------------
def _check_attributes(env: ReasonEnv, seed: int, problems: list[str]) -> None:
    stops = env.stop_strings
    if not (isinstance(stops, tuple) and stops and all(isinstance(s, str) and s for s in stops)):
        problems.append(f"stop_strings must be a non-empty tuple of strings, got {stops!r}")
    if not (isinstance(env.max_turns, int) and env.max_turns >= 1):
        problems.append(f"max_turns must be an int >= 1, got {env.max_turns!r}")
    total = env.num_tasks
    if total is not None and not (isinstance(total, int) and total >= 1):
        problems.append(f"num_tasks must be None or an int >= 1, got {total!r}")
    names = set()
    for spec in env.tools:
        tool = spec.to_openai()
        function = tool.get("function", {})
        params = function.get("parameters", {})
        if tool.get("type") != "function" or not function.get("name"):
            problems.append(f"tool {spec!r} does not render as an OpenAI function tool")
        if params.get("type") != "object":
            problems.append(
                f"tool {function.get('name')!r}: parameters must be a JSON Schema object"
            )
        if not callable(spec.fn):
            problems.append(f"tool {function.get('name')!r} has no callable")
        names.add(function.get("name"))
    if len(names) != len(env.tools):
        problems.append("two tools share a name")


def _check_reset_options(env: ReasonEnv, seed: int, problems: list[str]) -> None:
    bad: list[tuple[Any, type[Exception]]] = [
        ("notadict", TypeError),
        ({"task_index": 1.5}, TypeError),
        ({"task_index": True}, TypeError),
        ({"task_index": "0"}, TypeError),
        ({"task_index": -1}, ValueError),
        ({"task_idx": 0}, ValueError),
    ]
    if env.num_tasks is not None:
        bad.append(({"task_index": env.num_tasks}, ValueError))
    for options, expected in bad:
        try:
            env.reset(seed=seed, options=options)
        except expected:
            continue
        except Exception as exc:  # noqa: BLE001
            problems.append(
                f"reset(options={options!r}) raised {type(exc).__name__}, expected "
                f"{expected.__name__}"
            )
            continue
        problems.append(
            f"reset(options={options!r}) was accepted; it must raise {expected.__name__}"
        )
    obs, info = env.reset(seed=seed)
    _check_info(env, info, problems, "reset", turn=0)
    if info.get("verdict") is not None or info.get("is_success") is not False:
        problems.append("reset info must have verdict None and is_success False")
    if not env.observation_space.contains(obs):
        problems.append("the reset observation is outside observation_space")


def _check_task_index_is_deterministic(env: ReasonEnv, seed: int, problems: list[str]) -> None:
    index = 1 if (env.num_tasks or 2) > 1 else 0
    obs_a, info_a = env.reset(seed=seed, options={"task_index": index})
    obs_b, info_b = env.reset(seed=seed + 1, options={"task_index": index})
    obs_c, info_c = env.reset(options={"task_index": np.int64(index)})
    if not (data_equivalence(obs_a, obs_b) and data_equivalence(obs_a, obs_c)):
        problems.append(f"reset(options={{'task_index': {index}}}) depends on the seed")
    if not info_a["task_id"] == info_b["task_id"] == info_c["task_id"]:
        problems.append("the same task_index gave different task_ids")
    obs_d, _ = env.reset(seed=seed)
    obs_e, _ = env.reset(seed=seed)
    if not data_equivalence(obs_d, obs_e):
        problems.append("two resets with the same seed gave different observations")


def _filler_actions(env: ReasonEnv, seed: int, n: int) -> list[Any]:
    """Actions that do not solve the task: format errors in text modes, samples otherwise."""
    if isinstance(env.action_space, gym.spaces.Discrete):
        env.action_space.seed(seed)
        return [env.action_space.sample() for _ in range(n)]
    return ["I am still thinking about it."] * n


def _check_step_limit_and_after_end(env: ReasonEnv, seed: int, problems: list[str]) -> None:
    env.reset(seed=seed)
    limit = env.max_turns
    ended_at, flags = None, (False, False)
    for turn, action in enumerate(_filler_actions(env, seed, limit), 1):
        obs, reward, terminated, truncated, info = env.step(action)
        _check_step(env, obs, reward, info, problems, f"step {turn}", turn)
        if terminated or truncated:
            ended_at, flags = turn, (terminated, truncated)
            break
    if ended_at is None:
        problems.append(f"no end after max_turns={limit} steps")
        return
    if flags == (False, True) and ended_at != limit:
        problems.append(f"truncated after {ended_at} steps, but max_turns is {limit}")
    if flags[0] and flags[1]:
        problems.append("terminated and truncated both set on one step")
    _check_after_end(env, flags, seed, problems)


def _check_after_end(
    env: ReasonEnv, flags: tuple[bool, bool], seed: int, problems: list[str]
) -> None:
    before = env.get_state()
    actions: list[Any] = _filler_actions(env, seed, 1)
    try:
        actions.append(env.oracle_action())
    except Exception:  # noqa: BLE001 - no oracle (or none after the end): fillers only
        pass
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        if reward != 0.0:
            problems.append(f"a step after the end paid {reward}")
        if (terminated, truncated) != flags:
            problems.append(
                f"a step after the end returned terminated={terminated}, truncated={truncated}; "
                f"the ending step said {flags}"
            )
        if not info.get("episode_over"):
            problems.append("a step after the end must set info['episode_over']")
        _check_info(env, info, problems, "after the end", turn=None)
        if not env.observation_space.contains(obs):
            problems.append("the after-end observation is outside observation_space")
        if env.is_final(action) is not True:
            problems.append("is_final must be True after the end")
    if not data_equivalence(before, env.get_state()):
        problems.append("a step after the end changed the env's state")


def _check_state_round_trip(env: ReasonEnv, seed: int, problems: list[str]) -> None:
    env.reset(seed=seed)
    action = _filler_actions(env, seed, 1)[0]
    state = env.get_state()
    try:
        pickle.loads(pickle.dumps(state))
    except Exception as exc:  # noqa: BLE001
        problems.append(f"get_state() is not picklable: {exc}")
    first = env.step(action)
    env.set_state(state)
    second = env.step(action)
    if not data_equivalence(first[:4], second[:4]):
        problems.append("set_state(get_state()) did not restore the episode")
    env.set_state(state)
    snapshot = env.get_state()
    final = env.is_final(action)
    if not isinstance(final, bool):
        problems.append(f"is_final returned {type(final).__name__}, not bool")
    if not data_equivalence(snapshot, env.get_state()):
        problems.append("is_final changed the env's state")


def _check_task_row(env: ReasonEnv, seed: int, problems: list[str]) -> None:
    env.reset(seed=seed)
    env.step(_filler_actions(env, seed, 1)[0])
    before = env.get_state()
    row = env.task_row(0)
    if not data_equivalence(before, env.get_state()):
        problems.append("task_row changed the current episode")
    keys = {"prompt", "messages", "answer", "task_id", "task_index", "tools"}
    if set(row) != keys:
        problems.append(f"task_row keys are {sorted(row)}, expected {sorted(keys)}")
        return
    if not isinstance(row["prompt"], str) or row["task_index"] != 0:
        problems.append("task_row: prompt must be a string and task_index the index asked for")
    if row["messages"] != [{"role": "user", "content": row["prompt"]}]:
        problems.append("task_row: messages must be the one user message of the prompt")
    _, info = env.reset(options={"task_index": 0})
    if row["task_id"] != info["task_id"]:
        problems.append("task_row(0) and reset(options={'task_index': 0}) disagree on task_id")
    if row["tools"] != [spec.to_openai() for spec in env.tools]:
        problems.append("task_row tools must be the env's tools as OpenAI dicts")


def _check_oracle_episode(env: ReasonEnv, seed: int, problems: list[str]) -> None:
    env.reset(seed=seed)
    try:
        env.oracle_action()
    except NotImplementedError:
        return
    total, paid_steps, flags = 0.0, 0, (False, False)
    for _ in range(env.max_turns):
        action = env.oracle_action()
        foreseen = env.is_final(action)
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        paid_steps += reward > 0
        if (terminated or truncated) and not foreseen:
            problems.append("is_final said False for the action that ended the episode")
        if terminated or truncated:
            flags = (terminated, truncated)
            break
    if flags[0] and not info["is_success"]:
        problems.append("the oracle's episode ended without is_success")
    if flags != (False, False):
        _check_after_end(env, flags, seed, problems)


# -- shared assertions -------------------------------------------------------------------------
def _check_info(
    env: ReasonEnv, info: dict[str, Any], problems: list[str], where: str, turn: int | None
) -> None:
    missing = [key for key in COMMON_INFO_KEYS if key not in info]
    if missing:
        problems.append(f"{where}: info lacks {missing}")
        return
    if not isinstance(info["task_id"], str) or not info["task_id"]:
        problems.append(f"{where}: info['task_id'] must be a non-empty string")
    if turn is not None and info["turn"] != turn:
        problems.append(f"{where}: info['turn'] is {info['turn']}, expected {turn}")
    if info["verdict"] is not None and not isinstance(info["verdict"], dict):
        problems.append(f"{where}: info['verdict'] must be a dict or None")
    if not isinstance(info["is_success"], bool):
        problems.append(f"{where}: info['is_success'] must be a bool")
    if "format_error" in info and not isinstance(info["format_error"], str):
        problems.append(f"{where}: info['format_error'] must be the message (a string)")


def _check_step(
    env: ReasonEnv, obs: Any, reward: Any, info: dict, problems: list[str], where: str, turn: int
) -> None:
    _check_info(env, info, problems, where, turn)
    if not isinstance(reward, float) or not math.isfinite(reward):
        problems.append(f"{where}: reward {reward!r} must be a finite float")
    if not env.observation_space.contains(obs):
        problems.append(f"{where}: observation outside observation_space")
