"""The env contract as the layers above it (agents, search, training) read it.

Agents, search and trainers talk to an env only through the contract on
:class:`reasongym.envs.base.ReasonEnv`: ``is_final(action)``, ``stop_strings``, ``tools``,
``num_tasks``, ``task_row(i)`` and ``reset(options={"task_index": i})``. This module is the one
place that reads them, so nothing above the envs needs to know an env's action grammar.

Each accessor takes a (possibly wrapped) env. Envs written before the contract was on
``ReasonEnv`` get a conservative fallback here (documented per function), so a third-party
env keeps working; reasongym's own envs answer themselves.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym


def _inner(env: Any) -> Any:
    return getattr(env, "unwrapped", env)


def stop_strings(env: Any | None) -> tuple[str, ...]:
    """Strings after which one completion holds one whole action (``env.stop_strings``).

    Envs without the attribute (and ``env=None``) get the text grammar's
    :data:`reasongym.envs.actions.STOP_STRINGS`.
    """
    inner = _inner(env) if env is not None else None
    stops = getattr(inner, "stop_strings", None) if inner is not None else None
    if stops is None:
        stops = _grammar_stop_strings()
    return tuple(str(s) for s in stops)


def _grammar_stop_strings() -> tuple[str, ...]:
    from reasongym.envs.actions import STOP_STRINGS

    return tuple(STOP_STRINGS)


def is_final(env: Any, action: Any) -> bool:
    """Would ``action`` end the episode if it were stepped now (``env.is_final(action)``)?

    Never raises: an env whose ``is_final`` fails on a hostile action answers False (the
    action is then executed like any other step, and the env grades it). Envs without
    ``is_final`` (envs that are not a ``ReasonEnv``) are asked by stepping a snapshot.
    """
    inner = _inner(env)
    method = getattr(inner, "is_final", None)
    try:
        if callable(method):
            return bool(method(action))
        return _fallback_is_final(inner, action)
    except Exception:  # noqa: BLE001 - a policy's action must never crash the search
        return False


def _fallback_is_final(inner: Any, action: Any) -> bool:
    """For envs without ``is_final``: step a snapshot and restore it; an env without
    snapshots is read with the text grammar (an answer is final)."""
    if not (
        callable(getattr(inner, "get_state", None)) and callable(getattr(inner, "set_state", None))
    ):
        from reasongym.envs.actions import Answer, parse_action

        return isinstance(parse_action(action), Answer)
    snapshot = inner.get_state()
    try:
        _, _, terminated, truncated, _ = inner.step(action)
    finally:
        inner.set_state(snapshot)
    return bool(terminated or truncated)


def max_turns(env: Any) -> int | None:
    """The episode's step limit: ``env.max_turns``, else the gymnasium spec's
    ``max_episode_steps`` (None when neither sets one)."""
    try:
        value = getattr(_inner(env), "max_turns", None)
    except Exception:  # noqa: BLE001 - a config without the key
        value = None
    if value is None:
        spec = getattr(env, "spec", None)
        value = getattr(spec, "max_episode_steps", None)
    return None if value is None else int(value)


def action_format(env: Any) -> str:
    """How the env reads actions: ``"native"`` (OpenAI-style tool calls) or ``"tags"`` (the
    text grammar; also the answer for envs that do not say)."""
    inner = _inner(env)
    value = getattr(inner, "action_format", None)
    if value is None:
        value = getattr(getattr(inner, "config", None), "action_format", None)
    return "native" if value == "native" else "tags"


def tools(env: Any) -> list[Any]:
    """The env's typed tools (``env.tools``: ``ToolSpec`` objects); ``[]`` when it has none."""
    specs = getattr(_inner(env), "tools", None)
    if not isinstance(specs, list | tuple):
        return []
    return [s for s in specs if callable(getattr(s, "to_openai", None))]


def openai_tools(env: Any) -> list[dict[str, Any]]:
    """The env's tools as OpenAI ``tools=[...]`` entries (``ToolSpec.to_openai()``)."""
    return [spec.to_openai() for spec in tools(env)]


def num_tasks(env: Any) -> int | None:
    """How many indexed tasks the env has (``env.num_tasks``); None: unbounded or unknown."""
    value = getattr(_inner(env), "num_tasks", None)
    return None if value is None else int(value)


def task_options(index: int) -> dict[str, Any]:
    """The ``reset`` options that select task ``index`` (every family honours them)."""
    return {"task_index": int(index)}


def check_task_indices(env: gym.Env, indices: list[int]) -> None:
    """Raise ``ValueError`` naming the valid range when an index is outside the env's tasks."""
    total = num_tasks(env)
    if total is None:
        return
    bad = [i for i in indices if not 0 <= i < total]
    if bad:
        raise ValueError(
            f"task index {bad[0]} is outside this env's {total} tasks; use indices in 0..{total - 1}"
        )
