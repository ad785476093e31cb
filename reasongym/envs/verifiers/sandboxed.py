"""The sandbox a code-running verifier uses: given by the caller (shared, never closed here)
or created on first use from ``backend`` and closed by ``close``."""

from __future__ import annotations

from typing import Any


class SandboxedVerifier:
    """Base of verifiers that run code (``code_tests``, ``program_io``)."""

    def __init__(self, backend: str = "auto", sandbox: Any = None):
        self.backend = backend
        self._sandbox = sandbox
        self._owns_sandbox = sandbox is None

    def _get_sandbox(self):
        if self._sandbox is None:
            from reasongym.sandboxes import get_sandbox

            self._sandbox = get_sandbox(self.backend)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None and self._owns_sandbox:
            self._sandbox.close()
            self._sandbox = None
