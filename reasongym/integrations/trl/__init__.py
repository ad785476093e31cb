"""TRL bridge (extra ``trl``): an env id is all ``GRPOTrainer`` needs.

    from trl import GRPOConfig, GRPOTrainer
    from reasongym.integrations import trl as rg

    trainer = GRPOTrainer(
        model=MODEL_DIR,                                    # any tool-capable chat model
        args=GRPOConfig(max_steps=100),
        train_dataset=rg.dataset("reasongym/Arithmetic-v0", range(512)),
        environment_factory=rg.environment_factory("reasongym/Arithmetic-v0"),
    )

* :func:`environment_factory`: the env as TRL's environment class (typed tools as methods,
  ``get_reward``); :func:`environment_factories` for mixed suites.
* :func:`dataset`: the env's tasks as a ``datasets.Dataset``.
* :func:`reward_function`: single-turn scoring for ``reward_funcs=``.
* :func:`tool_chat_template`: a tool-capable chat template TRL parses (for models without one).
"""

from __future__ import annotations

from reasongym.agents.models.smollm2 import tool_chat_template
from reasongym.integrations.trl.data import dataset, reward_function
from reasongym.integrations.trl.environment import (
    ReasonGymToolEnv,
    environment_factories,
    environment_factory,
)

__all__ = [
    "ReasonGymToolEnv",
    "dataset",
    "environment_factories",
    "environment_factory",
    "reward_function",
    "tool_chat_template",
]
