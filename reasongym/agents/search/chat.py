"""How a search shows the chat to its policy: the prompt format and the chat's first turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reasongym.agents.models.base import Message, Prompt
from reasongym.agents.search.tree import observation_text

PromptFn = Callable[[list[Message]], Prompt]


def chat_prompt(context: list[Message]) -> Prompt:
    """The default prompt: the context as a chat, with tool output shown as a user turn
    ``"Tool output:\n..."`` as :class:`reasongym.agents.llm.LLMAgent` shows it (every chat
    template and server accepts that), so a policy sees the same chat inside a search as
    when it acts alone."""
    return [
        {"role": "user", "content": f"Tool output:\n{m['content']}"} if m["role"] == "tool" else m
        for m in context
    ]


def initial_context(observation: Any, info: dict[str, Any]) -> list[Message]:
    """The chat at the start of a search: the env's ``info["messages"]``, else the observation."""
    messages = info.get("messages")
    if isinstance(messages, list) and messages:
        return [dict(m) for m in messages]
    return [{"role": "user", "content": observation_text(observation)}]


def reply_role(info: dict[str, Any]) -> str:
    """The chat role of the env's latest reply (``"tool"`` or ``"user"``)."""
    messages = info.get("messages")
    if isinstance(messages, list) and messages and messages[-1].get("role") in ("tool", "user"):
        return messages[-1]["role"]
    return "user"
