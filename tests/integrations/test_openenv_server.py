"""``reasongym serve`` driven by the ``openenv`` package's own clients (and raw sockets)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import reasongym  # noqa: F401
from tests.integrations.conftest import free_port, gated_env, served

pytest.importorskip("openenv")
websockets_sync = pytest.importorskip("websockets.sync.client")

from openenv.core.generic_client import GenericEnvClient  # noqa: E402
from openenv.core.mcp_client import MCPToolClient  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from reasongym.integrations.openenv import RemoteEnv  # noqa: E402
from reasongym.integrations.openenv.codec import decode_array  # noqa: E402
from reasongym.integrations.openenv.server import WS_SIZE_HEADROOM_BYTES  # noqa: E402


def _local(env_id: str, seed: int, **kwargs):
    env = gym.make(env_id, **kwargs)
    obs, info = env.reset(seed=seed)
    return env, obs, info


def _health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as r:
        return json.loads(r.read())


def _wait_for(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def math_server():
    with served("reasongym/Math-v0", max_sessions=80) as (url, app):
        yield url


def test_math_env_through_openenv_generic_client(math_server):
    local, local_obs, _ = _local("reasongym/Math-v0", seed=3)
    answer = local.unwrapped.oracle_action()
    with GenericEnvClient(base_url=math_server).sync() as client:
        first = client.reset(seed=3)
        assert first.observation["text"] == local_obs  # same task as a local env, same seed
        assert first.done is False
        tool = client.step({"action": '<tool name="calculator">37*41</tool>'})
        assert tool.observation["text"] == "1517"
        assert tool.done is False
        final = client.step({"action": answer})
        assert final.done is True
        assert final.reward == pytest.approx(local.step(answer)[1])
        assert final.reward > 0
        assert final.observation["info"]["is_success"] is True
        state = client.state()
        assert state["step_count"] == 2
        assert state["env_id"] == "reasongym/Math-v0"


def test_puzzle_images_arrive_exactly(tmp_path):
    with served("reasongym/Maze-v0") as (url, _):
        local, local_obs, _ = _local("reasongym/Maze-v0", seed=5)
        move = local.unwrapped.oracle_action()
        with GenericEnvClient(base_url=url).sync() as client:
            first = client.reset(seed=5)
            image = first.observation["image"]
            assert image["mime_type"] == "image/png"
            np.testing.assert_array_equal(decode_array(image), local_obs["image"])
            after = client.step({"action": move})
            local_after = local.step(move)[0]
            assert after.observation["text"] == local_after["text"]
            np.testing.assert_array_equal(
                decode_array(after.observation["image"]), local_after["image"]
            )
        # and the gymnasium client rebuilds the same multimodal observation and spaces
        remote = RemoteEnv(url)
        obs, _ = remote.reset(seed=5)
        assert remote.observation_space == local.observation_space
        assert remote.observation_space.contains(obs)
        np.testing.assert_array_equal(obs["image"], local_obs["image"])
        remote.close()


@pytest.mark.docker
def test_code_env_through_openenv_client():
    with served("reasongym/HumanEval-v0", max_sessions=2) as (url, _):
        local, local_obs, _ = _local("reasongym/HumanEval-v0", seed=0)
        with GenericEnvClient(base_url=url, message_timeout_s=120).sync() as client:
            first = client.reset(seed=0)
            assert first.observation["text"] == local_obs
            wrong = client.step({"action": "<answer>def nope(): pass</answer>"})
            assert wrong.reward < 1.0
            assert "verdict" in wrong.observation["info"]


def test_64_concurrent_sessions_are_isolated(math_server):
    seeds = list(range(64))

    async def one(seed: int):
        async with GenericEnvClient(base_url=math_server) as client:
            first = await client.reset(seed=seed)
            await asyncio.sleep(0.05)  # every session open at once
            step = await client.step({"action": f'<tool name="calculator">{seed}*3</tool>'})
            state = await client.state()
            return first.observation["text"], step.observation["text"], state["step_count"]

    async def all_of_them():
        return await asyncio.gather(*(one(s) for s in seeds))

    results = asyncio.run(all_of_them())
    for seed, (prompt, tool_out, steps) in zip(seeds, results, strict=True):
        assert prompt == _local("reasongym/Math-v0", seed=seed)[1]
        assert tool_out == str(seed * 3)
        assert steps == 1
    assert _wait_for(lambda: _health(math_server)["active_sessions"] == 0)


def test_capacity_is_a_clear_error_and_frees_up():
    with served("reasongym/Arithmetic-v0", max_sessions=2) as (url, _):
        a = GenericEnvClient(base_url=url).sync()
        b = GenericEnvClient(base_url=url).sync()
        a.reset(seed=0)
        b.reset(seed=1)
        with pytest.raises(RuntimeError, match="CAPACITY_REACHED"):
            with GenericEnvClient(base_url=url).sync() as c:
                c.reset(seed=2)
        a.close()
        assert _wait_for(lambda: _health(url)["active_sessions"] == 1)
        with GenericEnvClient(base_url=url).sync() as c:
            assert c.reset(seed=2).done is False
        b.close()


def test_killed_client_frees_its_session(math_server):
    ws_url = "ws" + math_server[4:] + "/ws"
    script = textwrap.dedent(f"""
        import json, time
        from websockets.sync.client import connect
        ws = connect({ws_url!r}, legacy=True)
        ws.send(json.dumps({{"type": "reset", "data": {{"seed": 1}}}}))
        ws.recv()
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert _health(math_server)["active_sessions"] >= 1
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _wait_for(lambda: _health(math_server)["active_sessions"] == 0)
    with GenericEnvClient(base_url=math_server).sync() as client:
        assert client.reset(seed=1).done is False


BAD_MESSAGES = [
    ("{not json", "INVALID_JSON"),
    ("[1, 2]", "VALIDATION_ERROR"),
    ('"step"', "VALIDATION_ERROR"),
    ('{"type": "teleport"}', "UNKNOWN_TYPE"),
    ('{"data": {}}', "UNKNOWN_TYPE"),
    ('{"type": "step", "data": {"action": "<answer>1</answer>"}}', "EXECUTION_ERROR"),
    ('{"type": "reset", "data": {"seed": -1}}', "VALIDATION_ERROR"),
    ('{"type": "reset", "data": {"seed": "0; rm -rf /"}}', "VALIDATION_ERROR"),
    ('{"type": "reset", "data": {"seed": 1e400}}', "VALIDATION_ERROR"),
    ('{"type": "reset", "data": {"__class__": 1}}', "VALIDATION_ERROR"),
    ('{"type": "reset", "data": "seed"}', "VALIDATION_ERROR"),
    ('{"type": "set_state", "data": {"state_id": "forged"}}', "VALIDATION_ERROR"),
    ('{"type": "get_state"}', "EXECUTION_ERROR"),
]


def test_bad_messages_are_protocol_errors_and_the_session_lives_on():
    with served("reasongym/Math-v0", max_sessions=4, max_message_bytes=4096) as (url, _):
        ws = websockets_sync.connect("ws" + url[4:] + "/ws", legacy=True)
        try:
            for raw, code in BAD_MESSAGES:
                ws.send(raw)
                reply = json.loads(ws.recv(timeout=10))
                assert reply["type"] == "error", raw
                assert reply["data"]["code"] == code, (raw, reply)
                assert reply["data"]["message"]
            # above max_message_bytes: the server's own answer, and the session lives on
            for action in ("x" * 10000, "\u00e9" * 3000):  # 10000 bytes; 3000 chars, 6000 bytes
                ws.send(
                    json.dumps({"type": "step", "data": {"action": action}}, ensure_ascii=False)
                )
                reply = json.loads(ws.recv(timeout=10))
                assert reply["data"]["code"] == "VALIDATION_ERROR", reply
                assert "bytes exceeds" in reply["data"]["message"]
            ws.send(b"y" * 5000)  # binary messages count their bytes too
            assert json.loads(ws.recv(timeout=10))["data"]["code"] == "VALIDATION_ERROR"
            ws.send(json.dumps({"type": "reset", "data": {"seed": 0}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "observation"
            for action in (42, None, ["<answer>1</answer>"], {"nested": 1}):
                ws.send(json.dumps({"type": "step", "data": {"action": action}}))
                assert json.loads(ws.recv(timeout=10))["data"]["code"] == "VALIDATION_ERROR"
            ws.send(json.dumps({"type": "step", "data": {"action": "no grammar here"}}))
            reply = json.loads(ws.recv(timeout=10))
            assert reply["type"] == "observation"  # the env's own format error, not a crash
            assert reply["data"]["reward"] <= 0
            ws.send(json.dumps({"type": "mcp", "data": {"method": "tools/list"}}))
            assert json.loads(ws.recv(timeout=10))["data"]["error"]["code"] == -32600
            ws.send(
                json.dumps(
                    {
                        "type": "mcp",
                        "data": {
                            "jsonrpc": "2.0",
                            "id": 1,
                            "method": "tools/call",
                            "params": {"name": "rm"},
                        },
                    }
                )
            )
            assert json.loads(ws.recv(timeout=10))["data"]["error"]["code"] == -32602
            ws.send("[" * 2000 + "]" * 2000)  # nesting deeper than the JSON parser recurses
            assert json.loads(ws.recv(timeout=10))["data"]["code"] == "INVALID_JSON"
            ws.send(b"\xff\xfe binary garbage")
            assert json.loads(ws.recv(timeout=10))["type"] == "error"
        finally:
            ws.close()
        # a message far above it (past uvicorn's cap, max_message_bytes + headroom) costs its
        # sender the connection (close code 1009), nobody else anything
        huge = "x" * (4096 + WS_SIZE_HEADROOM_BYTES + 1)
        with websockets_sync.connect("ws" + url[4:] + "/ws", legacy=True) as big:
            big.send(json.dumps({"type": "step", "data": {"action": huge}}))
            with pytest.raises(ConnectionClosed) as closed:
                big.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # a second client is served normally afterwards
        with GenericEnvClient(base_url=url).sync() as client:
            assert client.reset(seed=0).done is False


def test_idle_sessions_are_reaped():
    with served("reasongym/Arithmetic-v0", idle_timeout_s=0.3) as (url, app):
        ws = websockets_sync.connect("ws" + url[4:] + "/ws", legacy=True)
        ws.send(json.dumps({"type": "reset", "data": {"seed": 0}}))
        ws.recv(timeout=10)
        reply = json.loads(ws.recv(timeout=10))  # nothing sent: the server speaks first
        assert reply["type"] == "error" and reply["data"]["code"] == "SESSION_ERROR"
        assert _wait_for(lambda: _health(url)["active_sessions"] == 0)
        assert app.state.manager.reaped == 1
        ws.close()


def test_state_restore_over_the_wire_lets_search_branch(math_server):
    env = RemoteEnv(math_server)
    other = RemoteEnv(math_server)
    try:
        env.reset(seed=7)
        other.reset(seed=7)
        snapshot = env.get_state()
        wrong = env.step("<answer>-123456789</answer>")
        assert wrong[2] is True and wrong[1] <= 0
        env.set_state(snapshot)
        assert env.remote_state()["step_count"] == 0
        local, _, _ = _local("reasongym/Math-v0", seed=7)
        right = env.step(local.unwrapped.oracle_action())
        assert right[2] is True and right[1] > 0 and right[4]["is_success"]
        with pytest.raises(RuntimeError, match="state_id"):
            other.set_state(snapshot)  # snapshots belong to the session that made them
    finally:
        env.close()
        other.close()


def test_the_docs_snapshot_example_prints_what_the_page_says():
    """docs/serve.md's ``reset`` voids snapshot ids example, run as written (on a free port)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "serve.md").read_text()
    section = text[text.index("## Snapshots") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    said = re.findall(r"print\(.*\)  # (\w+)", code)
    assert said == ["True", "VALIDATION_ERROR", "True"]
    port = str(free_port())
    run = subprocess.run(
        [sys.executable, "-c", code.replace("8765", port)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    printed = [line for line in run.stdout.splitlines() if not line.startswith("serving ")]
    assert printed == said


def test_mcp_tools_from_the_typed_tools(math_server):
    with MCPToolClient(base_url=math_server).sync() as client:
        client.reset(seed=0)
        tools = {t.name: t for t in client.list_tools()}
        assert "calculator" in tools
        assert tools["calculator"].input_schema["type"] == "object"
        assert client.call_tool("calculator", expression="37*41") == "1517"
        assert client.state().step_count == 1  # a tool call is a step: it counts and pays
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}}).encode()
    request = urllib.request.Request(
        f"{math_server}/mcp", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        reply = json.loads(r.read())
    assert reply["id"] == 9
    assert "calculator" in {t["name"] for t in reply["result"]["tools"]}


def test_remote_env_is_a_gymnasium_env(math_server):
    from gymnasium.utils.env_checker import check_env

    env = RemoteEnv(math_server)
    check_env(env, skip_render_check=True)
    env.close()
    vec = gym.vector.SyncVectorEnv([lambda: RemoteEnv(math_server) for _ in range(3)])
    obs, _ = vec.reset(seed=[0, 1, 2])
    assert [o == _local("reasongym/Math-v0", seed=s)[1] for s, o in enumerate(obs)] == [True] * 3
    _, rewards, terminated, truncated, _ = vec.step(["<answer>-99999</answer>"] * 3)
    assert list(terminated) == [True] * 3
    vec.close()


def test_http_routes_and_openenv_validate(math_server):
    from openenv.cli._validation import validate_running_environment

    report = validate_running_environment(math_server, timeout_s=10)
    failed = [c for c in report["criteria"] if not c["passed"]]
    assert report["passed"], failed
    body = json.dumps({"seed": 3, "action": {"action": '<tool name="calculator">6*7</tool>'}})
    request = urllib.request.Request(
        f"{math_server}/step", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        reply = json.loads(r.read())
    assert reply["observation"]["text"] == "42"
    assert reply["done"] is False


class _OneInFour:
    """A policy whose every 4th sample answers right (the rest off by one)."""

    def __new__(cls):
        import re

        from reasongym.agents.models import LanguageModel
        from reasongym.agents.models.base import Completion
        from reasongym.envs.tools.calculator import evaluate

        class OneInFour(LanguageModel):
            calls = 0

            def generate(self, prompts, config):
                out = []
                for prompt in prompts:
                    text = (
                        prompt
                        if isinstance(prompt, str)
                        else " ".join(str(m["content"]) for m in prompt)
                    )
                    found = re.findall(r"Compute ([\d +*/()-]+)\.", text)
                    value = int(evaluate(found[-1])) if found else 0
                    row = []
                    for _ in range(config.n):
                        OneInFour.calls += 1
                        answer = (
                            f"<answer>{value if OneInFour.calls % 4 == 0 else value + 1}</answer>"
                        )
                        row.append(
                            Completion(answer, tuple(answer), tuple(-0.1 for _ in answer), "stop")
                        )
                    out.append(row)
                return out

        return OneInFour()


def test_search_agent_branches_on_a_remote_env():
    from reasongym.agents.search import BestOfN

    def play(env) -> list[tuple[float, bool]]:
        agent = BestOfN(_OneInFour(), n=4, guidance="verifier", mode="train")
        agent.bind(env)
        results = []
        for seed in range(3):
            obs, info = env.reset(seed=seed)
            agent.reset(obs, info)
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            results.append((reward, bool(info["is_success"])))
        return results

    with served("reasongym/Arithmetic-v0") as (url, _):
        remote = RemoteEnv(url)
        try:
            over_the_wire = play(remote)
        finally:
            remote.close()
    local = play(gym.make("reasongym/Arithmetic-v0"))
    assert over_the_wire == local
    assert all(success for _, success in over_the_wire)  # the search found the right sample


def test_text_the_fast_json_codec_refuses_is_still_served(math_server):
    # A lone surrogate (valid for json, refused by orjson) and a 70-bit integer in the reply.
    with websockets_sync.connect("ws" + math_server[4:] + "/ws") as ws:
        ws.send(json.dumps({"type": "reset", "data": {"seed": 0}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "observation"
        ws.send('{"type": "step", "data": {"action": "<answer>\\ud800</answer>"}}')
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "observation"
        assert reply["data"]["observation"]["info"]["messages"][-2]["content"].endswith(
            "<answer>\ud800</answer>"
        )
        ws.send(json.dumps({"type": "reset", "data": {"seed": 0}}))
        ws.recv(timeout=10)
        ws.send(json.dumps({"type": "step", "data": {"action": _calc("2**70")}}))
        reply = json.loads(ws.recv(timeout=10))
        assert reply["data"]["observation"]["text"] == str(2**70)


def _calc(expression: str) -> str:
    return f'<tool name="calculator">{expression}</tool>'


def test_a_slow_step_does_not_stall_other_sessions():
    with gated_env("slow") as (env_id, gate), served(env_id, max_sessions=4) as (url, _):
        with (
            websockets_sync.connect("ws" + url[4:] + "/ws") as slow,
            websockets_sync.connect("ws" + url[4:] + "/ws") as fast,
        ):
            for ws in (slow, fast):
                ws.send(json.dumps({"type": "reset", "data": {}}))
                ws.recv(timeout=10)
            slow.send(json.dumps({"type": "step", "data": {"action": "slow"}}))
            assert gate.wait_held()
            try:  # while the slow step runs, the other session is served
                for k in range(20):
                    fast.send(json.dumps({"type": "step", "data": {"action": f"a{k}"}}))
                    reply = json.loads(fast.recv(timeout=5))
                    assert reply["data"]["observation"]["text"] == f"a{k}"
            finally:
                gate.release()
            reply = json.loads(slow.recv(timeout=10))
        assert reply["data"]["observation"]["text"] == "slow"


def test_worker_pool_runs_each_sessions_calls_in_order_and_one_at_a_time():
    from reasongym.integrations.openenv.workers import WorkerPool

    async def main() -> tuple[list[list[int]], int]:
        pool = WorkerPool(stall_s=0.001)  # tiny: extra threads start, so overlap could occur
        lanes = [pool.lane() for _ in range(8)]
        seen: list[list[int]] = [[] for _ in lanes]
        inside = [0] * len(lanes)
        overlaps = 0

        def call(lane: int, k: int) -> int:
            nonlocal overlaps
            inside[lane] += 1
            overlaps += inside[lane] > 1
            time.sleep(0.0005 if k % 7 == 0 else 0)
            seen[lane].append(k)
            inside[lane] -= 1
            return k

        futures = [lanes[i].submit(call, i, k) for k in range(40) for i in range(len(lanes))]
        results = await asyncio.gather(*futures)
        assert results == [k for k in range(40) for _ in lanes]
        pool.close()
        return seen, overlaps

    seen, overlaps = asyncio.run(main())
    assert overlaps == 0
    assert all(calls == list(range(40)) for calls in seen)


def _serve_args(*flags: str):
    from reasongym.cli import build_parser

    return build_parser().parse_args(["serve", "reasongym/Math-v0", *flags])


def test_every_serve_flag_reaches_the_config_and_its_help_gives_the_default():
    from reasongym.integrations.openenv.cli import LIMIT_FLAGS, serve_config
    from reasongym.integrations.openenv.server import ServeConfig

    defaults = serve_config(_serve_args())
    assert defaults == ServeConfig(env_id="reasongym/Math-v0")  # no flag: ServeConfig's own
    for k, (flag, field, kind, _metavar, text) in enumerate(LIMIT_FLAGS):
        default = ServeConfig.model_fields[field].default
        assert float(re.search(r"default (\d+)", text).group(1)) == default, flag
        value = kind(default + 1000 + k)  # distinct from the default and from the others
        config = serve_config(_serve_args(flag, str(value)))
        assert getattr(config, field) == value, flag
        changed = {
            f for f in ServeConfig.model_fields if getattr(config, f) != getattr(defaults, f)
        }
        assert changed == {field}, flag
    config = serve_config(_serve_args("--idle-timeout", "0", "--max-snapshot-bytes", "0"))
    assert config.idle_timeout_s is None and config.max_snapshot_bytes is None  # 0: no limit


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--max-snapshots", "0"], "--max-snapshots 0"),
        (["--max-message-bytes", "100"], "--max-message-bytes 100"),
        (["--max-snapshot-bytes", "-5"], "--max-snapshot-bytes -5"),
        (["--max-http-envs", "0"], "--max-http-envs 0"),
        (["--max-http-requests", "-1"], "--max-http-requests -1"),
        (["--send-timeout", "inf"], "--send-timeout inf"),
        (["--request-timeout", "nan"], "--request-timeout nan"),
        (["--idle-timeout", "-1"], "--idle-timeout -1"),
        (["--env-kwargs", "[1]"], "--env-kwargs [1]"),
        (["--env-kwargs", "{oops"], "--env-kwargs: not valid JSON"),
    ],
)
def test_a_bad_serve_flag_value_is_an_error_naming_the_flag(flags, named):
    from reasongym.integrations.openenv.cli import serve_config

    with pytest.raises(SystemExit) as exited:
        serve_config(_serve_args(*flags))
    assert str(exited.value).startswith("reasongym serve: ")
    assert named in str(exited.value)


def test_the_serve_command_runs_with_its_flags():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "reasongym.cli", "serve", "reasongym/Arithmetic-v0"]
    bad = subprocess.run(
        [*command, "--max-http-requests", "0"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode != 0 and "--max-http-requests 0" in bad.stderr
    server = subprocess.Popen(
        [*command, "--port", str(port), "--max-message-bytes", "2048"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert _wait_for(lambda: _answers(f"{url}/health"), timeout_s=120), "did not start"

        def post(size: int) -> int:
            body = json.dumps({"seed": 0, "pad": "x" * size}).encode()
            request = urllib.request.Request(f"{url}/reset", data=body)
            try:
                with urllib.request.urlopen(request, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert post(1000) == 200
        assert post(3000) == 413  # the flag's 2048, not the default 4 MiB
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
    except OSError:
        return False
    return True
