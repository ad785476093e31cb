"""A reasongym id as a ``verifiers`` (0.4, ``verifiers.v1``) environment.

* :class:`ReasonGymTaskset`: the env's tasks (``task_index`` 0..n-1), each prompt being the
  env's own reset prompt (instructions, the tool grammar, the problem).
* :class:`ReasonGymEnv`: one episode per task, stepped host-side (like verifiers' own
  TextArena env): every assistant reply is one ``env.step``; the env's reply (tool output,
  verifier feedback) is the next user turn; the episode's summed reward is recorded as
  ``reasongym_reward``, so scores are exactly what ``gym.make(env_id)`` pays.
* :class:`ReasonGymChatHarness`: a plain chat agent that runs in-process (one model call per
  turn through verifiers' interception endpoint), so no ``uv``-built program or container
  is needed to evaluate a chat model. Each reply stops at the env's ``stop_strings`` (as
  ``reasongym run``'s agent's does), and the stop string the server leaves out is put back
  before the env reads the reply, so both score the same actions.

The env's typed tools are called through its text grammar inside the episode (so every call
is a scored, counted step), not as a verifiers ``Toolset``: a Toolset is an MCP server shared
by all rollouts of a worker, whose calls do not pass through the episode; see the README.

Run with verifiers' own entry point (the installed module ``reasongym_env`` is the taskset
id ``reasongym-env``; ``examples/integrations/verifiers_eval.py`` runs this end to end)::

    vf-eval reasongym-env --env.taskset.env-id reasongym/Arithmetic-v0 --env.taskset.num-tasks 8 \\
        -m MODEL --client.base-url http://127.0.0.1:8000/v1 --client.api-key-var OPENAI_API_KEY \\
        --env.player.sampling.temperature 0 --no-push
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Iterator
from typing import Any

import verifiers.v1 as vf
from pydantic import Field
from verifiers.v1.runtimes import ProgramResult


class ReasonGymTasksetConfig(vf.TasksetConfig):
    """Which env and tasks (``--env.taskset.*`` on the command line)."""

    env_id: str = "reasongym/Arithmetic-v0"
    """A registered reasongym id."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """``gym.make`` keyword arguments."""
    num_tasks: int | None = None
    """How many tasks (task indices 0..num_tasks-1); required for procedural envs."""
    seed: int = 0
    """Reset seed of every episode (procedural envs are indexed, so tasks do not depend on it)."""


class ReasonGymData(vf.TaskData):
    env_id: str
    env_kwargs: dict[str, Any]
    task_index: int
    seed: int


class ReasonGymTask(vf.Task[ReasonGymData, vf.State, vf.TaskConfig]):
    @property
    def key(self) -> str:
        return f"{self.data.env_id}#{self.data.task_index}"


def _make(env_id: str, env_kwargs: dict[str, Any]):
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the ids

    return gym.make(env_id, **env_kwargs)


def _text(obs: Any) -> str:
    return str(obs.get("text", "")) if isinstance(obs, dict) else str(obs)


@functools.lru_cache(maxsize=64)
def _stop_strings(env_id: str, env_kwargs_json: str) -> tuple[str, ...]:
    """The env's ``stop_strings`` (what ``reasongym run``'s LLM agent stops generation at)."""
    from reasongym.agents import contract

    env = _make(env_id, json.loads(env_kwargs_json))
    try:
        return contract.stop_strings(env)
    finally:
        env.close()


def _stops_of(data: Any) -> tuple[str, ...]:
    return _stop_strings(
        str(data.env_id), json.dumps(dict(data.env_kwargs), sort_keys=True, default=str)
    )


def _with_stop(text: str, stops: tuple[str, ...]) -> str:
    """``text`` with the tag-like stop string that ended it put back.

    An OpenAI-style server leaves the matched stop string out of the reply (``<answer>5``),
    and verifiers records the reply as sent; ``reasongym run``'s agent acts with the whole
    action (``<answer>5</answer>``). Both sides therefore use the same rule (that of
    :mod:`reasongym.agents.models.openai_lm` without a ``stop_reason``): a ``</tag>`` stop whose
    ``<tag`` opens last and is not closed again is appended.
    """
    if any(text.endswith(s) for s in stops):
        return text
    best, best_at = "", -1
    for stop in stops:
        if stop.startswith("</") and stop.endswith(">"):
            at = text.rfind("<" + stop[2:-1])
            if at > best_at and text.find(stop, at) < 0:
                best, best_at = stop, at
    return text + best


def _reply(segment: Any) -> str:
    """The segment's last assistant message as the model wrote it (``last_reply`` strips it)."""
    for message in reversed(segment.messages):
        if isinstance(message, vf.AssistantMessage):
            return message.content if isinstance(message.content, str) else segment.last_reply
    return segment.last_reply


def _next_turn(obs: Any, info: dict[str, Any]) -> str:
    """The env's reply as the next user turn, shown exactly as ``reasongym run``'s LLM agent
    shows it (tool output as ``"Tool output:\n..."``), so both score the same chat."""
    from reasongym.agents.search.chat import chat_prompt

    messages = info.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return str(chat_prompt([messages[-1]])[0]["content"])
    return _text(obs)


class ReasonGymTaskset(vf.Taskset[ReasonGymTask, ReasonGymTasksetConfig]):
    def load(self) -> Iterator[ReasonGymTask]:
        from reasongym.integrations import contract

        config = self.config
        env = _make(config.env_id, config.env_kwargs)
        try:
            total = contract.num_tasks(env)
            count = config.num_tasks if config.num_tasks is not None else total
            if count is None:
                raise ValueError(f"{config.env_id} is procedural: set --env.taskset.num-tasks N")
            if total is not None:
                count = min(count, total)
            for index in range(count):
                obs, info = env.reset(seed=config.seed, options={"task_index": index})
                yield ReasonGymTask(
                    ReasonGymData(
                        id=str(info.get("task_id") or f"{config.env_id}#{index}"),
                        name=f"{config.env_id}#{index}",
                        prompt=_text(obs),
                        env_id=config.env_id,
                        env_kwargs=dict(config.env_kwargs),
                        task_index=index,
                        seed=config.seed,
                    ),
                    config.task,
                )
        finally:
            env.close()


class ReasonGymEnvConfig(vf.EnvConfig):
    # The episode runs host-side and the default harness needs no box, so the agent's
    # runtime defaults to a local subprocess (verifiers' default is a remote Prime sandbox).
    player: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig())


class ReasonGymEnv(vf.Env[ReasonGymEnvConfig]):
    async def run(self, task, agents) -> None:
        data = task.data
        env = await asyncio.to_thread(_make, data.env_id, data.env_kwargs)
        stops = await asyncio.to_thread(_stops_of, data)
        total, info = 0.0, {}
        try:
            await asyncio.to_thread(
                env.reset, seed=data.seed, options={"task_index": data.task_index}
            )
            async with agents.player.interaction(task) as interaction:
                segment = await interaction.turn()  # the task's prompt opens the exchange
                while not segment.terminated:
                    obs, reward, terminated, truncated, info = await asyncio.to_thread(
                        env.step, _with_stop(_reply(segment), stops)
                    )
                    total += float(reward)
                    if terminated or truncated:
                        break
                    segment = await interaction.turn(_next_turn(obs, info))
                # Recorded before the interaction closes, so verifiers' own "rollout done"
                # log line (written on close) already shows the env's reward.
                trace = interaction.trace
                trace.record_reward("reasongym_reward", total, 1.0)
                trace.info["is_success"] = bool(info.get("is_success", False))
        finally:
            env.close()


class ReasonGymChatHarnessConfig(vf.HarnessConfig):
    pass


class ReasonGymChatHarness(vf.Harness[ReasonGymChatHarnessConfig]):
    """One chat completion per turn, in-process, through the interception endpoint."""

    APPENDS_SYSTEM_PROMPT = True
    SUPPORTS_RESUME = True
    EXECUTES_CODE = False
    NEEDS_CONTAINER = False

    async def launch(
        self, ctx, trace, runtime, endpoint, secret, mcp_urls, data, tool_interception_url=None
    ) -> ProgramResult:
        import httpx
        from openai import AsyncOpenAI
        from verifiers.v1.dialects.chat import message_to_wire

        system, prompt = self.resolve_prompt(data)
        stops = await asyncio.to_thread(_stops_of, data)
        messages: list[dict[str, Any]] = []
        if system:
            messages.append({"role": "system", "content": system})
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        elif prompt:
            messages += [message_to_wire(m) for m in prompt]
        for message in messages:  # earlier replies as the env received them (stop put back)
            if message.get("role") == "assistant" and isinstance(message.get("content"), str):
                message["content"] = _with_stop(message["content"], stops)
        # No read timeout (verifiers' own default): a slow local model must not fail the turn;
        # the rollout's own timeouts bound it.
        timeout = httpx.Timeout(connect=30.0, read=None, write=None, pool=None)
        client = AsyncOpenAI(base_url=endpoint, api_key=secret, max_retries=0, timeout=timeout)
        try:
            # The env's stop strings end each reply, as for `reasongym run`'s agent: one reply is
            # one action (the eval's sampling settings are applied on top by the interception).
            extra = {"stop": list(stops)} if stops else {}
            await client.chat.completions.create(model=ctx.model, messages=messages, **extra)
        finally:
            await client.close()
        return ProgramResult(exit_code=0, stdout="", stderr="")
