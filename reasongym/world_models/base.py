"""The ``WorldModel`` interface: a learned (or prompted) simulator of one environment.

A world model maps a batch of (observation, action) pairs to the environment's reply::

    next_obs, reward, terminated = model.predict(obs, actions)

Shapes: for array envs ``obs`` is ``(B, *obs_shape)`` and ``actions`` is ``(B,)``, and the
answer is ``(B, *obs_shape)``, ``(B,)`` float and ``(B,)`` bool; for text envs ``obs`` and
``actions`` are lists of ``B`` strings and ``next_obs`` a list of strings.

``markov`` says what a model conditions on. Grid dynamics models are Markov: they predict from
the latest observation. Outcome models are not: they judge an answer against the *task*, so
:class:`~reasongym.world_models.env.WorldModelEnv` keeps feeding them the episode's first
observation (the prompt).

A model saves to a folder (``model.json`` naming its ``kind``, plus weights) and
:func:`load_world_model` loads any kind back.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reasongym.world_models.data import TransitionDataset

Prediction = tuple[Any, np.ndarray, np.ndarray]
"""``(next_obs, reward (B,) float64, terminated (B,) bool)``."""


class WorldModel(ABC):
    """A simulator of one environment (see the module docstring).

    Attributes:
        kind: the name ``model.json`` records, for :func:`load_world_model`.
        markov: predicts from the latest observation (True) or from the episode's first one.
        env_id: the id of the environment it simulates (None if unknown).
        env_kwargs: the ``gym.make`` overrides of that environment.
        version: bumped by every ``fit`` (so caches of predictions know to drop them).
    """

    kind: ClassVar[str] = "base"
    markov: ClassVar[bool] = True
    env_id: str | None = None
    version: int = 0
    env_kwargs: dict[str, Any]

    @abstractmethod
    def fit(
        self, dataset: TransitionDataset, validation: TransitionDataset | None = None
    ) -> dict[str, Any]:
        """Train on ``dataset`` (continuing from the current weights, if any); returns a
        summary (losses, validation accuracy, time)."""

    @abstractmethod
    def predict(self, obs: Any, actions: Any) -> Prediction:
        """One step for a batch; see the module docstring for shapes."""

    def predict_one(self, obs: Any, action: Any) -> tuple[Any, float, bool]:
        """``predict`` for a single (observation, action) pair."""
        if isinstance(obs, np.ndarray):
            next_obs, reward, terminated = self.predict(obs[None], np.asarray([action]))
        else:
            next_obs, reward, terminated = self.predict([obs], [action])
        return next_obs[0], float(reward[0]), bool(terminated[0])

    @abstractmethod
    def save(self, folder: str | os.PathLike) -> Path:
        """Write the model to ``folder`` (with a ``model.json`` naming ``kind``)."""

    @classmethod
    @abstractmethod
    def load(cls, folder: str | os.PathLike) -> WorldModel:
        """Read a model that ``save`` wrote."""

    def _write_manifest(self, folder: Path, extra: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {
            "kind": self.kind,
            "env_id": self.env_id,
            "env_kwargs": getattr(self, "env_kwargs", {}),
            **extra,
        }
        (folder / "model.json").write_text(json.dumps(manifest, indent=2))

    def _save_torch(self, folder: str | os.PathLike, extra: dict[str, Any]) -> Path:
        """``model.json`` (with ``extra``) and the weights of ``self.net`` as ``weights.pt``."""
        import torch

        if getattr(self, "net", None) is None:
            raise RuntimeError("nothing to save: the model is not trained")
        folder = Path(folder)
        self._write_manifest(folder, extra)
        torch.save(self.net.state_dict(), folder / "weights.pt")
        return folder

    @classmethod
    def _read_own_manifest(cls, folder: str | os.PathLike) -> dict[str, Any]:
        """``model.json`` of ``folder``, checked to be of this class's ``kind``."""
        manifest = read_manifest(folder)
        if manifest.get("kind") != cls.kind:
            raise ValueError(f"{folder} holds a {manifest.get('kind')!r} model, not {cls.kind!r}")
        return manifest


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    path = Path(folder) / "model.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{folder} holds no world model (no model.json); train one with "
            "`reasongym wm train DATA_DIR --model grid --out DIR`"
        )
    return json.loads(path.read_text())


def model_kinds() -> dict[str, str]:
    """``kind -> "module:Class"`` of the built-in world models (imported on use)."""
    return {
        "grid": "reasongym.world_models.grid:GridDynamicsModel",
        "outcome": "reasongym.world_models.outcome:OutcomeModel",
        "prompted": "reasongym.world_models.prompted:PromptedWorldModel",
    }


def load_world_model(folder: str | os.PathLike) -> WorldModel:
    """Load any saved world model (its ``model.json`` names the class)."""
    import importlib

    kind = read_manifest(folder)["kind"]
    kinds = model_kinds()
    if kind not in kinds:
        raise ValueError(f"{folder}: unknown world model kind {kind!r}; known: {sorted(kinds)}")
    module, _, name = kinds[kind].partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls.load(folder)


def renamed_config_keys(config: dict[str, Any]) -> dict[str, Any]:
    """A saved model config with the keys of older versions renamed (``lr`` ->
    ``learning_rate``, the name every training config uses), so old models still load."""
    config = dict(config)
    if "lr" in config and "learning_rate" not in config:
        config["learning_rate"] = config.pop("lr")
    return config
