"""``reasongym.tasks(env_id, ...)``: an env's tasks as plain rows for trainers and datasets.

Each row is ``{"prompt", "messages", "answer", "task_id", "task_index", "tools"}`` (the
``tools`` are OpenAI tool dicts), built by the env's own ``task_row(i)``, so the prompt is
exactly what ``reset(options={"task_index": i})`` shows. This is what TRL, verifiers and HF
``datasets.Dataset.from_list`` consume.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Largest number of rows ``tasks`` enumerates without explicit ``indices``.
MAX_ROWS_WITHOUT_INDICES = 100_000


def tasks(
    env_id: str,
    indices: Iterable[int] | range | slice | None = None,
    split: str | None = None,
    **env_kwargs: Any,
) -> list[dict[str, Any]]:
    """The tasks of ``env_id`` as plain rows.

    Args:
        env_id: a registered id, e.g. ``"reasongym/Math-v0"``.
        indices: which tasks (ints, a ``range`` or a ``slice``); default all of a finite task
            set. Unbounded (procedural) sets need explicit indices.
        split: passed to the env as its ``split`` keyword (envs whose config has one, e.g.
            ARC's ``training``/``evaluation``); an error for envs without splits.
        **env_kwargs: keyword overrides for ``gym.make`` (e.g. ``task={...}``).

    Returns:
        One row per index, in the order given.

    Raises:
        ValueError: the env has no ``split``, the task set is unbounded and no indices were
            given, or an index is out of range.
    """
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the built-in ids

    if split is not None:
        env_kwargs["split"] = split
    try:
        env = gym.make(env_id, **env_kwargs)
    except Exception as exc:
        if split is not None and "split" in str(exc):
            raise ValueError(
                f"{env_id} has no 'split' option; leave split=None (its tasks are one set)"
            ) from exc
        raise
    try:
        inner = env.unwrapped
        total = inner.num_tasks
        if isinstance(indices, slice):
            if total is None and indices.stop is None:
                raise ValueError(f"{env_id} has unbounded tasks: give a slice with a stop")
            indices = range(*indices.indices(total if total is not None else indices.stop))
        if indices is None:
            if total is None or total > MAX_ROWS_WITHOUT_INDICES:
                raise ValueError(
                    f"{env_id} has {'unbounded' if total is None else total} tasks; pass "
                    "indices=range(n) to choose which"
                )
            indices = range(total)
        return [inner.task_row(index) for index in indices]
    finally:
        env.close()
