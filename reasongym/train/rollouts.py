"""Batched rollouts of a policy on a text env (branching one env with get_state/set_state),
greedy pass@1, and best-of-N search trees for expert iteration."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reasongym.agents.models.base import GenerationConfig, Message
from reasongym.train.run_config import TaskConfig
from reasongym.train.run_log import progress
from reasongym.train.tasks import TaskSplit

logger = logging.getLogger(__name__)


ToolCallMode = str  # "auto" | "native" | "tags" (see PolicyConfig.tool_calls)


@dataclass
class Turn:
    """One action of an episode: the prompt the policy saw and what it wrote.

    Attributes:
        prompt: the chat before the action.
        action: the text the policy generated (the tokens the losses score; with native tool
            calls, the template's tool-call text, e.g. ``<tool_call>...</tool_call>``).
        tools: OpenAI tool entries the prompt was rendered with (native tool calls), else ().
    """

    prompt: list[Message]
    action: str
    tools: tuple[dict[str, Any], ...] = ()


@dataclass
class Episode:
    """One episode played by the policy (used as training data by GRPO)."""

    task_index: int
    turns: list[Turn] = field(default_factory=list)
    reward: float = 0.0
    success: bool = False
    done: bool = False
    tokens: int = 0
    tool_calls: int = 0  # native tool calls the policy made (tag-grammar calls not counted)
    env_seconds: float = 0.0  # wall time inside the env (reset, step, snapshots)


def chat_to_turns(messages: Sequence[Message]) -> list[Turn]:
    """Every assistant message of a chat, with the chat before it as its prompt."""
    from reasongym.agents.search.chat import chat_prompt

    return [
        Turn(list(chat_prompt(list(messages[:k]))), str(m["content"]))
        for k, m in enumerate(messages)
        if m["role"] == "assistant"
    ]


def uses_native_tools(env: Any, tool_calls: ToolCallMode) -> bool:
    """Whether episodes offer the env's typed tools natively: ``"native"``, or ``"auto"`` on an
    env that reads OpenAI-style calls (``action_format: native``)."""
    from reasongym.agents import contract

    if tool_calls not in ("auto", "native", "tags"):
        raise ValueError(f"tool_calls must be 'auto', 'native' or 'tags', got {tool_calls!r}")
    if tool_calls == "auto":
        return contract.action_format(env) == "native" and bool(contract.tools(env))
    return tool_calls == "native"


def play_episodes(
    lm: Any,
    env: Any,
    task_indices: Sequence[int],
    generation: GenerationConfig,
    max_turns: int,
    *,
    tool_calls: ToolCallMode = "tags",
) -> list[Episode]:
    """Play one episode per entry of ``task_indices`` (repeats allowed), all in lock step: one
    batched ``generate`` call per turn; the env is branched with ``get_state``/``set_state``,
    so one env serves every episode.

    With the tag grammar (``tool_calls="tags"``) tool replies come back as user turns
    (:func:`~reasongym.agents.search.base.chat_prompt`), as the search agents show them. With
    native tool calls the env's typed tools go to the model (``GenerationConfig.tools``: the
    chat template renders them), tool replies keep the ``tool`` role, and a completion's tool
    calls reach the env as the contract's ``{"tool_calls": [...]}`` action (its text
    otherwise, which the env grades like any action).
    """
    from reasongym.agents import contract
    from reasongym.agents.llm import completion_action
    from reasongym.agents.search.chat import chat_prompt

    inner = env.unwrapped
    native = uses_native_tools(env, tool_calls)
    limit = contract.max_turns(env) or max_turns
    max_turns = min(max_turns, limit)
    stops = (*generation.stop, *contract.stop_strings(env), *(("</tool_call>",) if native else ()))
    generation = dataclasses.replace(
        generation,
        stop=tuple(dict.fromkeys(stops)),
        tools=tuple(contract.openai_tools(env)) if native else (),
    )
    offered = lm.native_tools(generation) if native and hasattr(lm, "native_tools") else ()
    episodes = [Episode(i) for i in task_indices]
    contexts: list[list[Message]] = []
    states: list[Any] = []
    for episode in episodes:
        start = time.perf_counter()
        _, info = env.reset(options={"task_index": int(episode.task_index)})
        contexts.append([dict(m) for m in info["messages"]])
        states.append(inner.get_state())
        episode.env_seconds += time.perf_counter() - start
    for turn in range(max_turns):
        active = [k for k, e in enumerate(episodes) if not e.done]
        if not active:
            break
        prompts = [contexts[k] if native else chat_prompt(contexts[k]) for k in active]
        seed = None if generation.seed is None else generation.seed + turn
        outs = lm.generate(prompts, dataclasses.replace(generation, n=1, seed=seed))
        for k, prompt, [completion] in zip(active, prompts, outs, strict=True):
            episode = episodes[k]
            episode.turns.append(Turn(list(prompt), completion.text, offered))
            episode.tokens += completion.num_tokens
            episode.tool_calls += len(completion.tool_calls) if native else 0
            action = completion_action(completion) if native else completion.text
            start = time.perf_counter()
            inner.set_state(states[k])
            obs, reward, terminated, truncated, info = inner.step(action)
            states[k] = inner.get_state()
            episode.env_seconds += time.perf_counter() - start
            episode.reward += float(reward)
            episode.success = bool(info.get("is_success", False))
            episode.done = bool(terminated or truncated) or turn + 1 >= max_turns
            contexts[k] = [dict(m) for m in info["messages"]]
    return episodes


def pass_at_1(
    lm: Any,
    env: Any,
    task_indices: Sequence[int],
    config: TaskConfig,
    *,
    tool_calls: ToolCallMode = "tags",
) -> float:
    """Greedy pass@1: the fraction of tasks whose greedy episode the env marks a success."""
    if not task_indices:
        return float("nan")
    generation = GenerationConfig(temperature=0.0, max_tokens=config.max_tokens, logprobs=False)
    episodes = play_episodes(
        lm, env, task_indices, generation, config.max_turns, tool_calls=tool_calls
    )
    return sum(e.success for e in episodes) / len(episodes)


def evaluate(lm: Any, split: TaskSplit, *, tool_calls: ToolCallMode = "tags") -> dict[str, float]:
    """Greedy pass@1 on all held-out tasks and on those with never-trained questions."""
    lm.model.eval()
    kwargs = {"config": split.config, "tool_calls": tool_calls}
    return {
        "pass1": pass_at_1(lm, split.env, split.eval_indices, **kwargs),
        "pass1_unseen_questions": pass_at_1(lm, split.env, split.unseen_indices, **kwargs),
    }


def best_of_n_trees(
    lm: Any,
    env: Any,
    task_indices: Sequence[int],
    n: int,
    temperature: float,
    config: TaskConfig,
    seed: int,
    show_progress: bool = False,
) -> list[Any]:
    """Best-of-N in train mode (verifier guidance: every sampled answer is graded by the env)
    on each task; returns the search trees (:class:`~reasongym.agents.search.SearchTree`)."""
    from reasongym.agents.search import BestOfN

    generation = GenerationConfig(temperature=temperature, max_tokens=config.max_tokens)
    agent = BestOfN(
        lm,
        n=n,
        guidance="verifier",
        mode="train",
        generation=generation,
        max_depth=config.max_turns,
        keep_trees=True,
        seed=seed,
    )
    agent.bind(env)
    lm.model.eval()
    with progress(len(task_indices), "search", show_progress) as bar:
        for index in task_indices:
            obs, info = env.reset(options={"task_index": int(index)})
            agent.reset(obs, info)
            agent.search(obs, info)
            bar.update(1)
    return agent.trees
