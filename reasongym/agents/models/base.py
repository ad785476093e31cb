"""The language-model interface every LLM backend implements.

A prompt is either a chat (a list of ``{"role", "content"}`` messages, where ``content`` may be
a string or, for multimodal envs, a list of OpenAI-style parts
``[{"type": "text", "text": ...}, {"type": "image_url", "image_url": {"url": "data:..."}}]``)
or a plain string (sent as-is, no chat template).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]
Prompt = list[Message] | str


DEFAULT_MAX_TOKENS = 256
"""New tokens per completion (one action) unless a caller sets ``max_tokens``: the one default
of the LLM agent, the search agents and the CLI's ``--max-tokens``."""


@dataclass(frozen=True)
class GenerationConfig:
    """Sampling settings for one ``generate`` call.

    Attributes:
        n: completions per prompt.
        temperature: 0 means greedy (then n > 1 gives identical completions).
        top_p: nucleus sampling mass.
        max_tokens: new tokens per completion.
        stop: strings that end a completion; the stop string itself is kept at the end of
            the text (so a ``</tool>`` stop leaves a parseable action).
        seed: makes sampling reproducible where the backend supports it.
        logprobs: return per-token log-probabilities.
        tools: OpenAI ``tools=[...]`` entries offered for native tool calls (backends that
            cannot call tools natively ignore them; the model may still write a call as text).
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    stop: tuple[str, ...] = ()
    seed: int | None = None
    logprobs: bool = True
    tools: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Completion:
    """One generated continuation.

    Attributes:
        text: the generated text (with the stop string, if one was hit).
        tokens: the generated tokens as strings (may be empty if the backend does not say).
        token_logprobs: log-probability of each generated token under the sampling model
            (before temperature), or None when the backend gives none.
        finish_reason: "stop", "length", "eos" or "tool_calls".
        tool_calls: native tool calls, OpenAI form ``{"type": "function", "function":
            {"name", "arguments"}}`` (empty unless the backend called a tool).
    """

    text: str
    tokens: tuple[str, ...] = ()
    token_logprobs: tuple[float, ...] | None = None
    finish_reason: str = "stop"
    tool_calls: tuple[dict[str, Any], ...] = ()

    @property
    def num_tokens(self) -> int:
        return len(self.tokens) if self.tokens else len(self.token_logprobs or ())

    @property
    def logprob(self) -> float | None:
        """Sum of token log-probs (None when unknown)."""
        return None if self.token_logprobs is None else float(sum(self.token_logprobs))


@dataclass
class UsageCounter:
    """Running totals a backend keeps (reported by ``reasongym run --json``)."""

    calls: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class LanguageModel(ABC):
    """Generates completions for prompts; see the module docstring for prompt forms."""

    def __init__(self) -> None:
        self.usage = UsageCounter()

    @abstractmethod
    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Completion]]:
        """Return ``config.n`` completions for each prompt: ``[len(prompts)][n]``."""

    def score(self, prompt: Prompt, continuations: list[str]) -> list[float]:
        """Log-probability of each continuation given the prompt (for self-evaluation:
        e.g. the log-prob of " Yes"). Backends that cannot score raise NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} cannot score continuations")

    def close(self) -> None:
        """Release resources (processes, HTTP sessions)."""
