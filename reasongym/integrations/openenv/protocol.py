"""OpenEnv's session messages on one reasongym env: what each message does and answers.

Client to server (``{"type": ..., "data": ...}``, as OpenEnv's ``EnvClient`` sends them):

* ``reset``: ``data`` may hold ``seed`` (int >= 0), ``task_index`` (int), ``options`` (dict),
  ``episode_id`` (str). Answer: ``{"type": "observation", "data": PAYLOAD}``.
* ``step``: ``data`` is ``{"action": str | int}``, or an MCP action ``{"type": "call_tool",
  "tool_name", "arguments"}`` / ``{"type": "list_tools"}``. A tool call is stepped as the
  env's own JSON tool-call action, so it pays and counts like any other step.
* ``state``: ``{"type": "state", "data": {"episode_id", "step_count", "env_id", "done", ...}}``.
* ``get_state`` (beyond OpenEnv): snapshot the whole episode on the server; answer
  ``{"type": "snapshot", "data": {"state_id", "step_count"}}``.
* ``set_state`` (beyond OpenEnv): ``data`` ``{"state_id"}``: restore that snapshot. The
  snapshot itself never leaves the server, so a client cannot craft a state (a board one move
  from solved, altered reward bookkeeping): ``state_id`` is an unguessable handle, valid only
  in the session and the episode that made it (``reset`` drops the episode's snapshots).
* ``mcp``: ``data`` is a JSON-RPC 2.0 request (``tools/list``, ``tools/call``); answer
  ``{"type": "mcp", "data": RESPONSE}``.
* ``close``: end the session.

Every problem is one ``{"type": "error", "data": {"message", "code"}}`` answer with OpenEnv's
codes (``INVALID_JSON``, ``UNKNOWN_TYPE``, ``VALIDATION_ERROR``, ``EXECUTION_ERROR``, ...); the
session keeps serving. Nothing here raises.
"""

from __future__ import annotations

import uuid
from typing import Any

from gymnasium import spaces

from reasongym.integrations import contract
from reasongym.integrations.openenv import codec
from reasongym.integrations.openenv.sessions import Session, snapshot_size

RESET_KEYS = frozenset({"seed", "task_index", "options", "episode_id"})
MAX_SEED = 2**63 - 1


class ProtocolError(Exception):
    """A message the server refuses; becomes an ``error`` answer with ``code``."""

    def __init__(self, message: str, code: str = "VALIDATION_ERROR"):
        super().__init__(message)
        self.code = code


def error(message: str, code: str) -> dict[str, Any]:
    return {"type": "error", "data": {"message": message, "code": code}}


def parse_reset(data: Any) -> tuple[int | None, dict[str, Any], str | None]:
    """``(seed, options, episode_id)`` from a reset message's data."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError('reset data must be an object, e.g. {"seed": 0}')
    unknown = sorted(set(data) - RESET_KEYS)
    if unknown:
        raise ProtocolError(f"unknown reset key {unknown[0]!r}; accepted: {sorted(RESET_KEYS)}")
    seed = data.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        raise ProtocolError("reset 'seed' must be an integer in [0, 2**63)")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise ProtocolError("reset 'options' must be an object")
    options = dict(options)
    if "task_index" in data:
        options["task_index"] = data["task_index"]
    if "task_index" in options:
        index = options["task_index"]
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ProtocolError("'task_index' must be a non-negative integer")
    episode_id = data.get("episode_id")
    if episode_id is not None and (not isinstance(episode_id, str) or len(episode_id) > 255):
        raise ProtocolError("'episode_id' must be a string of at most 255 characters")
    return seed, options, episode_id


def check_action(env: Any, action: Any) -> Any:
    """The action if its type fits the env's action space (text: str; discrete: int)."""
    space = env.action_space
    if isinstance(space, spaces.Discrete):
        if isinstance(action, bool) or not isinstance(action, int) or not space.contains(action):
            raise ProtocolError(
                f"this env takes an integer action in [{int(space.start)}, "
                f"{int(space.start) + int(space.n)}), got {action!r:.80}"
            )
        return action
    if not isinstance(action, str):
        raise ProtocolError(f"this env takes a text action (a string), got {type(action).__name__}")
    return action


def _step_payload(env: Any, action: Any) -> dict[str, Any]:
    """Step and encode on the session's lane of the worker pool (PNG and zlib off the event loop)."""
    return codec.payload(*env.step(action))


def _snapshot(env: Any) -> tuple[Any, int]:
    """The env's snapshot and its weight, on the session's lane (off the event loop)."""
    snapshot = env.get_state()
    return snapshot, snapshot_size(snapshot)


class Protocol:
    """Answers the messages of one session (see the module docstring)."""

    def __init__(self, env_id: str):
        self.env_id = env_id

    async def handle(self, session: Session, message: Any) -> dict[str, Any] | None:
        """The answer to one decoded message; None means close the session."""
        if not isinstance(message, dict):
            return error("a message must be a JSON object with a 'type'", "VALIDATION_ERROR")
        kind = message.get("type")
        data = message.get("data")
        try:
            if kind == "reset":
                return {"type": "observation", "data": await self.reset(session, data)}
            if kind == "step":
                return {"type": "observation", "data": await self.step(session, data)}
            if kind == "state":
                return {"type": "state", "data": await self.state(session)}
            if kind == "get_state":
                return {"type": "snapshot", "data": await self.get_state(session)}
            if kind == "set_state":
                return {"type": "state", "data": await self.set_state(session, data)}
            if kind == "mcp":
                return {"type": "mcp", "data": await self.mcp(session, data)}
            if kind == "close":
                return None
            return error(
                f"Unknown message type: {str(kind)[:80]!r}; expected reset, step, state, "
                "get_state, set_state, mcp or close",
                "UNKNOWN_TYPE",
            )
        except ProtocolError as exc:
            return error(str(exc), exc.code)
        except Exception as exc:  # noqa: BLE001 - an env failure is this message's error only
            return error(f"{type(exc).__name__}: {exc}"[:2000], "EXECUTION_ERROR")

    # -- messages --------------------------------------------------------------------------------
    async def reset(self, session: Session, data: Any) -> dict[str, Any]:
        seed, options, episode_id = parse_reset(data)
        env = session.env

        def reset() -> dict[str, Any]:
            obs, info = env.reset(seed=seed, options=options or None)
            return codec.payload(obs, None, False, False, info)

        session.forget_snapshots()  # a snapshot belongs to its episode: no replay after reset
        result = await session.run(reset)
        session.has_reset, session.done, session.step_count = True, False, 0
        session.episode_id = episode_id or uuid.uuid4().hex
        return result

    async def step(self, session: Session, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ProtocolError('step data must be an object, e.g. {"action": "..."}')
        kind = data.get("type")
        if kind == "list_tools":
            tools = [
                {"name": v.name, "description": v.description, "input_schema": v.parameters}
                for v in contract.tool_views(session.env)
            ]
            return {"observation": {"tools": tools}, "reward": None, "done": session.done}
        if kind == "call_tool":
            return await self._call_tool_step(session, data)
        if "action" not in data:
            raise ProtocolError("step data needs an 'action' (a string for text envs)")
        return await self._step_action(session, check_action(session.env, data["action"]))

    async def _step_action(self, session: Session, action: Any) -> dict[str, Any]:
        if not session.has_reset:
            raise ProtocolError("send a reset before the first step", "EXECUTION_ERROR")
        result = await session.run(_step_payload, session.env, action)
        session.step_count += 1
        session.done = result["done"]
        return result

    async def _call_tool_step(self, session: Session, data: dict[str, Any]) -> dict[str, Any]:
        name = data.get("tool_name")
        arguments = data.get("arguments") or {}
        tool = self._tool(session, name)
        if tool is None or not isinstance(arguments, dict):
            reason = "arguments must be an object" if tool else f"unknown tool {name!r:.80}"
            return {
                "observation": {
                    "tool_name": str(name)[:80],
                    "result": None,
                    "error": {
                        "error_type": "tool_not_found" if not tool else "invalid_args",
                        "message": reason,
                    },
                },
                "reward": None,
                "done": session.done,
            }
        result = await self._step_action(session, contract.tool_call_action(tool.name, arguments))
        fields = result["observation"]
        fields["tool_name"] = tool.name
        fields["result"] = self._tool_result(result)
        fields["error"] = None
        return result

    def _tool(self, session: Session, name: Any) -> contract.ToolView | None:
        for view in contract.tool_views(session.env):
            if view.name == name:
                return view
        return None

    @staticmethod
    def _tool_result(result: dict[str, Any]) -> dict[str, Any]:
        fields = result["observation"]
        text = fields.get("text") or ""
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if fields.get("image"):
            content.append(
                {"type": "image", "data": fields["image"]["data"], "mimeType": "image/png"}
            )
        return {
            "content": content,
            "data": text,
            "isError": False,
            "structuredContent": {
                "reward": result["reward"],
                "done": result["done"],
                "terminated": fields.get("terminated"),
                "truncated": fields.get("truncated"),
            },
        }

    async def state(self, session: Session) -> dict[str, Any]:
        return {
            "episode_id": session.episode_id,
            "step_count": session.step_count,
            "env_id": self.env_id,
            "done": session.done,
            "session_id": session.id,
        }

    async def get_state(self, session: Session) -> dict[str, Any]:
        if not session.has_reset:
            raise ProtocolError("send a reset before get_state", "EXECUTION_ERROR")
        snapshot, size = await session.run(_snapshot, session.env.unwrapped)
        try:
            state_id = session.remember(snapshot, size)
        except ValueError as exc:
            raise ProtocolError(str(exc), "EXECUTION_ERROR") from None
        return {"state_id": state_id, "step_count": session.step_count}

    async def set_state(self, session: Session, data: Any) -> dict[str, Any]:
        state_id = data.get("state_id") if isinstance(data, dict) else None
        if not isinstance(state_id, str) or state_id not in session.snapshots:
            raise ProtocolError(
                "set_state needs a 'state_id' that get_state returned in this session and "
                "episode (a reset drops them); beyond the snapshot limits the least recently "
                "used go first"
            )
        snapshot, steps, episode_id, done, _ = session.snapshots[state_id]
        session.snapshots.move_to_end(state_id)
        await session.run(session.env.unwrapped.set_state, snapshot)
        session.step_count, session.episode_id, session.done = steps, episode_id, done
        session.has_reset = True
        return await self.state(session)

    # -- MCP -----------------------------------------------------------------------------------
    async def mcp(self, session: Session, request: Any) -> dict[str, Any]:
        """A JSON-RPC 2.0 answer to ``tools/list`` / ``tools/call`` on this session's env
        (never raises: an env failure is a JSON-RPC ``-32603`` error)."""
        try:
            return await self._mcp(session, request)
        except Exception as exc:  # noqa: BLE001 - an env failure is this request's error only
            return rpc_error(request_id(request), -32603, f"{type(exc).__name__}: {exc}"[:2000])

    async def _mcp(self, session: Session, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
            return rpc_error(None, -32600, "Invalid Request: expected a JSON-RPC 2.0 object")
        rid = request_id(request)
        method = request.get("method")
        params = request.get("params") or {}
        if not isinstance(params, dict):
            return rpc_error(rid, -32602, "Params must be an object")
        if method == "tools/list":
            tools = [v.to_mcp() for v in contract.tool_views(session.env)]
            return {"jsonrpc": "2.0", "id": rid, "result": {"tools": tools}}
        if method == "tools/call":
            tool = self._tool(session, params.get("name"))
            arguments = params.get("arguments") or {}
            if tool is None:
                return rpc_error(rid, -32602, f"Tool not found: {str(params.get('name'))[:80]}")
            if not isinstance(arguments, dict):
                return rpc_error(rid, -32602, "'arguments' must be an object")
            if not session.has_reset:
                await self.reset(session, {})
            try:
                result = await self._step_action(
                    session, contract.tool_call_action(tool.name, arguments)
                )
            except ProtocolError as exc:
                return rpc_error(rid, -32603, str(exc))
            return {"jsonrpc": "2.0", "id": rid, "result": self._tool_result(result)}
        return rpc_error(rid, -32601, f"Method not found: {str(method)[:80]}")


def request_id(request: Any) -> str | int | None:
    """A JSON-RPC request's ``id`` to echo: a string or an integer, else None (an id is never
    an arbitrary structure sent back, which could be nested too deep to encode)."""
    rid = request.get("id") if isinstance(request, dict) else None
    if isinstance(rid, bool) or not isinstance(rid, str | int):
        return None
    return rid


def rpc_error(rid: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message, "data": None}}
