"""Fitting a world model leaves torch's global thread count and RNG stream as they were."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from reasongym.world_models.torch_scope import torch_scope  # noqa: E402


def _draws():
    return torch.rand(4).tolist()


@pytest.fixture
def caller_settings():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_scope_restores_threads_and_rng_even_on_error(caller_settings):
    torch.manual_seed(123)
    expected = _draws()
    torch.manual_seed(123)
    with pytest.raises(RuntimeError):
        with torch_scope(seed=0, threads=1):
            assert torch.get_num_threads() == 1
            torch.rand(1000)
            raise RuntimeError("fit failed")
    assert torch.get_num_threads() == 2
    assert _draws() == expected  # the caller's stream continues as if nothing happened


def test_grid_model_fit_restores_the_callers_torch_settings(caller_settings, sliding_data):
    from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig

    small = sliding_data.split(0.9, seed=0)[1]
    model = GridDynamicsModel.for_dataset(small, GridModelConfig(epochs=1, seed=0, threads=1))
    torch.manual_seed(7)
    expected = _draws()
    torch.manual_seed(7)
    model.fit(small)
    assert torch.get_num_threads() == 2 and _draws() == expected


def test_outcome_model_fit_restores_the_callers_torch_settings(caller_settings):
    from test_outcome import synthetic

    from reasongym.world_models.outcome import OutcomeModel, OutcomeModelConfig

    model = OutcomeModel(OutcomeModelConfig(encoder="ngram", epochs=2, seed=0, threads=1))
    torch.manual_seed(9)
    expected = _draws()
    torch.manual_seed(9)
    model.fit(synthetic(6, seed=0))
    assert torch.get_num_threads() == 2 and _draws() == expected
