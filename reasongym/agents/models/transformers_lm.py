"""TransformersLM: a local causal LM (any ``transformers`` model object or local path).

Generation is our own loop rather than ``model.generate`` so that every backend behaves the
same way: stop strings are matched on decoded text (and kept at the end of the completion),
per-token log-probs are those of the untempered model, a seed makes sampling reproducible, and
the tokenizer only needs ``encode``/``decode`` (so the char-level tokenizer of
:mod:`reasongym.agents.models.tiny` works as well as a Hugging Face one).

Prompts are batched (``[batch, prompt + generated]`` with left padding) and decoded
incrementally with the model's KV cache under ``torch.inference_mode``.

Native tool calls: when ``GenerationConfig.tools`` is set and the tokenizer has a chat
template, the template is rendered with ``tools=`` (so the model sees the tools the way it was
trained to), earlier assistant turns whose content is a ``{"tool_calls": [...]}`` action are
rendered as the template's own tool calls, and the completion's calls are parsed back
(``tokenizer.parse_response`` when the tokenizer has a response schema, else the Hermes/Qwen
``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` blocks that the shipped tool
template writes) into ``Completion.tool_calls``. Text that is not a well-formed call stays
text, so a malformed call reaches the env as a format error, never as an exception.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
from pathlib import Path
from typing import Any

from reasongym.agents.models.base import (
    Completion,
    GenerationConfig,
    LanguageModel,
    Message,
    Prompt,
)

_ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}


def message_text(content: Any) -> str:
    """The text of a message's ``content`` (string or OpenAI-style parts; images become
    ``[image]`` for text-only models)."""
    if isinstance(content, str):
        return content
    parts = []
    for part in content or []:
        if part.get("type") == "text":
            parts.append(part.get("text", ""))
        elif part.get("type") in ("image_url", "image"):
            parts.append("[image]")
    return "\n".join(parts)


def fallback_chat_format(messages: list[Message]) -> str:
    """The chat format used when a tokenizer has no chat template::

    User: <content>

    Assistant: <content>

    Assistant:
    """
    turns = [
        f"{_ROLE_NAMES.get(m['role'], m['role'].title())}: {message_text(m['content'])}"
        for m in messages
    ]
    return "\n\n".join([*turns, "Assistant:"])


class TransformersLM(LanguageModel):
    """A local ``transformers`` causal LM behind the :class:`LanguageModel` interface.

    Args:
        model: a local directory (or a model id already in the local Hugging Face cache;
            nothing is downloaded), or a loaded ``PreTrainedModel``.
        tokenizer: needed with a model object; loaded from the directory otherwise. Anything
            with ``encode(text, add_special_tokens=...)``, ``decode(ids,
            skip_special_tokens=...)`` and ``eos_token_id`` works.
        device: "cpu", "cuda", ... (default: CUDA when available, else CPU).
        dtype: torch dtype for loading from a path (default: the checkpoint's, float32 on CPU).
        batch_size: rows (prompts x n) decoded together.
        max_prompt_tokens: longer prompts keep their last tokens (the model's context length
            is always respected).
        use_chat_template: apply the tokenizer's chat template to chat prompts when it has
            one (else :func:`fallback_chat_format`).

    A seeded sampling call is reproducible for the same prompts, ``n`` and ``batch_size``
    (the rows of a batch draw from one generator). Greedy decoding does not depend on batching
    beyond float rounding.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: str | None = None,
        dtype: Any = None,
        batch_size: int = 16,
        max_prompt_tokens: int | None = None,
        use_chat_template: bool = True,
    ):
        super().__init__()
        import torch

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if isinstance(model, str | Path):
            model, tokenizer = _load_pretrained(str(model), tokenizer, dtype)
        elif tokenizer is None:
            raise ValueError(
                "pass the tokenizer along with a model object: TransformersLM(model, tokenizer)"
            )
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.max_prompt_tokens = max_prompt_tokens
        self.use_chat_template = use_chat_template
        self.context_length = int(getattr(model.config, "max_position_embeddings", 0) or 1 << 30)
        self.eos_token_ids = _eos_ids(model, tokenizer)
        pad = getattr(tokenizer, "pad_token_id", None)
        self.pad_token_id = int(
            pad if pad is not None else (min(self.eos_token_ids) if self.eos_token_ids else 0)
        )
        params = inspect.signature(model.forward).parameters
        self._keep_arg = next(
            (k for k in ("logits_to_keep", "num_logits_to_keep") if k in params), None
        )

    # -- prompts ---------------------------------------------------------------------------
    def prompt_text(self, prompt: Prompt, tools: tuple[dict[str, Any], ...] = ()) -> str:
        """The text a prompt becomes: a string as-is, a chat through the chat template
        (rendered with ``tools=`` and the turns' native tool calls when ``tools`` is given)."""
        if isinstance(prompt, str):
            return prompt
        template = getattr(self.tokenizer, "chat_template", None)
        if self.use_chat_template and template:
            if tools:
                return self.tokenizer.apply_chat_template(
                    native_messages(prompt),
                    tools=[dict(t) for t in tools],
                    tokenize=False,
                    add_generation_prompt=True,
                )
            messages = [{**m, "content": message_text(m["content"])} for m in prompt]
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
        return fallback_chat_format(prompt)

    def native_tools(self, config: GenerationConfig) -> tuple[dict[str, Any], ...]:
        """The tools this call renders and parses natively: ``config.tools`` when the
        tokenizer has a chat template to show them (else none: calls are written as text)."""
        template = getattr(self.tokenizer, "chat_template", None)
        return tuple(config.tools) if self.use_chat_template and template else ()

    def encode_prompt(
        self, prompt: Prompt, reserve: int = 1, tools: tuple[dict[str, Any], ...] = ()
    ) -> list[int]:
        """Token ids of a prompt, left-truncated to ``max_prompt_tokens`` and to leave
        ``reserve`` positions of the context for the continuation."""
        text = self.prompt_text(prompt, tools=tools)
        # A chat template writes its own special tokens (BOS); a plain string gets the defaults.
        ids = list(self.tokenizer.encode(text, add_special_tokens=isinstance(prompt, str)))
        limit = max(1, self.context_length - reserve)
        if self.max_prompt_tokens is not None:
            limit = min(limit, self.max_prompt_tokens)
        return ids[-limit:] if len(ids) > limit else ids

    # -- generation ------------------------------------------------------------------------
    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Completion]]:
        import torch

        if config.n < 1 or config.max_tokens < 0:
            raise ValueError(
                f"need n >= 1 and max_tokens >= 0, got n={config.n}, max_tokens={config.max_tokens}"
            )
        greedy = config.temperature <= 0
        # Greedy decoding gives n identical completions: decode each prompt once.
        copies = 1 if greedy else config.n
        tools = self.native_tools(config)
        encoded = [self.encode_prompt(p, reserve=1, tools=tools) for p in prompts]
        rows = [ids for ids in encoded for _ in range(copies)]
        generator = None
        if not greedy:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(
                config.seed if config.seed is not None else int.from_bytes(os.urandom(7), "little")
            )
        done: list[Completion] = []
        for start in range(0, len(rows), self.batch_size):
            done += self._generate_rows(rows[start : start + self.batch_size], config, generator)
        if tools:
            done = [self._with_tool_calls(c) for c in done]
        self.usage.calls += 1
        self.usage.prompt_tokens += sum(len(ids) for ids in rows)
        self.usage.generated_tokens += sum(c.num_tokens for c in done)
        out = [done[i * copies : (i + 1) * copies] for i in range(len(prompts))]
        return [group * config.n if greedy else group for group in out]

    def _with_tool_calls(self, completion: Completion) -> Completion:
        calls = parse_tool_calls(completion.text, self.tokenizer)
        if not calls:
            return completion
        return dataclasses.replace(completion, tool_calls=calls, finish_reason="tool_calls")

    def _forward(self, input_ids, attention_mask, position_ids, past=None, keep: int | None = None):
        kwargs: dict[str, Any] = {}
        if keep is not None and self._keep_arg is not None:
            kwargs[self._keep_arg] = keep
        return self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past,
            use_cache=True,
            **kwargs,
        )

    def _generate_rows(
        self, rows: list[list[int]], config: GenerationConfig, generator
    ) -> list[Completion]:
        import torch

        batch, width = len(rows), max(len(r) for r in rows)
        input_ids = torch.full((batch, width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((batch, width), dtype=torch.long)
        for i, ids in enumerate(rows):  # left padding: every row ends at the last column
            input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[i, width - len(ids) :] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        # Each row may generate until max_tokens or until it fills the model's context.
        limits = [min(config.max_tokens, self.context_length - len(r)) for r in rows]
        states = [_RowState() for _ in rows]
        for state, limit in zip(states, limits, strict=True):
            if limit <= 0:
                state.finish = "length"
        budget = max(limits)
        if budget <= 0:
            return [s.completion("length", config.logprobs) for s in states]

        eos = torch.tensor(sorted(self.eos_token_ids) or [-1], device=self.device)
        with torch.inference_mode():
            out = self._forward(input_ids, mask, positions, keep=1)
            for step in range(budget):
                logits = out.logits[:, -1, :].float()  # (B, V)
                logp = torch.log_softmax(logits, dim=-1)
                token = _choose(logits, config.temperature, config.top_p, generator)  # (B,)
                token_logp = logp.gather(1, token[:, None])[:, 0]
                is_eos = torch.isin(token, eos)
                for i, state in enumerate(states):
                    if state.finish is None:
                        self._advance(
                            state, int(token[i]), float(token_logp[i]), bool(is_eos[i]), config.stop
                        )
                        if state.finish is None and step + 1 >= limits[i]:
                            state.finish = "length"
                if all(s.finish is not None for s in states):
                    break
                token = torch.where(
                    torch.tensor([s.finish is None for s in states], device=self.device),
                    token,
                    self.pad_token_id,
                )
                mask = torch.cat(
                    [mask, torch.ones((batch, 1), dtype=mask.dtype, device=self.device)], dim=1
                )
                positions = positions[:, -1:] + 1
                out = self._forward(
                    token[:, None], mask, positions, past=out.past_key_values, keep=1
                )
        return [s.completion(s.finish or "length", config.logprobs) for s in states]

    def _advance(
        self, state: _RowState, token: int, logprob: float, is_eos: bool, stop: tuple[str, ...]
    ) -> None:
        if is_eos:
            state.finish = "eos"
            return
        state.ids.append(token)
        text = self.tokenizer.decode(state.ids, skip_special_tokens=True)
        # A token's piece is what it adds to the decoded text (multi-byte characters may make
        # the pieces differ slightly from a token-by-token decode; the text is exact).
        state.pieces.append(text[len(state.text) :])
        state.logprobs.append(logprob)
        previous = len(state.text)
        state.text = text
        hit = _first_stop(text, stop, previous)
        if hit is not None:
            cut = hit  # end of the stop string: drop what the last token added beyond it
            state.text = text[:cut]
            extra = len(text) - cut
            if extra:
                state.pieces[-1] = state.pieces[-1][: max(0, len(state.pieces[-1]) - extra)]
            state.finish = "stop"

    # -- scoring ---------------------------------------------------------------------------
    def score(self, prompt: Prompt, continuations: list[str]) -> list[float]:
        """Sum of log-probs of each continuation's tokens after the prompt (one batched
        forward pass; the continuation is tokenized on its own)."""
        import torch

        if not continuations:
            return []
        conts = [list(self.tokenizer.encode(c, add_special_tokens=False)) for c in continuations]
        if any(not c for c in conts):
            raise ValueError("cannot score an empty continuation")
        longest = max(len(c) for c in conts)
        context = self.encode_prompt(prompt, reserve=longest)
        rows = [context + c for c in conts]
        width = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for i, ids in enumerate(rows):  # left padding: continuations end at the last column
            input_ids[i, width - len(ids) :] = torch.tensor(ids)
            mask[i, width - len(ids) :] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        with torch.inference_mode():
            out = self._forward(input_ids, mask, positions, keep=longest + 1)
            # (B, longest, V): the positions that predict each row's continuation
            logits = out.logits[:, -(longest + 1) : -1, :].float()
            logp = torch.log_softmax(logits, dim=-1)
        scores = []
        for i, cont in enumerate(conts):
            targets = torch.tensor(cont, device=self.device)
            row = logp[i, longest - len(cont) :, :]
            scores.append(float(row.gather(1, targets[:, None]).sum()))
        self.usage.calls += 1
        self.usage.prompt_tokens += sum(len(r) for r in rows)
        return scores


_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


def native_messages(prompt: list[Message]) -> list[Message]:
    """A chat as a tool-capable chat template expects it: text content, tool replies kept in
    the ``tool`` role, and assistant turns whose content is a ``{"tool_calls": [...]}`` action
    (what the env records for a native call) as ``content=""`` plus ``tool_calls``."""
    out = []
    for m in prompt:
        content = message_text(m.get("content"))
        calls = _action_tool_calls(content) if m.get("role") == "assistant" else None
        if calls:
            out.append({"role": "assistant", "content": "", "tool_calls": calls})
        else:
            out.append({**m, "content": content})
    return out


def _action_tool_calls(content: str) -> list[dict[str, Any]] | None:
    """The OpenAI-form calls of a ``{"tool_calls": [...]}`` action string, else None."""
    text = content.strip()
    if not (text.startswith("{") and '"tool_calls"' in text):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    calls = data.get("tool_calls") if isinstance(data, dict) else None
    if not isinstance(calls, list) or not calls:
        return None
    out = []
    for call in calls:
        fn = call.get("function", call) if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            return None
        arguments = fn.get("arguments", {})
        out.append({"type": "function", "function": {"name": fn["name"], "arguments": arguments}})
    return out


def parse_tool_calls(text: str, tokenizer: Any = None) -> tuple[dict[str, Any], ...]:
    """The native tool calls in a completion's text, OpenAI form
    ``{"type": "function", "function": {"name", "arguments": dict}}``; ``()`` when there is
    none or the text is not well formed (never raises).

    A tokenizer with a response schema (``tokenizer.parse_response``, transformers >= 5) is
    asked first; otherwise Hermes/Qwen ``<tool_call>`` JSON blocks are read.
    """
    if "<tool_call>" not in text and not _has_response_schema(tokenizer):
        return ()
    parsed = None
    if _has_response_schema(tokenizer):
        try:
            parsed = tokenizer.parse_response(text).get("tool_calls")
        except Exception:  # noqa: BLE001 - a policy's text must never crash a rollout
            parsed = None
    if parsed is None:
        parsed = []
        for block in _TOOL_CALL.findall(text):
            try:
                parsed.append(json.loads(block))
            except ValueError:
                return ()
    calls = []
    for call in parsed if isinstance(parsed, list) else []:
        fn = call.get("function", call) if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            return ()
        arguments = fn.get("arguments", {})
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                return ()
        if not isinstance(arguments, dict):
            return ()
        calls.append({"type": "function", "function": {"name": fn["name"], "arguments": arguments}})
    return tuple(calls)


def _has_response_schema(tokenizer: Any) -> bool:
    return bool(
        getattr(tokenizer, "response_template", None) or getattr(tokenizer, "response_schema", None)
    ) and callable(getattr(tokenizer, "parse_response", None))


class _RowState:
    """Decoding progress of one row."""

    __slots__ = ("ids", "pieces", "logprobs", "text", "finish")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.pieces: list[str] = []
        self.logprobs: list[float] = []
        self.text = ""
        self.finish: str | None = None

    def completion(self, finish: str, with_logprobs: bool) -> Completion:
        return Completion(
            text=self.text,
            tokens=tuple(self.pieces),
            token_logprobs=tuple(self.logprobs) if with_logprobs else None,
            finish_reason=finish,
        )


def _first_stop(text: str, stop: tuple[str, ...], previous: int) -> int | None:
    """End index of the earliest stop string that ends in the text added after ``previous``."""
    best = None
    for s in stop:
        if not s:
            continue
        at = text.find(s, max(0, previous - len(s) + 1))
        if at >= 0 and (best is None or at + len(s) < best):
            best = at + len(s)
    return best


def _choose(logits, temperature: float, top_p: float, generator):
    """Greedy (temperature 0) or nucleus sampling; ``logits`` is (B, V)."""
    import torch

    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        # Drop a token when the mass before it already reaches top_p (the top token always stays).
        drop = sorted_probs.cumsum(-1) - sorted_probs >= top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for value in (
        getattr(getattr(model, "generation_config", None), "eos_token_id", None),
        getattr(tokenizer, "eos_token_id", None),
    ):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list | tuple):
            ids.update(int(v) for v in value)
    return ids


def _load_pretrained(path: str, tokenizer: Any, dtype: Any):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(path).expanduser()
    source = str(local) if local.exists() else path
    import transformers

    # transformers renamed ``torch_dtype`` to ``dtype`` in 4.56.
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_arg = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source, local_files_only=True, **{dtype_arg: dtype or "auto"}
        )
        if tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    except OSError as exc:
        raise FileNotFoundError(
            f"no local model at {path!r} ({exc.__class__.__name__}). Give a directory with a "
            "transformers checkpoint or a model id already in the Hugging Face cache; nothing is "
            "downloaded. Built-ins: load_model('smollm2'), load_model('tiny:DIR')."
        ) from exc
    if getattr(model, "dtype", None) is not None and str(model.dtype) in (
        "torch.float16",
        "torch.bfloat16",
    ):
        import torch

        if not torch.cuda.is_available() and dtype is None:
            model = model.float()  # half precision is slow (or unsupported) on CPU
    return model, tokenizer
