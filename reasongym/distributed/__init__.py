"""Scale-out beyond one process: rollout workers on Ray (``pip install 'reasongym[ray]'``).

```python
from reasongym.distributed import run_ray

run = run_ray("reasongym/HumanEval-v0", agent="oracle", episodes=164, workers=4)
print(run.summary.success_rate, run.worker_failures, run.retried)
```

* :func:`run_ray`: ``reasongym run`` on a Ray cluster (or a local instance); returns a
  :class:`DistributedRun` with the same :class:`~reasongym.evaluation.RunSummary` and every
  episode's :class:`Trajectory`.
* :class:`RayRolloutPool`: long-lived rollout actors for repeated runs (training loops).
* :class:`RolloutWorker`: the envs and agents a worker owns; runs without Ray too.

``ray`` is imported only when a pool is made. On one machine, gymnasium's vector envs are
often enough (``docs/scale.md``).
"""

from reasongym.distributed.ray_runner import (
    RayRolloutPool,
    RolloutError,
    init_ray,
    run_ray,
    summarize,
)
from reasongym.distributed.types import (
    DistributedRun,
    EpisodeOutcome,
    EpisodeSpec,
    Step,
    Trajectory,
    episode_specs,
    merge_stats,
)
from reasongym.distributed.worker import RolloutWorker, WorkerConfig

__all__ = [
    "DistributedRun",
    "EpisodeOutcome",
    "EpisodeSpec",
    "RayRolloutPool",
    "RolloutError",
    "RolloutWorker",
    "Step",
    "Trajectory",
    "WorkerConfig",
    "episode_specs",
    "init_ray",
    "merge_stats",
    "run_ray",
    "summarize",
]
