"""Train PPO on the easiest Maze and save the model, TensorBoard logs and a learning curve.

    python examples/train_maze_ppo.py --steps 20000 --out runs/maze_ppo
    tensorboard --logdir runs/maze_ppo/tb

Needs the ``rl`` extra: ``pip install 'reasongym[rl]'``. The same run from the command line:
``reasongym train sb3 reasongym/MazeDiscrete-v0 --env-kwargs '{"size": 5}' --steps 20000``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reasongym.train.sb3 import SB3Config, train


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=20_000, help="env steps to train")
    parser.add_argument("--size", type=int, default=5, help="maze side (odd; 5 is the easiest)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/maze_ppo"))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()

    config = SB3Config(
        env_id="reasongym/MazeDiscrete-v0",  # one-hot board, Discrete(4) moves
        env_kwargs={"size": args.size, "max_turns": 4 * args.size},  # short: wandering does not pay
        algo="ppo",
        steps=args.steps,
        seed=args.seed,
        out=args.out,
        eval_every=max(args.steps // 10, 1_000),  # up to ten greedy evaluations on the way
        eval_episodes=50,
        progress_bar=not args.no_progress,
    )
    result = train(config)

    for steps, success, mean_return in result.evaluations:
        print(f"{steps:>8} steps: greedy success {success:.2f}, mean return {mean_return:+.2f}")
    print(f"learning curve: {result.curve_path}")
    print(f"TensorBoard:    tensorboard --logdir {result.tensorboard_dir}")


if __name__ == "__main__":
    main()
