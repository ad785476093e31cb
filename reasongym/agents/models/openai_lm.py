"""OpenAICompatibleLM: any server speaking the OpenAI chat-completions API (vLLM, TGI,
llama.cpp server, :mod:`reasongym.agents.models.serve`, OpenAI itself).

Stdlib only (``urllib``). Chat prompts go to ``/chat/completions``; plain-string prompts to the
legacy ``/completions`` endpoint (no chat template). Connection errors, timeouts, 429 and 5xx
are retried with exponential backoff.

Stop strings: the OpenAI API leaves the matched stop string out of the text, while our
:class:`Completion` keeps it. It is put back when the server says which one matched (vLLM's
and our server's ``stop_reason``), or, for tag-like stops such as ``</answer>``, when the text
has the tag open and unclosed; otherwise the text is returned as the server sent it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reasongym.agents.models.base import Completion, GenerationConfig, LanguageModel, Prompt

logger = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class ServerError(RuntimeError):
    """The server answered with an error (after retries, for retryable ones)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class OpenAICompatibleLM(LanguageModel):
    """A remote model behind an OpenAI-compatible HTTP API.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name the server expects; None: the first that ``GET
            {base_url}/models`` lists (asked once, at the first request).
        api_key: sent as a bearer token (default: ``$OPENAI_API_KEY``, else none).
        timeout: seconds per request.
        max_retries: retries after the first attempt for connection errors, timeouts, 429
            and 5xx.
        backoff: first retry delay in seconds; doubles each retry (capped at 30 s).
        concurrency: requests in flight at once when several prompts are given.
        extra_body: extra JSON fields for every request (e.g. vLLM's ``top_k``).
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        concurrency: int = 8,
        extra_body: dict[str, Any] | None = None,
    ):
        super().__init__()
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.concurrency = max(1, concurrency)
        self.extra_body = dict(extra_body or {})
        self.supports_logprobs = True  # set to False after a server rejects them
        self.supports_tools = True  # set to False after a server rejects ``tools``
        self._usage_lock = threading.Lock()  # requests run in a thread pool

    # -- HTTP --------------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, body)

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = min(30.0, self.backoff * 2 ** (attempt - 1))
                logger.warning(
                    "retrying %s in %.1f s (attempt %d): %s", url, delay, attempt + 1, last_error
                )
                time.sleep(delay)
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                detail = _error_detail(exc)
                if exc.code in _RETRY_STATUS:
                    last_error = ServerError(f"HTTP {exc.code} from {url}: {detail}", exc.code)
                    continue
                raise ServerError(f"HTTP {exc.code} from {url}: {detail}", exc.code) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                last_error = exc
        raise ServerError(
            f"no answer from {url} after {self.max_retries + 1} attempts ({last_error}); is the server "
            "running? (python -m reasongym.agents.models.serve --model PATH --port 8000)"
        )

    def model_name(self) -> str:
        """The model name sent with requests (resolved from ``/models`` when not given)."""
        if self.model is None:
            try:
                names = self.list_models()
            except ServerError:
                names = []
            self.model = names[0] if names else "default"
        return self.model

    def list_models(self) -> list[str]:
        """Model names the server offers (``GET /models``)."""
        return [m["id"] for m in self._request("GET", "/models").get("data", [])]

    # -- generation --------------------------------------------------------------------------
    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Completion]]:
        if len(prompts) <= 1 or self.concurrency == 1:
            return [self._generate_one(p, config) for p in prompts]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(lambda p: self._generate_one(p, config), prompts))

    def _generate_one(self, prompt: Prompt, config: GenerationConfig) -> list[Completion]:
        completions: list[Completion] = []
        # Some servers (llama.cpp) ignore n > 1: ask again until there are n completions.
        for _ in range(config.n):
            need = config.n - len(completions)
            if need <= 0:
                break
            seed = None if config.seed is None else config.seed + len(completions)
            completions += self._request_completions(prompt, config, need, seed)
        return completions[: config.n]

    def _request_completions(
        self, prompt: Prompt, config: GenerationConfig, n: int, seed: int | None
    ) -> list[Completion]:
        chat = not isinstance(prompt, str)
        body: dict[str, Any] = {
            "model": self.model_name(),
            "n": n,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens,
            **self.extra_body,
        }
        body["messages" if chat else "prompt"] = prompt
        if config.stop:
            body["stop"] = list(config.stop)
        if seed is not None:
            body["seed"] = seed
        want_logprobs = config.logprobs and self.supports_logprobs
        if want_logprobs:
            body["logprobs"] = True if chat else 0  # legacy: 0 = the sampled tokens' log-probs
        if config.tools and chat and self.supports_tools:
            body["tools"] = [dict(t) for t in config.tools]
        path = "/chat/completions" if chat else "/completions"
        reply = self._post_degrading(path, body)
        usage = reply.get("usage") or {}
        choices = sorted(reply.get("choices", []), key=lambda c: c.get("index", 0))
        if not choices:
            raise ServerError(f"the server at {self.base_url} answered with no choices: {reply}")
        out = [_parse_choice(c, chat, config.stop, want_logprobs) for c in choices]
        with self._usage_lock:
            self._count(usage, out)
        return out

    def _post_degrading(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST, dropping ``tools`` then ``logprobs`` when the server rejects them (400/422)."""
        while True:
            try:
                return self._post(path, body)
            except ServerError as exc:
                if exc.status not in (400, 422):
                    raise
                if "tools" in body and "tool" in str(exc).lower():
                    logger.warning(
                        "server rejected native tools (%s); the model writes calls as text", exc
                    )
                    self.supports_tools = False
                    body.pop("tools")
                elif "logprobs" in body:
                    logger.warning("server rejected logprobs (%s); continuing without them", exc)
                    self.supports_logprobs = False
                    body.pop("logprobs")
                else:
                    raise

    def _count(self, usage: dict[str, Any], out: list[Completion]) -> None:
        self.usage.calls += 1
        self.usage.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.usage.generated_tokens += int(
            usage.get("completion_tokens") or sum(c.num_tokens for c in out)
        )

    def score(self, prompt: Prompt, continuations: list[str]) -> list[float]:
        raise NotImplementedError(
            "the chat-completions API cannot score given continuations; use a local TransformersLM "
            "for log-prob self-evaluation, or sample and vote"
        )


def _parse_choice(
    choice: dict[str, Any], chat: bool, stop: tuple[str, ...], want_logprobs: bool
) -> Completion:
    message = (choice.get("message") or {}) if chat else {}
    text = message.get("content") if chat else choice.get("text")
    text = text or ""
    calls = message.get("tool_calls") if isinstance(message.get("tool_calls"), list) else []
    tool_calls = tuple(
        c for c in calls if isinstance(c, dict) and isinstance(c.get("function"), dict)
    )
    tokens: tuple[str, ...] = ()
    logprobs: tuple[float, ...] | None = None
    raw = choice.get("logprobs")
    if want_logprobs and raw:
        if chat and raw.get("content") is not None:
            tokens = tuple(t.get("token", "") for t in raw["content"])
            logprobs = tuple(float(t.get("logprob", 0.0)) for t in raw["content"])
        elif not chat and raw.get("token_logprobs") is not None:
            tokens = tuple(raw.get("tokens") or ())
            logprobs = tuple(float(x) if x is not None else 0.0 for x in raw["token_logprobs"])
    finish = choice.get("finish_reason") or "stop"
    if tool_calls:
        return Completion(
            text=text,
            tokens=tokens,
            token_logprobs=logprobs,
            finish_reason="tool_calls",
            tool_calls=tool_calls,
        )
    matched = _matched_stop(text, stop, choice) if finish == "stop" else None
    if matched is not None:
        text += matched
    elif finish == "stop":
        finish = "eos"
    return Completion(
        text=text,
        tokens=tokens,
        token_logprobs=logprobs,
        finish_reason="length" if finish == "length" else finish,
    )


def _matched_stop(text: str, stop: tuple[str, ...], choice: dict[str, Any]) -> str | None:
    """The stop string to append to the text ("" if already there, None if no stop string
    ended it), as far as it can be told (see the module docstring)."""
    if not stop:
        return None
    if any(text.endswith(s) for s in stop):  # the server kept it
        return ""
    if "stop_reason" in choice:  # vLLM and our server: the string, or None/a token id for EOS
        reason = choice["stop_reason"]
        return reason if isinstance(reason, str) and reason in stop else None
    best, best_at = None, -1
    for s in stop:
        if s.startswith("</") and s.endswith(">"):
            opening = "<" + s[2:-1]
            at = text.rfind(opening)
            if at > best_at and text.find(s, at) < 0:
                best, best_at = s, at
    return best


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode(errors="replace")
    except Exception:  # noqa: BLE001 - best effort for an error message
        return exc.reason or ""
    try:
        error = json.loads(body).get("error")
        return error.get("message", body) if isinstance(error, dict) else str(error or body)
    except (json.JSONDecodeError, AttributeError):
        return body[:500]
