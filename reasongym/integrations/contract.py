"""The env contract as the bridges read it: typed tools, tool calls as actions, task rows.

Every bridge (OpenEnv server, TRL, verifiers) reaches an env only through these functions,
so a tool call from any trainer becomes one ordinary ``env.step(action)``: the turn limit,
step cost, format penalty and verifier apply exactly as they do for a text action, and no
bridge can give a policy a free or unscored call.

Envs that expose the contract (``env.unwrapped.tools`` as ``ToolSpec`` objects,
``reasongym.tasks``) answer themselves; for envs from before it (``tools`` a dict of
``Tool``, tasks only in ``env.unwrapped.source``) each function documents its fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reasongym.agents import contract as agent_contract


@dataclass(frozen=True)
class ToolView:
    """One typed tool as a bridge sees it.

    Attributes:
        name: the tool's name (a valid Python identifier for TRL methods).
        description: what it does, for schemas and docstrings.
        parameters: JSON Schema object of its arguments.
    """

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_openai(self) -> dict[str, Any]:
        """``{"type": "function", "function": {name, description, parameters}}``."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def to_mcp(self) -> dict[str, Any]:
        """An MCP ``tools/list`` entry (``inputSchema`` as MCP spells it)."""
        return {"name": self.name, "description": self.description, "inputSchema": self.parameters}

    def argument_names(self) -> list[str]:
        """The declared argument names, in schema order."""
        return list(self.parameters.get("properties", {}))


def tool_views(env: Any) -> list[ToolView]:
    """The env's typed tools. Fallback for a ``tools`` dict of ``Tool``: one string argument
    named ``tool.argument``."""
    specs = agent_contract.tools(env)
    if specs:
        views = []
        for spec in specs:
            fn = spec.to_openai()["function"]
            views.append(
                ToolView(
                    name=str(fn["name"]),
                    description=str(fn.get("description", "")),
                    parameters=dict(fn.get("parameters") or {"type": "object", "properties": {}}),
                )
            )
        return views
    legacy = getattr(getattr(env, "unwrapped", env), "tools", None)
    if not isinstance(legacy, dict):
        return []
    views = []
    for name, tool in legacy.items():
        arg = getattr(tool, "argument", "input") or "input"
        views.append(
            ToolView(
                name=str(name),
                description=str(getattr(tool, "description", "")),
                parameters={
                    "type": "object",
                    "properties": {arg: {"type": "string", "description": f"the {arg}"}},
                    "required": [arg],
                },
            )
        )
    return views


def tool_call_action(name: str, arguments: dict[str, Any]) -> str:
    """The text action for a typed tool call: the grammar's OpenAI-style JSON form, so the env's
    one parser reads it (bad arguments become the env's format error, never an exception)."""
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def answer_action(text: str) -> str:
    """The text action that submits ``text`` as a final answer."""
    return f"<answer>{text}</answer>"


def num_tasks(env: Any) -> int | None:
    """How many indexed tasks the env has (None: unbounded or unknown)."""
    return agent_contract.num_tasks(env)


def task_rows(env_id: str, indices: list[int] | None = None, **env_kwargs: Any) -> list[dict]:
    """Rows with ``prompt``, ``messages``, ``answer``, ``task_id``, ``task_index``, ``tools``.

    Uses ``reasongym.tasks`` when the package exports it; otherwise builds the rows by
    resetting the env at each index (``reset(options={"task_index": i})``).
    """
    import reasongym

    tasks_fn = getattr(reasongym, "tasks", None)
    if callable(tasks_fn):
        return list(tasks_fn(env_id, indices=indices, **env_kwargs))
    import gymnasium as gym

    env = gym.make(env_id, **env_kwargs)
    try:
        total = num_tasks(env)
        if indices is None:
            if total is None:
                raise ValueError(
                    f"{env_id} is procedural (no fixed task list); pass indices=[...] explicitly"
                )
            indices = list(range(total))
        agent_contract.check_task_indices(env, indices)
        openai_tools = [v.to_openai() for v in tool_views(env)]
        rows = []
        for i in indices:
            obs, info = env.reset(seed=int(i), options={"task_index": int(i)})
            text = obs["text"] if isinstance(obs, dict) else str(obs)
            task = getattr(env.unwrapped, "_state", None)
            task = getattr(task, "task", None)
            rows.append(
                {
                    "prompt": text,
                    "messages": [{"role": "user", "content": text}],
                    "question": getattr(task, "question", text),
                    "answer": str(getattr(task, "answer", "")),
                    "task_id": str(info.get("task_id") or f"{env_id}:{i}"),
                    "task_index": int(i),
                    "tools": openai_tools,
                }
            )
        return rows
    finally:
        env.close()
