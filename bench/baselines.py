"""RL baselines for every ``reasongym/*Discrete-v0`` id: random, PPO and DQN (SB3 defaults).

For each id at its registered (default) settings and at its easiest settings (the puzzle
config's ``easiest`` knobs, e.g. ``presses: 1``), this trains Stable-Baselines3's own ``PPO``
and ``DQN`` classes with their default hyper-parameters (``"MlpPolicy"``, one env, fixed seeds)
for a fixed budget of env steps and reports:

* **success**: the share of ``--final-episodes`` held-out episodes (seeds 10,000+) the trained
  policy solves (deterministic actions, as SB3's ``evaluate_policy``);
* **steps to 90%**: the first evaluation point (every ``--eval-every`` steps, ``--eval-episodes``
  held-out episodes) at which success reached 0.9; ``-`` where it never did within the budget;
* the **random** policy (uniform actions) measured on the same held-out episodes: the baseline
  every learner has to beat.

A fourth row per id, ``ppo+curriculum``, trains PPO on a ``curriculum:`` (the env option, see
``reasongym/envs/curriculum.py``) that climbs from the easiest knobs to the default ones on a
``success_rate`` schedule, and evaluates at the default settings: the curriculum option a
default agent can use to reach the default difficulty. Ids whose only knob fixes the observation
shape (Maze's ``size``) have no curriculum row.

Usage:
    python bench/baselines.py [--budget 20000] [--jobs 2] [--json bench/results/baselines.json]
    python bench/baselines.py --ids reasongym/LightsOutDiscrete-v0 --budget 5000   # one id, quick
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL_SEED = 10_000  # held-out episodes use seeds EVAL_SEED + i; training uses --seed


@dataclass(frozen=True)
class BenchConfig:
    """What every run of one bench invocation shares."""

    budget: int = 20_000  # env steps per learner (the same for every id, setting and algorithm)
    eval_every: int = 2_048  # steps between the checks that find "steps to 90%"
    eval_episodes: int = 20  # held-out episodes per check
    final_episodes: int = 100  # held-out episodes for the reported success
    seed: int = 0  # training seed (SB3's seed= and the env's first reset)


@dataclass(frozen=True)
class Job:
    """One row: an id, a setting (default / easiest), an agent."""

    env_id: str
    setting: str  # "default" | "easiest"
    agent: str  # "random" | "ppo" | "dqn" | "ppo+curriculum"
    env_kwargs: dict[str, Any]
    train_kwargs: dict[str, Any]  # kwargs of the training env (the curriculum row differs)


def _make(env_id: str, **kwargs: Any):
    import gymnasium as gym

    import reasongym  # noqa: F401  (registers the ids)

    return gym.make(env_id, **kwargs)


def discrete_ids() -> list[str]:
    """Every registered ``reasongym/*Discrete-v0`` id, sorted."""
    import gymnasium as gym

    import reasongym  # noqa: F401  (registers the ids)

    return sorted(
        i for i in gym.registry if i.startswith("reasongym/") and i.endswith("Discrete-v0")
    )


def easiest_kwargs(env_id: str) -> dict[str, Any]:
    """The puzzle config's ``easiest`` knobs for ``env_id`` (``{}`` if it declares none)."""
    env = _make(env_id)
    try:
        return dict(type(env.unwrapped.config).easiest)
    finally:
        env.close()


def curriculum_levels(env_id: str, rungs: int = 4) -> list[dict[str, Any]] | None:
    """Geometric ladder of the easiest knobs up to the id's default values, or None when a knob
    fixes the observation shape (a curriculum level may not change it)."""
    from reasongym.envs.puzzles.variants import FIXED_KEYS

    easy = easiest_kwargs(env_id)
    if not easy or any(k in FIXED_KEYS for k in easy):
        return None
    env = _make(env_id)
    target = {k: getattr(env.unwrapped.config, k) for k in easy}
    env.close()
    levels = []
    for j in range(rungs):
        frac = j / (rungs - 1)
        level = {k: int(round(lo * (target[k] / lo) ** frac)) for k, lo in easy.items()}
        if not levels or level != levels[-1]:
            levels.append(level)
    return levels


def _success_rate(env_id: str, kwargs: dict[str, Any], act, episodes: int) -> float:
    """Share of held-out episodes (seeds EVAL_SEED + i) that ``act(obs)`` solves."""
    env = _make(env_id, **kwargs)
    solved = 0
    for i in range(episodes):
        obs, info = env.reset(seed=EVAL_SEED + i)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(act(obs, env))
            done = terminated or truncated
        solved += bool(info.get("is_success"))
    env.close()
    return solved / episodes


def run_job(job: Job, cfg: BenchConfig) -> dict[str, Any]:
    """Train (unless random) and evaluate one row; runs in a worker process."""
    import torch

    torch.set_num_threads(1)  # one core per worker: --jobs decides the parallelism
    start = time.perf_counter()
    row: dict[str, Any] = {**asdict(job), "steps_to_90": None, "budget": cfg.budget}
    if job.agent == "random":
        rng = __import__("numpy").random.default_rng(cfg.seed)
        row["success"] = _success_rate(
            job.env_id,
            job.env_kwargs,
            lambda obs, env: int(rng.integers(env.action_space.n)),
            cfg.final_episodes,
        )
        row["seconds"] = time.perf_counter() - start
        return row

    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.callbacks import BaseCallback

    algo = {"ppo": PPO, "dqn": DQN, "ppo+curriculum": PPO}[job.agent]
    train_env = _make(job.env_id, **job.train_kwargs)
    model = algo("MlpPolicy", train_env, seed=cfg.seed, device="cpu", verbose=0)

    def act(obs, env):
        action, _ = model.predict(obs, deterministic=True)
        return int(action)

    checks: list[tuple[int, float]] = []

    class Checkpoints(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % cfg.eval_every == 0:
                rate = _success_rate(job.env_id, job.env_kwargs, act, cfg.eval_episodes)
                checks.append((self.num_timesteps, rate))
                if rate >= 0.9 and row["steps_to_90"] is None:
                    row["steps_to_90"] = self.num_timesteps
            return True

    model.learn(total_timesteps=cfg.budget, callback=Checkpoints())
    row["checks"] = checks
    row["success"] = _success_rate(job.env_id, job.env_kwargs, act, cfg.final_episodes)
    row["seconds"] = time.perf_counter() - start
    train_env.close()
    return row


def plan(ids: list[str], agents: list[str]) -> list[Job]:
    """Every row of the table, in print order."""
    jobs = []
    for env_id in ids:
        easy = easiest_kwargs(env_id)
        for setting, kwargs in (("default", {}), ("easiest", easy)):
            for agent in agents:
                if agent == "ppo+curriculum":
                    levels = curriculum_levels(env_id)
                    if setting == "easiest" or levels is None:
                        continue
                    curriculum = {
                        "levels": levels,
                        "schedule": "success_rate",
                        "window": 20,
                        "promote_at": 0.8,
                    }
                    jobs.append(Job(env_id, setting, agent, kwargs, {"curriculum": curriculum}))
                else:
                    jobs.append(Job(env_id, setting, agent, kwargs, kwargs))
    return jobs


def table(rows: list[dict[str, Any]]) -> str:
    """The README table (Markdown)."""
    lines = [
        "| id | setting | agent | success | steps to 90% | wall s |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        knobs = ", ".join(f"{k}={v}" for k, v in r["env_kwargs"].items()) or "registered"
        if r["agent"] == "ppo+curriculum":
            knobs += "; curriculum " + " > ".join(
                "/".join(str(v) for v in level.values())
                for level in r["train_kwargs"]["curriculum"]["levels"]
            )
        s90 = f"{r['steps_to_90']:,}" if r["steps_to_90"] is not None else "-"
        lines.append(
            f"| {r['env_id'].removeprefix('reasongym/')} | {r['setting']} ({knobs}) | {r['agent']} "
            f"| {r['success']:.2f} | {s90} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", nargs="*", default=None, help="default: every *Discrete-v0 id")
    parser.add_argument("--agents", default="random,ppo,dqn,ppo+curriculum")
    parser.add_argument("--budget", type=int, default=BenchConfig.budget)
    parser.add_argument("--eval-every", type=int, default=BenchConfig.eval_every)
    parser.add_argument("--eval-episodes", type=int, default=BenchConfig.eval_episodes)
    parser.add_argument("--final-episodes", type=int, default=BenchConfig.final_episodes)
    parser.add_argument("--seed", type=int, default=BenchConfig.seed)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "baselines.json")
    args = parser.parse_args(argv)
    cfg = BenchConfig(
        budget=args.budget,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        final_episodes=args.final_episodes,
        seed=args.seed,
    )
    jobs = plan(args.ids or discrete_ids(), args.agents.split(","))
    start = time.perf_counter()
    # the learners first (longest), so the pool's tail is short
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].agent == "random")
    results: dict[int, dict[str, Any]] = {}
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {i: pool.submit(run_job, jobs[i], cfg) for i in order}
        for i in order:
            results[i] = futures[i].result()
            r = results[i]
            print(
                f"done {r['env_id']} {r['setting']} {r['agent']}: {r['success']:.2f} ({r['seconds']:.0f} s)",
                flush=True,
            )
    rows = [results[i] for i in range(len(jobs))]
    total = time.perf_counter() - start
    text = table(rows)
    command = "python bench/baselines.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(
        f"\n{text}\n\n{len(rows)} rows in {total / 60:.1f} min; budget {cfg.budget:,} steps; `{command.strip()}`"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "config": asdict(cfg),
                "command": command.strip(),
                "minutes": total / 60,
                "rows": rows,
            },
            indent=1,
        )
    )
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
