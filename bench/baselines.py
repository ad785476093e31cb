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
``reasongym/envs/curriculum.py``) that climbs from the easiest knobs (``max_turns`` included) to
the default ones on a ``success_rate`` schedule, and evaluates at the default settings: the
curriculum option a default agent can use to reach the default difficulty. The row says which
level the curriculum reached by the end of training. Ids whose only knob fixes the observation
shape (Maze's ``size``) have no curriculum row.

Where the easiest setting also turns on observation/action aids that a curriculum level may not
change (``FIXED_KEYS``: Sudoku's ``pencil_marks`` and ``discrete_actions: cursor``), a third
setting, ``aided``, keeps those aids at the default difficulty, with its own random/PPO/DQN and
curriculum rows: the curriculum climbs from the easiest setting itself.

Runtime: 34 rows (24 trained); 2026-12-01 on 2 cores shared with other jobs (load average
15-20) this took 72 minutes, each 20,000-step run 2.5-9 minutes; an idle machine needs a fraction
of that. ``--ids`` / ``--settings`` / ``--agents`` with ``--update`` re-run part of the table.

Usage:
    python bench/baselines.py [--budget 20000] [--jobs 2] [--json bench/results/baselines.json]
    python bench/baselines.py --ids reasongym/LightsOutDiscrete-v0 --budget 5000   # one id, quick
    python bench/baselines.py --ids reasongym/SudokuDiscrete-v0 --settings easiest,aided --update
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


def aided_kwargs(env_id: str) -> dict[str, Any] | None:
    """The easiest setting's keys that a curriculum level may not change (``FIXED_KEYS``:
    observation/action aids such as Sudoku's ``pencil_marks``) at the default difficulty, or
    None when that is the default itself or the easiest setting (no curriculum to climb)."""
    from reasongym.envs.puzzles.variants import FIXED_KEYS

    easy = easiest_kwargs(env_id)
    aided = {k: v for k, v in easy.items() if k in FIXED_KEYS}
    if not aided or aided == easy:
        return None
    return aided


def curriculum_levels(
    env_id: str, rungs: int = 4, base: dict[str, Any] | None = None
) -> list[dict[str, Any]] | None:
    """Geometric ladder of the easiest knobs (``max_turns`` included) up to the values of
    ``gym.make(env_id, **base)``, or None when every easiest knob is one a curriculum level
    may not change (``FIXED_KEYS``: ``size`` fixes the observation shape)."""
    from reasongym.envs.puzzles.variants import FIXED_KEYS

    easy = {k: v for k, v in easiest_kwargs(env_id).items() if k not in FIXED_KEYS}
    if not easy:
        return None
    env = _make(env_id, **(base or {}))
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

    checks: list[tuple[int, float] | tuple[int, float, int]] = []
    level: list[int] = []  # the curriculum's level in the training env's latest info

    class Checkpoints(BaseCallback):
        def _on_step(self) -> bool:
            info = self.locals.get("infos", [{}])[0]
            if "curriculum" in info:
                level[:] = [int(info["curriculum"]["level"])]
            if self.num_timesteps % cfg.eval_every == 0:
                rate = _success_rate(job.env_id, job.env_kwargs, act, cfg.eval_episodes)
                checks.append((self.num_timesteps, rate, *level))  # (steps, success[, level])
                if rate >= 0.9 and row["steps_to_90"] is None:
                    row["steps_to_90"] = self.num_timesteps
            return True

    model.learn(total_timesteps=cfg.budget, callback=Checkpoints())
    row["checks"] = checks
    if level:
        row["curriculum_level"] = level[0]  # reached by the end of training (0 = first)
    row["success"] = _success_rate(job.env_id, job.env_kwargs, act, cfg.final_episodes)
    row["seconds"] = time.perf_counter() - start
    train_env.close()
    return row


SETTINGS = ("default", "easiest", "aided")
AGENTS = ("random", "ppo", "dqn", "ppo+curriculum")


def plan(ids: list[str], agents: list[str], settings: tuple[str, ...] = SETTINGS) -> list[Job]:
    """Every row of the table, in print order."""
    jobs = []
    for env_id in ids:
        easy, aided = easiest_kwargs(env_id), aided_kwargs(env_id)
        for setting, kwargs in (("default", {}), ("easiest", easy), ("aided", aided)):
            if setting not in settings or kwargs is None:
                continue
            for agent in agents:
                if agent == "ppo+curriculum":
                    levels = curriculum_levels(env_id, base=kwargs)
                    if setting == "easiest" or levels is None:
                        continue
                    curriculum = {
                        "levels": levels,
                        "schedule": "success_rate",
                        "window": 20,
                        "promote_at": 0.8,
                    }
                    train = {**kwargs, "curriculum": curriculum}
                    jobs.append(Job(env_id, setting, agent, kwargs, train))
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
            levels = r["train_kwargs"]["curriculum"]["levels"]
            knobs += "; curriculum " + " > ".join(
                "/".join(str(v) for v in level.values()) for level in levels
            )
            if "curriculum_level" in r:
                knobs += f", reached {r['curriculum_level'] + 1} of {len(levels)}"
        s90 = f"{r['steps_to_90']:,}" if r["steps_to_90"] is not None else "-"
        lines.append(
            f"| {r['env_id'].removeprefix('reasongym/')} | {r['setting']} ({knobs}) | {r['agent']} "
            f"| {r['success']:.2f} | {s90} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def _merge(previous: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``previous`` rows with ``new`` ones replacing those of the same id, setting and agent,
    in table order."""
    key = lambda r: (r["env_id"], r["setting"], r["agent"])  # noqa: E731
    merged = {key(r): r for r in previous}
    merged.update({key(r): r for r in new})
    return sorted(
        merged.values(),
        key=lambda r: (r["env_id"], SETTINGS.index(r["setting"]), AGENTS.index(r["agent"])),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", nargs="*", default=None, help="default: every *Discrete-v0 id")
    parser.add_argument("--agents", default=",".join(AGENTS))
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument(
        "--update",
        action="store_true",
        help="merge these rows into the existing --json (same budget and seeds) instead of replacing it",
    )
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="*",
        default=[],
        help="run nothing: merge the rows of these result files into --json (same budget and seeds)",
    )
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
    previous: list[dict[str, Any]] = []
    commands: list[str] = []
    minutes = 0.0
    merging = args.update or bool(args.merge)
    for source in ([args.json] if merging and args.json.is_file() else []) + list(args.merge):
        saved = json.loads(source.read_text())
        if saved["config"] != asdict(cfg):
            parser.error(f"{source} was made with {saved['config']}, not {asdict(cfg)}")
        previous = _merge(previous, saved["rows"])
        made_by = saved.get("commands") or ([saved["command"]] if "command" in saved else [])
        commands += [c for c in made_by if c not in commands]
        minutes += float(saved.get("minutes", 0.0))
    jobs = []
    if not args.merge:
        ids = args.ids or discrete_ids()
        jobs = plan(ids, args.agents.split(","), tuple(args.settings.split(",")))
        commands.append(
            "python bench/baselines.py " + " ".join(argv if argv is not None else sys.argv[1:])
        )
    start = time.perf_counter()
    # the learners first (longest), so the pool's tail is short
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].agent == "random")
    results: dict[int, dict[str, Any]] = {}
    if jobs:
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {i: pool.submit(run_job, jobs[i], cfg) for i in order}
            for i in order:
                r = results[i] = futures[i].result()
                print(
                    f"done {r['env_id']} {r['setting']} {r['agent']}: "
                    f"{r['success']:.2f} ({r['seconds']:.0f} s)",
                    flush=True,
                )
    rows = _merge(previous, [results[i] for i in range(len(jobs))])
    minutes += (time.perf_counter() - start) / 60
    print(f"\n{table(rows)}\n")
    print(
        f"{len(rows)} rows, {minutes:.1f} min of wall time; budget {cfg.budget:,} steps; made by:"
    )
    for command in commands:
        print(f"    {command.strip()}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    data = {"config": asdict(cfg), "commands": commands, "minutes": minutes, "rows": rows}
    args.json.write_text(json.dumps(data, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
