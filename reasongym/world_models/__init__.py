"""World models: learned simulators of the environments, exposed as gymnasium envs.

* :mod:`~reasongym.world_models.data`: ``RecordTransitions`` (log any env to numpy/JSONL
  shards) and ``TransitionDataset`` (load, split by episode);
  :mod:`~reasongym.world_models.collect`: ``collect(env_id, policy, steps, out)``.
* Models (:class:`~reasongym.world_models.base.WorldModel`: ``fit``, batched ``predict``,
  ``save``/``load``): ``GridDynamicsModel`` (puzzles, torch), ``OutcomeModel`` (verdicts of
  text envs), ``PromptedWorldModel`` (a language model asked to predict).
* :class:`~reasongym.world_models.env.WorldModelEnv`: a model as a gymnasium env with the real
  env's spaces; SB3 and the search agents use it unchanged (:mod:`.planning`).
* :mod:`~reasongym.world_models.fidelity`: one-step and k-step accuracy, reward/termination
  precision and recall, AUROC and calibration, under distribution shift.
* :mod:`~reasongym.world_models.prefilter`: an ``OutcomeModel`` ranking best-of-N candidates
  so only the top ones run in the sandbox. Dyna lives in :mod:`reasongym.train.dyna`.

CLI: ``reasongym wm collect|train|eval`` and ``reasongym train dyna``. Nothing heavy is
imported here: torch loads with the model classes (``pip install 'reasongym[rl]'``).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "RecordTransitions": "reasongym.world_models.data",
    "TransitionDataset": "reasongym.world_models.data",
    "DatasetMeta": "reasongym.world_models.data",
    "collect": "reasongym.world_models.collect",
    "WorldModel": "reasongym.world_models.base",
    "load_world_model": "reasongym.world_models.base",
    "GridDynamicsModel": "reasongym.world_models.grid",
    "GridModelConfig": "reasongym.world_models.grid",
    "GridSpec": "reasongym.world_models.grid",
    "OutcomeModel": "reasongym.world_models.outcome",
    "OutcomeModelConfig": "reasongym.world_models.outcome",
    "PromptedWorldModel": "reasongym.world_models.prompted",
    "WorldModelEnv": "reasongym.world_models.env",
    "WorldModelState": "reasongym.world_models.env",
    "UniformActionLM": "reasongym.world_models.planning",
    "make_model_search_agent": "reasongym.world_models.planning",
    "dynamics_fidelity": "reasongym.world_models.fidelity",
    "outcome_fidelity": "reasongym.world_models.fidelity",
    "prefiltered_best_of_n": "reasongym.world_models.prefilter",
    "outcome_guidance": "reasongym.world_models.prefilter",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
