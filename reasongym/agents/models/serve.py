"""A small OpenAI-compatible HTTP server over any :class:`LanguageModel` (stdlib only).

Serves ``POST /v1/chat/completions``, ``POST /v1/completions`` and ``GET /v1/models`` (also
without the ``/v1`` prefix); no streaming. Meant for loopback use: tests, and sharing one
loaded model between several processes::

    python -m reasongym.agents.models.serve --model smollm2 --port 8000
    reasongym run reasongym/Math-v0 --agent llm --base-url http://127.0.0.1:8000/v1

Like vLLM, each choice carries ``stop_reason`` (the matched stop string, or null), and, as in
the OpenAI API, the stop string itself is left out of the returned text.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reasongym.agents.models.base import (
    DEFAULT_MAX_TOKENS,
    Completion,
    GenerationConfig,
    LanguageModel,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024


class RequestError(ValueError):
    """A bad request (answered with HTTP 400 and this message)."""


def _given(body: dict[str, Any], key: str, default: Any) -> Any:
    """``body[key]``, or ``default`` when absent or null (0 is a value, not "unset")."""
    value = body.get(key)
    return default if value is None else value


def _refuse_unsupported(body: dict[str, Any]) -> None:
    """400 for request features this server cannot honour, instead of ignoring them."""
    if body.get("tools") or body.get("functions"):
        raise RequestError(
            "native tool calls ('tools') are not supported by this server: the model cannot be "
            "made to emit OpenAI tool_calls; describe the tools in the prompt (the env's tag "
            "grammar) or use a server with tool calling (e.g. vLLM --enable-auto-tool-choice)"
        )
    choice = body.get("tool_choice", body.get("function_call"))
    if choice not in (None, "none"):
        raise RequestError(
            "'tool_choice' needs native tool calls, which this server does not support"
        )
    fmt = body.get("response_format")
    if fmt is not None and not (isinstance(fmt, dict) and fmt.get("type") == "text"):
        raise RequestError(
            '\'response_format\' other than {"type": "text"} is not supported by this server '
            "(it cannot constrain output to JSON); ask for JSON in the prompt and validate it"
        )
    top = body.get("top_logprobs")
    if top not in (None, 0):
        raise RequestError(
            "'top_logprobs' > 0 is not supported: this server reports the log-prob of each "
            "sampled token only; send top_logprobs=0 (or omit it) with logprobs=true"
        )
    legacy = body.get("logprobs")
    if "prompt" in body and isinstance(legacy, int) and not isinstance(legacy, bool) and legacy > 0:
        raise RequestError(
            f"'logprobs': {legacy} asks for the top {legacy} alternatives per token, which this "
            "server cannot compute; send logprobs=0 for the sampled tokens' log-probs"
        )
    if body.get("echo"):
        raise RequestError("'echo' is not supported by this server; send echo=false")


def _config_from(body: dict[str, Any]) -> GenerationConfig:
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(stop, list | tuple) or not all(isinstance(s, str) for s in stop):
        raise RequestError("'stop' must be a string or a list of strings")
    _refuse_unsupported(body)
    try:
        n = int(_given(body, "n", 1))
        max_tokens = int(
            _given(body, "max_completion_tokens", _given(body, "max_tokens", DEFAULT_MAX_TOKENS))
        )
        temperature = float(body.get("temperature", 1.0))
        top_p = float(body.get("top_p", 1.0))
        seed = None if body.get("seed") is None else int(body["seed"])
    except (TypeError, ValueError) as exc:
        raise RequestError(f"bad sampling parameter: {exc}") from None
    if not 1 <= n <= 128:
        raise RequestError("'n' must be between 1 and 128")
    if max_tokens < 0 or temperature < 0 or not 0 < top_p <= 1:
        raise RequestError("need max_tokens >= 0, temperature >= 0 and 0 < top_p <= 1")
    if body.get("stream"):
        raise RequestError("streaming is not supported by this server; send stream=false")
    # Chat: ``logprobs: true``; legacy completions: ``logprobs: K`` (0 = the sampled token only).
    logprobs = body.get("logprobs")
    want = logprobs if isinstance(logprobs, bool) else isinstance(logprobs, int) and logprobs >= 0
    return GenerationConfig(
        n=n,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        stop=tuple(stop),
        seed=seed,
        logprobs=want,
    )


def _strip_stop(
    completion: Completion, stop: tuple[str, ...]
) -> tuple[str, str | None, list[str], list[float] | None]:
    """OpenAI semantics: text without the matched stop string; the tokens that spelled it go."""
    text, tokens = completion.text, list(completion.tokens)
    logprobs = list(completion.token_logprobs) if completion.token_logprobs is not None else None
    if completion.finish_reason != "stop":
        return text, None, tokens, logprobs
    matched = next((s for s in sorted(stop, key=len, reverse=True) if text.endswith(s)), None)
    if matched is None:
        return text, None, tokens, logprobs
    keep = len(text) - len(matched)
    if tokens and "".join(tokens) == text:
        n, length = 0, 0
        while n < len(tokens) and length + len(tokens[n]) <= keep:
            length += len(tokens[n])
            n += 1
        tokens = tokens[:n]
        logprobs = logprobs[:n] if logprobs is not None else None
    return text[:keep], matched, tokens, logprobs


def _offsets(start: int, tokens: list[str]) -> list[int]:
    """Legacy ``text_offset``: where each token starts, counted from the prompt's start (the
    completion follows the prompt)."""
    out, at = [], start
    for token in tokens:
        out.append(at)
        at += len(token)
    return out


def _finish(reason: str) -> str:
    return "length" if reason == "length" else "stop"


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        self._send(status, {"error": {"message": message, "type": kind, "code": status}})

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": self.server.model_name, "object": "model", "owned_by": "reasongym"}
                    ],
                },
            )
        elif self.path.rstrip("/") in ("/health", "/v1/health"):
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}; try /v1/chat/completions")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        route = self.path.rstrip("/").removeprefix("/v1")
        if route not in ("/chat/completions", "/completions"):
            self._error(404, f"no route {self.path}; try /v1/chat/completions")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise RequestError(f"request body over {MAX_BODY_BYTES} bytes")
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise RequestError("the request body must be a JSON object")
            self._send(200, self.server.complete(body, chat=route == "/chat/completions"))
        except (RequestError, json.JSONDecodeError) as exc:
            self._error(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - a model failure becomes a 500, the server lives on
            logger.exception("generation failed")
            self._error(500, f"{type(exc).__name__}: {exc}", "server_error")


class ModelServer(ThreadingHTTPServer):
    """An HTTP server answering OpenAI-style requests with ``model`` (one request at a time
    reaches the model)."""

    daemon_threads = True

    def __init__(
        self,
        model: LanguageModel,
        host: str = "127.0.0.1",
        port: int = 8000,
        model_name: str = "default",
    ):
        super().__init__((host, port), _Handler)
        self.model = model
        self.model_name = model_name
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def complete(self, body: dict[str, Any], chat: bool) -> dict[str, Any]:
        name = body.get("model")
        if name is not None and name != self.model_name:
            raise RequestError(
                f"model {name!r} is not served here; this server serves {self.model_name!r} "
                "(GET /v1/models lists it)"
            )
        config = _config_from(body)
        if chat:
            prompt = body.get("messages")
            if not isinstance(prompt, list) or not all(
                isinstance(m, dict) and "role" in m for m in prompt
            ):
                raise RequestError("'messages' must be a list of {role, content} objects")
            prompt = [{"role": m["role"], "content": m.get("content") or ""} for m in prompt]
        else:
            prompt = body.get("prompt")
            if isinstance(prompt, list) and len(prompt) == 1:
                prompt = prompt[0]
            if not isinstance(prompt, str):
                raise RequestError("'prompt' must be a string")
        with self._lock:
            before = (self.model.usage.prompt_tokens, self.model.usage.generated_tokens)
            completions = self.model.generate([prompt], config)[0]
            prompt_tokens = self.model.usage.prompt_tokens - before[0]
            generated = self.model.usage.generated_tokens - before[1]
        choices = []
        for index, completion in enumerate(completions):
            text, matched, tokens, logprobs = _strip_stop(completion, config.stop)
            choice: dict[str, Any] = {
                "index": index,
                "finish_reason": _finish(completion.finish_reason),
                "stop_reason": matched,
            }
            if chat:
                choice["message"] = {"role": "assistant", "content": text}
                if config.logprobs and logprobs is not None:
                    choice["logprobs"] = {
                        "content": [
                            {
                                "token": t,
                                "logprob": lp,
                                "bytes": list(t.encode()),
                                "top_logprobs": [],
                            }
                            for t, lp in zip(tokens, logprobs, strict=False)
                        ]
                    }
                else:
                    choice["logprobs"] = None
            else:
                choice["text"] = text
                choice["logprobs"] = (
                    {
                        "tokens": tokens,
                        "token_logprobs": logprobs,
                        "top_logprobs": None,
                        "text_offset": _offsets(len(prompt), tokens),
                    }
                    if config.logprobs and logprobs is not None
                    else None
                )
            choices.append(choice)
        if prompt_tokens == 0 and generated == 0:  # a backend that keeps no usage counts
            generated = sum(c.num_tokens for c in completions)
        return {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": generated,
                "total_tokens": prompt_tokens + generated,
            },
        }


@contextmanager
def serve_in_thread(
    model: LanguageModel, host: str = "127.0.0.1", port: int = 0, model_name: str = "default"
) -> Iterator[ModelServer]:
    """Run a :class:`ModelServer` in a background thread (``port=0``: a free port); yields the
    server (``server.base_url`` is the URL to give clients) and shuts it down on exit."""
    server = ModelServer(model, host, port, model_name)
    thread = threading.Thread(
        target=server.serve_forever, name="reasongym-model-server", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reasongym.agents.models.serve",
        description="Serve a model over an OpenAI-compatible API.",
    )
    parser.add_argument(
        "--model", required=True, help="a local path, 'smollm2' or 'tiny:DIR' (see load_model)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--model-name", default=None, help="name reported by /v1/models (default: --model)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from reasongym.agents.models import load_model

    model = load_model(args.model)
    server = ModelServer(model, args.host, args.port, args.model_name or args.model)
    logger.info("serving %s at %s (Ctrl-C to stop)", args.model, server.base_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
