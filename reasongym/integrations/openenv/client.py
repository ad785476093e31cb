"""``RemoteEnv(url)``: a gymnasium env whose episodes run on a ``reasongym serve`` server.

It has the served env's exact spaces (read from ``/schema``), returns the same observations
(images decoded losslessly), rewards and ``info``, and supports ``get_state``/``set_state``
(server-side snapshots), so ``gym``-style loops, vector envs and the search agents run
against a remote env unchanged. One ``RemoteEnv`` is one server session (one WebSocket).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import gymnasium as gym

from reasongym.integrations.openenv import codec
from reasongym.integrations.openenv.spaces import build, kind_of


class RemoteEnvError(RuntimeError):
    """The server answered a message with an error (``code`` is OpenEnv's error code)."""

    def __init__(self, message: str, code: str):
        super().__init__(f"{message} (code: {code})")
        self.code = code


class RemoteSnapshot(str):
    """An opaque id of a snapshot held by the server for this session."""


class RemoteEnv(gym.Env):
    """A gymnasium env served over OpenEnv's WebSocket protocol.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8000`` (``ws://`` also accepted).
        timeout_s: seconds to wait for each answer.
        render_mode: ignored by the server; kept for the gymnasium signature.
    """

    metadata = {"render_modes": []}

    def __init__(self, url: str, timeout_s: float = 120.0, render_mode: str | None = None):
        self.url = url.rstrip("/")
        if self.url.startswith("ws"):
            self.url = "http" + self.url[2:]
        self.timeout_s = timeout_s
        self.render_mode = render_mode
        with urllib.request.urlopen(f"{self.url}/schema", timeout=timeout_s) as response:
            schema = json.loads(response.read())
        self.observation_space = build(schema["spaces"]["observation"])
        self.action_space = build(schema["spaces"]["action"])
        self.tool_schemas: list[dict[str, Any]] = schema["action"].get("x-tools", [])
        self._kind = kind_of(self.observation_space)
        self._ws: Any = None

    # -- transport ---------------------------------------------------------------------------
    def _connection(self) -> Any:
        if self._ws is None:
            from websockets.sync.client import connect

            self._ws = connect(
                "ws" + self.url[4:] + "/ws",
                open_timeout=self.timeout_s,
                max_size=None,
                compression=None,
                legacy=True,
            )
        return self._ws

    def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        ws = self._connection()
        try:
            ws.send(codec.dumps(message))
            reply = codec.loads(ws.recv(timeout=self.timeout_s))
        except BaseException:
            # the answer may still be on its way (a timeout): drop the connection, so that it
            # is never read as the answer to the next message (the session ends with it)
            self._drop()
            raise
        if not isinstance(reply, dict) or not isinstance(reply.get("data"), dict | None):
            self._drop()
            raise RemoteEnvError(
                f"malformed answer from the server: {str(reply)[:200]}", "PROTOCOL"
            )
        if reply.get("type") == "error":
            data = reply.get("data") or {}
            raise RemoteEnvError(str(data.get("message")), str(data.get("code")))
        return reply

    def _result(self, data: dict[str, Any]) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        fields = data["observation"]
        obs = codec.decode_observation(fields, self._kind)
        reward = float(data.get("reward") or 0.0)
        return (
            obs,
            reward,
            bool(fields.get("terminated")),
            bool(fields.get("truncated")),
            dict(fields.get("info") or {}),
        )

    # -- gymnasium API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        data: dict[str, Any] = {}
        if seed is not None:
            data["seed"] = int(seed)
        if options:
            data["options"] = codec.to_jsonable(dict(options))  # numpy ints from vector envs
        reply = self._call({"type": "reset", "data": data})
        obs, _, _, _, info = self._result(reply["data"])
        return obs, info

    def step(self, action: Any):
        if hasattr(action, "item") and not isinstance(action, str):
            action = action.item()  # numpy integers from vector envs / SB3
        reply = self._call({"type": "step", "data": {"action": action}})
        return self._result(reply["data"])

    def get_state(self) -> RemoteSnapshot:
        """Snapshot the remote episode; the snapshot stays on the server (an id comes back)."""
        return RemoteSnapshot(self._call({"type": "get_state"})["data"]["state_id"])

    def set_state(self, state: RemoteSnapshot) -> None:
        """Restore a snapshot that :meth:`get_state` of this env returned."""
        self._call({"type": "set_state", "data": {"state_id": str(state)}})

    def remote_state(self) -> dict[str, Any]:
        """OpenEnv's ``state`` message: episode id, step count, env id."""
        return self._call({"type": "state"})["data"]

    def call_tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        """MCP ``tools/call`` on this session (a step of the env); the JSON-RPC result."""
        rpc = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        data = self._call({"type": "mcp", "data": rpc})["data"]
        if "error" in data:
            raise RemoteEnvError(data["error"]["message"], str(data["error"]["code"]))
        return data["result"]

    def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.send(json.dumps({"type": "close"}))
                self._ws.close()
            except Exception:  # noqa: BLE001 - the server may already be gone
                pass
            self._ws = None

    def __getstate__(self) -> dict[str, Any]:  # a pickled RemoteEnv opens its own session
        state = dict(self.__dict__)
        state["_ws"] = None
        return state
