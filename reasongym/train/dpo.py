"""DPO on preference pairs exported from search trees (verified vs failed siblings).

    reasongym train dpo --config configs/runs/arith-dpo.yaml

Best-of-N in train mode searches ``search_tasks`` training tasks; :func:`preference_pairs` of
:mod:`reasongym.agents.search.export` turns each tree into step-level pairs (an action whose
subtree holds a verified success against a sibling whose subtree holds only failures), written
to ``DIR/pairs.jsonl`` in TRL's conversational format. The policy is then trained with the DPO
loss ``-log sigmoid(beta * ((log pi(c) - log ref(c)) - (log pi(r) - log ref(r))))`` against the
frozen starting policy, plus an optional NLL term on the chosen action (``nll_weight``, as in
RPO), which keeps a tiny model from lowering both likelihoods at once (measured on the tiny
Arithmetic policy: plain DPO took greedy pass@1 from 0.535 to 0.0 in 40 steps; with
``nll_weight: 1`` it rose).

Why an in-repo loss rather than TRL's ``DPOTrainer``: the trainer tokenizes through a Hugging
Face ``processing_class`` (chat template, padding side, special tokens), which the char
tokenizer of the tiny policy does not implement; the loss itself is the few lines below, on
the same token batches as the other loops. The pairs file is TRL-ready for real models.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from reasongym.envs.base import EnvConfig as ConfigModel
from reasongym.train.checkpoints import end_step, finish_run, optimizer_step, resume_optimizer_loop
from reasongym.train.expert_iteration import TrainResult
from reasongym.train.policy import Policy, load_policy
from reasongym.train.rollouts import Turn, best_of_n_trees
from reasongym.train.run_config import (
    PolicyConfig,
    TaskConfig,
    config_error,
    prepare_run_dir,
    seed_everything,
)
from reasongym.train.run_log import RunLog, progress, set_threads
from reasongym.train.tasks import TaskSplit, make_env
from reasongym.train.tokens import encode_turn, target_logprobs


class DPOConfig(ConfigModel):
    """One DPO run (unknown YAML keys are rejected).

    Attributes:
        out: run folder.
        policy: the starting policy (also the frozen reference).
        tasks: env, held-out split, turn and token limits.
        pairs_file: train on these pairs (JSONL in the format of ``preference_pairs``, e.g.
            from ``reasongym run --agent bon --search-mode train --export-dpo FILE``) instead
            of searching; relative paths are relative to the working directory.
        search_tasks: training tasks searched (best-of-N, verifier) to make pairs.
        n: samples per task.
        temperature: sampling temperature of the search.
        max_pairs_per_node: pairs kept per branching node.
        steps: optimizer steps.
        batch_size: pairs per step.
        beta: DPO temperature.
        nll_weight: weight of the NLL of the chosen action (0: plain DPO).
        learning_rate: AdamW learning rate (constant).
        eval_every: steps between held-out evaluations (and at the end).
        checkpoint_every: steps between checkpoints (and at the end).
        seed: task sampling, search sampling and batch order.
        threads: torch CPU threads (None: leave as is).
        progress: show progress bars.
    """

    out: Path = Path("runs/dpo")
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    tasks: TaskConfig = Field(default_factory=TaskConfig)
    pairs_file: Path | None = None
    search_tasks: int = 512
    n: int = 8
    temperature: float = 1.0
    max_pairs_per_node: int = 4
    steps: int = 60
    batch_size: int = 32
    beta: float = 0.1
    nll_weight: float = 0.0
    learning_rate: float = 5e-4
    eval_every: int = 20
    checkpoint_every: int = 20
    seed: int = 0
    threads: int | None = None
    progress: bool = True

    @model_validator(mode="after")
    def _check(self) -> DPOConfig:
        if self.n < 2 or self.search_tasks < 1 or self.batch_size < 1 or self.eval_every < 1:
            raise ValueError(
                "need n >= 2 (pairs need siblings), search_tasks >= 1, batch_size >= 1, "
                "eval_every >= 1"
            )
        return self


def make_pairs(policy: Policy, env: Any, split: TaskSplit, config: DPOConfig):
    """Search the training tasks and export preference pairs (list of TRL-style records)."""
    from reasongym.agents.search import preference_pairs

    tasks = split.sample_train(random.Random(config.seed), config.search_tasks)
    trees = best_of_n_trees(
        policy.lm,
        env,
        tasks,
        config.n,
        config.temperature,
        config.tasks,
        seed=config.seed,
        show_progress=config.progress,
    )
    return preference_pairs(trees, max_pairs_per_node=config.max_pairs_per_node)


def dpo_loss(policy: Policy, ref: Any, batch: list[tuple[Any, Any]], config: DPOConfig):
    """``(loss, preference accuracy, mean margin)`` of a batch of encoded (chosen, rejected)."""
    import torch
    import torch.nn.functional as F

    pad = policy.lm.pad_token_id
    rows = [c for c, _ in batch] + [r for _, r in batch]
    logp, count = target_logprobs(policy.model, rows, pad)  # (2B,)
    with torch.no_grad():
        ref_logp, _ = target_logprobs(ref, rows, pad)
    b = len(batch)
    margin = (logp[:b] - ref_logp[:b]) - (logp[b:] - ref_logp[b:])  # (B,)
    loss = -F.logsigmoid(config.beta * margin).mean()
    if config.nll_weight > 0:
        loss = loss + config.nll_weight * (-logp[:b] / count[:b].clamp(min=1)).mean()
    margin = margin.detach()
    return loss, float((margin > 0).float().mean()), float(margin.mean())


def train(config: DPOConfig) -> TrainResult:
    """Run (or resume) DPO; see the module docstring."""

    from reasongym.agents.search import write_jsonl

    set_threads(config.threads)
    out = prepare_run_dir(config)
    log = RunLog(out, "step", "DPO")
    env = make_env(config.tasks)
    split = TaskSplit.build(config.tasks, env)
    start_policy = load_policy(config.policy)
    ref = start_policy.frozen_copy()

    pairs_path = out / "pairs.jsonl"
    if config.pairs_file is not None:
        pairs_path = Path(config.pairs_file).expanduser()
        if not pairs_path.is_file():
            raise config_error(f"pairs_file {pairs_path} does not exist", key="pairs_file")
    if pairs_path.is_file():
        pairs = [json.loads(line) for line in pairs_path.read_text().splitlines() if line]
    else:
        seed_everything(config.seed)
        pairs = make_pairs(start_policy, env, split, config)
        write_jsonl(pairs, pairs_path)
    encoded = []
    for pair in pairs:
        prompt = pair["prompt"]
        chosen = Turn(prompt, pair["chosen"][0]["content"])
        rejected = Turn(prompt, pair["rejected"][0]["content"])
        encoded.append(
            (
                encode_turn(start_policy.lm, chosen, add_eos=False),
                encode_turn(start_policy.lm, rejected, add_eos=False),
            )
        )

    policy, optimizer, first = resume_optimizer_loop(
        out, start_policy, config, log, split, pairs=len(pairs)
    )
    with progress(config.steps, "dpo", config.progress) as bar:
        bar.update(first - 1)
        for step in range(first, config.steps + 1 if encoded else first):
            start = time.perf_counter()
            step_seed = config.seed * 1_000_003 + step
            seed_everything(step_seed)
            rng = random.Random(step_seed)
            batch = [encoded[rng.randrange(len(encoded))] for _ in range(config.batch_size)]
            policy.model.train()
            loss, accuracy, margin = dpo_loss(policy, ref, batch, config)
            optimizer_step(loss, policy, optimizer)
            policy.model.eval()
            row = {
                "step": step,
                "loss": loss.item(),
                "preference_accuracy": accuracy,
                "margin": margin,
                "seconds": time.perf_counter() - start,
            }
            end_step(step, row, config, out, log, split, policy, optimizer)
            bar.update(1)

    summary = finish_run(
        out, log, env, "dpo", pairs=len(pairs), optimizer_steps=config.steps if encoded else 0
    )
    return TrainResult(out, log.rows, summary)
