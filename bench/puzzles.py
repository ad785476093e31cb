"""Puzzle env throughput and PPO sample efficiency, with minigrid measured in the same run.

Measures, in one process (one core):
  * steps/s of every puzzle in discrete mode with no render (``gym.make`` of the
    ``...Discrete-v0`` ids: one-hot and integer-grid observations, random actions, resets
    included) — target >= 20,000 for Maze and SlidingPuzzle;
  * frames/s with 84x84 rgb image observations (``observation_mode="image"``) — target
    >= 3,000;
  * steps/s in text mode (multimodal observation: prompt text + 84x84 image), and resets/s
    (instance generation with its optimality proof);
  * the same for minigrid's MiniGrid-Empty-8x8-v0 (its default 7x7 egocentric observation, and
    80x80 rgb frames through ``RGBImgObsWrapper(tile_size=10)``);
  * PPO (Stable-Baselines3, ``reasongym.train.sb3`` defaults): env steps until the greedy
    policy solves 90% of 50 held-out easiest mazes (size 5, 20-step limit), over 3 seeds.

Usage:
    python bench/puzzles.py [--seconds 2] [--ppo-seeds 3] [--ppo-sizes 5 7] [--no-ppo] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import reasongym  # noqa: F401 - registers the ids

PUZZLES = ["Maze", "SlidingPuzzle", "Sokoban", "LightsOut", "Sudoku"]
TARGET_STEPS, TARGET_FRAMES = 20_000, 3_000


def steps_per_second(env: gym.Env, seconds: float, actions: list | None = None) -> float:
    """Random-action steps/s for about ``seconds`` (resets on episode end count as time)."""
    rng = np.random.default_rng(0)
    if actions is None:
        actions = rng.integers(env.action_space.n, size=4096).tolist()
    env.reset(seed=0)
    steps, start, k = 0, time.perf_counter(), 0
    deadline = start + seconds
    while True:
        for _ in range(256):
            _, _, terminated, truncated, _ = env.step(actions[k % len(actions)])
            k += 1
            if terminated or truncated:
                env.reset()
        steps += 256
        now = time.perf_counter()
        if now >= deadline:
            return steps / (now - start)


def resets_per_second(env: gym.Env, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.reset(seed=count)
        count += 1
    return count / (time.perf_counter() - start)


def bench_puzzles(seconds: float) -> list[dict]:
    rows = []
    for name in PUZZLES:
        env_id = f"reasongym/{name}Discrete-v0"
        row = {"env": env_id}
        row["onehot_steps_s"] = steps_per_second(gym.make(env_id), seconds)
        row["grid_steps_s"] = steps_per_second(gym.make(env_id, observation_mode="grid"), seconds)
        image = gym.make(env_id, observation_mode="image", image_size=84)
        row["image84_frames_s"] = steps_per_second(image, seconds)
        text = gym.make(env_id, observation_mode="multimodal", action_mode="text", image_size=84)
        row["text_steps_s"] = steps_per_second(text, seconds, actions=_text_actions(text))
        row["resets_s"] = resets_per_second(gym.make(env_id), seconds)
        rows.append(row)
        print(f"[bench] {env_id}: {row['onehot_steps_s']:,.0f} steps/s", flush=True)
    return rows


def _text_actions(env: gym.Env) -> list[str]:
    """Words for the text-mode run: the env's own move names for random discrete moves."""
    unwrapped = env.unwrapped
    rng = np.random.default_rng(0)
    return [unwrapped._move_text(int(m)) for m in rng.integers(unwrapped.num_actions, size=512)]


def bench_minigrid(seconds: float) -> dict | None:
    try:
        import minigrid  # noqa: F401 - registers MiniGrid-* ids
        from minigrid.wrappers import RGBImgObsWrapper
    except ImportError:
        print("[bench] minigrid is not installed (pip install minigrid): peer row skipped")
        return None
    env_id = "MiniGrid-Empty-8x8-v0"
    row = {"env": env_id}
    row["onehot_steps_s"] = None
    row["grid_steps_s"] = steps_per_second(gym.make(env_id), seconds)  # 7x7x3 symbolic view
    rgb = RGBImgObsWrapper(gym.make(env_id), tile_size=10)  # 80x80x3 full-grid frame
    row["image84_frames_s"] = steps_per_second(rgb, seconds)
    row["text_steps_s"] = None
    row["resets_s"] = resets_per_second(gym.make(env_id), seconds)
    print(f"[bench] {env_id}: {row['grid_steps_s']:,.0f} steps/s", flush=True)
    return row


def bench_ppo(seeds: int, size: int, out: Path) -> dict:
    """Env steps until greedy success >= 0.9 on held-out mazes (PPO, SB3 defaults of ours)."""
    from reasongym.train.sb3 import SB3Config, train

    limit = 4 * size
    reached, walls = [], []
    for seed in range(seeds):
        config = SB3Config(
            env_id="reasongym/MazeDiscrete-v0",
            env_kwargs={"size": size, "max_turns": limit},
            steps=200_000,
            seed=seed,
            out=out / f"ppo_maze{size}_seed{seed}",
            eval_every=256,
            eval_episodes=50,
            target_success=0.9,
            progress_bar=False,
        )
        result = train(config)
        reached.append(result.steps_to_target)
        walls.append(result.wall_time_s)
        print(
            f"[bench] PPO maze size {size} seed {seed}: {result.steps_to_target} steps", flush=True
        )
    ok = [r for r in reached if r is not None]
    return {
        "maze_size": size,
        "time_limit": limit,
        "steps_to_90": reached,
        "mean": statistics.mean(ok) if ok else None,
        "stdev": statistics.stdev(ok) if len(ok) > 1 else 0.0,
        "wall_s": walls,
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def print_table(rows: list[dict], ppo: list[dict]) -> None:
    columns = [
        ("onehot_steps_s", "discrete steps/s (one-hot)"),
        ("grid_steps_s", "discrete steps/s (grid)"),
        ("image84_frames_s", "rgb 84x84 frames/s"),
        ("text_steps_s", "text steps/s"),
        ("resets_s", "resets/s"),
    ]
    width = max(len(r["env"]) for r in rows) + 2
    print(
        f"\nPuzzle throughput, one process (targets: >= {TARGET_STEPS:,} steps/s for Maze and "
        f"SlidingPuzzle, >= {TARGET_FRAMES:,} rgb frames/s)"
    )
    print(f"{'env':<{width}}" + "".join(f"{title:>28}" for _, title in columns))
    for row in rows:
        print(f"{row['env']:<{width}}" + "".join(f"{_fmt(row[key]):>28}" for key, _ in columns))
    peer = next((r for r in rows if r["env"].startswith("MiniGrid")), None)
    if peer:
        print(
            "\nminigrid: 'grid' = its default 7x7x3 egocentric observation; rgb = 80x80 frames "
            "(RGBImgObsWrapper, tile 10)"
        )
        for row in rows:
            if row is not peer:
                ratio = row["grid_steps_s"] / peer["grid_steps_s"]
                frames = row["image84_frames_s"] / peer["image84_frames_s"]
                print(
                    f"  {row['env']:<{width}} {ratio:5.1f}x minigrid steps/s, {frames:5.1f}x its frames/s"
                )
    for result in ppo:
        steps = ", ".join(_fmt(s) for s in result["steps_to_90"])
        print(
            f"\nPPO on MazeDiscrete-v0 size {result['maze_size']} ({result['time_limit']}-step limit): "
            f"env steps to 90% greedy success: mean {_fmt(result['mean'])} ± {_fmt(result['stdev'])} "
            f"(seeds: {steps}; wall {sum(result['wall_s']):.0f}s total)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="time per throughput measurement"
    )
    parser.add_argument("--ppo-seeds", type=int, default=3)
    parser.add_argument("--ppo-sizes", type=int, nargs="+", default=[5], help="maze sizes for PPO")
    parser.add_argument("--no-ppo", action="store_true", help="skip the PPO measurement")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU")
    parser.add_argument(
        "--out", type=Path, default=Path("bench/results/puzzles"), help="PPO run folders"
    )
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})

    rows = bench_puzzles(args.seconds)
    peer = bench_minigrid(args.seconds)
    if peer:
        rows.append(peer)
    ppo = (
        []
        if args.no_ppo
        else [bench_ppo(args.ppo_seeds, size, args.out) for size in args.ppo_sizes]
    )
    print_table(rows, ppo)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"throughput": rows, "ppo": ppo}, indent=2))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
