"""``torch_scope``: seed torch and set its thread count for one block, then put both back.

Fitting a model seeds torch's global generator and picks a thread count so that a fit is
reproducible; the caller's torch settings (its RNG stream, its ``set_num_threads``) must be
the same afterwards, or a library call would silently change the rest of the caller's program.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_scope(*, seed: int | None = None, threads: int | None = None) -> Iterator[None]:
    """Within the block, torch's global RNG is seeded with ``seed`` and torch uses ``threads``
    intra-op threads (None/0: unchanged); on exit (also on error) both are restored."""
    import torch

    threads_before = torch.get_num_threads()
    rng_before = torch.random.get_rng_state()
    try:
        if seed is not None:
            torch.manual_seed(seed)
        if threads:
            torch.set_num_threads(int(threads))
        yield
    finally:
        torch.set_num_threads(threads_before)
        torch.random.set_rng_state(rng_before)
