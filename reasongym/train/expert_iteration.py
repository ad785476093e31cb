"""Expert iteration: search with the verifier, keep what it verified, fine-tune, repeat.

    reasongym train expert-iteration --config configs/runs/arith-expert-iteration.yaml

Each round: best-of-N (train mode, verifier guidance) on fresh training tasks; the verified
trajectories become an SFT set (``sft_records`` of :mod:`reasongym.agents.search.export`);
the policy is fine-tuned on it for ``steps_per_round`` optimizer steps (full fine-tuning);
greedy pass@1 is measured on the held-out tasks. ``keep: all`` is the control: the same loop,
but the SFT set is one *unfiltered* sampled trajectory per task (self-distillation), so any gap
between the two runs is what the verifier's filter bought.

From Python::

    from reasongym.train.expert_iteration import ExpertIterationConfig, train
    result = train(ExpertIterationConfig(rounds=3, out="runs/ei"))
    print(result.rows[-1]["pass1"])
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from reasongym.envs.base import EnvConfig as ConfigModel
from reasongym.train.checkpoints import finish_run, latest_checkpoint, save_checkpoint
from reasongym.train.policy import Policy, load_policy
from reasongym.train.rollouts import Turn, best_of_n_trees, chat_to_turns, evaluate
from reasongym.train.run_config import (
    PolicyConfig,
    TaskConfig,
    prepare_run_dir,
    seed_everything,
)
from reasongym.train.run_log import RunLog, progress, set_threads
from reasongym.train.tasks import TaskSplit, make_env
from reasongym.train.tokens import encode_turn, sft_loss


class ExpertIterationConfig(ConfigModel):
    """One expert-iteration run (unknown YAML keys are rejected).

    Attributes:
        out: run folder (config, metrics, TensorBoard, curve, checkpoints).
        policy: the starting policy.
        tasks: env, held-out split, turn and token limits.
        rounds: search + fine-tune rounds.
        tasks_per_round: training tasks searched per round.
        n: samples per task (best-of-N).
        temperature: sampling temperature of the search (diversity is what N buys).
        keep: ``verified`` (expert iteration) or ``all`` (the control: one unfiltered sample
            per task, whatever its verdict).
        steps_per_round: optimizer steps of fine-tuning per round (the same for the control).
        batch_size: SFT examples (assistant turns) per step.
        learning_rate: AdamW learning rate (constant after warmup; a fresh optimizer per round).
        warmup_steps: linear warmup at the start of each round.
        schedule: ``constant`` after warmup, or ``linear`` decay to 0 at the round's end
            (the round ends on a settled model rather than a noisy last step).
        weight_decay: AdamW weight decay.
        seed: task sampling, search sampling and data order (each round derives its own).
        threads: torch CPU threads (None: leave as is).
        progress: show progress bars.
    """

    out: Path = Path("runs/expert-iteration")
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    tasks: TaskConfig = Field(default_factory=TaskConfig)
    rounds: int = 3
    tasks_per_round: int = 256
    n: int = 8
    temperature: float = 1.0
    keep: Literal["verified", "all"] = "verified"
    steps_per_round: int = 60
    batch_size: int = 32
    learning_rate: float = 5e-4
    warmup_steps: int = 10
    schedule: Literal["constant", "linear"] = "constant"
    weight_decay: float = 0.0
    seed: int = 0
    threads: int | None = None
    progress: bool = True

    @model_validator(mode="after")
    def _check(self) -> ExpertIterationConfig:
        if self.keep not in ("verified", "all"):
            raise ValueError(f"keep must be 'verified' or 'all', got {self.keep!r}")
        if self.schedule not in ("constant", "linear"):
            raise ValueError(f"schedule must be 'constant' or 'linear', got {self.schedule!r}")
        if self.rounds < 0 or self.n < 1 or self.tasks_per_round < 1 or self.batch_size < 1:
            raise ValueError("need rounds >= 0, n >= 1, tasks_per_round >= 1 and batch_size >= 1")
        return self


@dataclass
class TrainResult:
    """What a run measured: ``rows`` are the logged points (one per round for expert
    iteration, with ``pass1`` and ``pass1_unseen_questions`` where evaluated)."""

    out: Path
    rows: list[dict[str, Any]]
    summary: dict[str, Any]


def sft_set(trees: list[Any], keep: str, rng: random.Random) -> list[Turn]:
    """The fine-tuning turns of one round: verified trajectories, or (control) one sampled
    trajectory per tree regardless of its verdict."""
    from reasongym.agents.search import sft_records

    if keep == "verified":
        records = sft_records(trees, all_verified=True)
        chats = [r["messages"] for r in records]
    else:
        chats = []
        for tree in trees:
            ends = [n for n in tree.leaves() if n.parent is not None]
            if ends:
                chats.append(tree.messages(rng.choice(ends).id))
    return [turn for chat in chats for turn in chat_to_turns(chat)]


def fine_tune(
    policy: Policy,
    turns: list[Turn],
    config: ExpertIterationConfig,
    rng: random.Random,
) -> tuple[float, int]:
    """``steps_per_round`` AdamW steps on ``turns``; returns (mean loss, target tokens)."""
    import torch

    if not turns:
        return float("nan"), 0
    lm, model = policy.lm, policy.model
    encoded = [encode_turn(lm, t, add_eos=True) for t in turns]
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    total = config.steps_per_round

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / max(1, config.warmup_steps))
        return warm * (max(0.0, 1 - step / total) if config.schedule == "linear" else 1.0)

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    order: list[int] = []
    losses, tokens = [], 0
    model.train()
    with progress(config.steps_per_round, "fine-tune", config.progress) as bar:
        for _ in range(config.steps_per_round):
            batch = []
            while len(batch) < config.batch_size:  # epochs of shuffled data
                if not order:
                    order = list(range(len(encoded)))
                    rng.shuffle(order)
                batch.append(encoded[order.pop()])
            loss = sft_loss(model, batch, lm.pad_token_id)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            tokens += sum(len(t) for _, t in batch)
            bar.update(1)
    model.eval()
    return sum(losses) / len(losses), tokens


def train(config: ExpertIterationConfig) -> TrainResult:
    """Run (or resume) expert iteration; see the module docstring."""
    set_threads(config.threads)
    out = prepare_run_dir(config)
    log = RunLog(out, "round", f"expert iteration (keep={config.keep})")
    env = make_env(config.tasks)
    split = TaskSplit.build(config.tasks, env)

    resumed = latest_checkpoint(out)
    if resumed is None:
        policy = load_policy(config.policy)
        log.truncate_after(-1)
        start = time.perf_counter()
        metrics = evaluate(policy.lm, split, tool_calls=policy.tool_calls)
        log.log(
            {
                "round": 0,
                **metrics,
                "tasks_searched": 0,
                "search_solved": float("nan"),
                "data_kept": 0,
                "search_tokens": 0,
                "train_tokens": 0,
                "loss": float("nan"),
                "seconds": time.perf_counter() - start,
            }
        )
        save_checkpoint(out, "round-0", policy, {"round": 0})
        first = 1
    else:
        directory, state = resumed
        policy = load_policy(config.policy, directory)
        log.truncate_after(state["round"])
        first = state["round"] + 1

    for round_ in range(first, config.rounds + 1):
        start = time.perf_counter()
        round_seed = config.seed * 1000 + round_
        seed_everything(round_seed)
        rng = random.Random(round_seed)
        tasks = split.sample_train(rng, config.tasks_per_round)
        tokens_before = policy.lm.usage.generated_tokens
        trees = best_of_n_trees(
            policy.lm,
            env,
            tasks,
            config.n,
            config.temperature,
            config.tasks,
            seed=round_seed,
            show_progress=config.progress,
        )
        search_tokens = policy.lm.usage.generated_tokens - tokens_before
        solved = sum(any(n.executed and n.success for n in t.nodes) for t in trees) / len(trees)
        turns = sft_set(trees, config.keep, rng)
        loss, train_tokens = fine_tune(policy, turns, config, rng)
        metrics = evaluate(policy.lm, split, tool_calls=policy.tool_calls)
        log.log(
            {
                "round": round_,
                **metrics,
                "tasks_searched": len(tasks),
                "search_solved": solved,
                "data_kept": len(turns),
                "search_tokens": search_tokens,
                "train_tokens": train_tokens,
                "loss": loss,
                "seconds": time.perf_counter() - start,
            }
        )
        save_checkpoint(out, f"round-{round_}", policy, {"round": round_})

    summary = finish_run(
        out,
        log,
        env,
        "expert_iteration" if config.keep == "verified" else "sft_unfiltered_control",
        rows_key="rounds",
        eval_tasks=len(split.eval_indices),
        unseen_question_tasks=len(split.unseen_indices),
        optimizer_steps=config.steps_per_round * config.rounds,
    )
    return TrainResult(out, log.rows, summary)
