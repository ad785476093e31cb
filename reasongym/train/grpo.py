"""GRPO: group-relative policy optimisation with the env's own reward.

    reasongym train grpo --config configs/runs/arith-grpo.yaml

Each step samples ``tasks_per_step`` training tasks and plays ``group_size`` episodes on each
(multi-turn: tool calls and their replies are part of the episode, as the env runs them). The
advantage of an episode is its return minus its group's mean, divided by the group's std
(groups where every episode scored the same teach nothing and get 0). The loss is
``-advantage * mean token log-prob`` of the episode's actions, plus ``kl_beta`` times the k3
estimate of KL to the frozen starting policy. One gradient step per batch (on-policy), so the
PPO ratio is 1 and clipping never acts: it is left out.

Tool calls: with ``policy.tool_calls: native`` (or ``auto`` on an env in ``action_format:
native``) the env's typed tools go to a Hugging Face chat model's template as ``tools=``, the
``<tool_call>`` blocks it writes are parsed and stepped as the contract's tool-call JSON, and
the loss scores exactly the tokens it generated; otherwise the model writes the tag grammar.

The same episodes can be trained with TRL's ``GRPOTrainer`` through
:func:`reasongym.integrations.trl.environment_factory` (multi-turn tool use included);
``bench/trl_grpo.py`` runs both on the same model, data and budget. This loop stays for what
TRL does not cover here: the char-level tiny policy (no Hugging Face tokenizer), branching one
env with ``get_state``/``set_state`` for all rollouts, and the run folders, checkpoints and
resumes that the other in-repo loops share.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from pydantic import Field, model_validator

from reasongym.agents.models.base import GenerationConfig
from reasongym.envs.base import EnvConfig as ConfigModel
from reasongym.train.checkpoints import end_step, finish_run, optimizer_step, resume_optimizer_loop
from reasongym.train.expert_iteration import TrainResult
from reasongym.train.policy import Policy, load_policy
from reasongym.train.rollouts import Episode, play_episodes
from reasongym.train.run_config import (
    PolicyConfig,
    TaskConfig,
    prepare_run_dir,
    seed_everything,
)
from reasongym.train.run_log import RunLog, progress, set_threads
from reasongym.train.tasks import TaskSplit, make_env
from reasongym.train.tokens import encode_turn, token_logprobs


class GRPOConfig(ConfigModel):
    """One GRPO run (unknown YAML keys are rejected).

    Attributes:
        out: run folder.
        policy: the starting policy.
        tasks: env, held-out split, turn and token limits.
        steps: optimizer steps.
        tasks_per_step: training tasks per step (groups).
        group_size: episodes per task (the group whose mean is the baseline).
        temperature: sampling temperature.
        learning_rate: AdamW learning rate (constant).
        kl_beta: weight of the KL penalty to the starting policy (0: no reference model).
        eval_every: steps between held-out evaluations (and at the end).
        checkpoint_every: steps between checkpoints (and at the end).
        seed: task sampling and episode sampling (each step derives its own).
        threads: torch CPU threads (None: leave as is).
        progress: show a progress bar.
    """

    out: Path = Path("runs/grpo")
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    tasks: TaskConfig = Field(default_factory=TaskConfig)
    steps: int = 60
    tasks_per_step: int = 16
    group_size: int = 8
    temperature: float = 1.0
    learning_rate: float = 5e-4
    kl_beta: float = 0.0
    eval_every: int = 20
    checkpoint_every: int = 20
    seed: int = 0
    threads: int | None = None
    progress: bool = True

    @model_validator(mode="after")
    def _check(self) -> GRPOConfig:
        if self.group_size < 2:
            raise ValueError(f"group_size must be >= 2, got {self.group_size}")
        if self.steps < 0 or self.tasks_per_step < 1 or self.eval_every < 1:
            raise ValueError("need steps >= 0, tasks_per_step >= 1, eval_every >= 1")
        return self


def group_advantages(rewards: list[float], group_size: int) -> list[float]:
    """``(r - group mean) / group std`` per episode; 0 for groups with no spread."""
    out = []
    for start in range(0, len(rewards), group_size):
        group = rewards[start : start + group_size]
        mean = sum(group) / len(group)
        std = (sum((r - mean) ** 2 for r in group) / len(group)) ** 0.5
        out += [0.0 if std < 1e-6 else (r - mean) / std for r in group]
    return out


def grpo_loss(policy: Policy, episodes: list[Episode], advantages, ref, beta):
    """The GRPO loss of a batch of episodes (see the module docstring); returns
    ``(loss, mean KL)``."""
    import torch

    lm = policy.lm
    rows, owner = [], []
    for k, episode in enumerate(episodes):
        if advantages[k] == 0.0 and beta == 0.0:
            continue
        for turn in episode.turns:
            if turn.action:
                rows.append(encode_turn(lm, turn, add_eos=False))
                owner.append(k)
    if not rows:
        return None, 0.0
    logp, valid = token_logprobs(policy.model, rows, lm.pad_token_id)  # (R, T-1)
    owner_t = torch.tensor(owner)
    adv = torch.tensor(advantages, dtype=torch.float32)[owner_t]  # (R,)
    # Tokens of an episode's turns share its advantage; normalise by the episode's tokens.
    episode_tokens = torch.zeros(len(episodes)).index_add_(0, owner_t, valid.sum(-1).float())
    weight = valid.float() / episode_tokens[owner_t].clamp(min=1)[:, None]  # (R, T-1)
    loss = -(adv[:, None] * logp * weight).sum() / len(episodes)
    kl_mean = 0.0
    if beta > 0:
        with torch.no_grad():
            ref_logp, _ = token_logprobs(ref, rows, lm.pad_token_id)
        diff = ref_logp - logp  # k3 estimator: exp(d) - d - 1 >= 0
        kl = (torch.exp(diff) - diff - 1) * valid
        loss = loss + beta * (kl * weight).sum() / len(episodes)
        kl_mean = float(kl.detach().sum() / valid.sum().clamp(min=1))
    return loss, kl_mean


def train(config: GRPOConfig) -> TrainResult:
    """Run (or resume) GRPO; see the module docstring."""

    set_threads(config.threads)
    out = prepare_run_dir(config)
    log = RunLog(out, "step", "GRPO")
    env = make_env(config.tasks)
    split = TaskSplit.build(config.tasks, env)
    start_policy = load_policy(config.policy)
    ref = start_policy.frozen_copy() if config.kl_beta > 0 else None

    policy, optimizer, first = resume_optimizer_loop(out, start_policy, config, log, split)
    with progress(config.steps, "grpo", config.progress) as bar:
        bar.update(first - 1)
        for step in range(first, config.steps + 1):
            start = time.perf_counter()
            step_seed = config.seed * 1_000_003 + step
            seed_everything(step_seed)
            tasks = split.sample_train(random.Random(step_seed), config.tasks_per_step)
            generation = GenerationConfig(
                temperature=config.temperature,
                max_tokens=config.tasks.max_tokens,
                seed=step_seed,
                logprobs=False,
            )
            policy.model.eval()
            episodes = play_episodes(
                policy.lm,
                env,
                [t for t in tasks for _ in range(config.group_size)],
                generation,
                config.tasks.max_turns,
                tool_calls=policy.tool_calls,
            )
            rewards = [e.reward for e in episodes]
            advantages = group_advantages(rewards, config.group_size)
            policy.model.train()
            loss, kl = grpo_loss(policy, episodes, advantages, ref, config.kl_beta)
            if loss is not None:
                optimizer_step(loss, policy, optimizer)
            policy.model.eval()
            row = {
                "step": step,
                "reward": sum(rewards) / len(rewards),
                "sample_success": sum(e.success for e in episodes) / len(episodes),
                "loss": float("nan") if loss is None else loss.item(),
                "kl": kl,
                "tokens": sum(e.tokens for e in episodes),
                "tool_calls_per_episode": sum(e.tool_calls for e in episodes) / len(episodes),
                "env_seconds": sum(e.env_seconds for e in episodes),
                "seconds": time.perf_counter() - start,
            }
            end_step(step, row, config, out, log, split, policy, optimizer)
            bar.update(1)

    summary = finish_run(
        out,
        log,
        env,
        "grpo",
        optimizer_steps=config.steps,
        episodes=config.steps * config.tasks_per_step * config.group_size,
    )
    return TrainResult(out, log.rows, summary)
