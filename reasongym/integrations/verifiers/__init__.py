"""verifiers bridge (extra ``verifiers``), installed as the verifiers taskset id ``reasongym-env``
(the top-level module ``reasongym_env`` re-exports this one).

``vf-eval reasongym-env --env.taskset.env-id reasongym/Math-v0 --env.taskset.num-tasks 8 ...``
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
