"""Bridges from reasongym envs to the trainers and servers RL researchers use.

* ``reasongym.integrations.openenv``: ``reasongym serve ENV_ID`` speaks OpenEnv's HTTP/WebSocket
  protocol (plus MCP tools and state restore); ``RemoteEnv(url)`` is a gymnasium env over it.
* ``reasongym.integrations.trl``: ``environment_factory(env_id)`` for TRL's ``GRPOTrainer``,
  ``dataset(env_id)`` and ``reward_function(env_id)``.
* ``reasongym.integrations.verifiers``: a reasongym id as a ``verifiers`` environment.

Each bridge reads only the public env contract (``reasongym.integrations.contract``) and
imports its third-party package lazily, so ``import reasongym`` stays light.
"""
