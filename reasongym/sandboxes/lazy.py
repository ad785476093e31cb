"""``LazySandbox``: a sandbox made on its first run, so that an env's code verifier and its
``python`` tool can share one (one warm container instead of one each) and an env that never
runs code never starts a container."""

from __future__ import annotations

import threading

from reasongym.sandboxes.base import Files, Sandbox
from reasongym.sandboxes.types import ExecResult, Limits


class LazySandbox(Sandbox):
    """Creates ``get_sandbox(backend, limits, pool_size)`` on the first ``run``."""

    def __init__(self, backend: str = "auto", limits: Limits | None = None, pool_size: int = 1):
        super().__init__(limits)
        self.backend = backend
        self.pool_size = pool_size
        self._inner: Sandbox | None = None
        self._lock = threading.Lock()

    def __reduce__(self):
        # a copy (pickled to a vector-env or Ray worker) starts its own sandbox there
        return (LazySandbox, (self.backend, self.limits, self.pool_size))

    @property
    def inner(self) -> Sandbox:
        with self._lock:
            if self._inner is None:
                from reasongym.sandboxes import get_sandbox

                self._inner = get_sandbox(
                    self.backend, limits=self.limits, pool_size=self.pool_size
                )
            return self._inner

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._inner.name if self._inner is not None else f"lazy-{self.backend}"

    def run(
        self,
        code: str,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        return self.inner.run(code, stdin=stdin, files=files, limits=limits)

    def warm_module(self, name: str, source: str) -> bool:
        return self.inner.warm_module(name, source)

    def close(self) -> None:
        with self._lock:
            inner, self._inner = self._inner, None
        if inner is not None:
            inner.close()
