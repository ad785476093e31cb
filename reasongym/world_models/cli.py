"""``reasongym wm collect|train|eval`` and ``reasongym train dyna``.

    reasongym wm collect reasongym/MazeDiscrete-v0 --policy oracle:0.5 --steps 20000 --out data/maze
    reasongym wm train data/maze --model grid --out models/maze
    reasongym wm eval models/maze --env reasongym/MazeDiscrete-v0 --policy oracle:0.5 \
        --shift-policy random --out models/maze/fidelity.json
    reasongym train dyna reasongym/MazeDiscrete-v0 --env-kwargs '{"size": 5}' --out runs/dyna

Code envs: collect answers with ``--policy code-mutants`` and train ``--model outcome``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``wm collect|train|eval`` (``train dyna`` is built with the other trainers by
    :func:`reasongym.train.cli.add_subcommands`)."""
    from reasongym.world_models.policies import POLICY_HELP

    wm = subparsers.add_parser("wm", help="world models: collect data, train, measure fidelity")
    sub = wm.add_subparsers(dest="wm_command", required=True)

    p = sub.add_parser("collect", help="record transitions of a policy in a real env")
    p.add_argument("env_id", help="e.g. reasongym/MazeDiscrete-v0")
    p.add_argument("--policy", default="random", help=POLICY_HELP)
    p.add_argument("--steps", type=int, default=10_000, help="env steps to record")
    p.add_argument("--out", type=Path, required=True, help="dataset folder (appended to)")
    p.add_argument("--seed", type=int, default=0, help="episode k is reset with seed + k")
    p.add_argument("--env-kwargs", metavar="JSON", help="env overrides, e.g. '{\"size\": 5}'")
    p.add_argument("--max-episode-steps", type=int, help="override the time limit")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_collect)

    p = sub.add_parser("train", help="fit a world model on a dataset")
    p.add_argument("data", type=Path, help="dataset folder (from wm collect)")
    p.add_argument("--model", choices=["grid", "outcome"], default="grid")
    p.add_argument("--out", type=Path, required=True, help="model folder")
    p.add_argument("--arch", choices=["conv", "mlp"], default="conv", help="grid model body")
    p.add_argument("--encoder", choices=["ngram", "minilm"], default="ngram", help="outcome")
    p.add_argument("--epochs", type=int, help="training epochs (default: the model's)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="episodes held out")
    p.add_argument("--config", metavar="JSON", help="more model config fields")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("eval", help="fidelity on fresh held-out and shifted data")
    p.add_argument("model_dir", type=Path)
    p.add_argument("--env", dest="env_id", help="env id (default: the model's)")
    p.add_argument(
        "--policy",
        help=f"held-out data policy (default random; code-mutants for outcome "
        f"models): {POLICY_HELP}",
    )
    p.add_argument("--shift-policy", help="a different policy (default: random or oracle)")
    p.add_argument("--steps", type=int, default=3000, help="steps per evaluation dataset")
    p.add_argument("--data", type=Path, help="evaluate on this dataset instead of collecting")
    p.add_argument("--env-kwargs", metavar="JSON", help="env overrides (default: the model's)")
    p.add_argument("--shift-env-kwargs", metavar="JSON", help="env overrides for shifted data")
    p.add_argument("--ks", type=int, nargs="+", default=[1, 5, 20], help="rollout lengths")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="JSON report (default: MODEL_DIR/fidelity.json)")
    p.add_argument("--plot", type=Path, help="PNG (default: beside the JSON)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_eval)


def _model_config(cls: type, **fields: Any) -> Any:
    """``cls(**fields)``; a bad key or value (from ``--config``) exits with pydantic's message
    (unknown keys list the valid ones; retired keys name their replacement)."""
    from pydantic import ValidationError

    try:
        return cls(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: "
            + (
                f"unknown key; valid keys: {sorted(cls.model_fields)}"
                if e["type"] == "extra_forbidden"
                else e["msg"]
            )
            for e in exc.errors()
        )
        raise SystemExit(f"wm train --config: {problems}") from None


def _json(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _cmd_collect(args: argparse.Namespace) -> int:
    from reasongym.world_models.collect import collect

    meta = collect(
        args.env_id,
        args.policy,
        args.steps,
        args.out,
        seed=args.seed,
        env_kwargs=_json(args.env_kwargs),
        max_episode_steps=args.max_episode_steps,
        progress=not args.no_progress,
    )
    print(
        f"{args.out}: {meta.transitions} transitions, {meta.episodes} episodes of {meta.env_id} "
        f"({meta.observation} observations, {meta.action} actions, policy {meta.policy})"
    )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from reasongym.world_models.data import TransitionDataset
    from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig
    from reasongym.world_models.outcome import OutcomeModel, OutcomeModelConfig

    extra = _json(args.config)
    if args.epochs is not None:
        extra["epochs"] = args.epochs
    if args.model == "grid":  # the config first: a typo fails before any data is read
        config = _model_config(
            GridModelConfig, arch=args.arch, seed=args.seed, progress=not args.no_progress, **extra
        )
    else:
        config = _model_config(OutcomeModelConfig, encoder=args.encoder, seed=args.seed, **extra)
    torch.set_num_threads(1)
    dataset = TransitionDataset.load(args.data)
    train, val = dataset.split(args.val_fraction, seed=args.seed)
    if args.model == "grid":
        model = GridDynamicsModel.for_dataset(dataset, config)
    else:
        model = OutcomeModel(config, dataset.meta.env_id, dataset.meta.env_kwargs)
    summary = model.fit(train, val)
    model.save(args.out)
    summary.pop("history", None)
    (args.out / "fit.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    print(f"model: {args.out}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from reasongym.world_models.base import load_world_model
    from reasongym.world_models.collect import collect
    from reasongym.world_models.data import TransitionDataset

    torch.set_num_threads(1)
    model = load_world_model(args.model_dir)
    env_id = args.env_id or model.env_id
    if env_id is None:
        raise SystemExit("the model does not name its env: pass --env ENV_ID")
    kwargs = _json(args.env_kwargs) or (model.env_kwargs if env_id == model.env_id else {})
    shift_kwargs = _json(args.shift_env_kwargs) or kwargs
    policy = args.policy or ("code-mutants" if model.kind == "outcome" else "random")
    shift_policy = args.shift_policy or _default_shift(policy, model.kind)
    out = args.out or args.model_dir / "fidelity.json"
    datasets: dict[str, TransitionDataset] = {}
    scratch = Path(tempfile.mkdtemp(prefix="reasongym-wm-eval-"))
    try:
        if args.data is not None:
            datasets[f"data {args.data}"] = TransitionDataset.load(args.data)
        else:
            for label, spec, env_kwargs, seed in (
                (f"held-out ({policy})", policy, kwargs, 10**6 + args.seed),
                (f"shift ({shift_policy})", shift_policy, shift_kwargs, 2 * 10**6 + args.seed),
            ):
                folder = scratch / str(len(datasets))
                collect(
                    env_id,
                    spec,
                    args.steps,
                    folder,
                    seed=seed,
                    env_kwargs=env_kwargs,
                    progress=not args.no_progress,
                )
                datasets[label] = TransitionDataset.load(folder)
        reports = _evaluate(model, datasets, args.ks)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": str(args.model_dir), "reports": reports}, indent=2))
    plot = args.plot or out.with_suffix(".png")
    from reasongym.world_models.fidelity import plot_calibration, plot_rollout_accuracy

    if model.markov:
        plot_rollout_accuracy(reports, plot, title=f"{model.kind} model of {env_id}")
    else:
        plot_calibration(reports, plot, title=f"{model.kind} model of {env_id}")
    _print_reports(reports, model.markov)
    print(f"report: {out}\nplot:   {plot}")
    return 0


def _default_shift(policy: str, kind: str) -> str:
    if kind == "outcome":
        return "code-mutants:0.3" if policy != "code-mutants:0.3" else "code-mutants:0.8"
    return "oracle" if policy == "random" else "random"


def _evaluate(model: Any, datasets: dict[str, Any], ks: list[int]) -> dict[str, Any]:
    from reasongym.world_models.fidelity import dynamics_fidelity, outcome_fidelity
    from reasongym.world_models.outcome import OutcomeExamples

    reports = {}
    for label, data in datasets.items():
        if model.markov:
            reports[label] = dynamics_fidelity(model, data, ks)
        else:
            examples = OutcomeExamples.from_dataset(data)
            probs = model.score(examples.tasks, examples.candidates)
            reports[label] = outcome_fidelity(probs, examples.correct, model.config.threshold)
    return reports


def _print_reports(reports: dict[str, Any], markov: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    def fmt(x: Any) -> str:
        return "-" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)

    table = Table(title="world model fidelity")
    table.add_column("data")
    if markov:
        ks = list(next(iter(reports.values()))["rollout"])
        columns = ["transitions", "obs_exact", "all_exact", "termination_precision"]
        columns += ["termination_recall"]
        headers = ["n", "next obs", "obs+r+done", "term P", "term R"]
        for c in headers + [f"k={k}" for k in ks]:
            table.add_column(c, justify="right")
        for label, r in reports.items():
            rollouts = [fmt(r["rollout"][k]["accuracy"]) for k in ks]
            table.add_row(label, *[fmt(r[c]) for c in columns], *rollouts)
    else:
        columns = ["pairs", "positives", "auroc", "accuracy", "brier", "ece"]
        for c in columns:
            table.add_column(c, justify="right")
        for label, r in reports.items():
            table.add_row(label, *[fmt(r[c]) for c in columns])
    Console().print(table)
