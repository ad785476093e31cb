"""The verifiers taskset id ``reasongym-env``: ``vf-eval reasongym-env --env.taskset.env-id ID``.

verifiers resolves a taskset id to an installed top-level module exporting its classes via
``__all__`` (the way its environment packages install); this module is that entry for every
reasongym id. The implementation is :mod:`reasongym.integrations.verifiers`.
"""

from reasongym.integrations.verifiers import *  # noqa: F403
from reasongym.integrations.verifiers import __all__  # noqa: F401
