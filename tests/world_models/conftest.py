"""Shared fixtures of the world-model tests: small datasets and one small fitted model.

Models are trained once per session on a few thousand 8-puzzle transitions (seconds on one
CPU thread), so every test that needs a working simulator shares it.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

SLIDING = "reasongym/SlidingPuzzleDiscrete-v0"


@pytest.fixture(scope="session")
def sliding_data(tmp_path_factory):
    from reasongym.world_models.collect import collect
    from reasongym.world_models.data import TransitionDataset

    folder = tmp_path_factory.mktemp("sliding_data")
    collect(SLIDING, "oracle:0.5", 3000, folder, seed=0)
    return TransitionDataset.load(folder)


@pytest.fixture(scope="session")
def sliding_val(tmp_path_factory):
    from reasongym.world_models.collect import collect
    from reasongym.world_models.data import TransitionDataset

    folder = tmp_path_factory.mktemp("sliding_val")
    collect(SLIDING, "oracle:0.5", 600, folder, seed=10**6)
    return TransitionDataset.load(folder)


@pytest.fixture(scope="session")
def sliding_model(sliding_data, sliding_val):
    from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig

    model = GridDynamicsModel.for_dataset(sliding_data, GridModelConfig(epochs=6, seed=0))
    model.fit(sliding_data, sliding_val)
    return model
