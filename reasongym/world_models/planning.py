"""Planning inside a world model with the search agents (BoN, beam, MCTS), unchanged.

The search agents branch on ``search_env`` through ``get_state``/``set_state``;
:class:`~reasongym.world_models.env.WorldModelEnv` accepts the real env's snapshot in
``set_state``, so planning in the model is one argument::

    agent = MCTS(policy, simulations=64, mode="train", guidance="verifier",
                 search_env=WorldModelEnv(model, "reasongym/SlidingPuzzleDiscrete-v0"))
    run_episodes("reasongym/SlidingPuzzleDiscrete-v0", agent, episodes=100)

The agent acts in the real env (its replayed plan is what counts); only the search steps run
in the model. ``make_model_search_agent`` builds that from names. For discrete-action envs,
where there is no language model to propose moves, :class:`UniformActionLM` proposes action
indices uniformly (the search then does all the work).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reasongym.agents.models.base import Completion, GenerationConfig, LanguageModel, Prompt
from reasongym.world_models.base import WorldModel


class UniformActionLM(LanguageModel):
    """Proposes discrete actions ``"0" .. "n-1"`` uniformly at random, each with log-prob
    ``-log(n)``, ignoring the prompt: a policy for searching discrete-action envs (the puzzles
    in ``action_mode="discrete"`` read ``"2"`` as action 2). The samples of one prompt are a
    shuffled round-robin, so asking for ``n >= num_actions`` proposes every action (use
    ``MCTS(..., expand=num_actions, widen=None)`` to expand each node fully, once).

    Sampling is reproducible: a call with ``config.seed`` set draws from that seed.
    """

    def __init__(self, num_actions: int, seed: int = 0):
        super().__init__()
        if num_actions < 1:
            raise ValueError(f"num_actions must be >= 1, got {num_actions}")
        self.num_actions = num_actions
        self._rng = np.random.default_rng(seed)

    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Completion]]:
        rng = self._rng if config.seed is None else np.random.default_rng(config.seed)
        logprob = -math.log(self.num_actions)
        out = []
        for _ in prompts:
            if config.temperature <= 0:
                picks = [0] * config.n
            else:  # shuffled round-robin: n >= num_actions samples propose every action
                rounds = -(-config.n // self.num_actions)
                picks = np.concatenate([rng.permutation(self.num_actions) for _ in range(rounds)])[
                    : config.n
                ].tolist()
            out.append(
                [
                    Completion(text=str(a), tokens=(str(a),), token_logprobs=(logprob,))
                    for a in picks
                ]
            )
        self.usage.calls += 1
        self.usage.generated_tokens += sum(len(row) for row in out)
        return out


def make_model_search_agent(
    name: str,
    model: WorldModel,
    reference_env_id: str,
    policy: LanguageModel,
    *,
    env_kwargs: dict[str, Any] | None = None,
    **agent_kwargs: Any,
):
    """Search agent ``name`` (``bon``, ``beam``, ``mcts``, ``revision``) that plans inside
    ``model`` (a :class:`WorldModelEnv` on ``reference_env_id``) and acts in the real env.

    ``agent_kwargs`` go to the agent (``simulations``, ``n``, ``guidance``, ``mode``, ...).
    """
    from reasongym.agents.search import MCTS, BeamSearch, BestOfN, SequentialRevision
    from reasongym.world_models.env import WorldModelEnv

    classes = {"bon": BestOfN, "beam": BeamSearch, "mcts": MCTS, "revision": SequentialRevision}
    if name not in classes:
        raise ValueError(f"unknown search agent {name!r}; choose from {sorted(classes)}")
    search_env = WorldModelEnv(model, reference_env_id, env_kwargs=env_kwargs)
    return classes[name](policy, search_env=search_env, **agent_kwargs)
