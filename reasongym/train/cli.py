"""``reasongym train sb3|dyna ENV_ID ...`` and ``reasongym train expert-iteration|grpo|dpo
--config configs/runs/X.yaml [--out DIR]``.

Each run reads a YAML config (unknown keys are rejected), saves it beside its outputs and
resumes from its last checkpoint when ``--out`` already holds the same run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# subcommand -> (module, config class, help)
TRAINERS = {
    "expert-iteration": (
        "reasongym.train.expert_iteration",
        "ExpertIterationConfig",
        "search with the verifier, fine-tune on what it verified, repeat",
    ),
    "grpo": ("reasongym.train.grpo", "GRPOConfig", "group-relative policy optimisation"),
    "dpo": ("reasongym.train.dpo", "DPOConfig", "DPO on preference pairs from search trees"),
}


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command with every trainer to the ``reasongym`` command's subparsers.

    This is the one place that builds ``train``: ``sb3`` and ``dyna`` (flags on the command
    line) and ``expert-iteration``, ``grpo``, ``dpo`` (a run YAML), always in this order, so
    the result never depends on which modules were imported first.
    """
    from reasongym.train.dyna import add_dyna_parser
    from reasongym.train.sb3 import add_sb3_parser

    train_parser = subparsers.add_parser(
        "train", help=f"train agents: sb3, dyna, {', '.join(TRAINERS)}"
    )
    train_sub = train_parser.add_subparsers(dest="trainer", required=True)
    add_sb3_parser(train_sub)
    add_dyna_parser(train_sub)
    for name, (module, _, help_text) in TRAINERS.items():
        p = train_sub.add_parser(name, help=help_text, description=_doc(module))
        p.add_argument("--config", type=Path, required=True, help="run YAML (configs/runs/)")
        p.add_argument("--out", type=Path, help="run folder (overrides the config's 'out')")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")
        p.set_defaults(func=_cmd_train, trainer_name=name)


def _doc(module: str) -> str:
    # The module docstring would need the import; keep ``reasongym --help`` fast.
    return f"see {module} (python -m pydoc {module})"


def _cmd_train(args: argparse.Namespace) -> int:
    import importlib

    from reasongym.train.run_config import load_config

    module_name, class_name, _ = TRAINERS[args.trainer_name]
    module = importlib.import_module(module_name)
    config = load_config(getattr(module, class_name), args.config, args.out)
    if args.no_progress:
        config = config.model_copy(update={"progress": False})
    result = module.train(config)
    summary = {k: v for k, v in result.summary.items() if not isinstance(v, list)}
    print(json.dumps(summary, indent=2))
    print(f"run folder: {result.out} (curve: {result.out / 'learning_curve.png'})")
    return 0
