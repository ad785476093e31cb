"""``reasongym run --agent bon|beam|mcts|revision`` end to end, with a policy served on loopback."""

from __future__ import annotations

import json
import re

import pytest

from reasongym.agents import AGENT_FACTORIES
from reasongym.agents.models import LanguageModel
from reasongym.agents.models.base import Completion
from reasongym.agents.models.serve import serve_in_thread
from reasongym.cli import main
from reasongym.envs.tools.calculator import evaluate


class Guesser(LanguageModel):
    """Answers "Compute EXPR." with the right value on every ``period``-th sample and the value
    plus one otherwise, so a search with the verifier can find the answer and greedy cannot."""

    def __init__(self, period: int = 3):
        super().__init__()
        self.period, self.calls = period, 0

    def generate(self, prompts, config):
        out = []
        for prompt in prompts:
            text = (
                prompt if isinstance(prompt, str) else " ".join(str(m["content"]) for m in prompt)
            )
            problems = re.findall(r"Compute ([\d +*/()-]+)\.", text)
            total = int(evaluate(problems[-1])) if problems else 0
            row = []
            for _ in range(config.n):
                self.calls += 1
                guess = total if self.calls % self.period == 0 else total + 1
                answer = f"<answer>{guess}</answer>"
                tokens = tuple(answer)
                row.append(Completion(answer, tokens, tuple(-0.1 for _ in tokens), "stop"))
                self.usage.generated_tokens += len(tokens)
            out.append(row)
        return out


@pytest.fixture
def server():
    with serve_in_thread(Guesser(), model_name="guesser") as running:
        yield running


def _run(server, tmp_path, *extra: str) -> dict:
    out = tmp_path / "run.json"
    argv = ["run", "reasongym/Arithmetic-v0", "--base-url", server.base_url, "--model", "guesser"]
    argv += ["--episodes", "3", "--seed", "0", "--quiet", "--json", str(out), *extra]
    assert main(argv) == 0
    return json.loads(out.read_text())


def test_every_search_agent_is_registered():
    assert {"bon", "beam", "mcts", "revision"} <= set(AGENT_FACTORIES)


def test_best_of_n_with_the_verifier_records_budgets_and_exports(server, tmp_path, capsys):
    sft, dpo = tmp_path / "sft.jsonl", tmp_path / "dpo.jsonl"
    data = _run(
        server,
        tmp_path,
        "--agent",
        "bon",
        "--n",
        "4",
        "--guidance",
        "verifier",
        "--search-mode",
        "train",
        "--export-sft",
        str(sft),
        "--export-dpo",
        str(dpo),
    )
    stats = data["agent_stats"]
    # 4 samples per task, one in three right: the verifier finds it every time
    assert data["success_rate"] == 1.0
    assert stats["verifier_calls"] == 3 * 4
    assert stats["tokens_generated"] > 0 and data["env_steps"] == 3
    printed = capsys.readouterr().out
    sft_lines = sft.read_text().splitlines()
    dpo_lines = dpo.read_text().splitlines()
    assert f"wrote {len(sft_lines)} sft records" in printed and len(sft_lines) == 3
    assert f"wrote {len(dpo_lines)} dpo records" in printed and len(dpo_lines) >= 3
    pair = json.loads(dpo_lines[0])
    assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]


def test_eval_mode_never_calls_the_verifier_while_choosing(server, tmp_path):
    data = _run(server, tmp_path, "--agent", "bon", "--n", "4", "--guidance", "logprob")
    stats = data["agent_stats"]
    assert stats["verifier_calls"] == 0
    # every sample has the same confidence, so the choice is not informed by correctness
    assert data["success_rate"] < 1.0


def test_verifier_guidance_is_refused_in_eval_mode(server, tmp_path):
    with pytest.raises(SystemExit, match="train"):  # a message, not a traceback
        _run(server, tmp_path, "--agent", "bon", "--guidance", "verifier", "--search-mode", "eval")


@pytest.mark.parametrize(
    "options",
    [
        ("--agent", "beam", "--beam-width", "3", "--expand", "3"),
        ("--agent", "mcts", "--simulations", "6", "--expand", "3", "--c-puct", "1.0"),
    ],
)
def test_tree_searches_with_external_guidance_solve_every_task(server, tmp_path, options):
    data = _run(server, tmp_path, *options, "--guidance", "verifier", "--search-mode", "train")
    assert data["success_rate"] == 1.0
    assert data["agent_stats"]["verifier_calls"] > 0


def test_revision_reads_feedback_and_tries_again(server, tmp_path):
    data = _run(
        server,
        tmp_path,
        "--agent",
        "revision",
        "--max-revisions",
        "3",
        "--env-kwargs",
        '{"max_attempts": 4}',
    )
    # wrong twice, right on the third try: feedback-driven revision solves every task
    assert data["success_rate"] == 1.0
    assert data["mean_turns"] > 1


def test_exports_with_ray_are_refused_with_the_fix(tmp_path):
    argv = ["run", "reasongym/Arithmetic-v0", "--agent", "bon", "--workers", "2"]
    with pytest.raises(SystemExit, match="drop --ray"):
        main([*argv, "--export-sft", str(tmp_path / "x.jsonl")])
