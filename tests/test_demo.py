"""The demo (``reasongym demo`` / ``make demo``) on a tiny in-process policy instead of SmolLM2."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from reasongym.agents.models.base import Completion, GenerationConfig, LanguageModel
from reasongym.demo import DemoConfig, SharedSamples, run_demo


class NoisySums(LanguageModel):
    """Answers "Compute a + b." in prose: greedy is right on even sums only; each sample is
    right with probability ``p_right`` (else off by one), so search has something to find."""

    def __init__(self, p_right: float = 0.5):
        super().__init__()
        self.p_right = p_right
        self.calls = 0

    def generate(self, prompts, config: GenerationConfig):
        self.calls += 1
        rng = np.random.default_rng(config.seed)
        out = []
        for prompt in prompts:
            text = (
                prompt if isinstance(prompt, str) else " ".join(str(m["content"]) for m in prompt)
            )
            a, op, b = re.findall(r"Compute (-?\d+) ([-+*]) (-?\d+)", text)[-1]
            gold = eval(f"{a}{op}{b}")  # noqa: S307 - our own regex-checked digits
            row = []
            for _ in range(config.n):
                right = gold % 2 == 0 if config.temperature == 0 else rng.random() < self.p_right
                answer = gold if right else gold + 1
                words = f"I add them. The answer is {answer}."
                row.append(
                    Completion(
                        text=words,
                        tokens=tuple(words.split()),
                        token_logprobs=(-0.1,) * len(words.split()),
                    )
                )
            out.append(row)
        return out


def test_demo_table_json_png_and_transcript(tmp_path):
    pytest.importorskip("matplotlib")
    lm = NoisySums()
    config = DemoConfig(model="noisy", tasks=12, n=8, out_dir=tmp_path / "demo")
    report = run_demo(config, policy=lm)

    greedy, verifier, majority = report.methods
    assert [m.name for m in report.methods] == [
        "greedy",
        "best-of-8, verifier (train)",
        "best-of-8, majority (eval)",
    ]
    # one answer per task, graded by the env: greedy gets exactly the even sums
    assert greedy.solved == sum(greedy.per_task) and 0 < greedy.success < 1
    assert verifier.success > greedy.success  # 8 samples at p=0.5: the verifier finds a right one
    assert verifier.verifier_calls == 8 * config.tasks  # it graded every sample while choosing
    assert greedy.verifier_calls == 0 and majority.verifier_calls == 0  # internal: no peeking
    assert verifier.tokens == 8 * greedy.tokens  # the same completions, counted for each sample
    assert greedy.tokens_per_solved == pytest.approx(greedy.tokens / greedy.solved)

    saved = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert [m["success"] for m in saved["methods"]] == [m.success for m in report.methods]
    assert (tmp_path / "demo" / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    t = report.transcript
    assert t and not greedy.per_task[t["task_index"]] and verifier.per_task[t["task_index"]]
    assert len(t["samples"]) == 8 and t["samples"][t["chosen"]["verifier"]]["success"]
    text = report.format()
    assert "greedy" in text and "results.json" in text and "results.png" in text
    assert "Compute" in text and t["greedy"]["action"] in text


def test_both_searches_see_the_same_samples():
    lm = NoisySums()
    shared = SharedSamples(lm)
    config = GenerationConfig(n=4, temperature=1.0, seed=3)
    prompt = [{"role": "user", "content": "Compute 2 + 3."}]
    first = shared.generate([prompt], config)
    assert shared.generate([prompt], config) == first and lm.calls == 1
    shared.generate([prompt], GenerationConfig(n=4, temperature=1.0, seed=4))
    assert lm.calls == 2


def test_demo_cli_prints_the_report(tmp_path, monkeypatch, capsys):
    from reasongym import cli

    monkeypatch.setattr("reasongym.agents.models.load_model", lambda spec, **kw: NoisySums())
    assert (
        cli.main(["demo", "--model", "noisy", "--tasks", "4", "--n", "2", "--out", str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "best-of-2, verifier (train)" in out and str(tmp_path / "results.json") in out
    assert cli.main(["demo", "--tasks", "0"]) == 2
