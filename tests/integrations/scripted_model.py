"""A deterministic two-turn policy served over the OpenAI API for the bridge tests.

Turn 1 calls the calculator on the problem's expression; turn 2 answers with the tool's
output, except that it adds one when the result is even (so some tasks fail and rewards
differ between tasks)."""

from __future__ import annotations

import re

from reasongym.agents.models import LanguageModel
from reasongym.agents.models.base import Completion


class CalculatorThenAnswer(LanguageModel):
    def generate(self, prompts, config):
        out = []
        for prompt in prompts:
            messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
            last = str(messages[-1]["content"]).strip()
            tail = last.splitlines()[-1].strip() if last else ""
            if re.fullmatch(r"-?\d+", tail):
                value = int(tail)
                text = f"<answer>{value + 1 if value % 2 == 0 else value}</answer>"
            else:
                found = re.findall(r"Compute ([\d +*/()-]+)\.", last)
                text = f'<tool name="calculator">{found[-1] if found else "0"}</tool>'
            tokens = tuple(text)
            out.append(
                [
                    Completion(text, tokens, tuple(-0.1 for _ in tokens), "stop")
                    for _ in range(config.n)
                ]
            )
            self.usage.generated_tokens += len(tokens) * config.n
        return out
