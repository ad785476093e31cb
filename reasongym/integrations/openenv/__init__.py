"""OpenEnv protocol: serve any reasongym id (``reasongym serve``) and use a served env.

* :func:`create_app` / :func:`serve` (extra ``serve``): the server; see ``server.py``.
* :class:`RemoteEnv`: a gymnasium env over a server's WebSocket.
* :class:`ReasonGymEnvironment`: a reasongym env as an ``openenv`` ``Environment``, for
  mounting in ``openenv``'s own ``create_app``.

Names are imported lazily, so this package costs nothing until used.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "ServeConfig": "reasongym.integrations.openenv.server",
    "create_app": "reasongym.integrations.openenv.server",
    "serve": "reasongym.integrations.openenv.server",
    "RemoteEnv": "reasongym.integrations.openenv.client",
    "RemoteEnvError": "reasongym.integrations.openenv.client",
    "ReasonGymEnvironment": "reasongym.integrations.openenv.native",
    "create_openenv_app": "reasongym.integrations.openenv.native",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
