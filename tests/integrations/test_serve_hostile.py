"""``reasongym serve`` against hostile clients: forged states, bad frames, greedy and silent
clients, other sessions' ids. Every attack gets a clear error (or loses only its own
connection) and the server keeps serving everyone else."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import gymnasium as gym
import pytest

import reasongym  # noqa: F401
from tests.integrations.conftest import gated_env, served

pytest.importorskip("fastapi")
websockets_sync = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import ConnectionClosed  # noqa: E402

from reasongym.integrations.openenv import RemoteEnv, RemoteEnvError  # noqa: E402


# -- helpers -------------------------------------------------------------------------------------
def _ws_url(url: str) -> str:
    return "ws" + url[4:] + "/ws"


def _ask(ws, message) -> dict:
    ws.send(message if isinstance(message, str | bytes) else json.dumps(message))
    return json.loads(ws.recv(timeout=10))


def _http(url: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, parsed JSON body) of a request; errors are answers too."""
    request = urllib.request.Request(f"{url}{path}", data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _rpc(url: str, method: str, **params) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    return _http(url, "/mcp", body, {"Content-Type": "application/json"})[1]


def _health(url: str) -> dict:
    return _http(url, "/health")[1]


def _wait_for(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _served_normally(url: str) -> None:
    """A fresh, well-behaved client still gets a full episode."""
    with websockets_sync.connect(_ws_url(url)) as ws:
        assert _ask(ws, {"type": "reset", "data": {"seed": 0}})["type"] == "observation"
        reply = _ask(ws, {"type": "step", "data": {"action": '<tool name="calculator">6*7</tool>'}})
        assert reply["data"]["observation"]["text"] == "42"


def _raw_ws(port: int, rcvbuf: int | None = None) -> socket.socket:
    """A WebSocket handshake on a bare socket (for frames no client library would send)."""
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head, head
    return sock


def _masked(payload: bytes, mask: bytes) -> bytes:
    import numpy as np

    data = np.frombuffer(payload, dtype=np.uint8)
    key = np.resize(np.frombuffer(mask, dtype=np.uint8), data.size)
    return (data ^ key).tobytes()


def _frame(payload: bytes, opcode: int = 1, fin: bool = True) -> bytes:
    first = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        size = bytes([0x80 | n])
    elif n < 65536:
        size = bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        size = bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return first + size + mask + _masked(payload, mask)


def _closed_by_server(sock: socket.socket, timeout_s: float = 10.0) -> bool:
    """Whether the server ends the connection (a close frame, EOF or a reset) in time."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = sock.recv(1 << 20)
            if not data or data[0] == 0x88:  # EOF, or the server's close frame first
                return True
        except TimeoutError:
            continue
        except OSError:  # connection reset: aborted by the server
            return True
    return False


@pytest.fixture(scope="module")
def math_server():
    with served(
        "reasongym/Math-v0", max_sessions=16, max_message_bytes=8192, idle_timeout_s=30
    ) as (url, app):
        yield url, app


# -- 1. forged states ------------------------------------------------------------------------
def test_only_state_ids_this_session_got_in_this_episode_are_restored(math_server):
    url, _ = math_server
    with served("reasongym/Arithmetic-v0") as (other_url, _):
        elsewhere = RemoteEnv(other_url)
        elsewhere.reset(seed=7)
        foreign_env_id = str(elsewhere.get_state())  # a real id, from a server of another env
        elsewhere.close()
    env, neighbour = RemoteEnv(url), RemoteEnv(url)
    try:
        neighbour.reset(seed=7)
        neighbours_id = str(neighbour.get_state())
        env.reset(seed=7)
        env.step('<tool name="calculator">1+1</tool>')
        mine = str(env.get_state())
        tampered = mine[:-1] + ("A" if mine[-1] != "A" else "B")
        local = gym.make("reasongym/Math-v0")
        local.reset(seed=7)
        snapshot = local.unwrapped.get_state()  # what a forger would send: a whole state
        forged = [
            {"state_id": "forged"},
            {"state_id": tampered},
            {"state_id": neighbours_id},
            {"state_id": foreign_env_id},
            {"state_id": snapshot},
            {"state_id": json.dumps(snapshot, default=str)},
            snapshot,
            {"state_id": None},
            {"state_id": ["x"]},
            None,
            "mine",
        ]
        for data in forged:
            with pytest.raises(RemoteEnvError, match="state_id") as caught:
                env._call({"type": "set_state", "data": data})
            assert caught.value.code == "VALIDATION_ERROR"
        assert env.remote_state()["step_count"] == 1  # no refused restore changed anything
        env.set_state(mine)  # the genuine id still works
        assert env.remote_state()["step_count"] == 1
        neighbour.set_state(neighbours_id)  # and the neighbour's own id, for the neighbour
        env.reset(seed=8)
        with pytest.raises(RemoteEnvError, match="state_id") as caught:
            env.set_state(mine)  # a new episode: the old episode's ids are void (no replay)
        assert "in this session and episode (a reset drops them)" in str(caught.value)
        after = env.step(local.unwrapped.oracle_action())  # seed 7's answer, seed 8's task
        assert after[4]["turn"] == 1
    finally:
        env.close()
        neighbour.close()


def test_a_crafted_puzzle_state_is_refused_and_play_continues_from_the_real_one():
    with served("reasongym/Maze-v0") as (url, _):
        local = gym.make("reasongym/Maze-v0")
        local.reset(seed=3)
        crafted = local.unwrapped.get_state()
        rows = crafted["data"]["board"]["walls"]
        crafted["data"]["board"]["pos"] = (len(rows) - 2, len(rows[0]) - 2)  # by the exit
        crafted["data"]["optimal_steps"] = 1
        remote = RemoteEnv(url)
        try:
            remote.reset(seed=3)
            for data in (crafted, {"state_id": crafted}):
                with pytest.raises(RemoteEnvError, match="state_id"):
                    remote._call({"type": "set_state", "data": data})
            move = local.unwrapped.oracle_action()
            obs, reward, terminated, _, info = remote.step(move)
            local_obs, local_reward, local_terminated, _, local_info = local.step(move)
            assert obs["text"] == local_obs["text"]
            assert (reward, terminated, info["turn"]) == (
                local_reward,
                local_terminated,
                local_info["turn"],
            )
        finally:
            remote.close()


def test_restoring_one_snapshot_twice_replays_the_same_episode(math_server):
    url, _ = math_server
    env = RemoteEnv(url)
    try:
        env.reset(seed=11)
        env.step('<tool name="calculator">2+2</tool>')
        snapshot = env.get_state()
        runs = []
        for expression in ("3*3", "4*4"):
            env.set_state(snapshot)
            first = env.step(f'<tool name="calculator">{expression}</tool>')
            second = env.step("<answer>-424242</answer>")
            runs.append((first[4]["turn"], len(first[4]["messages"]), second[1:4]))
        # the steps after the first restore did not leak into the stored snapshot
        assert runs[0] == runs[1]
        assert runs[0][0] == 2
    finally:
        env.close()


def test_snapshots_are_bounded_in_bytes_per_session():
    with served("reasongym/Arithmetic-v0", max_snapshot_bytes=2500) as (url, app):
        env = RemoteEnv(url)
        try:
            env.reset(seed=0)
            ids = [env.get_state() for _ in range(4)]  # ~1 kB each: only the newest two fit
            (session,) = app.state.manager.sessions.values()
            assert len(session.snapshots) == 2
            assert session.snapshot_bytes <= 2500
            with pytest.raises(RemoteEnvError, match="state_id"):
                env.set_state(ids[0])
            env.set_state(ids[-1])
            env.step('<tool name="calculator">1+1</tool> ' + "x" * 3000)
            with pytest.raises(RemoteEnvError, match="bytes") as caught:
                env.get_state()  # one snapshot above the whole budget: refused, not stored
            assert caught.value.code == "EXECUTION_ERROR"
            assert session.snapshot_bytes <= 2500
        finally:
            env.close()


# -- 2. hostile protocol input -----------------------------------------------------------------
BAD_FIELDS = [
    {"type": "reset", "data": {"seed": 1.5}},
    {"type": "reset", "data": {"seed": True}},
    {"type": "reset", "data": {"seed": 2**64}},
    {"type": "reset", "data": {"seed": [0]}},
    {"type": "reset", "data": {"task_index": -3}},
    {"type": "reset", "data": {"task_index": "0"}},
    {"type": "reset", "data": {"options": [1]}},
    {"type": "reset", "data": {"options": {"difficulty": 9}}},
    {"type": "reset", "data": {"options": {"task_index": 2**70}}},
    {"type": "reset", "data": {"episode_id": 5}},
    {"type": "reset", "data": {"episode_id": "e" * 300}},
    {"type": "step", "data": None},
    {"type": "step", "data": "<answer>1</answer>"},
    {"type": "step", "data": {"act": "<answer>1</answer>"}},
    {"type": "step", "data": {"action": 1e308}},
    {"type": "step", "data": {"action": True}},
    {"type": "step", "data": {"type": "call_tool", "tool_name": ["calculator"]}},
    {"type": "set_state", "data": {"state_id": {"$ne": None}}},
    {"type": ["reset"]},
    {"type": {"step": 1}},
    {"type": None, "data": None},
]


def test_wrong_types_in_every_field_are_errors_and_the_session_lives_on(math_server):
    url, _ = math_server
    with websockets_sync.connect(_ws_url(url)) as ws:
        first = _ask(ws, {"type": "reset", "data": {"seed": 5}})
        for message in BAD_FIELDS:
            reply = _ask(ws, message)
            if reply["type"] == "observation":  # a tool step with a bad name: the env says so
                assert reply["data"]["observation"]["error"]["error_type"] == "tool_not_found"
                continue
            assert reply["type"] == "error", message
            assert reply["data"]["code"] in {
                "VALIDATION_ERROR",
                "UNKNOWN_TYPE",
                "EXECUTION_ERROR",
            }, (message, reply)
            assert reply["data"]["message"]
        for raw in (
            '{"type": "step", "data": {"action": NaN}}',
            '{"type": "reset", "seed": -Infinity}',
        ):
            reply = _ask(ws, raw)
            assert reply["type"] in ("error", "observation"), raw
        state = _ask(ws, {"type": "state"})["data"]
        assert state["step_count"] == 0  # nothing above took a step
        again = _ask(ws, {"type": "reset", "data": {"seed": 5}})
        assert again["data"]["observation"]["text"] == first["data"]["observation"]["text"]
    _served_normally(url)


def test_discrete_actions_must_be_in_range_integers():
    with served("reasongym/Maze-v0", env_kwargs={"action_mode": "discrete"}) as (url, _):
        with websockets_sync.connect(_ws_url(url)) as ws:
            _ask(ws, {"type": "reset", "data": {"seed": 0}})
            for action in (-1, 99, 2**80, 1.0, True, "0", None, [0]):
                reply = _ask(ws, {"type": "step", "data": {"action": action}})
                assert reply["data"]["code"] == "VALIDATION_ERROR", action
            for raw in ("NaN", "Infinity", "-Infinity", "1e999"):
                reply = _ask(ws, f'{{"type": "step", "data": {{"action": {raw}}}}}')
                assert reply["data"]["code"] == "VALIDATION_ERROR", raw
            assert _ask(ws, {"type": "state"})["data"]["step_count"] == 0
            reply = _ask(ws, {"type": "step", "data": {"action": 0}})
            assert reply["type"] == "observation"
            assert math.isfinite(reply["data"]["reward"])


def test_broken_frames_cost_only_their_own_connection(math_server):
    url, _ = math_server
    port = int(url.rsplit(":", 1)[1])
    attacks = [
        _frame(b"\xff\xfe\xfd not utf-8"),  # a text frame that is not UTF-8
        _frame(b"x" * (5 * 2**20)),  # above the WebSocket size limit
        _frame(b"", opcode=0x3),  # a reserved opcode
        _frame(b'{"type": "re', fin=False) + _frame(b"set"),  # a new message mid-fragment
        _frame(b'{"type": "state"}', opcode=0x0),  # a continuation with nothing to continue
    ]
    for attack in attacks:
        sock = _raw_ws(port)
        try:
            try:
                sock.sendall(attack)
            except OSError:
                pass  # closed while we were still sending: what we check below
            assert _closed_by_server(sock), attack[:16]
        finally:
            sock.close()
    # a fragmented message that is whole is read as one message
    sock = _raw_ws(port)
    try:
        sock.sendall(_frame(b'{"type": "res', fin=False) + _frame(b'et"}', opcode=0x0))
        sock.settimeout(10)
        data = b""
        while b"observation" not in data:
            data += sock.recv(65536)
    finally:
        sock.close()
    assert _wait_for(lambda: _health(url)["active_sessions"] == 0)
    _served_normally(url)


def test_http_bodies_above_the_limit_are_refused_unread(math_server):
    url, _ = math_server
    big = b'{"seed": 0, "pad": "' + b"x" * (64 * 2**10) + b'"}'
    for path in ("/reset", "/step", "/mcp"):
        status, body = _http(url, path, big, {"Content-Type": "application/json"})
        assert status == 413, path
        assert "exceeds" in body["message"]
    # a body without a length (chunked), streamed beyond the limit, is cut off too
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /reset HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\n"
        )
        chunk = b"x" * 4096
        answer = b""
        try:
            for _ in range(64):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server answered and closed while we were still sending
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
        assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    # deep nesting and non-objects are errors, not 500s
    for body in (b"[" * 4000 + b"]" * 4000, b'"seed"', b"\xff\xfe", b"NaN"):
        status, _ = _http(url, "/reset", body, {"Content-Type": "application/json"})
        assert status in (400, 422), body[:10]
    status, answer = _http(url, "/mcp", b"[" * 5000, {"Content-Type": "application/json"})
    assert status == 200 and answer["error"]["code"] == -32700
    _served_normally(url)


def test_a_client_that_never_reads_loses_its_session_not_the_reaper():
    with served("reasongym/Math-v0", idle_timeout_s=0.5, send_timeout_s=1.0, max_sessions=4) as (
        url,
        app,
    ):
        port = int(url.rsplit(":", 1)[1])
        silent = _raw_ws(port, rcvbuf=4096)
        try:
            silent.setblocking(False)
            reset = _frame(json.dumps({"type": "reset", "data": {"seed": 0}}).encode())

            def pump(seconds: float) -> bool:
                """Send requests, never reading an answer; True once the server aborted."""
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    try:
                        silent.send(reset)
                    except BlockingIOError:
                        time.sleep(0.01)
                    except (ConnectionResetError, BrokenPipeError):
                        return True
                return False

            aborted = pump(1.5)
            # an idle neighbour is still reaped on time, while the silent one is stuck
            with websockets_sync.connect(_ws_url(url)) as idle:
                idle.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
                idle.recv(timeout=10)
                started = time.monotonic()
                reply = json.loads(idle.recv(timeout=10))
                assert reply["data"]["code"] == "SESSION_ERROR"
                assert time.monotonic() - started < 5.0
            # aborted (a reset), not held open by its full buffers for as long as we do not read
            assert aborted or pump(8.0)
        finally:
            silent.close()
        assert _wait_for(lambda: _health(url)["active_sessions"] == 0)
        assert app.state.manager.reaped >= 1
        _served_normally(url)


def test_thousands_of_connections_get_capacity_errors_and_slots_come_back():
    with served("reasongym/Arithmetic-v0", max_sessions=3) as (url, _):

        async def main() -> list[str]:
            import websockets

            async def one(k: int) -> str:
                try:
                    async with websockets.connect(_ws_url(url), open_timeout=30) as ws:
                        await ws.send(json.dumps({"type": "reset", "data": {"seed": k}}))
                        reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        await asyncio.sleep(0.5)  # hold the slot while the others arrive
                        return reply["type"] if reply["type"] != "error" else reply["data"]["code"]
                except (OSError, ConnectionClosed) as exc:
                    return type(exc).__name__

            return await asyncio.gather(*(one(k) for k in range(300)))

        outcomes = asyncio.run(main())
        assert outcomes.count("observation") >= 3
        assert set(outcomes) <= {"observation", "CAPACITY_REACHED"}, set(outcomes)
        assert _wait_for(lambda: _health(url)["active_sessions"] == 0)
        ids = [_rpc(url, "openenv/session/create") for _ in range(4)]
        assert [("result" in r) for r in ids] == [True, True, True, False]
        assert ids[3]["error"]["code"] == -32000
        for r in ids[:3]:
            _rpc(url, "openenv/session/close", session_id=r["result"]["session_id"])
        assert _health(url)["active_sessions"] == 0


# -- 3. session isolation ------------------------------------------------------------------------
def test_one_client_cannot_reach_anothers_session(math_server):
    url, _ = math_server
    mine = _rpc(url, "openenv/session/create")["result"]["session_id"]
    theirs = _rpc(url, "openenv/session/create")["result"]["session_id"]
    try:
        assert mine != theirs and len(mine) >= 32  # 128 random bits
        int(mine, 16)
        with websockets_sync.connect(_ws_url(url)) as ws:
            _ask(ws, {"type": "reset", "data": {"seed": 0}})
            ws_session = _ask(ws, {"type": "state"})["data"]["session_id"]
            guesses = [ws_session, mine[:-1], mine.upper(), mine + "0", "", 0, [mine]]
            for sid in guesses:
                for method, params in (
                    ("tools/call", {"name": "calculator", "arguments": {"expression": "1"}}),
                    ("openenv/session/close", {}),
                ):
                    reply = _rpc(url, method, session_id=sid, **params)
                    assert reply["error"]["code"] == -32602, (sid, method)
            # the WebSocket session was not touched by any of that
            assert _ask(ws, {"type": "state"})["data"]["step_count"] == 0
        call = {"name": "calculator", "arguments": {"expression": "6*7"}}
        assert _rpc(url, "tools/call", session_id=mine, **call)["result"]["data"] == "42"
        assert _rpc(url, "tools/call", session_id=theirs, **call)["result"]["data"] == "42"
    finally:
        for sid in (mine, theirs):
            _rpc(url, "openenv/session/close", session_id=sid)


def test_concurrent_calls_on_one_http_session_are_all_answered(math_server):
    url, _ = math_server
    sid = _rpc(url, "openenv/session/create")["result"]["session_id"]

    async def main() -> list[dict]:
        loop = asyncio.get_running_loop()
        calls = [
            loop.run_in_executor(
                None,
                lambda k=k: _rpc(
                    url,
                    "tools/call",
                    session_id=sid,
                    name="calculator",
                    arguments={"expression": f"{k}+1"},
                ),
            )
            for k in range(12)
        ]
        return await asyncio.gather(*calls)

    try:
        replies = asyncio.run(main())
        assert all("result" in r for r in replies), replies
        rewards = [r["result"]["structuredContent"]["reward"] for r in replies]
        assert all(reward is None or math.isfinite(reward) for reward in rewards)
    finally:
        _rpc(url, "openenv/session/close", session_id=sid)
    _served_normally(url)


def test_reaped_http_sessions_are_forgotten():
    with served("reasongym/Arithmetic-v0", idle_timeout_s=0.3) as (url, app):
        sids = [_rpc(url, "openenv/session/create")["result"]["session_id"] for _ in range(3)]
        assert len(app.state.http_sessions) == 3
        assert _wait_for(lambda: _health(url)["active_sessions"] == 0)
        assert _wait_for(lambda: not app.state.http_sessions)  # no closed env kept alive
        reply = _rpc(url, "tools/call", session_id=sids[0], name="calculator", arguments={})
        assert reply["error"]["code"] == -32602


class _Explodes(gym.Env):
    """A text env with one tool whose every reset and step raises."""

    tools = {"boom": SimpleNamespace(argument="x", description="explodes")}

    def __init__(self):
        self.observation_space = gym.spaces.Text(16)
        self.action_space = gym.spaces.Text(64)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if options and options.get("task_index") == 0:
            return "calm", {}
        raise RuntimeError("reset exploded")

    def step(self, action):
        raise RuntimeError("step exploded")


def test_env_failures_are_answers_on_every_route():
    env_id = "reasongym-test/Explodes-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=_Explodes, disable_env_checker=True)
    with served(env_id) as (url, _):
        call = {"name": "boom", "arguments": {"x": "1"}}
        reply = _rpc(url, "tools/call", **call)  # stateless: the reset explodes
        assert reply["error"]["code"] == -32603 and "exploded" in reply["error"]["message"]
        sid = _rpc(url, "openenv/session/create")["result"]["session_id"]
        reply = _rpc(url, "tools/call", session_id=sid, **call)
        assert reply["error"]["code"] == -32603
        _rpc(url, "openenv/session/close", session_id=sid)
        status, body = _http(url, "/reset", b"{}", {"Content-Type": "application/json"})
        assert status == 422 and body["code"] == "EXECUTION_ERROR"
        body = json.dumps({"task_index": 0, "action": {"action": "x"}}).encode()
        status, answer = _http(url, "/step", body, {"Content-Type": "application/json"})
        assert status == 422 and "step exploded" in answer["message"]
        with websockets_sync.connect(_ws_url(url)) as ws:
            assert _ask(ws, {"type": "reset", "data": {"task_index": 0}})["type"] == "observation"
            assert _ask(ws, {"type": "step", "data": {"action": "x"}})["data"]["code"] == (
                "EXECUTION_ERROR"
            )
            assert _ask(ws, {"type": "state"})["type"] == "state"
        assert _health(url)["status"] == "healthy"


def test_a_late_answer_is_never_read_as_the_next_one():
    with gated_env("hold") as (env_id, gate), served(env_id) as (url, _):
        env = RemoteEnv(url, timeout_s=0.5)
        try:
            env.reset(seed=0)
            with pytest.raises(TimeoutError):
                env.step("hold")  # the answer comes after the client gave up
            assert gate.wait_held()
            gate.release()
            time.sleep(0.2)  # the late "hold" answer has been sent by now
            with pytest.raises(RemoteEnvError, match="reset"):
                env.step("next")  # a new session: no stale "hold" observation
            assert env.reset(seed=0)[0] == "ready"
            assert env.step("next")[0] == "next"
        finally:
            env.close()


def test_http_requests_in_flight_are_bounded():
    with (
        gated_env("hold") as (env_id, gate),
        served(env_id, max_http_requests=2, max_http_envs=2) as (url, _),
    ):
        body = json.dumps({"action": {"action": "hold"}}).encode()
        headers = {"Content-Type": "application/json"}
        held = [
            threading.Thread(target=_http, args=(url, "/step", body, headers), daemon=True)
            for _ in range(2)
        ]
        for thread in held:
            thread.start()
        try:
            assert gate.wait_held(2)
            for path in ("/step", "/reset", "/mcp"):
                status, answer = _http(url, path, body, headers)
                assert status == 503 and answer["code"] == "CAPACITY_REACHED", path
            assert _health(url)["status"] == "healthy"  # GET routes are still served
        finally:
            gate.release()
            for thread in held:
                thread.join(timeout=10)
        status, answer = _http(
            url, "/step", json.dumps({"action": {"action": "x"}}).encode(), headers
        )
        assert status == 200 and answer["observation"]["text"] == "x"


def test_slow_clients_are_cut_off_and_quick_ones_served():
    # served() runs uvicorn with uvicorn_options(config), as `reasongym serve` does
    with served("reasongym/Arithmetic-v0", request_timeout_s=1.0) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        silent = socket.create_connection(("127.0.0.1", port), timeout=10)
        trickle = socket.create_connection(("127.0.0.1", port), timeout=10)
        trickle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        slow_body = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow_body.sendall(
            b"POST /reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"seed":'
        )
        with websockets_sync.connect(_ws_url(url)) as ws:  # an upgraded socket is not cut
            _ask(ws, {"type": "reset", "data": {"seed": 0}})
            started = time.monotonic()
            assert _closed_by_server(silent, timeout_s=5)
            assert _closed_by_server(trickle, timeout_s=5)
            assert time.monotonic() - started < 5
            slow_body.settimeout(5)
            assert slow_body.recv(65536).startswith(b"HTTP/1.1 408")
            assert _ask(ws, {"type": "state"})["type"] == "state"
        assert _health(url)["status"] == "healthy"
        for sock in (silent, trickle, slow_body):
            sock.close()


# -- the client side: what a hostile server could send back -------------------------------------
def test_the_client_decodes_only_png_images_and_plain_arrays():
    import io

    import numpy as np
    from PIL import Image

    from reasongym.integrations.openenv.codec import decode_array, encode_array

    frame = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    np.testing.assert_array_equal(decode_array(encode_array(frame)), frame)
    grid = np.arange(70, dtype=np.int64).reshape(7, 10)
    np.testing.assert_array_equal(decode_array(encode_array(grid)), grid)

    def image(fmt: str, size=(5, 4), mode="RGB") -> dict:
        buffer = io.BytesIO()
        Image.new(mode, size).save(buffer, fmt)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return {"type": "image", "mime_type": "image/png", "data": data}

    for fmt in ("BMP", "GIF", "TIFF"):  # PIL would pick any of its decoders from the bytes
        with pytest.raises(Exception, match="cannot identify|format"):
            decode_array(image(fmt))
    with pytest.raises(ValueError, match="too large"):
        decode_array(image("PNG", size=(6000, 6000), mode="1"))
    for dtype in ("O", "V8", [("a", "O")]):
        raw = {"type": "ndarray", "dtype": dtype, "shape": [1], "data": "AAAAAAAAAAA="}
        with pytest.raises(ValueError, match="dtype"):
            decode_array(raw)


def test_json_rpc_ids_are_echoed_only_when_plain(math_server):
    url, app = math_server
    headers = {"Content-Type": "application/json"}
    deep = "[" * 700 + "]" * 700
    for method in ("openenv/session/create", "tools/list", "nope"):
        body = f'{{"jsonrpc": "2.0", "id": {deep}, "method": "{method}"}}'.encode()
        status, reply = _http(url, "/mcp", body, headers)
        assert status == 200 and reply["id"] is None, method  # answered, not a 500
        if method == "openenv/session/create":  # the client got its session's id
            sid = reply["result"]["session_id"]
            assert sid in app.state.http_sessions
            _rpc(url, "openenv/session/close", session_id=sid)
    for rid in ("abc", 7):
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/list"}).encode()
        assert _http(url, "/mcp", body, headers)[1]["id"] == rid


def test_nothing_is_served_after_close(math_server):
    url, _ = math_server
    before = _health(url)["active_sessions"]
    ws = websockets_sync.connect(_ws_url(url), legacy=True)
    try:
        _ask(ws, {"type": "reset", "data": {"seed": 0}})
        assert _health(url)["active_sessions"] == before + 1
        ws.send(json.dumps({"type": "close"}))
        with pytest.raises(ConnectionClosed):
            ws.send(json.dumps({"type": "step", "data": {"action": "<answer>1</answer>"}}))
            ws.recv(timeout=10)
    finally:
        ws.close()
    assert _wait_for(lambda: _health(url)["active_sessions"] == before)


def test_web_pages_cannot_drive_the_server():
    from websockets.exceptions import InvalidStatus

    allowed = "http://localhost:3000"
    with served("reasongym/Arithmetic-v0", allowed_origins=[allowed]) as (url, app):
        step = json.dumps({"seed": 0, "action": {"action": "<answer>1</answer>"}}).encode()
        evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}  # a form POST
        for path in ("/step", "/reset", "/mcp"):
            status, reply = _http(url, path, step, evil)
            assert status == 403 and reply["code"] == "FORBIDDEN_ORIGIN", path
        with pytest.raises(InvalidStatus, match="403"):
            websockets_sync.connect(_ws_url(url), origin="http://evil.example", legacy=True)
        with pytest.raises(InvalidStatus, match="403"):
            websockets_sync.connect(_ws_url(url), origin="null", legacy=True)  # sandboxed page
        assert app.state.manager.active == 0  # no env was built for any of them
        status, _ = _http(url, "/step", step, {"Origin": allowed})
        assert status == 200
        port = url.rsplit(":", 1)[1]
        own_page = {"Origin": f"http://127.0.0.1:{port}"}  # FastAPI's /docs, opened locally
        assert _http(url, "/step", step, own_page)[0] == 200
        rebound = {"Origin": f"http://evil.example:{port}", "Host": f"evil.example:{port}"}
        assert _http(url, "/step", step, rebound)[0] == 403  # DNS rebinding: same "origin"
        spoofed = {"Origin": f"http://evil.example:{port}", "Host": f"127.0.0.1:{port}"}
        assert _http(url, "/step", step, spoofed)[0] == 403
        with websockets_sync.connect(_ws_url(url), origin=allowed) as ws:
            assert _ask(ws, {"type": "reset", "data": {"seed": 0}})["type"] == "observation"
        with websockets_sync.connect(_ws_url(url)) as ws:  # programs send no Origin
            assert _ask(ws, {"type": "reset", "data": {"seed": 0}})["type"] == "observation"


def test_any_message_keeps_a_session_alive_and_silence_ends_it():
    with served("reasongym/Arithmetic-v0", idle_timeout_s=0.6) as (url, _):
        with websockets_sync.connect(_ws_url(url)) as ws:
            _ask(ws, {"type": "reset", "data": {"seed": 0}})
            for _ in range(8):  # 1.6 s of messages that never touch the env
                time.sleep(0.2)
                assert _ask(ws, {"type": "state"})["type"] == "state"
            reply = json.loads(ws.recv(timeout=10))  # then silence: reaped
            assert reply["data"]["code"] == "SESSION_ERROR"
