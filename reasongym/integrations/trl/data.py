"""Task datasets and a single-turn reward function for TRL, from an env id."""

from __future__ import annotations

from typing import Any

from reasongym.integrations import contract
from reasongym.integrations.trl.environment import _env_kwargs


def dataset(
    env_id: str,
    indices: list[int] | range | None = None,
    *,
    multi_turn: bool = True,
    environment: str | None = None,
    **env_kwargs: Any,
):
    """A ``datasets.Dataset`` of the env's tasks, one row per task index.

    Args:
        env_id: a registered id.
        indices: task indices (required for procedural envs; default: every task).
        multi_turn: True (for ``environment_factory``): ``prompt`` is an empty user turn that
            the environment's ``reset`` fills with the task. False (for ``reward_funcs=``):
            ``prompt`` already poses the task.
        environment: the name of this env in a mixed suite (adds the ``environment`` column
            TRL's dict ``environment_factory`` selects by).
        **env_kwargs: ``gym.make`` keyword arguments.

    Columns: ``prompt``, ``task_index``, ``task_id``, ``answer`` (for reward functions; never
    shown to the policy), and ``environment`` when given.
    """
    from datasets import Dataset

    kwargs = _env_kwargs(env_id, env_kwargs) if multi_turn else dict(env_kwargs)
    rows = contract.task_rows(env_id, None if indices is None else list(indices), **kwargs)
    records = []
    for row in rows:
        if multi_turn:
            prompt = [{"role": "user", "content": ""}]
        else:
            prompt = [dict(m) for m in row["messages"]]
        record = {
            "prompt": prompt,
            "task_index": int(row["task_index"]),
            "task_id": str(row["task_id"]),
            "answer": str(row.get("answer", "")),
        }
        if environment is not None:
            record["environment"] = environment
        records.append(record)
    return Dataset.from_list(records)


def reward_function(env_id: str, **env_kwargs: Any):
    """A TRL reward function (``reward_funcs=[...]``) that scores single-turn completions.

    Each completion is stepped once, as the final action, in a fresh episode of its row's
    task (``task_index`` column), and earns that step's reward: the env's verifier decides,
    with the same format rules as ``gym.make(env_id)``.
    """
    import gymnasium as gym

    import reasongym  # noqa: F401

    kwargs = dict(env_kwargs)
    pool: list[Any] = []

    def reasongym_reward(
        completions: list[Any], task_index: list[int] | None = None, **_columns: Any
    ) -> list[float]:
        if task_index is None:
            raise ValueError(
                f"reward_function({env_id!r}) needs the dataset's task_index column "
                f"(reasongym.integrations.trl.dataset({env_id!r}, multi_turn=False) has it)"
            )
        if not pool:
            pool.append(gym.make(env_id, **kwargs))
        env = pool[0]
        rewards = []
        for completion, index in zip(completions, task_index, strict=True):
            env.reset(seed=int(index), options={"task_index": int(index)})
            _, reward, _, _, _ = env.step(_completion_text(completion))
            rewards.append(float(reward))
        return rewards

    reasongym_reward.__name__ = f"reasongym_{env_id.split('/')[-1].replace('-', '_')}"
    return reasongym_reward


def _completion_text(completion: Any) -> str:
    """The text of a standard (str) or conversational (list of messages) completion."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        for message in reversed(completion):
            if isinstance(message, dict) and message.get("role") == "assistant":
                content = message.get("content")
                if isinstance(content, list):
                    return "".join(b.get("text", "") for b in content if isinstance(b, dict))
                return str(content or "")
    return str(completion)
