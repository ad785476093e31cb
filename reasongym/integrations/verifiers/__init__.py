"""verifiers bridge (extra ``verifiers``): this module is a verifiers taskset id.

``vf-eval reasongym.integrations.verifiers --env.taskset.env-id reasongym/Math-v0 ...``
loads :class:`ReasonGymTaskset`, plays each task with :class:`ReasonGymEnv` and, unless
another harness is pinned, answers with :class:`ReasonGymChatHarness` (see ``taskset.py``).
"""

from reasongym.integrations.verifiers.taskset import (
    ReasonGymChatHarness,
    ReasonGymChatHarnessConfig,
    ReasonGymData,
    ReasonGymEnv,
    ReasonGymEnvConfig,
    ReasonGymTask,
    ReasonGymTaskset,
    ReasonGymTasksetConfig,
)

__all__ = [
    "ReasonGymChatHarness",
    "ReasonGymChatHarnessConfig",
    "ReasonGymData",
    "ReasonGymEnv",
    "ReasonGymEnvConfig",
    "ReasonGymTask",
    "ReasonGymTaskset",
    "ReasonGymTasksetConfig",
]
