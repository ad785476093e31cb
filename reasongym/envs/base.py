"""The contract every reasongym environment follows, on top of ``gymnasium.Env``.

An entry point named in a YAML file is a ``ReasonEnv`` subclass with:

* ``Config``: a pydantic model (``extra="forbid"``) of its keyword arguments. Registration
  validates the YAML ``kwargs`` against it (with ``context={"base_dir": <yaml folder>}`` so
  path fields can resolve relative paths) and stores the validated, plain-data dump in the
  gymnasium spec. ``__init__`` takes the same keywords plus ``render_mode``.
* ``get_state()`` / ``set_state(state)``: a deep, plain-data snapshot of the whole episode
  (task, transcript, board, turn counter and the RNG) so that search can branch on the env.
* ``oracle_action()``: (optional) an action that makes progress towards the gold solution,
  used by the ``oracle`` agent as a smoke test of the whole loop.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from pydantic import BaseModel, ConfigDict


class EnvConfig(BaseModel):
    """Base of env config models: unknown keys are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasonEnv(gym.Env):
    """Base class of reasongym environments (see the module docstring for the contract)."""

    Config: ClassVar[type[EnvConfig]] = EnvConfig

    def get_state(self) -> Any:
        """Return a deep snapshot of the episode; see ``set_state``."""
        raise NotImplementedError

    def set_state(self, state: Any) -> None:
        """Restore a snapshot taken by ``get_state`` (the snapshot is not aliased)."""
        raise NotImplementedError

    def oracle_action(self) -> Any:
        """An action on the way to the gold solution (for the ``oracle`` agent)."""
        raise NotImplementedError(f"{type(self).__name__} has no oracle")

    # -- helpers for subclasses -------------------------------------------------------------
    def _configure(self, render_mode: str | None, kwargs: dict[str, Any]) -> None:
        """Check ``render_mode`` against ``metadata["render_modes"]`` and validate ``kwargs``
        into ``self.config`` (a pydantic ``ValidationError`` names the bad key)."""
        modes = self.metadata.get("render_modes", [])
        if render_mode is not None and render_mode not in modes:
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; use one of {modes} or None"
            )
        self.render_mode = render_mode
        self.config = self.Config.model_validate(kwargs)

    def _rng_state(self) -> dict[str, Any]:
        return copy.deepcopy(self.np_random.bit_generator.state)

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        generator = getattr(np.random, state["bit_generator"])()
        generator.state = copy.deepcopy(state)
        self._np_random = np.random.Generator(generator)
