"""The tasks a run trains and evaluates on: the env, held-out questions and the task split,
all through the env contract (``task_row``, ``reset(options={"task_index": i})``)."""

from __future__ import annotations

import logging
import random
import zlib
from dataclasses import dataclass
from typing import Any

from reasongym.train.run_config import TaskConfig, config_error

logger = logging.getLogger(__name__)


def make_env(config: TaskConfig):
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the ids

    return gym.make(config.env_id, **config.env_kwargs)


def question_of(env: Any, index: int) -> str:
    """The prompt of task ``index`` (what decides whether two tasks are the same), from the
    env contract's ``task_row``."""
    return str(env.unwrapped.task_row(index)["prompt"])


def held_out_question(question: str, percent: int) -> bool:
    """Stable (hash-based) choice of the questions that training never sees."""
    return zlib.crc32(question.encode("utf-8")) % 100 < percent


@dataclass
class TaskSplit:
    """Held-out evaluation tasks and a sampler of training tasks (none asks a held-out
    question, none is an eval index)."""

    eval_indices: list[int]
    unseen_indices: list[int]  # the eval tasks whose question training never sees
    config: TaskConfig
    env: Any

    @classmethod
    def build(cls, config: TaskConfig, env: Any) -> TaskSplit:
        eval_indices = list(range(config.eval_start, config.eval_start + config.eval_tasks))
        unseen = [
            i
            for i in eval_indices
            if held_out_question(question_of(env, i), config.holdout_question_percent)
        ]
        return cls(eval_indices, unseen, config, env)

    def sample_train(self, rng: random.Random, count: int) -> list[int]:
        """``count`` training task indices (rejecting held-out questions)."""
        out: list[int] = []
        tries = 0
        while len(out) < count:
            i = rng.randrange(self.config.train_start, 1 << 62)
            tries += 1
            if tries > 100 * count + 100:
                raise config_error(
                    "almost every training question is held out; lower holdout_question_percent"
                )
            if not held_out_question(
                question_of(self.env, i), self.config.holdout_question_percent
            ):
                out.append(i)
        return out
