"""``reasongym serve ENV_ID``: any reasongym id as an OpenEnv-protocol server.

Routes (OpenEnv's wire format, so ``openenv``'s ``GenericEnvClient``/``MCPToolClient``, TRL's
OpenEnv examples and ``openenv validate --url`` work unchanged):

* ``/ws``: the session WebSocket, one env per connection (messages in ``protocol.py``,
  plus ``get_state``/``set_state``, which OpenEnv lacks).
* ``POST /reset``, ``POST /step``: stateless, like OpenEnv's: each request gets a fresh env.
  ``/step`` resets it first (``seed``, ``task_index`` in the request) and steps once, which
  scores a single-turn answer over plain HTTP.
* ``GET /state``, ``/metadata``, ``/schema``, ``/health``; ``POST /mcp`` (JSON-RPC
  ``tools/list``, ``tools/call``, ``openenv/session/create|close``).

At ``max_sessions`` a new WebSocket gets one ``CAPACITY_REACHED`` error and is closed (code
1013, "try again later"). Sessions idle for ``idle_timeout_s`` are reaped (the client gets a
``SESSION_ERROR`` and the socket closes).

Clients are strangers: a request body or message above ``max_message_bytes`` is refused before
it is parsed (HTTP 413; on the WebSocket a ``VALIDATION_ERROR`` answer, and uvicorn closes the
connection, code 1009, on a message ``WS_SIZE_HEADROOM_BYTES`` above it), a body that takes
longer than ``request_timeout_s`` too (408; ``serve`` also closes connections whose request
headers take that long: slowloris), at most ``max_http_requests`` POSTs are in flight (503), a
client that does not take an answer within ``send_timeout_s`` loses its connection and session
(a client that never reads cannot pin a slot or the reaper), snapshots are server-side handles
(``protocol.py``) bounded per session by count and bytes, and nothing a client sends is ever
unpickled or evaluated. Requests that carry an ``Origin`` header (web pages: a site the user
browses can reach a server on 127.0.0.1, and WebSockets have no same-origin rule) are refused
unless ``allowed_origins`` lists it; Python clients (``openenv``, ``RemoteEnv``, httpx) send
none.

Per step, the event loop only parses, dispatches and sends; the env call and the payload
encoding (PNG for images) run in the session's lane of a shared worker pool (``workers.py``),
so no action can stall another session for longer than the pool's ``stall_s``. Profiled
against ``openenv``'s ``create_app`` (``bench/serve.py``, ``perf``), what the server saves is
per-message work and thread switches: no pydantic models built or validated per step, orjson
instead of ``json`` (with a stdlib fallback for what orjson refuses), a few pool threads that
take the next session's call without sleeping and one loop wake-up per batch of finished
calls, instead of a thread per session woken twice per step. Running steps inline on the loop
was measured too and rejected: one slow step (a sandboxed test run, a hard verifier call)
would freeze every session, and the math verifier's SIGALRM timeouts would fire on the loop.
"""

# no `from __future__ import annotations`: FastAPI resolves the route annotations at definition time

import asyncio
import contextlib
import json
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reasongym.integrations import contract
from reasongym.integrations.openenv import codec
from reasongym.integrations.openenv.protocol import Protocol, error, request_id, rpc_error
from reasongym.integrations.openenv.sessions import CapacityError, Session, SessionManager

SPEC_VERSION = "1.0.0"


class ServeConfig(BaseModel):
    """Options of ``reasongym serve`` (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    env_id: str = Field(description="a registered id, e.g. reasongym/Math-v0")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="gym.make kwargs")
    max_sessions: int = Field(default=64, ge=1, description="concurrent WebSocket sessions")
    idle_timeout_s: float | None = Field(
        default=600.0,
        gt=0,
        allow_inf_nan=False,
        description="close sessions idle this long (None: never)",
    )
    max_snapshots: int = Field(default=256, ge=1, description="get_state snapshots per session")
    max_message_bytes: int = Field(
        default=4 * 2**20, ge=1024, description="larger client messages are refused"
    )
    max_http_envs: int = Field(default=8, ge=1, description="concurrent stateless HTTP calls")
    max_http_requests: int = Field(
        default=64, ge=1, description="POST requests in flight (more: 503 before the body is read)"
    )
    max_snapshot_bytes: int | None = Field(
        default=64 * 2**20, ge=1024, description="get_state snapshots' bytes per session"
    )
    send_timeout_s: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="drop a client that does not take an answer this long",
    )
    request_timeout_s: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="a request's headers, and its body, must arrive in this",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="web page origins that may call the server (others, e.g. any site a "
        "local user browses, are refused; programmatic clients send no Origin)",
    )


def make_env_factory(env_id: str, env_kwargs: dict[str, Any]):
    """A zero-argument callable building the env (what each session calls)."""

    def make() -> Any:
        import gymnasium as gym

        import reasongym  # noqa: F401 - registers the built-in ids

        return gym.make(env_id, **env_kwargs)

    return make


def create_app(config: ServeConfig):
    """The FastAPI app serving ``config.env_id`` (see the module docstring)."""
    from fastapi import FastAPI, Request, WebSocket
    from fastapi.responses import JSONResponse
    from starlette.websockets import WebSocketDisconnect, WebSocketState

    make_env = make_env_factory(config.env_id, config.env_kwargs)
    probe = make_env()  # fail at start-up (bad id or kwargs), not on the first client
    description = _description(config.env_id, probe)
    schema = _schema(probe)
    probe.close()

    manager = SessionManager(
        make_env,
        config.max_sessions,
        config.idle_timeout_s,
        config.max_snapshots,
        max_snapshot_bytes=config.max_snapshot_bytes,
        expire_timeout_s=2 * config.send_timeout_s + 1.0,  # expire() bounds its own send/close
    )
    protocol = Protocol(config.env_id)
    http_slots = asyncio.Semaphore(config.max_http_envs)
    http_sessions: dict[str, Session] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        manager.start_reaper()
        try:
            yield
        finally:
            await manager.stop()

    app = FastAPI(
        lifespan=lifespan,
        title=f"reasongym {config.env_id}",
        version=SPEC_VERSION,
        description=f"OpenEnv-protocol server for {config.env_id}: {description}",
    )
    app.add_middleware(OriginGuard, allowed=frozenset(config.allowed_origins))
    app.state.manager = manager
    app.state.config = config
    app.state.http_sessions = http_sessions
    limit = config.max_message_bytes

    inflight = 0

    @contextlib.asynccontextmanager
    async def admitted():
        """A place among the POST requests in flight, or None: at most ``max_http_requests``
        hold a body in memory at once (each up to ``max_message_bytes``)."""
        nonlocal inflight
        if inflight >= config.max_http_requests:
            yield None
            return
        inflight += 1
        try:
            yield True
        finally:
            inflight -= 1

    def busy() -> JSONResponse:
        message = (
            f"server busy: {config.max_http_requests} HTTP requests in flight; retry later "
            "or use the WebSocket /ws"
        )
        return JSONResponse({"message": message, "code": "CAPACITY_REACHED"}, 503)

    async def oneshot(fn) -> Any:
        async with http_slots:
            session = await manager.open()
            try:
                return await fn(session)
            finally:
                await manager.close(session)

    def answer(reply: dict[str, Any]) -> JSONResponse:
        if reply.get("type") == "error":
            return JSONResponse(reply["data"], status_code=422)
        return JSONResponse(reply["data"])

    @app.post("/reset", tags=["Environment Control"])
    async def reset(request: Request) -> Any:
        async with admitted() as place:
            return await _reset(request) if place else busy()

    async def _reset(request: Request) -> Any:
        body = await _json_body(request, limit, config.request_timeout_s)
        if isinstance(body, JSONResponse):
            return body
        body = {
            k: v for k, v in body.items() if k in ("seed", "task_index", "options", "episode_id")
        }
        try:
            reply = await oneshot(lambda s: protocol.handle(s, {"type": "reset", "data": body}))
        except CapacityError as exc:
            return JSONResponse({"message": str(exc), "code": "CAPACITY_REACHED"}, 503)
        return answer(reply)

    @app.post("/step", tags=["Environment Control"])
    async def step(request: Request) -> Any:
        async with admitted() as place:
            return await _step(request) if place else busy()

    async def _step(request: Request) -> Any:
        body = await _json_body(request, limit, config.request_timeout_s)
        if isinstance(body, JSONResponse):
            return body
        action = body.get("action")
        reset_data = {k: body[k] for k in ("seed", "task_index") if k in body}

        async def run(session: Session) -> dict[str, Any]:
            first = await protocol.handle(session, {"type": "reset", "data": reset_data})
            if first is None or first.get("type") == "error":
                return first or error("reset failed", "EXECUTION_ERROR")
            return await protocol.handle(session, {"type": "step", "data": action})

        try:
            reply = await oneshot(run)
        except CapacityError as exc:
            return JSONResponse({"message": str(exc), "code": "CAPACITY_REACHED"}, 503)
        return answer(reply)

    @app.get("/state", tags=["State Management"])
    async def state() -> dict[str, Any]:
        return {"episode_id": None, "step_count": 0, "env_id": config.env_id, "done": False}

    @app.get("/metadata", tags=["Environment Info"])
    async def metadata() -> dict[str, Any]:
        return {
            "name": config.env_id,
            "description": description,
            "version": _version(),
            "author": "reasongym",
            "documentation_url": None,
            "readme_content": None,
        }

    @app.get("/health", tags=["Health"])
    async def health() -> dict[str, Any]:
        return {
            "status": "healthy",
            "active_sessions": manager.active,
            "max_sessions": manager.max_sessions,
        }

    @app.get("/schema", tags=["Schema"])
    async def get_schema() -> dict[str, Any]:
        return schema

    @app.post("/mcp", tags=["MCP"])
    async def mcp(request: Request) -> Any:
        async with admitted() as place:
            return await _mcp(request) if place else busy()

    async def _mcp(request: Request) -> Any:
        raw = await _read_body(request, limit, config.request_timeout_s)
        if isinstance(raw, JSONResponse):
            return raw
        try:
            rpc = json.loads(raw)
        except (ValueError, RecursionError):
            return rpc_error(None, -32700, "Parse error")
        if not isinstance(rpc, dict) or rpc.get("jsonrpc") != "2.0":
            return rpc_error(None, -32600, "Invalid Request: expected a JSON-RPC 2.0 object")
        rid, method = request_id(rpc), rpc.get("method")
        params = rpc.get("params") or {}
        if not isinstance(params, dict):
            return rpc_error(rid, -32602, "Params must be an object")
        if method == "openenv/session/create":
            try:
                session = await manager.open()
            except CapacityError as exc:
                return rpc_error(rid, -32000, str(exc))
            http_sessions[session.id] = session

            async def forget(sid: str = session.id) -> None:  # reaped: drop it (and its env)
                http_sessions.pop(sid, None)

            session.on_expire = forget
            return {"jsonrpc": "2.0", "id": rid, "result": {"session_id": session.id}}
        sid = params.get("session_id")
        if method == "openenv/session/close":
            session = http_sessions.pop(sid, None) if isinstance(sid, str) else None
            if session is None:
                return rpc_error(rid, -32602, f"Unknown session_id: {str(sid)[:40]}")
            await manager.close(session)
            return {"jsonrpc": "2.0", "id": rid, "result": {"session_id": sid, "closed": True}}
        if sid is not None:
            session = http_sessions.get(sid) if isinstance(sid, str) else None
            if session is None or session.closed:
                http_sessions.pop(sid, None) if isinstance(sid, str) else None
                return rpc_error(rid, -32602, f"Unknown session_id: {str(sid)[:40]}")
            rpc = {**rpc, "params": {k: v for k, v in params.items() if k != "session_id"}}
            return await protocol.mcp(session, rpc)
        try:
            return await oneshot(lambda s: protocol.mcp(s, rpc))
        except CapacityError as exc:
            return rpc_error(rid, -32000, str(exc))

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        async def send(reply: dict[str, Any]) -> bool:
            """One answer; False (connection dropped) if the client does not take it in time."""
            try:  # asyncio.timeout, not wait_for: no extra task per message on the hot path
                async with asyncio.timeout(config.send_timeout_s):
                    await websocket.send_text(codec.dumps(reply))
            except TimeoutError:
                _abort(websocket)
                return False
            return True

        async def close(code: int) -> None:
            try:
                await asyncio.wait_for(websocket.close(code=code), timeout=config.send_timeout_s)
            except TimeoutError:
                _abort(websocket)
            except Exception:  # noqa: BLE001 - the peer closed first
                pass

        await websocket.accept()
        try:
            session = await manager.open()
        except CapacityError as exc:
            reply = error(str(exc), "CAPACITY_REACHED")
            reply["data"].update(active_sessions=exc.active, max_sessions=exc.limit)
            try:  # answer the client's first message too, so its reset() reads the error
                if await send(reply):
                    await asyncio.wait_for(websocket.receive_text(), timeout=5.0)
                    if await send(reply):
                        await close(1013)
            except Exception:  # noqa: BLE001 - the client already went away
                pass
            return
        except Exception as exc:  # noqa: BLE001 - a failing env factory is the client's error
            try:
                if await send(error(f"cannot build env: {exc}", "FACTORY_ERROR")):
                    await close(1011)
            except Exception:  # noqa: BLE001 - the client already went away
                pass
            return

        async def expire() -> None:
            timeout = config.idle_timeout_s
            reply = error(f"session closed after {timeout:g} s without messages", "SESSION_ERROR")
            if await send(reply):
                await close(1001)

        session.on_expire = expire
        try:
            while not session.closed:
                event = await websocket.receive()
                if event["type"] == "websocket.disconnect":
                    break
                session.last_active = time.monotonic()  # any message: the client is there
                raw, size = _message_text(event)
                if size > config.max_message_bytes:
                    reply = error(
                        f"message of {size} bytes exceeds the server's max_message_bytes "
                        f"({config.max_message_bytes})",
                        "VALIDATION_ERROR",
                    )
                else:
                    try:
                        message = codec.loads(raw)
                    except ValueError as exc:
                        reply = error(f"Invalid JSON: {str(exc)[:200]}", "INVALID_JSON")
                    else:
                        reply = await protocol.handle(session, message)
                if reply is None or session.closed:
                    break
                if not await send(reply):
                    break  # the client stopped reading: its session goes below
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away (killed, network); free its env below
        finally:
            await manager.close(session)
            if websocket.client_state == WebSocketState.CONNECTED:
                await close(1000)

    return app


_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class OriginGuard:
    """ASGI middleware: refuse HTTP requests (403) and WebSocket handshakes (closed before
    accept, so 403) whose ``Origin`` header is not in ``allowed``. Browsers send ``Origin`` on
    every WebSocket handshake and every POST, so a web page cannot drive the server's envs
    (cross-site WebSocket hijacking, form POSTs, DNS rebinding); clients that are programs
    send none and pass. The server's own pages (FastAPI's ``/docs``) opened at a loopback
    address pass too: a rebinding page's origin is its own host name, never a loopback one."""

    def __init__(self, app: Any, allowed: frozenset[str]):
        self.app = app
        self.allowed = allowed

    def _admits(self, origin: str, headers: dict[bytes, bytes]) -> bool:
        if origin in self.allowed:
            return True
        host = headers.get(b"host", b"").decode("latin-1")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in _LOOPBACK_NAMES and origin in (f"http://{host}", f"https://{host}")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or ())
            origin = headers.get(b"origin")
            if origin is not None and not self._admits(origin.decode("latin-1"), headers):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = json.dumps(
                    {
                        "message": "requests from web pages are refused; start the server "
                        "with this origin in allowed_origins to allow it",
                        "code": "FORBIDDEN_ORIGIN",
                    }
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def _read_body(request: Any, limit: int, timeout_s: float) -> Any:
    """The request body, or a 413 answer once it exceeds ``limit`` bytes (read no further), or
    a 408 answer if it takes longer than ``timeout_s`` to arrive."""
    from fastapi.responses import JSONResponse

    def too_big(size: str) -> JSONResponse:
        message = f"request body of {size} bytes exceeds the server's {limit}"
        return JSONResponse({"message": message, "code": "VALIDATION_ERROR"}, 413)

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return too_big(declared)
    chunks: list[bytes] = []

    async def read() -> JSONResponse | None:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return too_big(f"more than {limit}")
            chunks.append(chunk)
        return None

    try:
        refused = await asyncio.wait_for(read(), timeout=timeout_s)
    except TimeoutError:
        message = f"the request body did not arrive within {timeout_s:g} s"
        return JSONResponse({"message": message, "code": "VALIDATION_ERROR"}, 408)
    return refused if refused is not None else b"".join(chunks)


def _message_text(event: dict[str, Any]) -> tuple[str, int]:
    """A WebSocket message's text and its size in UTF-8 bytes (what ``max_message_bytes``
    and uvicorn's ``ws_max_size`` count); a binary message is read as UTF-8."""
    raw = event.get("text")
    if raw is None:
        data = event.get("bytes") or b""
        return data.decode("utf-8", "replace"), len(data)
    if raw.isascii():  # O(1) in CPython: one byte per character
        return raw, len(raw)
    return raw, len(raw.encode("utf-8", "surrogatepass"))


def _abort(websocket: Any) -> None:
    """Drop a WebSocket's TCP connection at once (best effort).

    A peer that stopped reading keeps a closing transport's buffer from draining, so a normal
    close would hold the socket for as long as the peer likes. ASGI has no abort; the
    server's protocol object is behind the ``send`` callable (uvicorn: a bound method of it,
    wrapped in Starlette's closures), so look for its transport there."""
    stack, seen = [getattr(websocket, "_send", None)], 0
    while stack and seen < 32:
        obj = stack.pop()
        seen += 1
        transport = getattr(getattr(obj, "__self__", None), "transport", None)
        if transport is not None and callable(getattr(transport, "abort", None)):
            transport.abort()
            return
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(value):
                stack.append(value)


async def _json_body(request: Any, limit: int, timeout_s: float) -> Any:
    from fastapi.responses import JSONResponse

    raw = await _read_body(request, limit, timeout_s)
    if isinstance(raw, JSONResponse):
        return raw
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        message = f"Invalid JSON: {str(exc)[:200]}"
        return JSONResponse({"message": message, "code": "INVALID_JSON"}, 400)
    if not isinstance(body, dict):
        return JSONResponse(
            {"message": "the body must be a JSON object", "code": "VALIDATION_ERROR"}, 422
        )
    return body


def _description(env_id: str, env: Any) -> str:
    try:
        from reasongym.registration import list_envs

        text = list_envs().get(env_id)
    except Exception:  # noqa: BLE001
        text = None
    if not text:
        doc = (type(env.unwrapped).__doc__ or env_id).strip()
        text = doc.splitlines()[0]
    return text


def _version() -> str:
    try:
        from reasongym import __version__

        return __version__
    except ImportError:
        return "unknown"


def _schema(env: Any) -> dict[str, Any]:
    """JSON schemas of action, observation and state (OpenEnv's ``/schema`` shape)."""
    from gymnasium import spaces

    space = env.action_space
    if isinstance(space, spaces.Discrete):
        action = {
            "type": "integer",
            "minimum": int(space.start),
            "maximum": int(space.start + space.n - 1),
        }
    else:
        action = {"type": "string", "maxLength": int(getattr(space, "max_length", 0)) or None}
    tools = [v.to_openai() for v in contract.tool_views(env)]
    array = {"type": ["object", "null"], "description": "PNG (type image) or raw (type ndarray)"}
    return {
        "action": {
            "title": "ReasonGymAction",
            "type": "object",
            "properties": {"action": action, "metadata": {"type": "object"}},
            "required": ["action"],
            "x-tools": tools,
        },
        "observation": {
            "title": "ReasonGymObservation",
            "type": "object",
            "properties": {
                "text": {"type": ["string", "null"]},
                "image": array,
                "array": array,
                "info": {"type": "object"},
                "terminated": {"type": "boolean"},
                "truncated": {"type": "boolean"},
            },
        },
        "state": {
            "title": "ReasonGymState",
            "type": "object",
            "properties": {
                "episode_id": {"type": ["string", "null"]},
                "step_count": {"type": "integer", "minimum": 0},
                "env_id": {"type": "string"},
                "done": {"type": "boolean"},
            },
        },
        "spaces": _spaces(env),
    }


def _spaces(env: Any) -> dict[str, Any]:
    from reasongym.integrations.openenv.spaces import describe

    return {"observation": describe(env.observation_space), "action": describe(env.action_space)}


WS_SIZE_HEADROOM_BYTES = 64 * 2**10
"""How far above ``max_message_bytes`` uvicorn still takes a WebSocket message in: a message
in that band gets the server's own ``VALIDATION_ERROR`` answer and its session lives on; a
larger one is cut off by uvicorn (close code 1009) before it is buffered whole."""


def uvicorn_options(config: ServeConfig) -> dict[str, Any]:
    """The ``uvicorn.Config`` options ``serve`` runs ``create_app(config)`` with: a WebSocket
    message cap (``max_message_bytes`` plus :data:`WS_SIZE_HEADROOM_BYTES`), keep-alive pings,
    and an HTTP protocol that closes connections whose request headers do not arrive within
    ``request_timeout_s`` (uvicorn waits for them forever, so idle or trickling sockets could
    pile up until no descriptor is left)."""
    return {
        "ws_max_size": config.max_message_bytes + WS_SIZE_HEADROOM_BYTES,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        "http": header_deadline_protocol(config.request_timeout_s),
    }


def header_deadline_protocol(timeout_s: float) -> type:
    """uvicorn's HTTP protocol, closing a connection when no request starts within
    ``timeout_s`` of the connection or of the previous response (slowloris)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class HeaderDeadlineProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _deadline: asyncio.TimerHandle | None = None
        _cycle_at_arming: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._cycle_at_arming = self.cycle  # a new request replaces the cycle
            self._deadline = self.loop.call_later(timeout_s, self._expire)

        def _expire(self) -> None:
            self._deadline = None
            transport = self.transport
            if transport.is_closing() or transport.get_protocol() is not self:
                return  # closed, or upgraded to a WebSocket (its own rules apply)
            if self.cycle is self._cycle_at_arming:  # no request began in time
                transport.abort()

    return HeaderDeadlineProtocol


def serve(config: ServeConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the server in the foreground (uvicorn) until interrupted."""
    import uvicorn

    app = create_app(config)
    uvicorn.run(app, host=host, port=port, log_level="warning", **uvicorn_options(config))
