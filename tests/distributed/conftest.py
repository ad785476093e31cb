"""A local Ray instance (2 CPUs, no dashboard, loopback only: no cloud detection either)
shared by the distributed tests.

Without Ray installed these tests skip on a developer machine and fail in CI, where
``reasongym[ray]`` must be installed.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def ray_local():
    if importlib.util.find_spec("ray") is None:
        reason = "ray is not installed (pip install 'reasongym[ray]')"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: this must work in CI)", pytrace=False)
        pytest.skip(reason)
    from reasongym.distributed import init_ray

    ray = init_ray(num_cpus=2, object_store_memory=200 << 20)
    yield ray
    ray.shutdown()
