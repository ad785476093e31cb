"""The first command (``make demo`` / ``reasongym demo``): the suite's loop in about two minutes.

The embedded SmolLM2-135M-Instruct answers easy tasks (one-digit sums, ``Arithmetic-v0`` at
difficulty 1, graded in ``answer_mode: free_text`` so "The answer is 12." counts) three ways:

* **greedy**: one completion per task (temperature 0), the baseline;
* **best-of-N, verifier** (external guidance, search mode ``train``): N samples, each graded by
  the env's verifier while searching; the best one is replayed;
* **best-of-N, majority** (internal guidance, search mode ``eval``): the same N samples, the
  answer most of them agree on (self-consistency), no verifier while choosing.

Every method runs through the real env (the chosen answer is replayed and graded once), and the
search counts every generated token, so "tokens per solved task" is the price of each point of
success. Both best-of-N rows see the *same* samples (a shared cache in front of the policy), so
their gap is only what the guidance chose. The report prints a table, one episode's transcript
and where it wrote ``results.json`` and a bar chart ``results.png``.

Library use::

    from reasongym.demo import DemoConfig, run_demo
    report = run_demo(DemoConfig(tasks=8))
    print(report.format())
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reasongym.agents.models.base import Completion, GenerationConfig, LanguageModel, Prompt

DEMO_ENV = "reasongym/Arithmetic-v0"


def _easy_kwargs() -> dict[str, Any]:
    return {
        "task": {"source": "procedural", "generator": "arithmetic", "difficulty": 1},
        "answer_mode": "free_text",
        "max_turns": 1,
    }


@dataclass(frozen=True)
class DemoConfig:
    """What the demo runs.

    Attributes:
        model: ``load_model`` spec of the policy (``smollm2``: the embedded SmolLM2-135M).
        env_id: the env (default: Arithmetic-v0 at difficulty 1, prose answers graded).
        env_kwargs: kwargs for ``gym.make``.
        tasks: tasks ``0..tasks-1`` (each method answers the same ones).
        n: samples per task for best-of-N.
        temperature: sampling temperature of best-of-N (greedy is 0).
        max_tokens: new tokens per answer (one-digit sums need few; keeps the demo short).
        seed: sampling seed.
        out_dir: where ``results.json`` and ``results.png`` go.
        transcript_task: the task whose episode is shown; default: the first task greedy
            missed and best-of-N with the verifier solved (else task 0).
    """

    model: str = "smollm2"
    env_id: str = DEMO_ENV
    env_kwargs: dict[str, Any] = field(default_factory=_easy_kwargs)
    tasks: int = 16
    n: int = 8
    temperature: float = 0.7
    max_tokens: int = 24
    seed: int = 0
    out_dir: Path = Path("runs/demo")
    transcript_task: int | None = None


@dataclass
class MethodResult:
    """One row of the demo table."""

    name: str
    guidance: str  # "-" for greedy; "external: verifier" / "internal: majority"
    success: float
    mean_reward: float
    solved: int
    tokens: int  # every generated token, discarded samples included
    verifier_calls: int  # answers graded while choosing (0 = an honest test-time result)
    wall_s: float
    per_task: list[bool] = field(default_factory=list)
    per_task_reward: list[float] = field(default_factory=list)

    @property
    def tokens_per_solved(self) -> float | None:
        return self.tokens / self.solved if self.solved else None


@dataclass
class DemoReport:
    """What :func:`run_demo` returns (and writes as JSON)."""

    config: dict[str, Any]
    model: str
    methods: list[MethodResult]
    transcript: dict[str, Any]
    wall_s: float
    json_path: str | None = None
    png_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for row, method in zip(data["methods"], self.methods, strict=True):
            row["tokens_per_solved"] = method.tokens_per_solved
        return data

    def format(self) -> str:
        """The table, the transcript and the output paths, as printed by ``reasongym demo``."""
        c = self.config
        lines = [
            f"{self.model} on {c['tasks']} tasks of {c['env_id']} "
            f"({_describe(c['env_kwargs'])}); best-of-{c['n']} at temperature {c['temperature']:g}",
            "",
            f"{'method':<30} {'guidance':<20} {'success':>7} {'mean reward':>11} "
            f"{'tokens/solved':>13} {'verifier calls':>14}",
        ]
        for m in self.methods:
            tps = f"{m.tokens_per_solved:.0f}" if m.tokens_per_solved is not None else "-"
            lines.append(
                f"{m.name:<30} {m.guidance:<20} {m.success:>7.2f} {m.mean_reward:>11.2f} "
                f"{tps:>13} {m.verifier_calls:>14}"
            )
        lines += [
            "",
            "(verifier calls: answers the env graded while choosing; 0 = test-time honest)",
        ]
        t = self.transcript
        if t:
            lines += [
                "",
                f"One episode (task {t['task_index']}, {t['task_id']}, gold answer {t['answer']!r}):",
            ]
            lines.append(_indent("user", t["prompt"]))
            lines.append(_indent("greedy", f"{t['greedy']['action']}   -> {_mark(t['greedy'])}"))
            lines.append(
                f"  best-of-{len(t['samples'])} samples (verifier's reward; * = chosen by each guidance):"
            )
            for i, s in enumerate(t["samples"]):
                picks = "".join(f" *{name}" for name, index in t["chosen"].items() if index == i)
                lines.append(
                    f"    {i + 1}. {_one_line(s['action'])!r:<60} reward {s['reward']:+.2f}{picks}"
                )
        lines.append("")
        if self.json_path:
            lines.append(f"results: {self.json_path}")
        if self.png_path:
            lines.append(f"chart:   {self.png_path}")
        lines.append(f"wall time {self.wall_s:.0f} s")
        return "\n".join(lines)


def _describe(kwargs: dict[str, Any]) -> str:
    task = kwargs.get("task") or {}
    parts = []
    if isinstance(task, dict) and "difficulty" in task:
        parts.append(f"{task.get('generator', 'task')} difficulty {task['difficulty']}")
    parts += [f"{k}={v}" for k, v in kwargs.items() if k != "task"]
    return ", ".join(parts)


def _one_line(text: str, limit: int = 58) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _indent(role: str, text: str) -> str:
    body = "\n".join("      " + line for line in str(text).strip().splitlines())
    return f"  [{role}]\n{body}"


def _mark(step: dict[str, Any]) -> str:
    return ("solved" if step["success"] else "wrong") + f" (reward {step['reward']:+.2f})"


class SharedSamples(LanguageModel):
    """Caches ``generate`` results by (prompts, config), so two searches with the same seed
    draw the same samples and differ only in what their guidance picks. Token counts are
    unaffected (the search counts the completions it receives)."""

    def __init__(self, inner: LanguageModel):
        super().__init__()
        self.inner = inner
        self.usage = inner.usage
        self._cache: dict[str, list[list[Completion]]] = {}

    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Completion]]:
        key = json.dumps([prompts, repr(config)], sort_keys=True, default=repr)
        if key not in self._cache:
            self._cache[key] = self.inner.generate(prompts, config)
        return self._cache[key]

    def score(self, prompt: Prompt, continuations: list[str]) -> list[float]:
        return self.inner.score(prompt, continuations)

    def close(self) -> None:
        self.inner.close()


def _methods(config: DemoConfig, policy: LanguageModel) -> list[tuple[str, str, Any]]:
    from reasongym.agents.search.factory import make_bon

    common = {"policy": policy, "max_tokens": config.max_tokens, "seed": config.seed}
    n = config.n
    return [
        (
            "greedy",
            "-",
            make_bon(n=1, temperature=0.0, guidance="logprob", keep_trees=True, **common),
        ),
        (
            f"best-of-{n}, verifier (train)",
            "external: verifier",
            make_bon(
                n=n,
                temperature=config.temperature,
                guidance="verifier",
                search_mode="train",
                keep_trees=True,
                **common,
            ),
        ),
        (
            f"best-of-{n}, majority (eval)",
            "internal: majority",
            make_bon(
                n=n,
                temperature=config.temperature,
                guidance="majority",
                search_mode="eval",
                keep_trees=True,
                **common,
            ),
        ),
    ]


def run_demo(
    config: DemoConfig | None = None,
    *,
    policy: LanguageModel | None = None,
    write: bool = True,
    log: Any = None,
) -> DemoReport:
    """Run the demo and (with ``write``) save ``results.json`` and ``results.png``.

    Args:
        config: what to run (default :class:`DemoConfig`).
        policy: a loaded model to use instead of ``config.model`` (tests pass a tiny one).
        write: write the JSON and the chart into ``config.out_dir``.
        log: ``log(str)`` for progress lines (default: silent).
    """
    from reasongym.evaluation import run_episodes

    config = config or DemoConfig()
    say = log or (lambda _msg: None)
    start = time.perf_counter()
    if policy is None:
        from reasongym.agents.models import load_model

        say(f"loading {config.model} (the first run converts SmolLM2's GGUF once, ~40 s)")
        policy = load_model(config.model)
    shared = SharedSamples(policy)
    indices = list(range(config.tasks))
    results, agents = [], {}
    for name, guidance, agent in _methods(config, shared):
        t0 = time.perf_counter()
        summary = run_episodes(
            config.env_id,
            agent,
            seed=config.seed,
            env_kwargs=dict(config.env_kwargs),
            task_indices=indices,
        )
        stats = summary.agent_stats
        row = MethodResult(
            name=name,
            guidance=guidance,
            success=summary.success_rate,
            mean_reward=summary.mean_reward,
            solved=sum(r.success for r in summary.results),
            tokens=int(stats.get("tokens_generated", 0)),
            verifier_calls=int(stats.get("verifier_calls", 0)),
            wall_s=time.perf_counter() - t0,
            per_task=[r.success for r in summary.results],
            per_task_reward=[r.reward for r in summary.results],
        )
        results.append(row)
        agents[name] = agent
        say(f"{name}: success {row.success:.2f} in {row.wall_s:.0f} s")
    transcript = _transcript(config, results, agents)
    report = DemoReport(
        config={**asdict(config), "out_dir": str(config.out_dir)},
        model=_model_name(config, policy),
        methods=results,
        transcript=transcript,
        wall_s=time.perf_counter() - start,
    )
    if write:
        write_outputs(report, Path(config.out_dir))
    return report


def _model_name(config: DemoConfig, policy: LanguageModel) -> str:
    if config.model == "smollm2" and type(policy).__name__ == "TransformersLM":
        return "SmolLM2-135M-Instruct"
    return config.model if type(policy).__name__ == "TransformersLM" else type(policy).__name__


def _transcript(
    config: DemoConfig, results: list[MethodResult], agents: dict[str, Any]
) -> dict[str, Any]:
    """One task: its prompt, greedy's answer, and the N samples with the verifier's reward and
    which one each guidance chose (read from the search trees; nothing is re-generated)."""
    import gymnasium as gym

    greedy, verifier, majority = results
    k = config.transcript_task
    if k is None:
        k = next(
            (
                i
                for i, (g, v) in enumerate(zip(greedy.per_task, verifier.per_task, strict=True))
                if v and not g
            ),
            0,
        )
    if not 0 <= k < len(greedy.per_task):
        return {}
    env = gym.make(config.env_id, **dict(config.env_kwargs))
    try:
        prompt, info = env.reset(seed=config.seed + k, options={"task_index": k})
        row = env.unwrapped.task_row(k)
    finally:
        env.close()
    out: dict[str, Any] = {
        "task_index": k,
        "task_id": info.get("task_id"),
        "answer": row.get("answer"),
        "prompt": prompt,
    }
    greedy_tree = agents[greedy.name].trees[k]
    out["greedy"] = {
        "action": greedy_tree.nodes[greedy_tree.chosen].action
        if greedy_tree.chosen is not None
        else "",
        "reward": greedy.per_task_reward[k],
        "success": greedy.per_task[k],
    }
    trees = {"verifier": agents[verifier.name].trees[k], "majority": agents[majority.name].trees[k]}
    first = trees["verifier"]
    samples = [first.nodes[i] for i in first.root.children]
    out["samples"] = [
        {"action": s.action, "reward": float(s.reward or 0.0), "success": bool(s.success)}
        for s in samples
    ]
    out["chosen"] = {}
    for label, tree in trees.items():
        if tree.chosen is None:
            out["chosen"][label] = None
            continue
        step = tree.path(tree.chosen)[0]  # the root's child the chosen trajectory starts with
        out["chosen"][label] = tree.root.children.index(step.id)
    return out


def write_outputs(report: DemoReport, out_dir: Path) -> None:
    """``results.json`` always; ``results.png`` (success and tokens per solved task per method)
    when matplotlib is installed (extras ``rl``/``train``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        report.png_path = None
    else:
        png_path = out_dir / "results.png"
        names = [m.name for m in report.methods]
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
        left.bar(names, [m.success for m in report.methods], color=["#888", "#2a7", "#37c"])
        left.set_ylim(0, 1)
        left.set_ylabel("success")
        right.bar(
            names,
            [m.tokens_per_solved or 0 for m in report.methods],
            color=["#888", "#2a7", "#37c"],
        )
        right.set_ylabel("tokens per solved task")
        for ax in (left, right):
            ax.tick_params(axis="x", labelrotation=15, labelsize=8)
        fig.suptitle(
            f"{report.model}: {report.config['env_id']} ({_describe(report.config['env_kwargs'])})",
            fontsize=9,
        )
        fig.tight_layout()
        fig.savefig(png_path, dpi=110)
        plt.close(fig)
        report.png_path = str(png_path)
    report.json_path = str(json_path)
    json_path.write_text(json.dumps(report.to_dict(), indent=1, default=str))


# -- CLI (wired into ``reasongym`` by reasongym/cli.py) -------------------------------------------
def add_subcommands(sub: Any) -> None:
    """``reasongym demo``."""
    defaults = DemoConfig()
    p = sub.add_parser(
        "demo",
        help="the loop in ~2 minutes: greedy vs best-of-N with the verifier vs majority vote",
    )
    p.add_argument(
        "--model",
        default=defaults.model,
        help="a load_model spec (default: smollm2, the embedded SmolLM2-135M)",
    )
    p.add_argument("--tasks", type=int, default=defaults.tasks, help="tasks 0..N-1 of the env")
    p.add_argument("--n", type=int, default=defaults.n, help="samples per task for best-of-N")
    p.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument(
        "--out",
        type=Path,
        default=defaults.out_dir,
        help="directory for results.json and results.png",
    )
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    import sys

    if args.tasks < 1 or args.n < 1 or args.max_tokens < 1:
        print("error: --tasks, --n and --max-tokens must be >= 1", file=sys.stderr)
        return 2
    config = DemoConfig(
        model=args.model,
        tasks=args.tasks,
        n=args.n,
        max_tokens=args.max_tokens,
        seed=args.seed,
        out_dir=args.out,
    )
    report = run_demo(config, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(report.format())
    return 0
