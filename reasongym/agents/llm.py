"""LLMAgent: a language model acting in a text (or multimodal) env through the action grammar.

The chat is the env's own ``info["messages"]`` when it keeps one (text envs do), else the
agent builds it from observations and its actions. The env's first prompt already states the
instructions, the tools and the grammar, so the agent adds a system prompt only when that
prompt does not mention the grammar (or when given one). Generation stops at the env's
``stop_strings``, so one completion is one action.

Native tool calls: when the env takes OpenAI-style tool calls (``action_format: native``) or
``tool_calls="native"``, the env's typed tools (``env.unwrapped.tools``) go to the backend as
OpenAI ``tools=[...]``, and a tool call the model makes comes back as the action (a JSON
``{"tool_calls": [...]}`` string, which every env's grammar accepts). Backends or servers that
cannot call tools natively get the tools in the prompt as usual and write calls as text.

Example::

    import gymnasium as gym, reasongym
    from reasongym.agents.llm import LLMAgent
    from reasongym.agents.models import load_model

    agent = LLMAgent(load_model("smollm2"))
    env = gym.make("reasongym/Arithmetic-v0")
    agent.bind(env)
    obs, info = env.reset(seed=0)
    agent.reset(obs, info)
    obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Literal

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
from reasongym.agents.models.images import image_part
from reasongym.envs.actions import GRAMMAR_HELP

ToolCallMode = Literal["auto", "native", "tags"]
DEFAULT_SYSTEM_PROMPT = "You solve problems step by step. Act in this format. " + GRAMMAR_HELP


class LLMAgent(Agent):
    """Acts with one completion of ``model`` per step.

    Args:
        model: any :class:`LanguageModel` backend.
        config: sampling settings (``n`` is forced to 1; the env's ``stop_strings`` are added
            when the agent is bound). Default: greedy, ``DEFAULT_MAX_TOKENS`` new tokens.
        system_prompt: a system message to put first; None adds :data:`DEFAULT_SYSTEM_PROMPT`
            only when the env's prompt does not already describe the action grammar; "" never
            adds one.
        tool_role: how tool output is shown to the model: ``"user"`` (default: a user turn
            starting "Tool output:", which every chat template and server accepts) or
            ``"tool"`` (kept as the env sends it).
        tool_calls: ``"auto"`` (native tool calls when the env's ``action_format`` is
            ``native``), ``"native"`` (always offer the env's tools natively) or ``"tags"``
            (never: the model writes the tag grammar).
        name: the agent's name in run summaries.
    """

    def __init__(
        self,
        model: LanguageModel,
        config: GenerationConfig | None = None,
        system_prompt: str | None = None,
        tool_role: str = "user",
        tool_calls: ToolCallMode = "auto",
        name: str = "llm",
    ):
        if tool_role not in ("user", "tool"):
            raise ValueError(f"tool_role must be 'user' or 'tool', got {tool_role!r}")
        if tool_calls not in ("auto", "native", "tags"):
            raise ValueError(f"tool_calls must be 'auto', 'native' or 'tags', got {tool_calls!r}")
        config = config or GenerationConfig(max_tokens=DEFAULT_MAX_TOKENS)
        stops = tuple(dict.fromkeys((*config.stop, *contract.stop_strings(None))))
        self.model = model
        self.tool_calls = tool_calls
        self._base_stop = tuple(config.stop)
        self.config = replace(config, n=1, stop=stops)
        self.system_prompt = system_prompt
        self.tool_role = tool_role
        self.name = name
        self._own_chat: list[Message] = []
        self._system: str | None = None
        self._calls = 0
        self._generated = 0
        self._prompt_tokens_before = model.usage.prompt_tokens
        self.last_completion: Completion | None = None
        self._last_action: str | None = None

    def bind(self, env: gym.Env) -> None:
        """Take the env's stop strings and, for native tool calls, its typed tools."""
        super().bind(env)
        stops = tuple(dict.fromkeys((*self._base_stop, *contract.stop_strings(env))))
        native = self.tool_calls == "native" or (
            self.tool_calls == "auto" and contract.action_format(env) == "native"
        )
        tools = tuple(contract.openai_tools(env)) if native else ()
        self.config = replace(self.config, stop=stops, tools=tools)

    # -- the episode ---------------------------------------------------------------------------
    def reset(self, observation: Any, info: dict[str, Any]) -> None:
        text = _observation_text(observation)
        if self.system_prompt is not None:
            self._system = self.system_prompt or None
        else:
            grammar_known = "<answer>" in text or "<tool" in text
            self._system = None if grammar_known else DEFAULT_SYSTEM_PROMPT
        self._own_chat = [self._user_message(observation)]
        self._last_action: str | None = None

    def act(self, observation: Any, info: dict[str, Any]) -> str:
        if not self._own_chat:  # reset() was not called: start from this observation
            self.reset(observation, info)
        elif self._last_action is not None:
            self._own_chat += [
                {"role": "assistant", "content": self._last_action},
                self._user_message(observation),
            ]
        chat = self.chat(observation, info)
        seed = None if self.config.seed is None else self.config.seed + self._calls
        before = self.model.usage.generated_tokens
        completion = self.model.generate([chat], replace(self.config, seed=seed))[0][0]
        self._calls += 1
        # The backend's count (a server's usage includes the stop string it strips from the text).
        self._generated += self.model.usage.generated_tokens - before or completion.num_tokens
        self.last_completion = completion
        self._last_action = completion_action(completion)
        return self._last_action

    def chat(self, observation: Any, info: dict[str, Any]) -> list[Message]:
        """The messages sent to the model for this step."""
        messages = info.get("messages")
        if messages:
            chat = [self._convert(m) for m in messages]
            image = _observation_image(observation)
            if image is not None and chat[-1]["role"] == "user":
                chat[-1] = {**chat[-1], "content": _with_image(chat[-1]["content"], image)}
        else:
            chat = list(self._own_chat)
        if self._system:
            chat = [{"role": "system", "content": self._system}, *chat]
        return chat

    def _convert(self, message: Message) -> Message:
        if message["role"] == "tool" and self.tool_role == "user":
            return {"role": "user", "content": f"Tool output:\n{message['content']}"}
        return {"role": message["role"], "content": message["content"]}

    @staticmethod
    def _user_message(observation: Any) -> Message:
        image = _observation_image(observation)
        text = _observation_text(observation)
        return {"role": "user", "content": text if image is None else _with_image(text, image)}

    def stats(self) -> dict[str, Any]:
        return {
            "model_calls": self._calls,
            "tokens_generated": self._generated,
            "prompt_tokens": self.model.usage.prompt_tokens - self._prompt_tokens_before,
        }


def _observation_text(observation: Any) -> str:
    if isinstance(observation, dict):
        return str(observation.get("text", ""))
    return observation if isinstance(observation, str) else str(observation)


def _observation_image(observation: Any) -> Any:
    return observation.get("image") if isinstance(observation, dict) else None


def _with_image(content: Any, image: Any) -> list[dict[str, Any]]:
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    return [*parts, image_part(image)]


def completion_action(completion: Completion) -> str:
    """The action of a completion: its native tool calls as ``{"tool_calls": [...]}`` JSON
    when it made some (the env's grammar reads that form), else its text."""
    if completion.tool_calls:
        return json.dumps({"tool_calls": [dict(c) for c in completion.tool_calls]})
    return completion.text


def make_llm_agent(
    *,
    model: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    tool_calls: ToolCallMode = "auto",
    seed: int | None = None,
    policy: LanguageModel | None = None,
) -> LLMAgent:
    """Build an :class:`LLMAgent` (``reasongym run --agent llm``).

    Args:
        model: a local path, ``smollm2``, ``tiny:DIR``, or with ``base_url`` the server's model
            name (default ``smollm2`` locally, the first model a server lists).
        base_url: an OpenAI-compatible server, e.g. ``http://127.0.0.1:8000/v1``.
        temperature: sampling temperature (default 0: greedy).
        max_tokens: new tokens per step (default ``DEFAULT_MAX_TOKENS``).
        tool_calls: ``auto``, ``native`` or ``tags`` (see :class:`LLMAgent`).
        seed: sampling seed.
        policy: an already loaded :class:`LanguageModel` (then ``model``/``base_url`` are unused).
    """
    from reasongym.agents.search.factory import load_policy

    lm = policy or load_policy(model, base_url)
    config = GenerationConfig(
        temperature=0.0 if temperature is None else float(temperature),
        max_tokens=DEFAULT_MAX_TOKENS if max_tokens is None else int(max_tokens),
        seed=seed,
        logprobs=False,
    )
    return LLMAgent(lm, config, tool_calls=tool_calls)
