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
  ``is_final`` decides; for text envs an ``<answer>``/``\\boxed{}`` action) are *not* executed
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
import math
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import gymnasium as gym

from reasongym.agents.base import Agent
from reasongym.agents.models.base import (
    Completion,
    GenerationConfig,
    LanguageModel,
    Message,
    Prompt,
)
from reasongym.envs.actions import Answer, parse_action

if TYPE_CHECKING:
    from reasongym.agents.search.guidance import Guidance

SearchMode = Literal["eval", "train"]
PromptFn = Callable[[list[Message]], Prompt]

DEFAULT_GENERATION = GenerationConfig(
    temperature=1.0, max_tokens=128, stop=("</tool>", "</answer>")
)
"""Sampling for search: temperature 1 (search needs diversity), stop after one action."""

DEFAULT_MAX_DEPTH = 8
"""Env steps a search looks ahead when neither the agent nor the env spec sets a limit."""


def is_final_answer(action: Any) -> bool:
    """True when ``action`` is a final answer in the text grammar (``<answer>``/``\\boxed{}``)."""
    return isinstance(parse_action(action), Answer)


def answer_text(action: Any) -> str | None:
    """The content of a final-answer action, or None when the action is not one."""
    parsed = parse_action(action)
    return parsed.text if isinstance(parsed, Answer) else None


@dataclass
class SearchStats:
    """Budget a search (or all searches of an agent) used. Counted honestly: every generated
    token, every env step taken while searching, every answer the env graded while searching.

    Attributes:
        searches: searches run (one per episode, plus re-plans).
        model_calls: ``LanguageModel.generate`` calls (each may return many completions).
        tokens_generated: tokens of all completions, including discarded branches and rollouts.
        env_steps: env steps taken on snapshots while searching (the replayed steps that the
            runner counts are not included).
        verifier_calls: answers the env graded while searching (0 in eval mode). The replayed
            final answer is graded once more by the env, as part of the episode.
        self_eval_calls: ``LanguageModel.score`` calls made by self-evaluation.
        prm_calls: calls of a process reward model.
    """

    searches: int = 0
    model_calls: int = 0
    tokens_generated: int = 0
    env_steps: int = 0
    verifier_calls: int = 0
    self_eval_calls: int = 0
    prm_calls: int = 0

    def add(self, other: SearchStats) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(eq=False)
class Node:
    """One state of a search: the env after ``action`` was taken from ``parent``.

    Attributes:
        id: index in ``SearchTree.nodes``.
        parent: id of the node whose env state this action was taken from (None for the root).
        depth: env steps from the root.
        action: the action (None for the root).
        observation: the env's reply (None if the action was not executed).
        observation_role: chat role of the reply (``"tool"`` for tool output, else ``"user"``).
        reward: env reward of this step (None if not executed).
        done: the episode ended here (terminated or truncated), or this is a final answer
            withheld from the env in eval mode.
        executed: the action was run on the env during search.
        final: the action is a final answer (``is_final``).
        success: ``info["is_success"]`` of the step (None if not executed).
        state: env snapshot after the action (``get_state()``; None if not executed).
        context: the chat the policy saw for this action, plus the action and its reply:
            the prompt of this node's children.
        logprob: sum of the completion's token log-probs (None if the backend gave none).
        num_tokens: tokens of the completion.
        scores: guidance scores by guidance name.
        value: the combined guidance score (None until scored).
        children: ids of the search children (rollout nodes are not listed).
        visits, value_sum, prior: MCTS statistics.
        rollout: created by an MCTS rollout (outside the search tree proper).
        verdict: the env's verdict dict when an answer was graded during search.
    """

    id: int
    parent: int | None
    depth: int
    action: str | None
    observation: Any
    observation_role: str
    reward: float | None
    done: bool
    executed: bool
    final: bool
    success: bool | None
    state: Any
    context: list[Message]
    logprob: float | None = None
    num_tokens: int = 0
    scores: dict[str, float | None] = field(default_factory=dict)
    value: float | None = None
    children: list[int] = field(default_factory=list)
    visits: int = 0
    value_sum: float = 0.0
    prior: float = 0.0
    rollout: bool = False
    verdict: dict[str, Any] | None = None

    @property
    def mean_token_logprob(self) -> float | None:
        if self.logprob is None or self.num_tokens == 0:
            return None
        return self.logprob / self.num_tokens

    @property
    def q(self) -> float:
        """Mean backed-up value (MCTS); 0 before the first visit."""
        return self.value_sum / self.visits if self.visits else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data without the env snapshot and the context (for logs and JSON)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data.pop("state")
        data.pop("context")
        if not isinstance(data["observation"], str | type(None)):
            data["observation"] = repr(data["observation"])
        return data


@dataclass
class SearchTree:
    """What one search explored and chose.

    Attributes:
        method: the search's name (``bon``, ``beam``, ``mcts``, ``revision``).
        mode: ``"eval"`` or ``"train"``.
        guidance: the guidance's name.
        task_id: ``info["task_id"]`` at the root, when the env gives one.
        nodes: all nodes; ``nodes[0]`` is the root.
        chosen: id of the node whose path from the root is the plan (None if nothing found).
        stats: the budget this search used.
    """

    method: str
    mode: str
    guidance: str
    task_id: str | None
    nodes: list[Node]
    chosen: int | None = None
    stats: SearchStats = field(default_factory=SearchStats)

    @property
    def root(self) -> Node:
        return self.nodes[0]

    def path(self, node_id: int) -> list[Node]:
        """Nodes from the root's first action to ``node_id`` (env lineage; root excluded)."""
        out = []
        node = self.nodes[node_id]
        while node.parent is not None:
            out.append(node)
            node = self.nodes[node.parent]
        return out[::-1]

    def actions(self, node_id: int) -> list[str]:
        """The actions that lead from the root to ``node_id``."""
        return [node.action for node in self.path(node_id)]

    def children(self, node: Node) -> list[Node]:
        return [self.nodes[i] for i in node.children]

    def leaves(self) -> list[Node]:
        """Nodes with no search children (rollout ends included), root excluded."""
        return [n for n in self.nodes[1:] if not n.children]

    def finals(self) -> list[Node]:
        """Nodes whose action is a final answer (rollout ends included)."""
        return [n for n in self.nodes if n.final]

    def messages(self, node_id: int, final_reply: bool = False) -> list[Message]:
        """The clean chat of the env lineage from the root to ``node_id``: the root context,
        then each action with the env's reply (the last reply only if ``final_reply``).
        Unlike ``Node.context`` it leaves out revision feedback from discarded attempts."""
        chat = [dict(m) for m in self.root.context]
        path = self.path(node_id)
        for i, node in enumerate(path):
            chat.append({"role": "assistant", "content": node.action})
            if node.executed and (final_reply or i < len(path) - 1):
                chat.append({"role": node.observation_role, "content": _text(node.observation)})
        return chat

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "mode": self.mode,
            "guidance": self.guidance,
            "task_id": self.task_id,
            "chosen": self.chosen,
            "stats": self.stats.to_dict(),
            "nodes": [n.to_dict() for n in self.nodes],
        }


def _text(observation: Any) -> str:
    if isinstance(observation, str):
        return observation
    if isinstance(observation, dict) and isinstance(observation.get("text"), str):
        return observation["text"]  # multimodal envs: the text part (images are not replayed)
    return str(observation)


def chat_prompt(context: list[Message]) -> Prompt:
    """The default prompt: the context as a chat, with tool output shown as a user turn
    ``"Tool output:\n..."`` as :class:`reasongym.agents.llm.LLMAgent` shows it (every chat
    template and server accepts that), so a policy sees the same chat inside a search as
    when it acts alone."""
    return [
        {"role": "user", "content": f"Tool output:\n{m['content']}"} if m["role"] == "tool" else m
        for m in context
    ]


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
        max_depth: env steps a search looks ahead; default: what the env spec's
            ``max_episode_steps`` leaves, else 8.
        prompt_fn: turns a context (list of chat messages) into the policy's prompt; default
            :func:`chat_prompt` (the chat as ``LLMAgent`` shows it). A model trained on a
            plain-text format passes its formatter.
        is_final: decides whether an action is a final answer (withheld in eval mode).
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
        self.is_final = is_final or is_final_answer
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
        spec = getattr(env, "spec", None)
        self._episode_limit = getattr(spec, "max_episode_steps", None)

    def reset(self, observation: Any, info: dict[str, Any]) -> None:
        self.episodes += 1
        self._plan = []
        self._tree = None
        self._steps = 0
        self._context = _initial_context(observation, info)
        self._last = None

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        if self._last is not None:
            self._context = self._context + [
                {"role": "assistant", "content": self._last.action},
                {"role": _reply_role(info), "content": _text(observation)},
            ]
            # Off plan (a stochastic env, or a world model that predicted another reply): re-plan.
            if self._last.executed and _text(self._last.observation) != _text(observation):
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
        context = (
            self._context if self._context is not None else _initial_context(observation, info)
        )
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
        final = bool(self.is_final(action))
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

    def is_terminal(self, node: Node) -> bool:
        return node.done or node.depth >= self.depth_limit


def execute(env: Any, parent: Node, node: Node, stats: SearchStats) -> None:
    """Run ``node.action`` on ``env`` from ``parent``'s snapshot and record the outcome in
    ``node`` (and the env step, and the verifier call if an answer was graded, in ``stats``)."""
    env.set_state(parent.state)
    observation, reward, terminated, truncated, info = env.step(node.action)
    stats.env_steps += 1
    if "verdict" in info:
        stats.verifier_calls += 1
        node.verdict = info["verdict"]
    node.executed = True
    node.observation = observation
    node.observation_role = _reply_role(info)
    node.reward = float(reward)
    node.done = bool(terminated or truncated)
    node.success = bool(info.get("is_success", False))
    node.state = env.get_state()
    node.context.append({"role": node.observation_role, "content": _text(observation)})


def rank_key(node: Node) -> tuple[float, float]:
    """Sort key of "better" nodes: guidance value, then the policy's confidence."""
    value = node.value if node.value is not None else -math.inf
    confidence = node.mean_token_logprob
    return (value, confidence if confidence is not None else -math.inf)


def best(nodes: list[Node]) -> Node | None:
    """The best node by ``rank_key`` (the first one among equals)."""
    return max(nodes, key=rank_key, default=None)


def _initial_context(observation: Any, info: dict[str, Any]) -> list[Message]:
    messages = info.get("messages")
    if isinstance(messages, list) and messages:
        return [dict(m) for m in messages]
    return [{"role": "user", "content": _text(observation)}]


def _reply_role(info: dict[str, Any]) -> str:
    messages = info.get("messages")
    if isinstance(messages, list) and messages and messages[-1].get("role") in ("tool", "user"):
        return messages[-1]["role"]
    return "user"
