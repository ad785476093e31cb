"""Behaviour policies for collecting transitions (``reasongym wm collect --policy ...``).

Specs:

* ``random``: uniform over the action space (seeded); text-mode puzzles: uniform over their
  moves, written as text.
* ``oracle``: the env's ``oracle_action()`` (puzzle solvers, the gold answer of text tasks).
* ``oracle:EPS``: the oracle, with a uniformly random action with probability ``EPS``
  (``oracle:0.5`` is a useful mix: goal-reaching episodes and off-path states).
* ``code-mutants`` / ``code-mutants:P``: for code tasks, the gold solution rewritten
  (renamed, reformatted) and, with probability ``P`` (default 0.6), with one bug planted
  (:mod:`reasongym.world_models.code_candidates`): candidates that pass and fail.
* a path to a Stable-Baselines3 ``.zip`` (PPO or DQN), sampled stochastically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

Policy = Callable[[Any, dict[str, Any]], Any]
POLICY_HELP = "random | oracle | oracle:EPS | code-mutants[:P] | PATH/to/sb3_model.zip"


def make_policy(spec: str, env: gym.Env, seed: int = 0) -> Policy:
    """A policy ``(obs, info) -> action`` acting in ``env`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    name, _, arg = spec.partition(":")
    if name == "random":
        return _random_actions(env, rng, spec)
    if name == "oracle":
        eps = _fraction(arg, spec) if arg else 0.0
        explore = _random_actions(env, rng, spec) if eps > 0 else None
        inner = env.unwrapped

        def oracle(obs: Any, info: dict[str, Any]) -> Any:
            if explore is not None and rng.random() < eps:
                return explore(obs, info)
            return inner.oracle_action()

        return oracle
    if name == "code-mutants":
        from reasongym.world_models.code_candidates import candidate_answer

        bug_rate = _fraction(arg, spec) if arg else 0.6
        inner = env.unwrapped

        def mutants(obs: Any, info: dict[str, Any]) -> str:
            task = getattr(getattr(inner, "_state", None), "task", None)  # the text env's task
            if task is None:
                raise RuntimeError("code-mutants: the env has no task; reset it first")
            return candidate_answer(task, rng, bug_rate)

        return mutants
    path = Path(spec)
    if path.suffix == ".zip" or path.exists():
        return _sb3_policy(path)
    raise ValueError(f"unknown policy {spec!r}; use {POLICY_HELP}")


def _random_actions(env: gym.Env, rng: np.random.Generator, spec: str) -> Policy:
    """Uniform actions: over the action space, or, for text actions, over the env's moves
    written as text (``action_of_move``: the text-mode puzzles)."""
    inner = env.unwrapped
    if isinstance(env.action_space, gym.spaces.Text):
        if not callable(getattr(inner, "action_of_move", None)):
            raise ValueError(
                f"{spec}: random actions over free text make no useful data; use oracle or "
                "code-mutants for text envs (text-mode puzzles sample their moves)"
            )
        moves = int(inner.num_actions)
        return lambda obs, info: inner.action_of_move(int(rng.integers(moves)))
    env.action_space.seed(int(rng.integers(2**31)))
    return lambda obs, info: env.action_space.sample()


def _fraction(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{spec}: expected a number in [0, 1] after ':'") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{spec}: {value} is not in [0, 1]")
    return value


def _sb3_policy(path: Path) -> Policy:
    if not path.exists():
        raise FileNotFoundError(f"no SB3 model at {path}")
    from stable_baselines3 import DQN, PPO

    model = None
    for cls in (PPO, DQN):
        try:
            model = cls.load(str(path), device="cpu")
            break
        except Exception:  # noqa: BLE001 - try the next algorithm's format
            continue
    if model is None:
        raise ValueError(f"{path} is not a Stable-Baselines3 PPO or DQN model")

    def act(obs: Any, info: dict[str, Any]) -> Any:
        action, _ = model.predict(obs, deterministic=False)
        return int(action) if np.ndim(action) == 0 else action

    return act
