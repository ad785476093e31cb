"""Shared settings of the training tests: one torch thread, tiny budgets, a fresh tiny model."""

from __future__ import annotations

import pytest

from reasongym.train.run_config import PolicyConfig, TaskConfig


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_policy() -> PolicyConfig:
    """An untrained tiny model: the loops run for real, pass@1 stays at 0."""
    return PolicyConfig(model="tiny-fresh", batch_size=64)


@pytest.fixture
def small_tasks() -> TaskConfig:
    return TaskConfig(eval_tasks=6, max_turns=1, max_tokens=8)
