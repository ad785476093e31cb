"""The ``reasongym`` command: list, validate and run environments (and the subcommands other
modules add: ``sandbox``, ``train``, ...)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

# Modules that add subcommands through ``add_subcommands(subparsers)``; imported lazily
# and skipped if absent so a partial install still has a working CLI.
SUBCOMMAND_MODULES = [
    "reasongym.demo",
    "reasongym.sandboxes.cli",
    "reasongym.train.cli",
    "reasongym.world_models.cli",
    "reasongym.integrations.openenv.cli",
]


def _cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    import reasongym

    envs = reasongym.list_envs()
    if args.json:
        print(json.dumps(envs, indent=2))
        return 0
    table = Table(title=f"reasongym environments ({len(envs)})")
    table.add_column("id", style="bold")
    table.add_column("description")
    for env_id, description in envs.items():
        table.add_row(env_id, description)
    Console().print(table)
    return 0


def _validate_data_file(path: Path) -> int:
    """Check one data file's rows; print the outcome; return 1 if it has problems."""
    from reasongym.envs.tasks.file_sources import check_data_file

    try:
        kind, good, errors = check_data_file(path)
    except ValueError as exc:
        print(f"FAIL {path}: {exc}", file=sys.stderr)
        return 1
    if errors:
        lines = [f"FAIL {path}: {len(errors)} bad row(s)"]
        lines += [f"  {e.where}: {e.message}" for e in errors[:50]]
        if len(errors) > 50:
            lines.append(f"  ... and {len(errors) - 50} more")
        print("\n".join(lines), file=sys.stderr)
        return 1
    if not good:
        print(f"FAIL {path}: holds no rows", file=sys.stderr)
        return 1
    print(f"ok   {path}: {good} {kind}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from reasongym.envs.tasks.file_sources import DATA_SUFFIXES
    from reasongym.registration import check_files

    data = [p for p in args.paths if Path(p).suffix.lower() in DATA_SUFFIXES and Path(p).is_file()]
    failures = canonical_failures = 0
    for path in data:  # a data file on its own: every row checked, each bad one named
        failures += _validate_data_file(Path(path))
    checked = check_files([p for p in args.paths if p not in data])
    for item in checked:
        if item.error is not None:
            failures += 1
            print(f"FAIL {item.error}", file=sys.stderr)
            continue
        print(f"ok   {item.file}: {item.spec.id}")
        if getattr(args, "run_canonical", False):
            from reasongym.envs.tasks.canonical import run_canonical

            report = run_canonical(item.file, item.spec, item.kwargs)
            canonical_failures += bool(report.failed)
            if report.checked or report.failed:
                print(report.text(), flush=True)
    summary = f"{len(checked) + len(data) - failures} valid, {failures} invalid"
    if getattr(args, "run_canonical", False):
        summary += f"; {canonical_failures} file(s) with failing canonical solutions"
    print(summary)
    return 1 if failures or canonical_failures else 0


# ``reasongym run`` flags that are agent options, by the factory keyword they become.
AGENT_FLAGS = {
    "model": "--model",
    "base_url": "--base-url",
    "temperature": "--temperature",
    "max_tokens": "--max-tokens",
    "tool_calls": "--tool-calls",
    "n": "--n",
    "beam_width": "--beam-width",
    "expand": "--expand",
    "simulations": "--simulations",
    "c_puct": "--c-puct",
    "max_revisions": "--max-revisions",
    "guidance": "--guidance",
    "search_mode": "--search-mode",
    "prm": "--prm",
}


def agent_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The agent's keyword options from the ``run`` flags the user set (converted once, here;
    the library and Ray workers get plain keyword arguments). A flag the chosen agent does not
    take is an error naming the agent's flags."""
    from reasongym.agents import agent_options

    valid = set(agent_options(args.agent))
    options: dict[str, Any] = {"seed": args.seed} if "seed" in valid else {}
    wrong = []
    for name, flag in AGENT_FLAGS.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in valid:
            wrong.append(flag)
        options[name] = value
    if args.export_sft or args.export_dpo:
        if "keep_trees" not in valid:
            wrong.append("--export-sft/--export-dpo")
        options["keep_trees"] = True
    if isinstance(options.get("prm"), str):
        options["prm"] = load_callable(options["prm"], flag="--prm")
    if wrong:
        takes = sorted(AGENT_FLAGS[n] for n in valid if n in AGENT_FLAGS) or ["none"]
        raise SystemExit(
            f"reasongym run: agent {args.agent!r} does not take {', '.join(wrong)}; "
            f"its options: {', '.join(takes)}"
        )
    return options


def load_callable(spec: str, flag: str) -> Any:
    """``MODULE:NAME`` -> the callable it names (an error that says how to write it)."""
    import importlib

    module_name, _, name = spec.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), name) if name else None
    except (ImportError, AttributeError) as exc:
        raise SystemExit(f"reasongym run: {flag} {spec!r}: {exc}") from None
    if not callable(target):
        raise SystemExit(
            f"reasongym run: {flag} {spec!r} must name a callable as MODULE:FUNCTION "
            "(e.g. mypkg.rewards:score_steps, taking the chat messages, returning a float)"
        )
    return target


def parse_tasks(spec: str) -> list[int]:
    """Task indices from ``--tasks``: ``0:100`` (a half-open range), ``5`` or ``1,4,9``
    (ranges may be mixed in: ``0:10,20``)."""
    indices: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if ":" in part:
                lo, _, hi = part.partition(":")
                indices += range(int(lo or 0), int(hi))
            else:
                indices.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--tasks {spec!r}: write START:STOP (e.g. 0:100), an index, or a comma list"
            ) from None
    if not indices or min(indices) < 0:
        raise argparse.ArgumentTypeError(f"--tasks {spec!r} selects no non-negative task index")
    return indices


def _check_env_id(env_id: str) -> None:
    """Exit with the closest registered ids when ``env_id`` is not registered."""
    import difflib

    import gymnasium as gym

    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise SystemExit(
        f"reasongym run: no environment {env_id!r} is registered.{hint} "
        "`reasongym list` shows the ids; pass --register YAML for your own."
    )


def _cmd_run(args: argparse.Namespace) -> int:
    import reasongym  # noqa: F401 - registers the built-in ids
    from reasongym.agents import build_agent
    from reasongym.evaluation import run_episodes

    for path in args.register or []:
        reasongym.register_yaml(path)
    _check_env_id(args.env_id)
    env_kwargs = json.loads(args.env_kwargs) if args.env_kwargs else None
    try:
        options = agent_options_from_args(args)
    except ValueError as exc:  # an unknown agent name
        raise SystemExit(f"reasongym run: {exc}") from None
    if args.ray is not None or args.workers is not None:
        if args.export_sft or args.export_dpo:
            raise SystemExit(
                "reasongym run: --export-sft/--export-dpo need the search trees in this process; "
                "drop --ray/--workers to export"
            )
        from reasongym.distributed import run_ray

        run = run_ray(
            args.env_id,
            args.agent,
            args.episodes,
            seed=args.seed,
            task_indices=args.tasks,
            agent_options=options,
            env_kwargs=env_kwargs,
            register=args.register or (),
            workers=args.workers,
            address=None if args.ray in (None, "local") else args.ray,
            progress=not args.quiet,
        )
        summary = run.summary
        if run.worker_failures:
            print(f"{run.worker_failures} worker(s) lost; episodes run again: {run.retried}")
    else:
        try:
            agent = build_agent(args.agent, **options)
        except ValueError as exc:
            raise SystemExit(f"reasongym run: {exc}") from None
        try:
            summary = run_episodes(
                args.env_id,
                agent,
                args.episodes,
                seed=args.seed,
                env_kwargs=env_kwargs,
                progress=not args.quiet,
                task_indices=args.tasks,
            )
        except ValueError as exc:
            if args.tasks is None or "task index" not in str(exc):
                raise
            raise SystemExit(f"reasongym run: --tasks: {exc}") from None
        from reasongym.agents.search.factory import export_after_run

        counts = export_after_run(agent, sft_path=args.export_sft, dpo_path=args.export_dpo)
        for kind, count in counts.items():
            print(f"wrote {count} {kind} records")
    _print_summary(summary)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary.to_dict(), indent=2))
        print(f"wrote {args.json}")
    return 0


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{summary.env_id}: {summary.agent} agent, {summary.episodes} episodes (seed {summary.seed})"
    )
    for column in ("success rate", "mean reward", "mean turns", "env steps", "steps/s", "wall s"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{summary.success_rate:.3f}",
        f"{summary.mean_reward:.3f}",
        f"{summary.mean_turns:.2f}",
        str(summary.env_steps),
        f"{summary.steps_per_s:,.1f}",
        f"{summary.wall_time_s:.2f}",
    )
    Console().print(table)
    for key, value in summary.agent_stats.items():
        print(f"{key}: {value}")


def build_parser() -> argparse.ArgumentParser:
    from reasongym.agents.models.base import DEFAULT_MAX_TOKENS
    from reasongym.agents.search.guidance import GUIDANCE_NAMES

    parser = argparse.ArgumentParser(prog="reasongym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the registered environments")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("validate", help="check YAML environment files (exit 1 on any error)")
    p.add_argument("paths", nargs="+", help="YAML files or folders of them")
    p.add_argument(
        "--run-canonical",
        action="store_true",
        help="also run each code task's canonical_solution against its own tests (in the sandbox)",
    )
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("run", help="run an agent on an environment and summarise")
    p.add_argument("env_id", help="a registered id, e.g. reasongym/Math-v0")
    p.add_argument("--agent", default="oracle", help="agent name (default: oracle)")
    p.add_argument(
        "--episodes", type=int, default=10, help="episodes to sample (seeds SEED, SEED+1, ...)"
    )
    p.add_argument(
        "--tasks",
        type=parse_tasks,
        default=None,
        metavar="START:STOP",
        help="sweep these task indices once each (e.g. 0:100, or 3,7,9) instead of sampling --episodes",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--json", metavar="OUT", help="write the summary (with per-episode results) as JSON"
    )
    p.add_argument(
        "--env-kwargs", metavar="JSON", help="override env kwargs, e.g. '{\"max_turns\": 3}'"
    )
    p.add_argument(
        "--register", action="append", metavar="YAML", help="register extra YAML files first"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run the episodes on Ray (reasongym[ray]): a local instance, or the cluster at ADDRESS "
        "('auto', 'ray://head:10001'); put it after the env id",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="Ray rollout workers (implies --ray; default: one per CPU)",
    )
    llm = p.add_argument_group("LLM agents (llm and the search agents)")
    llm.add_argument(
        "--model",
        default=None,
        help="a local path, 'smollm2', 'tiny:DIR' (with --base-url: the server's model name); default smollm2",
    )
    llm.add_argument(
        "--base-url",
        default=None,
        help="an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1",
    )
    llm.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="sampling temperature (default 0: greedy for llm, 1 for the search agents)",
    )
    llm.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help=f"new tokens per LLM step (default {DEFAULT_MAX_TOKENS})",
    )
    llm.add_argument(
        "--tool-calls",
        choices=("auto", "native", "tags"),
        default=None,
        help="llm: native OpenAI tool calls (auto: when the env's action_format is native) or the tag grammar",
    )
    search = p.add_argument_group("search agents (bon, beam, mcts, revision)")
    search.add_argument("--n", type=int, default=None, help="bon: candidates per step (default 4)")
    search.add_argument(
        "--beam-width", type=int, default=None, help="beam: beams kept per depth (default 4)"
    )
    search.add_argument(
        "--expand",
        type=int,
        default=None,
        help="beam/mcts: children sampled per node (default: beam width / 4)",
    )
    search.add_argument(
        "--simulations", type=int, default=None, help="mcts: simulations per move (default 16)"
    )
    search.add_argument(
        "--c-puct", type=float, default=None, help="mcts: exploration constant (default 1.5)"
    )
    search.add_argument(
        "--max-revisions",
        type=int,
        default=None,
        help="revision: revisions after feedback (default 3)",
    )
    search.add_argument(
        "--guidance",
        default=None,
        help=f"what ranks branches: {', '.join(GUIDANCE_NAMES)} (prm needs --prm), or a weighted mix "
        "such as 'logprob:1,self_eval:0.5' (default: verifier in train mode, logprob in eval mode)",
    )
    search.add_argument(
        "--prm",
        metavar="MODULE:FUNCTION",
        default=None,
        help="a process reward model for guidance 'prm': a function of the chat messages returning a float",
    )
    search.add_argument(
        "--search-mode",
        choices=("eval", "train"),
        default=None,
        help="eval (default): no verifier access while choosing; train: external guidance may peek",
    )
    search.add_argument(
        "--export-sft",
        metavar="JSONL",
        default=None,
        help="write the best verified trajectories as SFT data",
    )
    search.add_argument(
        "--export-dpo",
        metavar="JSONL",
        default=None,
        help="write verified-vs-failed sibling pairs as DPO data",
    )
    p.set_defaults(func=_cmd_run)

    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        module.add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from reasongym.errors import ConfigError

    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
