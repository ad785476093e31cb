"""Learning from search: does what best-of-N + verifier finds make the policy better?

Start: the tiny char-level policy pretrained in-process on ``reasongym/Arithmetic-v0``
difficulty 1 (:func:`reasongym.agents.models.tiny.pretrain_arithmetic`, stopped early at a weak
greedy accuracy, cached in ``--cache``). From that same start, four runs:

* **expert iteration** (``configs/runs/arith-expert-iteration.yaml``): 3 rounds of best-of-8
  with the env's verifier on 256 fresh training tasks, fine-tuning on the verified answers;
* **control**: the same loop and the same optimizer steps, but fine-tuning on one *unfiltered*
  sample per task (``keep: all``), so the gap to expert iteration is what the verifier bought;
* **GRPO** (``configs/runs/arith-grpo.yaml``) with the env's reward;
* **DPO** (``configs/runs/arith-dpo.yaml``) on verified-vs-failed sibling pairs from best-of-8
  trees, the start as the frozen reference, with an NLL term on the chosen answer (plain DPO
  collapsed this policy: see the config's comments).

Held-out evaluation: greedy pass@1, graded by the env, on tasks ``0..399``; training only ever
uses indices >= 2,000,000. Difficulty 1 has only 200 distinct questions (``Compute a + b.`` /
``a - b`` with one digit) and pretraining saw all of them, so a new index is not a new
question. Hence a second column: 20% of the questions (chosen by a stable hash) never appear in
any data the four runs train on, and pass@1 on the held-out tasks asking those questions
("unseen q") shows how much of the gain is more than learning the training questions'
answers. (Pretraining did see those questions; difficulty 2, where questions can be truly
new, is out of this tiny model's reach on a CPU budget: see the tiny module's docstring.)

There is no peer library run side by side: TRL's trainers cannot drive the char-tokenizer
policy or the env's multi-turn episodes (see :mod:`reasongym.train.grpo`); the control run is
the reference.

Usage:
    python bench/learning.py [--out DIR] [--json OUT] [--jobs 2] [--threads 2] [--arms ei,control,grpo,dpo]

Runs are resumable: rerunning with the same ``--out`` continues each arm from its last
checkpoint (a finished arm is only re-read).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "configs" / "runs"
DEFAULT_CACHE = Path("~/.cache/reasongym/tiny-arith-d1").expanduser()
ARMS = {
    "ei": ("reasongym.train.expert_iteration", "ExpertIterationConfig", "arith-expert-iteration"),
    "control": (
        "reasongym.train.expert_iteration",
        "ExpertIterationConfig",
        "arith-expert-iteration",
    ),
    "grpo": ("reasongym.train.grpo", "GRPOConfig", "arith-grpo"),
    "dpo": ("reasongym.train.dpo", "DPOConfig", "arith-dpo"),
}
LABELS = {
    "ei": "expert iteration (BoN-8 + verifier)",
    "control": "control: SFT on unfiltered samples",
    "grpo": "GRPO (env reward)",
    "dpo": "DPO (pairs from BoN trees)",
}


def arm_config(arm: str, args: argparse.Namespace) -> Any:
    import importlib

    from reasongym.train.run_config import load_config

    module_name, class_name, run = ARMS[arm]
    cls = getattr(importlib.import_module(module_name), class_name)
    config = load_config(cls, RUNS / f"{run}.yaml", out=Path(args.out) / arm)
    policy = config.policy.model_copy(update={"model": f"tiny-pretrained:{args.cache}"})
    tasks = config.tasks.model_copy(update={"eval_tasks": args.eval_tasks})
    changes: dict[str, Any] = {
        "policy": policy,
        "tasks": tasks,
        "threads": args.threads,
        "progress": False,
    }
    if arm in ("ei", "control"):
        changes["rounds"] = args.rounds
        changes["keep"] = "verified" if arm == "ei" else "all"
    return config.model_copy(update=changes)


def run_arm(arm: str, args: argparse.Namespace) -> dict[str, Any]:
    import importlib
    import logging

    logging.basicConfig(level=logging.WARNING)
    config = arm_config(arm, args)
    module = importlib.import_module(ARMS[arm][0])
    start = time.perf_counter()
    result = module.train(config)
    # Wall time as logged by the run (round/step rows), so a re-read finished run keeps it.
    logged = sum(r.get("seconds", 0.0) for r in result.rows)
    return {
        "arm": arm,
        "seconds": logged,
        "call_seconds": time.perf_counter() - start,
        **result.summary,
    }


def curve(results: dict[str, dict[str, Any]], path: Path) -> None:
    """pass@1 against optimizer steps, one line per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for arm, summary in results.items():
        points = _points(summary)
        xs = [p[0] for p in points]
        for ax, key in zip(axes, ("pass1", "pass1_unseen_questions"), strict=True):
            ax.plot(xs, [p[1][key] for p in points], marker="o", label=LABELS[arm])
    for ax, title in zip(
        axes, ("all held-out tasks", "held-out tasks, unseen questions"), strict=True
    ):
        ax.set_xlabel("optimizer steps")
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("greedy pass@1")
    axes[0].legend(fontsize=8)
    fig.suptitle("Arithmetic-v0 (difficulty 1), tiny policy: learning from search")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _points(summary: dict[str, Any]) -> list[tuple[int, dict[str, float]]]:
    if "rounds" in summary:
        per_round = summary["optimizer_steps"] // max(1, len(summary["rounds"]) - 1)
        return [(r["round"] * per_round, r) for r in summary["rounds"]]
    return [(r["step"], r) for r in summary["evaluations"]]


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = []
    header = (
        f"{'run':<38} {'steps':>5} {'start':>6} {'r1':>6} {'r2':>6} {'r3':>6} {'final':>6} "
        f"{'delta':>6} {'unseen q':>15} {'data':>12} {'wall s':>7}"
    )
    lines += [header, "-" * len(header)]
    for arm, s in results.items():
        rounds = [f"{r['pass1']:.3f}" for r in s.get("rounds", [])[1:4]]
        rounds += ["" for _ in range(3 - len(rounds))]
        if arm in ("ei", "control"):
            data = f"{sum(r['data_kept'] for r in s['rounds'])} turns"
        elif arm == "dpo":
            data = f"{s['pairs']} pairs"
        else:
            data = f"{s['episodes']} episodes"
        unseen = f"{s['start_pass1_unseen_questions']:.3f}->{s['final_pass1_unseen_questions']:.3f}"
        lines.append(
            f"{LABELS[arm]:<38} {s['optimizer_steps']:>5} {s['start_pass1']:>6.3f} "
            f"{rounds[0]:>6} {rounds[1]:>6} {rounds[2]:>6} {s['final_pass1']:>6.3f} "
            f"{s['final_pass1'] - s['start_pass1']:>+6.3f} {unseen:>15} {data:>12} "
            f"{s['seconds']:>7.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="pretrained tiny policy")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-learning"), help="run folders")
    parser.add_argument("--arms", default="ei,control,grpo,dpo", help="comma-separated subset")
    parser.add_argument("--rounds", type=int, default=3, help="expert-iteration rounds")
    parser.add_argument("--eval-tasks", type=int, default=400, help="held-out tasks (>= 300)")
    parser.add_argument("--jobs", type=int, default=1, help="arms run in parallel processes")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads per arm")
    parser.add_argument("--png", type=Path, help="curve PNG (default OUT/learning_curve.png)")
    parser.add_argument("--json", help="write the results as JSON")
    args = parser.parse_args(argv)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        parser.error(f"unknown arms {unknown}; choose from {sorted(ARMS)}")

    import torch

    from reasongym.agents.models.tiny import arithmetic_accuracy, pretrain_arithmetic

    torch.set_num_threads(args.threads)
    # Pretrain once here, so that parallel arms only load the cached start.
    start = pretrain_arithmetic(args.cache)
    print(start.summary(), file=sys.stderr)
    if start.loaded:
        acc = arithmetic_accuracy(start.lm, range(args.eval_tasks))
        print(
            f"start: greedy accuracy on tasks 0..{args.eval_tasks - 1}: {acc:.3f}", file=sys.stderr
        )

    results: dict[str, dict[str, Any]] = {}
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = {arm: pool.submit(run_arm, arm, args) for arm in arms}
            results = {arm: futures[arm].result() for arm in arms}
    else:
        for arm in arms:
            results[arm] = run_arm(arm, args)
            print(f"{arm}: pass@1 {results[arm]['final_pass1']:.3f}", file=sys.stderr)

    print(table(results))
    png = args.png or Path(args.out) / "learning_curve.png"
    curve(results, png)
    print(f"curve: {png}")
    verdict = {}
    if "ei" in results:
        ei = results["ei"]
        gain = ei["final_pass1"] - ei["start_pass1"]
        verdict["ei_gain"] = gain
        verdict["target_gain_met"] = gain >= 0.25
        if "control" in results:
            verdict["ei_minus_control"] = ei["final_pass1"] - results["control"]["final_pass1"]
        print(
            f"expert iteration: {gain:+.3f} over the start (target >= +0.25)"
            + (
                f", {verdict['ei_minus_control']:+.3f} over the control"
                if "ei_minus_control" in verdict
                else ""
            )
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "start": {"steps": start.steps, "validation_accuracy": start.validation_accuracy},
            "eval_tasks": args.eval_tasks,
            "results": results,
            "verdict": verdict,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
