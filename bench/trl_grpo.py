"""GRPO through TRL's ``GRPOTrainer(environment_factory=...)`` next to reasongym's own
``train grpo``: the same tiny model, start checkpoint, data and budget, multi-turn tool use.

Task: ``reasongym/Arithmetic-v0`` as registered (difficulty 2: ``Compute 85 + 19 * 47.``, three
two-digit operands with + - *; ~6.5 million distinct questions, so the held-out questions are
truly unseen) in ``action_format: native``. The calculator is what makes it solvable for a
tiny model: copy the expression into a ``calculator`` call, then copy the tool's reply into
``submit_answer`` (2 env steps). Reward: the env's own (1 for a right answer, 0 wrong, -0.1
for a malformed action), graded by exact match (``verifier: exact``), because the math
verifier also accepts the question's own expression (``70 * 12 * 52``) as the answer, which
would pay a policy for copying the question instead of computing.

Model: one Hugging Face-format tiny chat model for both legs
(``reasongym.integrations.trl.tiny_model``: a 2-layer Llama, ``--hidden`` wide; word-level
tokenizer where digits, operators and the integers below ``--number-tokens`` are tokens and
the fixed parts of each call are one token each; the ChatML tool template TRL parses; the
tokenizer drops the template's JSON tool signatures, which this model would read as ~350
``<unk>`` tokens). It is warm-started in-process by supervised fine-tuning for
``--warm-steps`` AdamW steps on ``--demos`` *noisy* demonstration episodes (training indices
only): the calculator call on the question's expression is always right, but the submitted
answer is the tool's reply only with probability ``--demo-correct`` and otherwise a nearby
wrong number (reply +- 1..5). A model fit to clean demonstrations answers each question
near deterministically (right on some questions, always wrong on the others), so most GRPO
groups have no reward spread and no gradient; fit to noisy ones, its answer step is a
stochastic policy on every question it can read, and "submit the reply unchanged" is one
consistent rule GRPO can reinforce. Validation pass@1 (greedy and sampled, 32 training-side
tasks) is logged every ``--warm-chunk`` steps (deterministic: seeded, one torch thread). Both
legs start from that saved checkpoint. ``--reuse-warm-start`` reuses ``OUT/warm-start`` when
``OUT/warm_start.json`` records the same warm-start options.

Legs (same: training task indices and their order, steps, tasks per step, group size,
learning rate and schedule (constant), AdamW weight decay 0.01, grad-norm clip 1, no KL,
sampling temperature, per-sequence token-mean loss (TRL ``loss_type="grpo"``), the env's turn
limit ``--max-turns``):

* TRL: ``GRPOTrainer`` + ``environment_factory`` (its own generation and tool loop;
  ``max_completion_length`` bounds a whole multi-turn completion, tool replies included; a
  turn may hold several calls, and a turn with no call ends the rollout unscored).
* reasongym: ``reasongym.train.grpo`` with ``policy.tool_calls: native`` (the same chat
  template renders the tools; its ``<tool_call>`` output is parsed and stepped as tool-call
  JSON; ``max_tokens`` bounds each turn, which stops at ``</tool_call>``; text without a call
  is stepped too and pays the env's format penalty).

Held-out pass@1 (greedy, multi-turn, tasks ``0..H-1``, never trained on; the bench counts
training questions among them: 0) and held-out sampled success (4 episodes per task at the
legs' temperature: what a GRPO group sees) are measured by one evaluator for both legs
(``reasongym.train.rollouts`` on the saved model), before (= the warm start) and after.
Env time: wall time inside the env (reset, tool calls, answers; TRL: inside the
``environment_factory`` class) over each optimizer step's wall time. Tool calls per rollout
count every call that reached the env (TRL's include calls after the episode ended, which
the env answers "episode is over" and does not pay).

    python bench/trl_grpo.py --out runs/bench-trl

Measured 2026-12-02 03:24 UTC on this 2-core machine (shared; load average 1.7-2.2 during
the run), default settings (40 steps x 4 tasks x 8 episodes, lr 1e-3, temperature 1, 64
held-out tasks; warm start: 1000 noisy demonstrations, p 0.4, 1000 SFT steps, 100 number
tokens, hidden 64), from scratch: 177 s wall in all, 140 s of it the warm start (validation
pass@1 0.09 greedy, 0.05 sampled). The run is deterministic: an earlier run with the warm
start reused (load 0.4-2.2) printed the same pass@1 and reward figures::

    leg                                         steps steps/s  train reward first->last  held-out pass@1  held-out sampled  env share  tool calls/rollout
    TRL GRPOTrainer + environment_factory          40   2.040     0.094 -> 0.097          0.109 -> 0.234   0.047 -> 0.137      6.1%      3.55
    reasongym train grpo (tool_calls: native)      40   5.003     0.066 -> 0.159          0.109 -> 0.219   0.047 -> 0.156     10.1%      2.00

Both legs learn on held-out questions: greedy pass@1 doubles (7 -> 15 and -> 14 of 64 tasks)
and sampled success triples (12 -> 35 and -> 40 of 256 episodes). The train-reward curve is
noisy (4 questions a step, and the warm model can read the reply on some questions only). In
the PNG (5-step running means) the in-repo train reward climbs from ~0.05 to ~0.2 and stays;
TRL's rises to ~0.2 by step 18 and falls back to ~0.1, so its first and last quarters are equal
although its held-out figures rose. With ``--steps 60`` (load ~4, same warm start) both train
rewards rise too: TRL 0.106 -> 0.148, held-out 0.109 -> 0.219 greedy, 0.047 -> 0.168 sampled
(0.206 steps/s); in-repo 0.100 -> 0.136, 0.109 -> 0.234, 0.047 -> 0.195 (0.357 steps/s). At 20
steps (load ~4): TRL 0.109 -> 0.141 greedy, 0.047 -> 0.105 sampled; in-repo 0.109 -> 0.219,
0.047 -> 0.164. Not robust on TRL's side: with ``--tasks-per-step 8`` (40 steps, 64 rollouts a
step, load ~4, same warm start) TRL's leg collapsed (train reward 0.075 -> 0.000, held-out
0.109 -> 0.000 greedy and sampled, tool calls per rollout 1.63: it stops calling the tools;
entropy 0.55 -> 2.3 nats/token, completions grow to the 68-token limit by step 20) while the
in-repo leg (each turn stops at ``</tool_call>``) learned (0.094 -> 0.209, held-out 0.109 ->
0.234 greedy, 0.047 -> 0.195 sampled); cause not investigated. What is still in the way: the
warm model copies the tool's reply only for some questions (copying rare number tokens is what
this tiny model learns slowest), so ~70% of GRPO groups still have zero reward spread (TRL's
``frac_reward_zero_std``; 75-100% with clean demonstrations). Steps/s are load-bound (the same
legs ran at 0.17 and 0.52 steps/s at load ~4); the in-repo leg is faster because it branches
one env with snapshots and stops each turn at ``</tool_call>`` (TRL's rollouts run on to its
tool-iteration limit); env time is a few percent of a step: the policy's forward/backward
passes dominate.
Tried and worse (warm start only, same seed): a distractor copied from the question (its
first operand) instead of a nearby number: greedy answer = distractor, the reply copy never
learned (held-out sampled <= 0.004 after 600-800 SFT steps); digit-level numbers
(``--number-tokens 10``: loss stuck at 1.36 by 400 steps) and ``--hidden 128`` (validation
pass@1 0 after 1000 steps); 1000 number tokens (sampled 0.008 at 700 steps, 100 tokens: 0.06).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from pathlib import Path

ENV_ID = "reasongym/Arithmetic-v0"
# exact match: the math verifier also accepts the question's own expression ("70 * 12 * 52")
# as the answer, which would pay a policy for copying the question instead of computing
ENV_KWARGS: dict = {"action_format": "native", "verifier": "exact"}
TRAIN_START = 1_000_000
VALIDATION_START = 900_000  # warm-start early stopping: training-side indices, not held out


WARM_KEYS = (
    "seed",
    "demos",
    "demo_correct",
    "warm_chunk",
    "warm_steps",
    "warm_lr",
    "number_tokens",
    "hidden",
)


def make_env():
    import gymnasium as gym

    import reasongym  # noqa: F401

    return gym.make(ENV_ID, **ENV_KWARGS)


def call_tokens() -> list[str]:
    """The fixed parts of the two calls (each one vocabulary token)."""
    from reasongym.integrations.trl.tiny_model import tool_call_parts

    parts = []
    for name, argument in (("calculator", "expression"), ("submit_answer", "answer")):
        parts += tool_call_parts(name, argument)
    return parts


def demonstration_turns(env, indices: list[int], correct: float, seed: int) -> list:
    """Two SFT turns per task from a noisy scripted tool user: the calculator call on the
    question's expression (always right), then ``submit_answer`` of the calculator's reply
    with probability ``correct``, else of a nearby wrong number (the reply plus or minus 1..5);
    both as the template writes them, played through the env, so the prompts are the env's
    own chat.

    The noise is what gives GRPO something to work with: a model fit to these demonstrations
    reads the reply on every question but submits it only some of the time, so a group of
    episodes on one question has reward spread, and the rewarded behaviour (submit the reply
    unchanged) is the same rule on every question."""
    from reasongym.agents import contract
    from reasongym.integrations.trl.tiny_model import tool_call_text
    from reasongym.train.rollouts import Turn

    rng = random.Random(seed)
    tools = tuple(contract.openai_tools(env))
    turns = []
    for index in indices:
        _, info = env.reset(options={"task_index": int(index)})
        question = str(env.unwrapped.task_row(index)["prompt"])
        expression = question.rsplit("Compute", 1)[1].strip().rstrip(".").replace(" ", "")
        chat = [dict(m) for m in info["messages"]]
        call = {"name": "calculator", "arguments": {"expression": expression}}
        turns.append(Turn(chat, tool_call_text(**call), tools))
        reply, _, _, _, info = env.step(json.dumps({"tool_calls": [{"function": call}]}))
        submitted = str(reply).strip()
        if rng.random() >= correct and submitted.lstrip("-").isdigit():
            submitted = str(int(submitted) + rng.choice((-5, -4, -3, -2, -1, 1, 2, 3, 4, 5)))
        answer = {"name": "submit_answer", "arguments": {"answer": submitted}}
        turns.append(Turn([dict(m) for m in info["messages"]], tool_call_text(**answer), tools))
    return turns


def task_config(args):
    from reasongym.train.run_config import TaskConfig

    return TaskConfig(
        env_id=ENV_ID,
        env_kwargs=ENV_KWARGS,
        eval_start=0,
        eval_tasks=args.holdout,
        train_start=TRAIN_START,
        holdout_question_percent=0,  # held-out = indices 0..H-1; questions checked unseen below
        max_turns=args.max_turns,
        max_tokens=args.max_tokens,
    )


def sampled_success(lm, env, indices: list[int], args, samples: int = 4) -> float:
    """Success rate of ``samples`` episodes per task at the legs' sampling temperature (what
    a GRPO group sees; greedy pass@1 only shows the most likely answer)."""
    from reasongym.agents.models.base import GenerationConfig
    from reasongym.train.rollouts import play_episodes

    generation = GenerationConfig(
        temperature=args.temperature, max_tokens=args.max_tokens, logprobs=False, seed=args.seed
    )
    episodes = play_episodes(
        lm,
        env,
        [i for i in indices for _ in range(samples)],
        generation,
        args.max_turns,
        tool_calls="native",
    )
    return sum(e.success for e in episodes) / len(episodes)


def held_out_pass_at_1(model_dir: Path, args, indices: list[int]) -> tuple[float, float]:
    """(greedy pass@1, sampled success rate) of the saved model on the held-out tasks."""
    import torch

    from reasongym.agents.models.transformers_lm import TransformersLM
    from reasongym.train.rollouts import pass_at_1

    env = make_env()
    lm = TransformersLM(str(model_dir), batch_size=64)
    torch.manual_seed(args.seed)  # the same sampling noise for every model evaluated
    try:
        greedy = pass_at_1(lm, env, indices, task_config(args), tool_calls="native")
        return greedy, sampled_success(lm, env, indices, args)
    finally:
        env.close()


def warm_start(args, out: Path) -> tuple[Path, dict]:
    """Build the tiny model and fine-tune it for ``--warm-steps`` AdamW steps on the noisy
    demonstrations (validation pass@1, greedy and sampled, logged every ``--warm-chunk``
    steps); save it."""
    import torch

    from reasongym.agents.models.transformers_lm import TransformersLM
    from reasongym.integrations.trl.tiny_model import build_tiny_chat_model
    from reasongym.train.expert_iteration import ExpertIterationConfig, fine_tune
    from reasongym.train.policy import Policy
    from reasongym.train.rollouts import pass_at_1
    from reasongym.train.run_config import seed_everything

    directory = out / "warm-start"
    recipe = {k: getattr(args, k) for k in WARM_KEYS}
    record = out / "warm_start.json"
    if args.reuse_warm_start and record.is_file() and (directory / "config.json").is_file():
        saved = json.loads(record.read_text())
        if saved.get("recipe") == recipe:
            print(f"warm start: reusing {directory} (same recipe)", flush=True)
            return directory, saved
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reproducible float reductions
    start = time.perf_counter()
    seed_everything(args.seed)
    fresh = build_tiny_chat_model(
        out / "tiny-fresh",
        calls=call_tokens(),
        seed=args.seed,
        hidden_size=args.hidden,
        heads=4,
        skip_tool_signatures=True,
        numbers=args.number_tokens,
    )
    env = make_env()
    demo_indices = list(range(TRAIN_START - args.demos, TRAIN_START))
    turns = demonstration_turns(env, demo_indices, correct=args.demo_correct, seed=args.seed)
    policy = Policy(TransformersLM(str(fresh), batch_size=64), tool_calls="native")
    validation = list(range(VALIDATION_START, VALIDATION_START + 32))
    sft = ExpertIterationConfig(
        steps_per_round=args.warm_chunk,
        batch_size=32,
        learning_rate=args.warm_lr,
        warmup_steps=0,
        progress=False,
    )
    rng = random.Random(args.seed)
    history = []
    for chunk in range(max(1, args.warm_steps // args.warm_chunk)):
        loss, _ = fine_tune(policy, turns, sft, rng)
        rate = pass_at_1(policy.lm, env, validation, task_config(args), tool_calls="native")
        sampled = sampled_success(policy.lm, env, validation, args)
        history.append(
            {
                "sft_steps": (chunk + 1) * args.warm_chunk,
                "loss": round(loss, 4),
                "pass1": rate,
                "sampled": sampled,
            }
        )
        print(f"warm start: {history[-1]}", flush=True)
    env.close()
    policy.save(directory)
    torch.set_num_threads(threads)
    info = {"recipe": recipe, "history": history, "seconds": time.perf_counter() - start}
    record.write_text(json.dumps(info, indent=2))
    return directory, info


def training_indices(args) -> list[int]:
    """The in-repo loop's task draw, step by step (``TaskSplit.sample_train`` with each step's
    seed); TRL gets the same list, unshuffled, so both legs see the same tasks in order."""
    from reasongym.train.tasks import TaskSplit

    env = make_env()
    split = TaskSplit.build(task_config(args), env)
    indices = []
    for step in range(1, args.steps + 1):
        step_seed = args.seed * 1_000_003 + step
        indices += split.sample_train(random.Random(step_seed), args.tasks_per_step)
    env.close()
    return indices


def run_trl(args, out: Path, start_dir: Path, indices: list[int]) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from reasongym.integrations import trl as rg

    base = rg.environment_factory(ENV_ID, **ENV_KWARGS)
    clock = {"env_s": 0.0, "calls": 0, "episodes": 0}

    class TimedEnv(base):
        def reset(self, **row):
            t0 = time.perf_counter()
            clock["episodes"] += 1
            try:
                return super().reset(**row)
            finally:
                clock["env_s"] += time.perf_counter() - t0

        def _call_tool(self, name, arguments):
            t0 = time.perf_counter()
            clock["calls"] += 1
            try:
                return super()._call_tool(name, arguments)
            finally:
                clock["env_s"] += time.perf_counter() - t0

    steps: list[dict] = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            self.t0, self.e0, self.c0, self.n0 = (
                time.perf_counter(),
                clock["env_s"],
                clock["calls"],
                clock["episodes"],
            )

        def on_step_end(self, *a, **k):
            steps.append(
                {
                    "seconds": time.perf_counter() - self.t0,
                    "env_seconds": clock["env_s"] - self.e0,
                    "tool_calls": clock["calls"] - self.c0,
                    "episodes": clock["episodes"] - self.n0,
                }
            )

    rollouts = args.tasks_per_step * args.group
    config = GRPOConfig(
        output_dir=str(out / "trl"),
        max_steps=args.steps,
        per_device_train_batch_size=rollouts,
        num_generations=args.group,
        max_completion_length=args.max_turns * args.max_tokens + 16 * (args.max_turns - 1),
        max_tool_calling_iterations=args.max_turns,  # the env ends the episode first
        shuffle_dataset=False,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        learning_rate=args.lr,
        lr_scheduler_type="constant",
        weight_decay=0.01,
        max_grad_norm=1.0,
        loss_type="grpo",
        seed=args.seed,
        beta=0.0,
        temperature=args.temperature,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    tokenizer = AutoTokenizer.from_pretrained(start_dir)
    model = AutoModelForCausalLM.from_pretrained(start_dir)
    trainer = GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        args=config,
        train_dataset=rg.dataset(ENV_ID, indices, **ENV_KWARGS),
        environment_factory=TimedEnv,
        callbacks=[StepClock()],
    )
    trainer.train()
    final = out / "trl" / "final"
    trainer.model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    curve = [
        h["rewards/TimedEnv/mean"]
        for h in trainer.state.log_history
        if "rewards/TimedEnv/mean" in h
    ]
    torch.set_num_threads(args.threads)  # the Trainer may have changed it
    return {
        "leg": "TRL GRPOTrainer + environment_factory",
        "final_dir": str(final),
        "curve": curve,
        "steps": steps,
    }


def run_repo(args, out: Path, start_dir: Path) -> dict:
    from reasongym.train.checkpoints import latest_checkpoint
    from reasongym.train.grpo import GRPOConfig, train

    config = GRPOConfig.model_validate(
        {
            "out": str(out / "repo-grpo"),
            "policy": {"model": str(start_dir), "tool_calls": "native", "batch_size": 64},
            "tasks": task_config(args).model_dump(mode="json"),
            "steps": args.steps,
            "tasks_per_step": args.tasks_per_step,
            "group_size": args.group,
            "temperature": args.temperature,
            "learning_rate": args.lr,
            "eval_every": 10**9,  # evaluated once at the end (and at step 0), like TRL's leg
            "checkpoint_every": 10**9,
            "seed": args.seed,
            "progress": False,
        }
    )
    shutil.rmtree(out / "repo-grpo", ignore_errors=True)  # a finished run would just resume
    result = train(config)
    rows = [r for r in result.rows if r["step"] >= 1]
    final = latest_checkpoint(out / "repo-grpo")
    return {
        "leg": "reasongym train grpo (policy.tool_calls: native)",
        "final_dir": str(final[0]) if final else None,
        "curve": [r["reward"] for r in rows],
        "steps": [
            {
                "seconds": r["seconds"],
                "env_seconds": r["env_seconds"],
                "tool_calls": r["tool_calls_per_episode"] * args.tasks_per_step * args.group,
                "episodes": args.tasks_per_step * args.group,
            }
            for r in rows
        ],
        "summary_pass1": (result.summary["start_pass1"], result.summary["final_pass1"]),
    }


def summarize(row: dict, before: tuple[float, float], after: tuple[float, float]) -> dict:
    steps = row["steps"]
    seconds = sum(s["seconds"] for s in steps)
    curve = row["curve"]
    head = curve[: max(1, len(curve) // 4)]
    tail = curve[-max(1, len(curve) // 4) :]
    return {
        **row,
        "n_steps": len(steps),
        "steps_per_s": len(steps) / seconds if seconds else float("nan"),
        "reward_first": sum(head) / len(head) if curve else float("nan"),
        "reward_last": sum(tail) / len(tail) if curve else float("nan"),
        "pass1_before": before[0],
        "pass1_after": after[0],
        "sampled_before": before[1],
        "sampled_after": after[1],
        "env_share": sum(s["env_seconds"] for s in steps) / seconds if seconds else float("nan"),
        "tool_calls_per_rollout": sum(s["tool_calls"] for s in steps)
        / max(1, sum(s["episodes"] for s in steps)),
    }


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.4))
    for row in rows:
        curve = row["curve"]
        steps = range(1, len(curve) + 1)
        (raw,) = ax.plot(steps, curve, marker="o", ms=2, lw=0.6, alpha=0.45)
        # 4 tasks a step make the raw curve noisy; the running mean shows the trend
        window = [curve[max(0, i - 4) : i + 1] for i in range(len(curve))]
        smooth = [sum(w) / len(w) for w in window]
        ax.plot(steps, smooth, lw=2, color=raw.get_color(), label=f"{row['leg']} (5-step mean)")
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("mean episode reward (train)")
    ax.set_title(f"{ENV_ID} (native tool calls): same start, data, budget", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--tasks-per-step", type=int, default=4)
    parser.add_argument("--group", type=int, default=8, help="episodes per task")
    parser.add_argument("--holdout", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=12, help="tokens per turn")
    parser.add_argument("--demos", type=int, default=1000, help="warm-start demonstration tasks")
    parser.add_argument(
        "--demo-correct",
        type=float,
        default=0.4,
        help="share of demonstrations that submit the tool's reply (the rest: a distractor)",
    )
    parser.add_argument("--warm-chunk", type=int, default=100)
    parser.add_argument("--warm-steps", type=int, default=1000, help="warm-start SFT steps")
    parser.add_argument("--warm-lr", type=float, default=3e-3)
    parser.add_argument("--number-tokens", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=64, help="tiny model width")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling, both legs")
    parser.add_argument(
        "--reuse-warm-start",
        action="store_true",
        help="reuse OUT/warm-start when OUT/warm_start.json has the same warm-start options",
    )
    parser.add_argument("--legs", default="trl,repo")
    parser.add_argument("--out", default="runs/bench-trl")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    ENV_KWARGS["max_turns"] = args.max_turns  # the env's own step limit, in both legs
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wall = time.perf_counter()
    start_dir, warm = warm_start(args, out)
    holdout = list(range(args.holdout))
    indices = training_indices(args)
    env = make_env()
    held_q = {str(env.unwrapped.task_row(i)["prompt"]) for i in holdout}
    overlap = sum(str(env.unwrapped.task_row(i)["prompt"]) in held_q for i in indices)
    env.close()
    before = held_out_pass_at_1(start_dir, args, holdout)
    print(
        f"warm start: held-out pass@1 {before[0]:.3f} greedy, {before[1]:.3f} sampled "
        f"({warm['seconds']:.0f} s)",
        flush=True,
    )
    results = {"args": vars(args), "warm_start": warm, "train_questions_held_out": overlap}
    rows = []
    for leg in [x.strip() for x in args.legs.split(",") if x.strip()]:
        t0 = time.perf_counter()
        row = (
            run_trl(args, out, start_dir, indices)
            if leg == "trl"
            else run_repo(args, out, start_dir)
        )
        after = held_out_pass_at_1(Path(row["final_dir"]), args, holdout)
        rows.append(summarize(row, before, after))
        rows[-1]["leg_seconds"] = time.perf_counter() - t0
        results["legs"] = rows
        (out / "results.json").write_text(json.dumps(results, indent=2))
        print(f"{leg}: done in {rows[-1]['leg_seconds']:.0f} s", flush=True)
    plot(rows, out / "learning_curve.png")
    print(
        f"\n{ENV_ID} (difficulty 2, native tool calls): {args.steps} steps x "
        f"{args.tasks_per_step} tasks x {args.group} episodes, lr {args.lr}, "
        f"held-out {args.holdout} tasks (training questions among them: {overlap})"
    )
    header = (
        f"{'leg':50s} {'steps':>5s} {'steps/s':>8s} {'train reward first->last':>25s} "
        f"{'held-out pass@1':>16s} {'held-out sampled':>16s} {'env share':>9s} "
        f"{'tool calls/rollout':>18s}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['leg']:50s} {r['n_steps']:5d} {r['steps_per_s']:8.3f} "
            f"{r['reward_first']:12.3f} -> {r['reward_last']:<9.3f} "
            f"{r['pass1_before']:7.3f} -> {r['pass1_after']:<5.3f} "
            f"{r['sampled_before']:7.3f} -> {r['sampled_after']:<5.3f} {r['env_share']:9.1%} "
            f"{r['tool_calls_per_rollout']:18.2f}"
        )
    print(
        "(train reward: mean of the first / last quarter of the steps; held-out sampled: "
        f"4 episodes per task at temperature {args.temperature})"
    )
    print(f"learning curve: {out / 'learning_curve.png'}; results: {out / 'results.json'}")
    load = os.getloadavg()
    print(f"wall time {time.perf_counter() - wall:.0f} s; load average now {load[0]:.1f}")
    results["wall_seconds"], results["load_average"] = time.perf_counter() - wall, load
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
