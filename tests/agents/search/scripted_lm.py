"""A scripted LanguageModel for search tests: chosen completions with chosen log-probs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from reasongym.agents.models.base import (
    Completion,
    GenerationConfig,
    LanguageModel,
    Message,
    Prompt,
)

Candidates = list[tuple[str, float]]


class ScriptedLM(LanguageModel):
    """``respond(chat)`` gives the candidate completions ``[(text, logprob), ...]`` for a chat.

    Sampling (temperature > 0) returns the candidates in order, cycling, ``n`` of them; greedy
    returns the most likely one ``n`` times. Each completion has one token per word, the
    log-prob split evenly. ``judge(chat) -> P(Yes)`` answers self-evaluation through ``score``.
    """

    def __init__(
        self,
        respond: Callable[[list[Message]], Candidates],
        judge: Callable[[list[Message]], float] | None = None,
    ):
        super().__init__()
        self.respond = respond
        self.judge = judge
        self.prompts: list[Prompt] = []
        self.score_prompts: list[Prompt] = []

    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            self.prompts.append(prompt)
            candidates = self.respond(prompt)
            if config.temperature <= 0:
                picks = [max(candidates, key=lambda c: c[1])] * config.n
            else:
                picks = [candidates[i % len(candidates)] for i in range(config.n)]
            out.append([_completion(text, logprob) for text, logprob in picks])
        self.usage.calls += 1
        self.usage.generated_tokens += sum(c.num_tokens for row in out for c in row)
        return out

    def score(self, prompt: Prompt, continuations: list[str]) -> list[float]:
        if self.judge is None:
            raise NotImplementedError("no judge scripted")
        self.score_prompts.append(prompt)
        p = min(max(self.judge(prompt), 1e-6), 1 - 1e-6)
        table = {"Yes": math.log(p), "No": math.log(1 - p)}
        return [table[c] for c in continuations]


def _completion(text: str, logprob: float) -> Completion:
    tokens = tuple(text.split()) or (text,)
    return Completion(
        text=text, tokens=tokens, token_logprobs=tuple(logprob / len(tokens) for _ in tokens)
    )


def question(chat: list[Message]) -> str:
    """The arithmetic expression of the env prompt in a chat."""
    return re.search(r"Compute (.+)\.", chat[0]["content"]).group(1)


def gold(chat: list[Message]) -> int:
    return int(eval(question(chat)))  # test-only: the scripted "model" knows the answer


def last_assistant(chat: list[Message]) -> str:
    return next(m["content"] for m in reversed(chat) if m["role"] == "assistant")


def tool_output(chat: list[Message]) -> str | None:
    """The tool output the chat ends with (as a tool turn or a "Tool output:" user turn)."""
    last = chat[-1]
    if last["role"] == "tool":
        return last["content"]
    if last["role"] == "user" and last["content"].startswith("Tool output:\n"):
        return last["content"].removeprefix("Tool output:\n")
    return None


def play(env, agent, seed: int):
    """One episode as ``reasongym.evaluation.run_episodes`` plays it; returns (success, steps)."""
    obs, info = env.reset(seed=seed)
    agent.reset(obs, info)
    steps, done = 0, False
    while not done:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        steps += 1
        done = terminated or truncated
    return bool(info["is_success"]), steps
