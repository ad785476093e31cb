"""Train Stable-Baselines3 PPO or DQN on a reasongym id, with the artefacts a run should leave.

    reasongym train sb3 reasongym/MazeDiscrete-v0 --algo ppo --steps 50000 --out runs/maze

writes ``DIR/model.zip``, TensorBoard logs (``DIR/tb``, ``tensorboard --logdir DIR/tb``),
SB3 monitor CSVs (``DIR/monitor``), ``DIR/learning_curve.png`` (episode return and success
rate against env steps) and ``DIR/summary.json``. From Python::

    from reasongym.train.sb3 import SB3Config, train
    result = train(SB3Config("reasongym/MazeDiscrete-v0", steps=20_000, out=Path("runs/maze")))

SB3 needs array observations and a Discrete/Box action space: use the ``...Discrete-v0`` ids
or pass ``env_kwargs={"observation_mode": "onehot", "action_mode": "discrete"}``. Needs the
``rl`` extra (``pip install 'reasongym[rl]'``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from reasongym.envs.base import EnvConfig as ConfigModel

#: Defaults tuned for the small puzzles (short episodes, tiny observations): SB3's own
#: defaults (2048-step rollouts) learn far slower on a budget of a few thousand steps.
PPO_DEFAULTS: dict[str, Any] = {
    "n_steps": 128,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "ent_coef": 0.01,
}
DQN_DEFAULTS: dict[str, Any] = {
    "learning_rate": 5e-4,
    "buffer_size": 50_000,
    "learning_starts": 1_000,
    "train_freq": 4,
    "target_update_interval": 500,
    "exploration_fraction": 0.3,
    "exploration_final_eps": 0.05,
}


class SB3Config(ConfigModel):
    """One training run.

    Attributes:
        env_id: a registered id with array observations and discrete actions.
        algo: ``ppo`` or ``dqn``.
        steps: real env steps to train for (summed over the parallel envs).
        out: folder for the model, logs, curve and summary.
        seed: seeds the envs, the policy and the evaluation episodes.
        n_envs: parallel envs for PPO (DummyVecEnv, one process); DQN always uses 1.
        env_kwargs: overrides of the id's YAML kwargs (e.g. ``{"size": 5}``).
        max_episode_steps: override of the id's time limit.
        eval_every: run ``eval_episodes`` greedy episodes every this many steps (0: only at
            the end). Evaluation steps are not counted in ``steps``.
        eval_episodes: greedy episodes per evaluation, on fixed seeds (0: no evaluation).
        target_success: stop once an evaluation reaches this success rate (e.g. 0.9).
        hyperparams: extra keyword arguments for the SB3 algorithm (over the defaults above).
        progress_bar: show SB3's progress bar (tqdm + rich).
        threads: torch CPU threads; 1 is fastest for these tiny networks.
        device: torch device.
    """

    env_id: str
    algo: Literal["ppo", "dqn"] = "ppo"
    steps: int = 50_000
    out: Path = Path("runs/sb3")
    seed: int = 0
    n_envs: int = 4
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    max_episode_steps: int | None = None
    eval_every: int = 0
    eval_episodes: int = 50
    target_success: float | None = None
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    progress_bar: bool = True
    threads: int = 1
    device: str = "cpu"

    @model_validator(mode="after")
    def _check(self) -> SB3Config:
        if self.algo not in ("ppo", "dqn"):
            raise ValueError(f"algo must be 'ppo' or 'dqn', not {self.algo!r}")
        if self.steps <= 0 or self.n_envs <= 0:
            raise ValueError("steps and n_envs must be positive")
        if self.target_success is not None and self.eval_episodes <= 0:
            raise ValueError("target_success needs evaluations: set eval_episodes > 0")
        return self

    def __init__(self, env_id: str | None = None, /, **data: Any):
        """``env_id`` may be given positionally, as in ``SB3Config("reasongym/MazeDiscrete-v0")``."""
        if env_id is not None:
            data["env_id"] = env_id
        super().__init__(**data)


@dataclass
class SB3Result:
    """What a run produced.

    Attributes:
        steps: env steps actually trained (less than asked when the target was reached).
        steps_to_target: env steps when an evaluation first reached ``target_success``.
        episodes: training episodes finished.
        train_success: success rate of the last 100 training episodes.
        eval_success: success rate of the last evaluation (None if none ran).
        evaluations: ``[(steps, success_rate, mean_return), ...]``.
    """

    out: Path
    model_path: Path
    curve_path: Path
    tensorboard_dir: Path
    steps: int
    steps_to_target: int | None
    episodes: int
    train_success: float
    eval_success: float | None
    evaluations: list[tuple[int, float, float]]
    wall_time_s: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def make_env(config: SB3Config, seed: int | None = None):
    """One env of the run (gymnasium.make with the run's overrides)."""
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the ids

    kwargs = dict(config.env_kwargs)
    if config.max_episode_steps is not None:
        kwargs["max_episode_steps"] = config.max_episode_steps
    env = gym.make(config.env_id, **kwargs)
    _check_spaces(config.env_id, env)
    if seed is not None:
        env.reset(seed=seed)
    return env


def _check_spaces(env_id: str, env) -> None:
    from gymnasium import spaces

    def array_space(space) -> bool:
        if isinstance(space, spaces.Dict):
            return all(array_space(s) for s in space.spaces.values())
        return isinstance(
            space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
        )

    if not array_space(env.observation_space) or not isinstance(
        env.action_space, (spaces.Discrete, spaces.MultiDiscrete, spaces.Box)
    ):
        raise ValueError(
            f"{env_id} has observation space {env.observation_space} and action space "
            f"{env.action_space}; Stable-Baselines3 needs arrays and discrete or box actions. "
            "Use a ...Discrete-v0 id (e.g. reasongym/MazeDiscrete-v0) or pass env_kwargs "
            '{"observation_mode": "onehot", "action_mode": "discrete"}.'
        )


def evaluate(model, config: SB3Config, episodes: int, seed: int) -> tuple[float, float]:
    """Greedy success rate and mean return over ``episodes`` episodes on fixed seeds.

    The episodes run side by side so that each policy forward pass serves all of them.
    """
    import numpy as np

    envs = [make_env(config) for _ in range(episodes)]
    obs = [env.reset(seed=seed + k)[0] for k, env in enumerate(envs)]
    active, wins, total = list(range(episodes)), 0, 0.0
    try:
        while active:
            if isinstance(obs[0], dict):
                batch = {key: np.stack([obs[i][key] for i in active]) for key in obs[0]}
            else:
                batch = np.stack([obs[i] for i in active])  # (n_active, *obs_shape)
            actions, _ = model.predict(batch, deterministic=True)
            still = []
            for i, action in zip(active, actions, strict=True):
                obs[i], reward, terminated, truncated, info = envs[i].step(action)
                total += float(reward)
                if terminated or truncated:
                    wins += bool(info.get("is_success", False))
                else:
                    still.append(i)
            active = still
    finally:
        for env in envs:
            env.close()
    return wins / episodes, total / episodes


def train(config: SB3Config) -> SB3Result:
    """Train, evaluate and save; see the module docstring for what lands in ``config.out``."""
    import torch
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.preprocessing import is_image_space
    from stable_baselines3.common.utils import set_random_seed

    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    # --- seeding: everything random in the run derives from config.seed ---------------------
    set_random_seed(config.seed)
    torch.set_num_threads(config.threads)
    eval_seed = 1_000_000 + 1000 * config.seed  # disjoint from the training seeds
    # ------------------------------------------------------------------------------------------

    n_envs = config.n_envs if config.algo == "ppo" else 1
    vec_env = make_vec_env(
        lambda: make_env(config),
        n_envs=n_envs,
        seed=config.seed,
        monitor_dir=str(out / "monitor"),
        monitor_kwargs={"info_keywords": ("is_success",)},
    )
    obs_space = vec_env.observation_space
    if hasattr(obs_space, "spaces"):
        policy = "MultiInputPolicy"
    elif is_image_space(obs_space):
        policy = "CnnPolicy"
    else:
        policy = "MlpPolicy"
    algo_cls, defaults = (PPO, PPO_DEFAULTS) if config.algo == "ppo" else (DQN, DQN_DEFAULTS)
    model = algo_cls(
        policy,
        vec_env,
        seed=config.seed,
        device=config.device,
        tensorboard_log=str(out / "tb"),
        verbose=0,
        **{**defaults, **config.hyperparams},
    )

    episodes: list[tuple[int, float, bool]] = []  # (steps, return, success) per episode
    evaluations: list[tuple[int, float, float]] = []
    reached: list[int] = []

    class Tracker(BaseCallback):
        """Collects finished episodes, runs the periodic evaluations, stops at the target."""

        def __init__(self) -> None:
            super().__init__()
            self.recent: deque[bool] = deque(maxlen=100)
            self.next_eval = config.eval_every or float("inf")  # 0: evaluate at the end only

        def _on_step(self) -> bool:
            for info, done in zip(self.locals["infos"], self.locals["dones"], strict=True):
                if done and "episode" in info:
                    success = bool(info.get("is_success", False))
                    episodes.append((self.num_timesteps, float(info["episode"]["r"]), success))
                    self.recent.append(success)
            if self.recent:
                self.logger.record("rollout/success_rate_100", sum(self.recent) / len(self.recent))
            if config.eval_episodes and self.num_timesteps >= self.next_eval:
                self.next_eval += config.eval_every
                return self._evaluate()
            return True

        def _evaluate(self) -> bool:
            rate, mean_return = evaluate(self.model, config, config.eval_episodes, eval_seed)
            evaluations.append((self.num_timesteps, rate, mean_return))
            self.logger.record("eval/success_rate", rate)
            self.logger.record("eval/mean_return", mean_return)
            if config.target_success is not None and rate >= config.target_success:
                reached.append(self.num_timesteps)
                return False  # stop training: the target is reached
            return True

    tracker = Tracker()
    start = time.perf_counter()
    model.learn(
        total_timesteps=config.steps,
        callback=tracker,
        progress_bar=config.progress_bar,
        tb_log_name=config.algo,
    )
    if (
        config.eval_episodes
        and not reached
        and (not evaluations or evaluations[-1][0] != model.num_timesteps)
    ):
        tracker._evaluate()
    wall = time.perf_counter() - start
    vec_env.close()

    model_path = out / "model.zip"
    model.save(model_path)
    curve_path = out / "learning_curve.png"
    plot_learning_curve(
        episodes, evaluations, curve_path, title=f"{config.algo.upper()} on {config.env_id}"
    )
    recent = [s for _, _, s in episodes[-100:]]
    result = SB3Result(
        out=out,
        model_path=model_path,
        curve_path=curve_path,
        tensorboard_dir=out / "tb",
        steps=int(model.num_timesteps),
        steps_to_target=reached[0] if reached else None,
        episodes=len(episodes),
        train_success=sum(recent) / len(recent) if recent else 0.0,
        eval_success=evaluations[-1][1] if evaluations else None,
        evaluations=evaluations,
        wall_time_s=wall,
    )
    summary = {"config": config.model_dump(mode="json"), "result": result.to_dict()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return result


def plot_learning_curve(
    episodes: list[tuple[int, float, bool]],
    evaluations: list[tuple[int, float, float]],
    path: Path,
    title: str = "",
    window: int = 50,
) -> None:
    """Save a two-panel PNG: episode return and success rate against env steps.

    Args:
        episodes: ``(env_steps_at_end, return, success)`` per training episode.
        evaluations: ``(env_steps, success_rate, mean_return)`` per greedy evaluation.
        window: episodes in the rolling mean of the training curves.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on training machines
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (ax_r, ax_s) = plt.subplots(1, 2, figsize=(10, 3.6))
    if episodes:
        steps = np.array([e[0] for e in episodes])
        returns = np.array([e[1] for e in episodes])
        success = np.array([e[2] for e in episodes], float)
        kernel = np.ones(min(window, len(episodes))) / min(window, len(episodes))
        smooth_r = np.convolve(returns, kernel, mode="valid")
        smooth_s = np.convolve(success, kernel, mode="valid")
        ax_r.plot(steps, returns, ".", alpha=0.15, color="tab:blue")
        ax_r.plot(
            steps[len(steps) - len(smooth_r) :], smooth_r, color="tab:blue", label="train (rolling)"
        )
        ax_s.plot(
            steps[len(steps) - len(smooth_s) :], smooth_s, color="tab:blue", label="train (rolling)"
        )
    if evaluations:
        ev = np.array(evaluations)
        ax_s.plot(ev[:, 0], ev[:, 1], "o-", color="tab:orange", label="greedy eval")
        ax_r.plot(ev[:, 0], ev[:, 2], "o-", color="tab:orange", label="greedy eval")
    ax_r.set(xlabel="env steps", ylabel="episode return")
    ax_s.set(xlabel="env steps", ylabel="success rate", ylim=(-0.02, 1.02))
    for ax in (ax_r, ax_s):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- command line -----------------------------------------------------------------------------
def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command (with ``sb3`` among its trainers): the same as
    :func:`reasongym.train.cli.add_subcommands`, which builds it."""
    from reasongym.train.cli import add_subcommands as add_train

    add_train(subparsers)


def add_env_arguments(p: argparse.ArgumentParser) -> None:
    """The env and algorithm options ``train sb3`` and ``train dyna`` share. Like every
    option of these two commands they have no argparse default: an option not given keeps the
    ``--config`` YAML's value, else the config model's default (one source of defaults)."""
    p.add_argument(
        "env_id", nargs="?", help="e.g. reasongym/MazeDiscrete-v0 (or env_id in --config)"
    )
    p.add_argument(
        "--config",
        type=Path,
        help="run YAML of the config's fields; options given here override it",
    )
    p.add_argument("--env-kwargs", metavar="JSON", help="env overrides, e.g. '{\"size\": 5}'")
    p.add_argument("--max-episode-steps", type=int, help="override the time limit")
    p.add_argument("--seed", type=int)
    p.add_argument("--hp", metavar="JSON", help="PPO/DQN kwargs, e.g. '{\"gamma\": 0.95}'")


#: argparse dest -> config field, for the options both commands share (JSON ones decoded).
ENV_FLAGS = {
    "env_id": "env_id",
    "env_kwargs": "env_kwargs",
    "max_episode_steps": "max_episode_steps",
    "seed": "seed",
    "hp": "hyperparams",
}
JSON_FLAGS = ("env_kwargs", "hp", "model")


def config_from_args(
    cls: type, args: argparse.Namespace, flags: dict[str, str], **fixed: Any
) -> Any:
    """The run config of ``cls``: the ``--config`` YAML (if any), then the options given on
    the command line (``flags``: dest -> field), then ``fixed``; an invalid result exits
    with every problem named by key."""
    from pydantic import ValidationError

    from reasongym.train.run_config import load_config, validation_problems

    command = f"train {args.trainer}"
    data: dict[str, Any] = {}
    if getattr(args, "config", None) is not None:
        data = load_config(cls, args.config).model_dump(mode="json")
    for dest, name in flags.items():
        if not hasattr(args, dest) or getattr(args, dest) is None:
            continue
        value = getattr(args, dest)
        if dest in JSON_FLAGS:
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise SystemExit(
                    f"{command}: --{dest.replace('_', '-')} is not JSON: {exc}"
                ) from None
        data[name] = value
    data.update(fixed)
    if not data.get("env_id"):
        raise SystemExit(f"{command}: give an ENV_ID, or a --config YAML with env_id")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{k or 'config'}: {m}" for k, m in validation_problems(cls, exc))
        raise SystemExit(f"{command}: {problems}") from None


def add_sb3_parser(train_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``sb3`` parser to the subparsers of a ``train`` command."""
    p = train_subparsers.add_parser(
        "sb3",
        help="Stable-Baselines3 PPO/DQN on a discrete-mode id",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    add_env_arguments(p)
    p.add_argument("--algo", choices=["ppo", "dqn"], help="default ppo")
    p.add_argument("--steps", type=int, help="env steps to train (default 50000)")
    p.add_argument("--out", type=Path, help="output folder (default runs/sb3)")
    p.add_argument("--n-envs", type=int, help="parallel envs for PPO (default 4)")
    p.add_argument(
        "--eval-every", type=int, help="greedy evaluation period in steps (default 0: at the end)"
    )
    p.add_argument("--eval-episodes", type=int, help="episodes per evaluation (default 50)")
    p.add_argument("--target-success", type=float, help="stop at this evaluation success rate")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train_sb3, trainer="sb3")
    return p


SB3_FLAGS = {
    **ENV_FLAGS,
    "algo": "algo",
    "steps": "steps",
    "out": "out",
    "n_envs": "n_envs",
    "eval_every": "eval_every",
    "eval_episodes": "eval_episodes",
    "target_success": "target_success",
}


def _cmd_train_sb3(args: argparse.Namespace) -> int:
    fixed = {"progress_bar": False} if getattr(args, "no_progress", False) else {}
    config = config_from_args(SB3Config, args, SB3_FLAGS, **fixed)
    result = train(config)
    print(
        f"{config.algo.upper()} on {config.env_id}: {result.steps} steps, {result.episodes} episodes "
        f"in {result.wall_time_s:.1f}s; train success (last 100) {result.train_success:.2f}"
        + (
            f", greedy eval success {result.eval_success:.2f}"
            if result.eval_success is not None
            else ""
        )
    )
    if result.steps_to_target is not None:
        print(f"reached success {config.target_success} after {result.steps_to_target} steps")
    print(
        f"model: {result.model_path}\ncurve: {result.curve_path}\nlogs:  tensorboard --logdir {result.tensorboard_dir}"
    )
    return 0
