"""Dyna: learn a world model from real steps, train the policy inside it, repeat.

    reasongym train dyna reasongym/MazeDiscrete-v0 --env-kwargs '{"size": 5}' \
        --max-episode-steps 20 --target-success 0.9 --out runs/dyna-maze

Each iteration:

1. act in the real env (the first iteration: ``initial_steps`` uniformly random steps; then
   ``steps_per_iter`` steps of the current PPO policy, sampled) and record every step
   (:class:`~reasongym.world_models.data.RecordTransitions`, ``DIR/data``);
2. refit the :class:`~reasongym.world_models.grid.GridDynamicsModel` on all real data so far
   (warm-started; an episode-level validation split picks the best epoch);
3. train PPO for ``model_steps_per_iter`` steps inside the model
   (:class:`~reasongym.world_models.env.WorldModelEnv`, the real env's spaces, start states
   from real resets);
4. evaluate the greedy policy on ``eval_episodes`` real episodes on fixed seeds (the same
   seeds and rule as :mod:`reasongym.train.sb3`: evaluation steps are not counted, for
   either method) and stop once it reaches ``target_success``.

The run logs, per iteration, the real steps used so far, the model steps, the model's
validation exactness and the real success rate; ``DIR/summary.json`` and
``DIR/dyna_curve.png`` (success against real steps) are written at the end, with the
world model in ``DIR/world_model`` and the policy in ``DIR/policy.zip``.
Needs the ``rl`` extra (torch, stable-baselines3).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from reasongym.envs.base import EnvConfig as ConfigModel


class DynaConfig(ConfigModel):
    """One Dyna run.

    Attributes:
        env_id: a puzzle id in discrete mode (e.g. ``reasongym/MazeDiscrete-v0``).
        out: run folder (must not hold an earlier run's data).
        env_kwargs: overrides of the id's YAML kwargs.
        max_episode_steps: override of the id's time limit (real env and model alike).
        seed: seeds data collection, the model, PPO and the evaluation episodes.
        initial_steps: random-policy real steps before the first model fit.
        steps_per_iter: real steps collected with the current policy each later iteration.
        model_steps_per_iter: PPO steps inside the world model each iteration.
        max_real_steps: stop collecting after this many real steps in total.
        max_iterations: stop after this many iterations.
        n_envs: parallel world-model envs for PPO.
        eval_episodes: greedy real episodes per evaluation.
        target_success: stop once an evaluation reaches this success rate (None: never).
        val_fraction: share of real episodes held out to pick the model's best epoch.
        model: ``GridModelConfig`` fields for the world model (e.g. ``{"epochs": 10}``).
        hyperparams: PPO keyword arguments over ``reasongym.train.sb3.PPO_DEFAULTS``.
        progress: print one line per iteration.
    """

    env_id: str
    out: Path = Path("runs/dyna")
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    max_episode_steps: int | None = None
    seed: int = 0
    initial_steps: int = 256
    steps_per_iter: int = 128
    model_steps_per_iter: int = 8192
    max_real_steps: int = 20_000
    max_iterations: int = 40
    n_envs: int = 4
    eval_episodes: int = 50
    target_success: float | None = 0.9
    val_fraction: float = 0.1
    model: dict[str, Any] = Field(default_factory=lambda: {"epochs": 10})
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    progress: bool = True

    @model_validator(mode="after")
    def _check(self) -> DynaConfig:
        if min(self.initial_steps, self.steps_per_iter, self.model_steps_per_iter) < 1:
            raise ValueError("initial_steps, steps_per_iter and model_steps_per_iter must be >= 1")
        if self.target_success is not None and self.eval_episodes < 1:
            raise ValueError("target_success needs evaluations: set eval_episodes >= 1")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError("val_fraction must be in (0, 1)")
        return self

    def __init__(self, env_id: str | None = None, /, **data: Any):
        """``env_id`` may be given positionally, as in ``SB3Config("reasongym/MazeDiscrete-v0")``."""
        if env_id is not None:
            data["env_id"] = env_id
        super().__init__(**data)


@dataclass
class DynaResult:
    """What a run did.

    Attributes:
        real_steps: real env steps used (all of them were recorded for the model).
        real_steps_to_target: real steps when an evaluation first reached the target.
        model_steps: PPO steps taken inside the world model.
        start_resets: real resets the world model used as episode starts (instance
            generation only; no real steps).
        iterations: one dict per iteration (see the module docstring).
        eval_success: success rate of the last evaluation.
    """

    out: Path
    real_steps: int
    real_steps_to_target: int | None
    model_steps: int
    start_resets: int
    iterations: list[dict[str, Any]]
    eval_success: float | None
    wall_time_s: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def train_dyna(config: DynaConfig) -> DynaResult:
    """Run the Dyna loop; see the module docstring."""
    import numpy as np
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.utils import set_random_seed

    from reasongym.train.sb3 import PPO_DEFAULTS, SB3Config, evaluate, make_env
    from reasongym.world_models.data import RecordTransitions, TransitionDataset
    from reasongym.world_models.env import WorldModelEnv
    from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig

    out = config.out
    data_dir = out / "data"
    if (data_dir / "meta.json").exists():
        raise FileExistsError(f"{out} holds an earlier Dyna run; choose a new --out")
    out.mkdir(parents=True, exist_ok=True)
    # --- seeding: everything random in the run derives from config.seed ---------------------
    set_random_seed(config.seed)
    torch.set_num_threads(1)
    eval_seed = 1_000_000 + 1000 * config.seed  # the seeds reasongym.train.sb3 evaluates on
    rng = np.random.default_rng(config.seed)
    # ------------------------------------------------------------------------------------------
    sb3_config = SB3Config(
        config.env_id,
        env_kwargs=config.env_kwargs,
        max_episode_steps=config.max_episode_steps,
        eval_episodes=max(1, config.eval_episodes),
        progress_bar=False,
        seed=config.seed,
    )
    real = RecordTransitions(make_env(sb3_config), data_dir, policy="dyna")
    real.action_space.seed(int(rng.integers(2**31)))
    model_kwargs = {"seed": config.seed, **config.model}
    episode_seed = [int(rng.integers(2**31))]

    def run_real(steps: int, policy: Any) -> None:
        """``steps`` real steps with ``policy(obs)`` (None: uniformly random), recorded."""
        obs, _ = real.reset(seed=episode_seed[0])
        episode_seed[0] += 1
        for _ in range(steps):
            action = real.action_space.sample() if policy is None else policy(obs)
            obs, _, terminated, truncated, _ = real.step(action)
            if terminated or truncated:
                obs, _ = real.reset(seed=episode_seed[0])
                episode_seed[0] += 1
        real.flush()

    world_model: GridDynamicsModel | None = None
    ppo = None
    wm_envs: list[WorldModelEnv] = []
    iterations: list[dict[str, Any]] = []
    reached: int | None = None
    success: float | None = None
    start = time.perf_counter()
    try:
        for iteration in range(config.max_iterations):
            t0 = time.perf_counter()
            if iteration == 0:
                run_real(config.initial_steps, None)
            else:
                run_real(config.steps_per_iter, _sampler(ppo))
            real_steps = real.meta.transitions
            dataset = TransitionDataset.load(data_dir)
            if len(np.unique(dataset.episode)) >= 4:
                train, val = dataset.split(config.val_fraction, seed=config.seed + iteration)
            else:
                train, val = dataset, None
            if world_model is None:
                world_model = GridDynamicsModel.for_dataset(
                    dataset, GridModelConfig(**model_kwargs)
                )
            fit = world_model.fit(train, val)

            if ppo is None:

                def make_wm_env(model: GridDynamicsModel = world_model) -> WorldModelEnv:
                    env = WorldModelEnv(
                        model,
                        config.env_id,
                        env_kwargs=config.env_kwargs,
                        max_episode_steps=config.max_episode_steps,
                    )
                    wm_envs.append(env)
                    return env

                vec = make_vec_env(make_wm_env, n_envs=config.n_envs, seed=config.seed)
                ppo = PPO(
                    "MlpPolicy",
                    vec,
                    seed=config.seed,
                    device="cpu",
                    verbose=0,
                    **{**PPO_DEFAULTS, **config.hyperparams},
                )
            ppo.learn(config.model_steps_per_iter, reset_num_timesteps=False)
            if config.eval_episodes:
                success, mean_return = evaluate(ppo, sb3_config, config.eval_episodes, eval_seed)
            else:
                success, mean_return = None, None
            row = {
                "iteration": iteration,
                "real_steps": real_steps,
                "real_episodes": real.meta.episodes,
                "model_steps": int(ppo.num_timesteps),
                "model_val_all_exact": fit["val_all_exact"],
                "model_fit_epochs": fit["epochs"],
                "eval_success": success,
                "eval_return": mean_return,
                "wall_s": time.perf_counter() - t0,
            }
            iterations.append(row)
            if config.progress:
                print(
                    f"[dyna] iter {iteration}: real steps {real_steps}, model steps "
                    f"{row['model_steps']}, model exact {fit['val_all_exact']:.4f}, "
                    f"real success {success}",
                    flush=True,
                )
            if (
                config.target_success is not None
                and success is not None
                and success >= config.target_success
            ):
                reached = real_steps
                break
            if real_steps + config.steps_per_iter > config.max_real_steps:
                break
    finally:
        real.close()
    wall = time.perf_counter() - start
    if world_model is not None:
        world_model.save(out / "world_model")
    if ppo is not None:
        ppo.save(out / "policy.zip")
        ppo.get_env().close()
    result = DynaResult(
        out=out,
        real_steps=real.meta.transitions,
        real_steps_to_target=reached,
        model_steps=int(ppo.num_timesteps) if ppo is not None else 0,
        start_resets=sum(env.real_resets for env in wm_envs),
        iterations=iterations,
        eval_success=success,
        wall_time_s=wall,
    )
    config_dict = config.model_dump(mode="json")
    (out / "summary.json").write_text(
        json.dumps({"config": config_dict, "result": result.to_dict()}, indent=2)
    )
    plot_dyna_curve(iterations, out / "dyna_curve.png", title=f"Dyna on {config.env_id}")
    return result


def _sampler(ppo: Any) -> Any:
    """The policy's stochastic action for one observation (how Dyna explores the real env)."""
    return lambda obs: int(ppo.predict(obs, deterministic=False)[0])


def plot_dyna_curve(iterations: list[dict[str, Any]], path: Path, title: str = "") -> None:
    """Save greedy real success against real env steps used (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [
        (r["real_steps"], r["eval_success"]) for r in iterations if r["eval_success"] is not None
    ]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    if points:
        steps, success = zip(*points, strict=True)
        ax.plot(steps, success, "o-", color="tab:green", label="Dyna (greedy, real env)")
    ax.set(xlabel="real env steps", ylabel="success rate", ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- command line -----------------------------------------------------------------------------
def add_dyna_parser(train_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``dyna`` parser to the subparsers of a ``train`` command (options not given keep
    the ``--config`` YAML's value, else :class:`DynaConfig`'s default)."""
    p = train_subparsers.add_parser(
        "dyna",
        help="Dyna: PPO trained inside a world model refitted on real steps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    from reasongym.train.sb3 import add_env_arguments

    add_env_arguments(p)
    p.add_argument("--out", type=Path, help="run folder (default runs/dyna)")
    p.add_argument("--initial-steps", type=int, help="random real steps first (default 256)")
    p.add_argument("--steps-per-iter", type=int, help="real steps per iteration (default 128)")
    p.add_argument(
        "--model-steps", type=int, help="PPO steps in the model per iteration (default 8192)"
    )
    p.add_argument("--max-real-steps", type=int, help="default 20000")
    p.add_argument("--max-iterations", type=int, help="default 40")
    p.add_argument("--eval-episodes", type=int, help="default 50")
    p.add_argument("--target-success", type=float, help="stop at this success (default 0.9)")
    p.add_argument("--model", metavar="JSON", help="GridModelConfig fields, e.g. '{\"epochs\": 5}'")
    p.add_argument("--quiet", action="store_true", help="no per-iteration lines")
    p.set_defaults(func=_cmd_dyna, trainer="dyna")
    return p


DYNA_FLAGS = {
    "out": "out",
    "initial_steps": "initial_steps",
    "steps_per_iter": "steps_per_iter",
    "model_steps": "model_steps_per_iter",
    "max_real_steps": "max_real_steps",
    "max_iterations": "max_iterations",
    "eval_episodes": "eval_episodes",
    "target_success": "target_success",
}


def _cmd_dyna(args: argparse.Namespace) -> int:
    from reasongym.train.sb3 import ENV_FLAGS, config_from_args

    fixed: dict[str, Any] = {"progress": False} if getattr(args, "quiet", False) else {}
    if getattr(args, "model", None):
        try:
            fields = json.loads(args.model)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"train dyna: --model is not JSON: {exc}") from None
        defaults = DynaConfig.model_fields["model"].default_factory()
        fixed["model"] = {**defaults, **fields}
    config = config_from_args(DynaConfig, args, {**ENV_FLAGS, **DYNA_FLAGS}, **fixed)
    result = train_dyna(config)
    print(
        f"Dyna on {config.env_id}: {result.real_steps} real steps, {result.model_steps} model "
        f"steps, {len(result.iterations)} iterations in {result.wall_time_s:.1f}s; "
        f"greedy real success {result.eval_success}"
    )
    if result.real_steps_to_target is not None:
        print(
            f"reached success {config.target_success} after {result.real_steps_to_target} real steps"
        )
    print(f"summary: {result.out / 'summary.json'}\ncurve:   {result.out / 'dyna_curve.png'}")
    return 0
