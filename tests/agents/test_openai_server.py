"""OpenAICompatibleLM against the loopback server of reasongym.agents.models.serve."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from reasongym.agents.models import GenerationConfig, LanguageModel, load_model
from reasongym.agents.models.base import Completion
from reasongym.agents.models.images import image_part
from reasongym.agents.models.openai_lm import OpenAICompatibleLM, ServerError, _parse_choice
from reasongym.agents.models.serve import serve_in_thread


class ScriptedLM(LanguageModel):
    """Answers every prompt with ``text`` (and records the prompts it got)."""

    def __init__(self, text: str, finish: str = "stop"):
        super().__init__()
        self.text, self.finish, self.prompts = text, finish, []

    def generate(self, prompts, config):
        self.prompts += prompts
        tokens = tuple(self.text)
        c = Completion(self.text, tokens, tuple(-0.5 for _ in tokens), self.finish)
        self.usage.generated_tokens += len(tokens) * len(prompts) * config.n
        return [[c] * config.n for _ in prompts]


@pytest.fixture(scope="module")
def tiny_llama():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from reasongym.agents.models.tiny import TinyModelConfig, build_tiny_model
    from reasongym.agents.models.transformers_lm import TransformersLM

    torch.set_num_threads(1)
    config = TinyModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    model, tokenizer = build_tiny_model(config, seed=1)
    return TransformersLM(model, tokenizer, device="cpu")


def test_served_model_matches_local_generation(tiny_llama):
    chat = [{"role": "user", "content": "Compute 2 + 2."}]
    config = GenerationConfig(max_tokens=12)
    local = tiny_llama.generate([chat, "plain prompt"], config)
    with serve_in_thread(tiny_llama, model_name="tiny") as server:
        client = OpenAICompatibleLM(server.base_url, model="tiny")
        assert client.list_models() == ["tiny"]
        remote = client.generate([chat, "plain prompt"], config)  # chat and legacy completions
    for got, want in zip(remote, local, strict=True):
        assert got[0].text == want[0].text and got[0].finish_reason == want[0].finish_reason
        assert got[0].tokens == want[0].tokens
        np.testing.assert_allclose(got[0].token_logprobs, want[0].token_logprobs, atol=1e-5)
    assert client.usage.calls == 2 and client.usage.generated_tokens == sum(
        c[0].num_tokens for c in local
    )


def test_served_sampling_is_seeded_and_gives_n(tiny_llama):
    config = GenerationConfig(n=3, temperature=1.0, max_tokens=8, seed=5)
    with serve_in_thread(tiny_llama) as server:
        client = OpenAICompatibleLM(server.base_url)
        first = [c.text for c in client.generate(["abc"], config)[0]]
        again = [c.text for c in client.generate(["abc"], config)[0]]
    assert len(first) == 3 and first == again
    assert first == [c.text for c in tiny_llama.generate(["abc"], config)[0]]


def test_stop_string_comes_back_and_images_go_as_data_urls():
    lm = ScriptedLM('I will check. <tool name="calculator">2*3</tool>')
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    chat = [
        {"role": "user", "content": [{"type": "text", "text": "What is shown?"}, image_part(image)]}
    ]
    with serve_in_thread(lm) as server:
        client = OpenAICompatibleLM(server.base_url)
        out = client.generate(
            [chat], GenerationConfig(max_tokens=50, stop=("</answer>", "</tool>"))
        )[0][0]
    # The server leaves the stop string out (OpenAI semantics) and names it; the client restores it.
    assert (
        out.text == 'I will check. <tool name="calculator">2*3</tool>'
        and out.finish_reason == "stop"
    )
    assert "".join(out.tokens) == 'I will check. <tool name="calculator">2*3'
    sent = lm.prompts[0][0]["content"]
    assert sent[1]["type"] == "image_url" and sent[1]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )


def test_stop_inference_without_stop_reason():
    stop = ("</tool>", "</answer>")
    plain = {"message": {"content": "x <answer>4"}, "finish_reason": "stop"}
    assert _parse_choice(plain, True, stop, False).text == "x <answer>4</answer>"
    closed = {"message": {"content": "<answer>4</answer> done"}, "finish_reason": "stop"}
    assert _parse_choice(closed, True, stop, False).finish_reason == "eos"  # nothing left open
    vllm_eos = {"message": {"content": "x <answer>4"}, "finish_reason": "stop", "stop_reason": None}
    assert _parse_choice(vllm_eos, True, stop, False).text == "x <answer>4"  # trusted: EOS
    length = {"text": "abc", "finish_reason": "length"}
    assert _parse_choice(length, False, stop, False).finish_reason == "length"


class _FlakyHandler(BaseHTTPRequestHandler):
    """Fails the first ``failures`` requests with 503; rejects requests asking for logprobs
    when ``reject_logprobs``; records request bodies."""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.bodies.append(body)
        if len(server.bodies) <= server.failures:
            status, payload = 503, {"error": {"message": "warming up"}}
        elif server.reject_logprobs and body.get("logprobs"):
            status, payload = 400, {"error": {"message": "logprobs are not supported"}}
        elif body.get("n", 1) > 1:
            status, payload = (
                200,
                {
                    "choices": [
                        {"index": 0, "message": {"content": "one"}, "finish_reason": "length"}
                    ]
                },
            )
        else:
            status, payload = (
                200,
                {
                    "choices": [
                        {"index": 0, "message": {"content": "ok"}, "finish_reason": "length"}
                    ]
                },
            )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def flaky_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyHandler)
    server.bodies, server.failures, server.reject_logprobs = [], 0, False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_retries_5xx_with_backoff(flaky_server):
    flaky_server.failures = 2
    client = OpenAICompatibleLM(
        f"http://127.0.0.1:{flaky_server.server_address[1]}/v1", backoff=0.01
    )
    assert (
        client.generate([[{"role": "user", "content": "hi"}]], GenerationConfig(max_tokens=3))[0][
            0
        ].text
        == "ok"
    )
    assert len(flaky_server.bodies) == 3


def test_gives_up_after_max_retries(flaky_server):
    flaky_server.failures = 100
    client = OpenAICompatibleLM(
        f"http://127.0.0.1:{flaky_server.server_address[1]}/v1", backoff=0.001, max_retries=2
    )
    with pytest.raises(ServerError, match="after 3 attempts"):
        client.generate(["hi"], GenerationConfig(max_tokens=3))
    assert len(flaky_server.bodies) == 3


def test_connection_refused_is_retried_then_explained():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OpenAICompatibleLM(f"http://127.0.0.1:{port}/v1", backoff=0.001, max_retries=1)
    with pytest.raises(ServerError, match="is the server running"):
        client.generate(["hi"], GenerationConfig(max_tokens=3))


def test_falls_back_when_logprobs_are_rejected_and_tops_up_n(flaky_server):
    flaky_server.reject_logprobs = True
    client = OpenAICompatibleLM(f"http://127.0.0.1:{flaky_server.server_address[1]}/v1")
    out = client.generate(
        [[{"role": "user", "content": "hi"}]], GenerationConfig(n=3, max_tokens=3)
    )[0]
    assert [c.text for c in out] == ["one", "one", "ok"]  # a server that ignores n is asked again
    assert all(c.token_logprobs is None for c in out) and not client.supports_logprobs


def test_server_rejects_bad_requests(tiny_llama):
    with serve_in_thread(tiny_llama) as server:
        client = OpenAICompatibleLM(server.base_url, max_retries=0)
        with pytest.raises(ServerError, match="streaming") as err:
            client._post(
                "/chat/completions",
                {"messages": [{"role": "user", "content": "x"}], "stream": True},
            )
        assert err.value.status == 400
        with pytest.raises(ServerError, match="messages"):
            client._post("/chat/completions", {"messages": "not a list"})


def test_load_model_with_url_gives_a_client():
    client = load_model("http://127.0.0.1:9/v1", model="m")
    assert isinstance(client, OpenAICompatibleLM) and client.model == "m"
    with pytest.raises(NotImplementedError):
        client.score("x", ["y"])


@pytest.mark.slow
def test_serve_command_line(tmp_path, tiny_llama):
    """``python -m reasongym.agents.models.serve --model tiny:DIR`` serves until terminated."""
    import socket
    import subprocess
    import sys
    import time

    from reasongym.agents.models.tiny import TinyModelConfig, save_tiny

    save_tiny(
        tiny_llama,
        tmp_path,
        TinyModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64),
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "reasongym.agents.models.serve",
        "--model",
        f"tiny:{tmp_path}",
        "--port",
        str(port),
        "--threads",
        "1",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        client = OpenAICompatibleLM(f"http://127.0.0.1:{port}/v1", max_retries=0)
        deadline = time.monotonic() + 120
        while True:
            try:
                assert client.list_models() == [f"tiny:{tmp_path}"]
                break
            except ServerError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the server did not come up in 120 s"
                time.sleep(0.5)
        chat = [{"role": "user", "content": "Compute 1 + 1."}]
        config = GenerationConfig(max_tokens=6)
        assert (
            client.generate([chat], config)[0][0].text
            == tiny_llama.generate([chat], config)[0][0].text
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


CHAT = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"logprobs": True, "top_logprobs": 3}, "top_logprobs"),
        ({"n": 0}, "'n' must be between 1 and 128"),
        ({"model": "gpt-4o"}, "'gpt-4o' is not served here; this server serves 'scripted'"),
    ],
)
def test_server_rejects_what_it_cannot_honour_with_a_400(extra, says):
    """Each of these used to be ignored silently (n=0 became 1, any model name was taken)."""
    with serve_in_thread(ScriptedLM("ok"), model_name="scripted") as server:
        client = OpenAICompatibleLM(server.base_url, max_retries=0)
        with pytest.raises(ServerError, match=re.escape(says)) as err:
            client._post("/chat/completions", {"model": "scripted", "messages": CHAT, **extra})
        assert err.value.status == 400
        # the same request without the feature is served
        plain = {"model": "scripted", "messages": CHAT}
        assert client._post("/chat/completions", plain)["choices"][0]["message"]["content"] == "ok"


def test_legacy_logprobs_k_is_refused_and_text_offset_is_filled():
    with serve_in_thread(ScriptedLM("abc"), model_name="scripted") as server:
        client = OpenAICompatibleLM(server.base_url, max_retries=0)
        with pytest.raises(ServerError, match="top 2 alternatives"):
            client._post("/completions", {"prompt": "xy", "logprobs": 2})
        reply = client._post("/completions", {"prompt": "xy", "logprobs": 0, "max_tokens": 0})
        logprobs = reply["choices"][0]["logprobs"]
        assert logprobs["tokens"] == ["a", "b", "c"] and logprobs["text_offset"] == [2, 3, 4]
        # the client asks for the sampled tokens' log-probs only, and gets them
        [[completion]] = client.generate(["xy"], GenerationConfig(max_tokens=3))
        assert completion.token_logprobs == (-0.5, -0.5, -0.5)


def test_client_without_a_model_name_uses_the_served_one_and_degrades_native_tools():
    lm = ScriptedLM("<answer>1</answer>")
    tool = {
        "type": "function",
        "function": {"name": "calculator", "parameters": {"type": "object"}},
    }
    with serve_in_thread(lm, model_name="scripted") as server:
        client = OpenAICompatibleLM(server.base_url, max_retries=0)
        [[completion]] = client.generate([CHAT], GenerationConfig(max_tokens=5, tools=(tool,)))
    assert client.model == "scripted" and completion.text == "<answer>1</answer>"
    assert client.supports_tools is False  # the 400 about tools was read: calls go as text


def test_client_reads_native_tool_calls():
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "calculator", "arguments": '{"expression": "2*3"}'},
    }
    choice = {
        "index": 0,
        "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": None, "tool_calls": [call]},
    }
    completion = _parse_choice(choice, chat=True, stop=("</tool>",), want_logprobs=False)
    assert completion.tool_calls == (call,) and completion.finish_reason == "tool_calls"
