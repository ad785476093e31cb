"""SearchAgent: a policy language model plus search over an environment's states.

A search agent branches on an env through ``get_state`` / ``set_state``: it snapshots the
episode, tries actions the policy proposes, scores the branches with :mod:`guidance
<reasongym.agents.search.guidance>`, restores the snapshot and then *replays* the chosen
trajectory through ``act()``, one action per env step. The runner's success is therefore the
env's own verdict on the replayed answer, scored once; what the search peeked at on the way is
counted in :class:`SearchStats` (tokens generated, env steps, verifier calls) and shown by
``reasongym run --json`` under ``agent_stats``.

Two modes:

* ``"eval"`` (the default): the verifier may not choose the answer. Final answers (as
  the env's ``is_final(action)`` decides, through :mod:`reasongym.agents.contract`) are *not* executed
  during search, so only internal guidance (and tool outputs, which the agent would see anyway)
  can rank them; guidance that reads env rewards is refused.
* ``"train"``: external guidance may peek: every proposed action, answers included, is run on
  the env and its reward is available to guidance. This is how search makes training data.

Every search returns a :class:`SearchTree` of :class:`Node` objects (state snapshot, action,
observation, reward, done, log-prob, guidance scores, children), which
:mod:`reasongym.agents.search.export` turns into SFT and preference data.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import gymnasium as gym

from reasongym.agents import contract
from reasongym.agents.base import Agent
from reasongym.agents.models.base import (
    DEFAULT_MAX_TOKENS,
    Completion,
    GenerationConfig,
    LanguageModel,
    Message,
)
from reasongym.agents.search.chat import PromptFn, chat_prompt, initial_context, reply_role
from reasongym.agents.search.tree import Node, SearchStats, SearchTree, observation_text

if TYPE_CHECKING:
    from reasongym.agents.search.guidance import Guidance

SearchMode = Literal["eval", "train"]

DEFAULT_GENERATION = GenerationConfig(temperature=1.0, max_tokens=DEFAULT_MAX_TOKENS)
"""Sampling for search: temperature 1 (search needs diversity); ``bind`` adds the env's
``stop_strings`` so that one completion is one action."""

DEFAULT_MAX_DEPTH = 8
"""Env steps a search looks ahead when neither the agent nor the env sets a limit."""


class SearchAgent(Agent):
    """Base of search agents: proposes actions with a policy LM, branches on env snapshots.

    Subclasses implement ``_search(tree)``, which grows ``tree`` with ``_expand`` /
    ``_rollout`` / ``_evaluate`` and sets ``tree.chosen``.

    Args:
        policy: the language model that proposes actions.
        guidance: a :class:`~reasongym.agents.search.guidance.Guidance`, or a spec string
            for :func:`~reasongym.agents.search.guidance.parse_guidance` such as
            ``"verifier"``, ``"logprob"`` or ``"verifier:1,self_eval:0.5"``.
        mode: ``"eval"`` (the verifier may not choose the answer) or ``"train"``.
        generation: sampling settings (``n`` is set per call by the search).
        max_depth: env steps a search looks ahead; default: what the env's step limit
            (``max_turns``) leaves, else 8.
        prompt_fn: turns a context (list of chat messages) into the policy's prompt; default
            :func:`chat_prompt` (the chat as ``LLMAgent`` shows it). A model trained on a
            plain-text format passes its formatter.
        is_final: ``is_final(action) -> bool``: does the action end the episode (such
            actions are withheld in eval mode)? Default: the env's own ``is_final``, asked
            in the parent node's state.
        search_env: the env to branch on, if not the bound env's ``unwrapped`` (e.g. a learned
            world model). It must accept the bound env's ``get_state()`` in ``set_state``.
        keep_trees: keep every search tree in ``self.trees`` (for export); the latest is
            always ``self.last_tree``.
        seed: base seed of sampling (each generate call gets ``seed + call index``).
    """

    name = "search"

    def __init__(
        self,
        policy: LanguageModel,
        guidance: Guidance | str | None = None,
        *,
        mode: SearchMode = "eval",
        generation: GenerationConfig | None = None,
        max_depth: int | None = None,
        prompt_fn: PromptFn | None = None,
        is_final: Callable[[Any], bool] | None = None,
        search_env: Any = None,
        keep_trees: bool = False,
        seed: int | None = None,
    ):
        from reasongym.agents.search.guidance import default_guidance, parse_guidance

        if mode not in ("eval", "train"):
            raise ValueError(f"mode must be 'eval' or 'train', got {mode!r}")
        if guidance is None:
            guidance = default_guidance(mode)
        if isinstance(guidance, str):
            guidance = parse_guidance(guidance, policy)
        if mode == "eval" and guidance.uses_verifier:
            raise ValueError(
                f"guidance {guidance.name!r} reads env rewards, which eval mode forbids for choosing "
                "the answer; use internal guidance (logprob, self_eval, majority, prm) or mode='train'"
            )
        self.policy = policy
        self.guidance = guidance
        self.mode: SearchMode = mode
        self.generation = generation or DEFAULT_GENERATION
        self.max_depth = max_depth
        self.prompt_fn = prompt_fn or chat_prompt
        self._is_final = is_final
        self._search_env = search_env
        self.keep_trees = keep_trees
        self.seed = seed
        self.trees: list[SearchTree] = []
        self.last_tree: SearchTree | None = None
        self.totals = SearchStats()
        self.episodes = 0
        self._plan: list[Node] = []
        self._tree: SearchTree | None = None
        self._context: list[Message] | None = None  # the episode's chat so far (None outside one)
        self._last: Node | None = None
        self._steps = 0
        self._episode_limit: int | None = None

    # -- Agent API ---------------------------------------------------------------------------
    def bind(self, env: gym.Env) -> None:
        super().bind(env)
        target = self._search_env if self._search_env is not None else env.unwrapped
        for method in ("get_state", "set_state", "step"):
            if not callable(getattr(target, method, None)):
                raise TypeError(
                    f"{type(target).__name__} has no {method}(); search needs an env with "
                    "get_state()/set_state() (every reasongym env has them; see reasongym.envs.base)"
                )
        self.search_env = target
        stops = tuple(dict.fromkeys((*self.generation.stop, *contract.stop_strings(env))))
        self.generation = dataclasses.replace(self.generation, stop=stops)
        self._episode_limit = contract.max_turns(env)

    def reset(self, observation: Any, info: dict[str, Any]) -> None:
        self.episodes += 1
        self._plan = []
        self._tree = None
        self._steps = 0
        self._context = initial_context(observation, info)
        self._last = None

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        if self._last is not None:
            self._context = self._context + [
                {"role": "assistant", "content": self._last.action},
                {"role": reply_role(info), "content": observation_text(observation)},
            ]
            # Off plan (a stochastic env, or a world model that predicted another reply): re-plan.
            if self._last.executed and observation_text(self._last.observation) != observation_text(
                observation
            ):
                self._plan = []
        if not self._plan:
            tree = self.search(observation, info)
            self._plan = tree.path(tree.chosen) if tree.chosen is not None else []
            if not self._plan:
                raise RuntimeError(f"{self.name} search found no action to take")
        self._last = self._plan.pop(0)
        self._steps += 1
        return self._last.action

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "search": self.name,
            "mode": self.mode,
            "guidance": self.guidance.name,
            "episodes": self.episodes,
        }
        out.update(self.totals.to_dict())
        # train mode runs every answer on the env, so the verifier may steer the choice
        # (through guidance, revision feedback or early stopping); eval mode never runs one
        out["verifier_may_choose"] = self.mode == "train"
        return out

    # -- search ------------------------------------------------------------------------------
    def search(self, observation: Any = None, info: dict[str, Any] | None = None) -> SearchTree:
        """Search from the env's current state and return the tree; the env is restored.

        Outside an episode (called directly), pass the observation and info of the last
        ``reset``/``step`` so the root has the right context.
        """
        info = info or {}
        context = self._context if self._context is not None else initial_context(observation, info)
        snapshot = self._snapshot()
        root = Node(
            id=0,
            parent=None,
            depth=0,
            action=None,
            observation=observation,
            observation_role="user",
            reward=None,
            done=False,
            executed=True,
            final=False,
            success=None,
            state=snapshot,
            context=list(context),
        )
        tree = SearchTree(self.name, self.mode, self.guidance.name, info.get("task_id"), [root])
        tree.stats.searches = 1
        self._tree = tree
        try:
            self._search(tree)
        finally:
            self.search_env.set_state(snapshot)
        self.totals.add(tree.stats)
        self.last_tree = tree
        if self.keep_trees:
            self.trees.append(tree)
        return tree

    def _snapshot(self) -> Any:
        real = self.env.unwrapped
        if self.search_env is real:
            return real.get_state()
        state = real.get_state()
        self.search_env.set_state(state)
        return state

    @property
    def depth_limit(self) -> int:
        """Env steps the current search may look ahead."""
        limit = self.max_depth or DEFAULT_MAX_DEPTH
        if self._episode_limit is not None:
            limit = min(limit, self._episode_limit - self._steps)
        return max(1, limit)

    @abstractmethod
    def _search(self, tree: SearchTree) -> None:
        """Grow ``tree`` from its root and set ``tree.chosen``."""

    # -- building blocks for subclasses -------------------------------------------------------
    def _generate(self, contexts: list[list[Message]], n: int) -> list[list[Completion]]:
        """``n`` completions per context, counted in the current tree's stats."""
        stats = self._tree.stats
        seed = (
            None if self.seed is None else self.seed + self.totals.model_calls + stats.model_calls
        )
        config = dataclasses.replace(self.generation, n=n, seed=seed)
        prompts = [self.prompt_fn(c) for c in contexts]
        out = self.policy.generate(prompts, config)
        stats.model_calls += 1
        stats.tokens_generated += sum(c.num_tokens for row in out for c in row)
        return out

    def _expand(
        self, tree: SearchTree, parents: list[Node], n: int, dedupe: bool = True
    ) -> list[list[Node]]:
        """Propose ``n`` actions for each parent and add them as children (one generate call).

        With ``dedupe``, an action text the parent already has a child for is dropped (so
        each returned list holds only new children, possibly none).
        """
        if not parents:
            return []
        completions = self._generate([p.context for p in parents], n)
        out = []
        for parent, row in zip(parents, completions, strict=True):
            seen = {tree.nodes[i].action for i in parent.children}
            kids = []
            for completion in row:
                if dedupe and completion.text in seen:
                    continue
                child = self._child(tree, parent, completion)
                parent.children.append(child.id)
                seen.add(completion.text)
                kids.append(child)
            out.append(kids)
        return out

    def _child(
        self,
        tree: SearchTree,
        parent: Node,
        completion: Completion,
        context: list[Message] | None = None,
    ) -> Node:
        """A new node for ``completion`` taken from ``parent``'s env state (not linked into
        ``parent.children``). ``context`` replaces ``parent.context`` as the policy's prompt
        (revision passes the previous attempt and its feedback)."""
        action = completion.text
        context = list(parent.context if context is None else context)
        context.append({"role": "assistant", "content": action})
        final = self.is_final(action, parent)
        node = Node(
            id=len(tree.nodes),
            parent=parent.id,
            depth=parent.depth + 1,
            action=action,
            observation=None,
            observation_role="user",
            reward=None,
            done=final,
            executed=False,
            final=final,
            success=None,
            state=None,
            context=context,
            logprob=completion.logprob,
            num_tokens=completion.num_tokens,
        )
        if self.mode == "train" or not final:
            execute(self.search_env, parent, node, tree.stats)
        tree.nodes.append(node)
        return node

    def _rollout(
        self,
        tree: SearchTree,
        start: Node,
        context: list[Message] | None = None,
        rollout: bool = False,
    ) -> Node:
        """Extend ``start`` one sampled action at a time until the episode ends, a final answer
        is given or the depth limit is hit; return the last node. ``context`` replaces
        ``start.context`` for the first action (revision)."""
        node = start
        limit = self.depth_limit
        first = True
        while not node.done and node.depth < limit:
            prompt_context = context if (first and context is not None) else node.context
            [[completion]] = self._generate([prompt_context], 1)
            child = self._child(tree, node, completion, context=prompt_context)
            child.rollout = rollout
            if not rollout:
                node.children.append(child.id)
            node, first = child, False
        return node

    def _evaluate(self, tree: SearchTree, nodes: list[Node]) -> list[float | None]:
        """Score ``nodes`` with the guidance; sets ``node.value`` and ``node.scores``."""
        from reasongym.agents.search.guidance import GuidanceContext

        if not nodes:
            return []
        ctx = GuidanceContext(
            tree=tree, policy=self.policy, prompt_fn=self.prompt_fn, stats=tree.stats
        )
        values = self.guidance.evaluate(nodes, ctx)
        for node, value in zip(nodes, values, strict=True):
            node.value = value
        return values

    def is_final(self, action: Any, parent: Node | None = None) -> bool:
        """Would ``action``, taken from ``parent``'s state (default: the env's current one),
        end the episode? The ``is_final`` given to the constructor, else the env's own."""
        if self._is_final is not None:
            return bool(self._is_final(action))
        if parent is not None and parent.state is not None:
            self.search_env.set_state(parent.state)
        return contract.is_final(self.search_env, action)

    def is_terminal(self, node: Node) -> bool:
        return node.done or node.depth >= self.depth_limit


def execute(env: Any, parent: Node, node: Node, stats: SearchStats) -> None:
    """Run ``node.action`` on ``env`` from ``parent``'s snapshot and record the outcome in
    ``node`` (and the env step, and the verifier call if an answer was graded, in ``stats``)."""
    env.set_state(parent.state)
    observation, reward, terminated, truncated, info = env.step(node.action)
    stats.env_steps += 1
    if isinstance(info.get("verdict"), dict):  # the env graded an answer
        stats.verifier_calls += 1
        node.verdict = info["verdict"]
    node.executed = True
    node.observation = observation
    node.observation_role = reply_role(info)
    node.reward = float(reward)
    node.done = bool(terminated or truncated)
    node.success = bool(info.get("is_success", False))
    node.state = env.get_state()
    node.context.append({"role": node.observation_role, "content": observation_text(observation)})
