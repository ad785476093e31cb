"""Search scaling: success rate vs generated tokens on Arithmetic-v0, internal vs external guidance.

A tiny char-level policy is pretrained in-process on ``reasongym/Arithmetic-v0``
(:func:`reasongym.agents.models.tiny.pretrain_arithmetic`, stopped at ~45% greedy accuracy, cached
in ``--cache``) and searched with on fixed tasks (indices ``0..tasks-1``). The tiny policy's
default is difficulty 1 (``Compute a + b.`` with one digit, 200 distinct questions), so the
policy has seen these questions in pretraining: it is weak because pretraining stops early,
not because the questions are new (see :mod:`reasongym.agents.models.tiny`). It answers in
one step, so beam search and MCTS here rank samples at the root (with progressive widening);
their multi-step behaviour is covered by tests/agents/search.

* greedy decoding (the baseline: one completion per task);
* best-of-N (N = 4, 16) with the env's verifier (external guidance, train mode: the verifier
  peeks at every candidate), and with the policy's confidence (internal, eval mode);
* majority vote (self-consistency) over 16 samples; self-evaluation over 16 samples;
* step-level beam search and MCTS, each with internal guidance (eval mode) and with the
  verifier (train mode).

Every method runs through the real env: the search branches on ``get_state``/``set_state``
snapshots, then its chosen answer is replayed and graded once by the env, so "success" is the
env's verdict. Columns: success rate, generated tokens per task (all samples, discarded ones
included), verifier calls per task spent *choosing* the answer (0 = honest test-time result;
the replayed answer's grading is not counted), wall time.

A second table runs beam search and MCTS on a text-mode puzzle (``reasongym/Maze-v0`` with
``observation_mode="text"``: moves written as ``<answer>up</answer>``), where search must ask
the env which actions end the episode (``env.unwrapped.is_final``) instead of assuming the text
grammar. Its policy is a synthetic stand-in for an LLM (:class:`NoisyMovePolicy`): it reads the
ASCII board and is most confident in the shortest-path move in a fixed ``--maze-accuracy``
share of states (else in a wrong move), and judges its own steps (``score``) right with a
fixed accuracy. Greedy is the baseline row.

Unless ``--no-smollm``, SmolLM2-135M-Instruct (``load_model("smollm2")``) answers a few
``Math-v0`` tasks greedily as a real-model smoke row (tokens/s).

There is no peer library to run side by side here: the greedy row is the reference.

Usage:
    python bench/search_scaling.py [--tasks 200] [--maze-tasks 40] [--json OUT] [--no-smollm]
        [--no-tiny] [--threads 2]

Runtime: about 5.5 minutes on 2 cores with ``--threads 1`` and the policy cached (2026-11-23:
320 s, 40 s of it SmolLM2); pretraining the policy the first time adds a few minutes.
2026-12-01, on a machine shared with other jobs: ``--tasks 100 --maze-tasks 40 --no-smollm``
528 s (the maze table: 25 s). Measured then: Arithmetic greedy 0.50, bon-16 verifier 0.96,
beam-4x4 verifier 0.67, mcts-16x2 verifier 0.89 (internal guidance 0.47-0.52); text Maze-v0
(size 7, 40 tasks): greedy 0.825, beam-4x4 self_eval 0.925, beam-4x4 env reward 0.90,
mcts-16x4 self_eval 0.80, mcts-32x4 env reward 0.975.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ARITHMETIC = "reasongym/Arithmetic-v0"
MATH = "reasongym/Math-v0"
DEFAULT_CACHE = Path("~/.cache/reasongym/bench-tiny-arith").expanduser()


@dataclass
class Row:
    """One method's result over the task set."""

    method: str
    guidance: str
    kind: str  # "none", "internal" or "external"
    mode: str
    tasks: int
    success_rate: float
    tokens_per_task: float
    verifier_calls_per_task: float
    self_eval_calls_per_task: float
    env_steps_per_task: float
    wall_s: float


def run_method(env, agent, task_indices: list[int]) -> tuple[float, dict[str, Any], float]:
    """Play one episode per task index (as ``reasongym.evaluation.run_episodes`` does, but on
    fixed tasks); returns (success rate, agent stats, wall seconds)."""
    agent.bind(env)
    solved = 0
    start = time.perf_counter()
    for index in task_indices:
        obs, info = env.reset(options={"task_index": index})
        agent.reset(obs, info)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
            done = terminated or truncated
        solved += bool(info.get("is_success"))
    return solved / len(task_indices), agent.stats(), time.perf_counter() - start


def methods(policy) -> list[tuple[str, str, Callable[[], Any]]]:
    """(label, guidance kind, factory) for every searched configuration."""
    from reasongym.agents.models.base import GenerationConfig
    from reasongym.agents.search import MCTS, BeamSearch, BestOfN

    sample = GenerationConfig(temperature=1.0, max_tokens=24)  # the env's stop strings are added
    greedy = GenerationConfig(temperature=0.0, max_tokens=24)
    common = {"generation": sample, "seed": 0}
    return [
        ("greedy", "none", lambda: BestOfN(policy, n=1, generation=greedy)),
        (
            "bon-4",
            "external",
            lambda: BestOfN(policy, n=4, guidance="verifier", mode="train", **common),
        ),
        (
            "bon-16",
            "external",
            lambda: BestOfN(policy, n=16, guidance="verifier", mode="train", **common),
        ),
        ("bon-4", "internal", lambda: BestOfN(policy, n=4, guidance="logprob", **common)),
        ("bon-16", "internal", lambda: BestOfN(policy, n=16, guidance="logprob", **common)),
        ("majority-16", "internal", lambda: BestOfN(policy, n=16, guidance="majority", **common)),
        ("self-eval-16", "internal", lambda: BestOfN(policy, n=16, guidance="self_eval", **common)),
        (
            "beam-4x4",
            "internal",
            lambda: BeamSearch(
                policy, beam_width=4, expand=4, guidance="logprob:1,majority:1", **common
            ),
        ),
        (
            "beam-4x4",
            "external",
            lambda: BeamSearch(
                policy, beam_width=4, expand=4, guidance="verifier", mode="train", **common
            ),
        ),
        (
            "mcts-16x2",
            "internal",
            lambda: MCTS(
                policy, simulations=16, expand=2, guidance="logprob:1,majority:1", **common
            ),
        ),
        (
            "mcts-16x2",
            "external",
            lambda: MCTS(
                policy, simulations=16, expand=2, guidance="verifier", mode="train", **common
            ),
        ),
    ]


def tiny_rows(args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    from reasongym.agents.models.tiny import (
        PretrainConfig,
        arithmetic_accuracy,
        arithmetic_env,
        pretrain_arithmetic,
    )

    start = time.perf_counter()
    config = PretrainConfig(target_accuracy=args.target_accuracy)
    result = pretrain_arithmetic(args.cache, config)
    print(f"[bench] {result.summary()} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    policy = result.lm
    tasks = list(range(args.tasks))
    pretrain = {
        "steps": result.steps,
        "train_s": result.seconds,
        "loaded": result.loaded,
        "validation_accuracy": result.validation_accuracy,
        "difficulty": config.difficulty,
        "greedy_accuracy": arithmetic_accuracy(policy, tasks, config.difficulty),
    }
    env = arithmetic_env(config.difficulty)
    rows = []
    try:
        for label, kind, factory in methods(policy):
            agent = factory()
            success, stats, wall = run_method(env, agent, tasks)
            n = len(tasks)
            row = Row(
                method=label,
                guidance=stats["guidance"] if kind != "none" else "-",
                kind=kind,
                mode=stats["mode"],
                tasks=n,
                success_rate=success,
                tokens_per_task=stats["tokens_generated"] / n,
                verifier_calls_per_task=stats["verifier_calls"] / n,
                self_eval_calls_per_task=stats["self_eval_calls"] / n,
                env_steps_per_task=stats["env_steps"] / n,
                wall_s=wall,
            )
            rows.append(row)
            print(
                f"[bench] {label:<13} {kind:<9} success {success:.3f}  tokens/task {row.tokens_per_task:7.1f}  ({wall:.0f} s)",
                file=sys.stderr,
            )
    finally:
        env.close()
    return rows, pretrain


MAZE = "reasongym/Maze-v0"
_MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def _shortest_move(text: str) -> str | None:
    """The first move of a shortest path on the last ASCII maze in ``text`` (BFS), or None."""
    from collections import deque

    lines = text.split("Current board")[-1].splitlines()[1:]
    rows = [line for line in lines if line and set(line) <= set("#.AG")]
    cells = {(r, c): ch for r, row in enumerate(rows) for c, ch in enumerate(row)}
    start = next((p for p, ch in cells.items() if ch == "A"), None)
    goal = next((p for p, ch in cells.items() if ch == "G"), None)
    if start is None or goal is None:
        return None
    first: dict[tuple[int, int], str | None] = {start: None}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        if p == goal:
            return first[p]
        for name, (dr, dc) in _MOVES.items():
            q = (p[0] + dr, p[1] + dc)
            if cells.get(q, "#") != "#" and q not in first:
                first[q] = first[p] or name
                queue.append(q)
    return None


class NoisyMovePolicy:
    """A synthetic text policy for the maze rows (see the module docstring).

    In each board state (hashed with ``seed``) it is most confident in the shortest-path move
    with probability ``accuracy`` and in one wrong move otherwise; samples follow
    ``softmax(logprob / temperature)``. ``score`` answers self-evaluation ("is the last step
    right?") correctly with probability ``judge_accuracy``.
    """

    def __new__(cls, *args: Any, **kwargs: Any):
        from reasongym.agents.models.base import LanguageModel

        if not issubclass(cls, LanguageModel):  # subclass lazily: the module imports light
            cls = type(cls.__name__, (cls, LanguageModel), {})
        return object.__new__(cls)

    def __init__(self, accuracy: float, judge_accuracy: float, seed: int = 0):
        from reasongym.agents.models.base import UsageCounter

        self.usage = UsageCounter()
        self.accuracy, self.judge_accuracy, self.seed = accuracy, judge_accuracy, seed

    def _rng(self, *parts: Any):
        import zlib

        import numpy as np

        return np.random.default_rng(zlib.crc32(repr((self.seed, *parts)).encode()))

    @staticmethod
    def _board(prompt: Any) -> str:
        last = prompt[-1]["content"] if isinstance(prompt, list) else str(prompt)
        return last if isinstance(last, str) else ""

    def _logprobs(self, board: str) -> dict[str, float]:
        good = _shortest_move(board) or "up"
        rng = self._rng(board)
        top = (
            good
            if rng.random() < self.accuracy
            else str(rng.choice([m for m in _MOVES if m != good]))
        )
        return {m: (-0.2 if m == top else -2.5 - float(rng.random())) for m in _MOVES}

    def generate(self, prompts, config):
        import math

        from reasongym.agents.models.base import Completion

        out = []
        for i, prompt in enumerate(prompts):
            logprobs = self._logprobs(self._board(prompt))
            moves = list(logprobs)
            row = []
            for k in range(config.n):
                if config.temperature <= 0:
                    move = max(moves, key=logprobs.get)
                else:
                    weights = [math.exp(logprobs[m] / config.temperature) for m in moves]
                    rng = self._rng(self._board(prompt), config.seed, i, k)
                    move = moves[int(rng.choice(len(moves), p=[w / sum(weights) for w in weights]))]
                tokens = ("<answer>", move, "</answer>")
                share = logprobs[move] / len(tokens)
                row.append(Completion("".join(tokens), tokens, (share,) * len(tokens), "stop"))
            out.append(row)
        self.usage.calls += 1
        self.usage.generated_tokens += sum(c.num_tokens for r in out for c in r)
        return out

    def score(self, prompt, continuations):
        import math

        chat = prompt if isinstance(prompt, list) else []
        said = next((m["content"] for m in reversed(chat) if m["role"] == "assistant"), "")
        boards = [
            m["content"]
            for m in chat
            if m["role"] == "user" and "Current board" in str(m["content"])
        ]
        before = boards[-2] if len(boards) >= 2 else (boards[-1] if boards else "")
        right = _shortest_move(before) is not None and f">{_shortest_move(before)}<" in said
        rng = self._rng("judge", said, before)
        believed = right if rng.random() < self.judge_accuracy else not right
        p_yes = 0.8 if believed else 0.2
        return [math.log(p_yes if c.strip().lower() == "yes" else 1 - p_yes) for c in continuations]


def maze_methods(policy, depth: int) -> list[tuple[str, str, Callable[[], Any]]]:
    """(label, guidance kind, factory) of the text-maze rows; searches look ``depth`` moves
    ahead (the episode's turn limit, so a search can see the goal)."""
    from reasongym.agents.models.base import GenerationConfig
    from reasongym.agents.search import MCTS, BeamSearch, BestOfN

    sample = GenerationConfig(temperature=1.0, max_tokens=8)
    greedy = GenerationConfig(temperature=0.0, max_tokens=8)
    common = {"generation": sample, "seed": 0, "max_depth": depth}
    return [
        ("greedy", "none", lambda: BestOfN(policy, n=1, generation=greedy)),
        (
            "beam-2x4",
            "internal",
            lambda: BeamSearch(policy, beam_width=2, expand=4, guidance="self_eval", **common),
        ),
        (
            "beam-4x4",
            "internal",
            lambda: BeamSearch(policy, beam_width=4, expand=4, guidance="self_eval", **common),
        ),
        (
            "beam-4x4",
            "external",
            lambda: BeamSearch(
                policy, beam_width=4, expand=4, guidance="verifier", mode="train", **common
            ),
        ),
        (
            "mcts-16x4",
            "internal",
            lambda: MCTS(
                policy, simulations=16, expand=4, guidance="self_eval", evaluation="value", **common
            ),
        ),
        (
            "mcts-32x4",
            "external",
            lambda: MCTS(
                policy, simulations=32, expand=4, guidance="verifier", mode="train", **common
            ),
        ),
    ]


def maze_rows(args: argparse.Namespace) -> list[Row]:
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the ids

    policy = NoisyMovePolicy(args.maze_accuracy, args.maze_judge_accuracy)
    env = gym.make(MAZE, size=args.maze_size, observation_mode="text", max_turns=args.maze_turns)
    tasks = list(range(args.maze_tasks))
    rows = []
    try:
        for label, kind, factory in maze_methods(policy, args.maze_turns):
            agent = factory()
            success, stats, wall = run_method(env, agent, tasks)
            n = len(tasks)
            rows.append(
                Row(
                    method=label,
                    guidance=stats["guidance"] if kind != "none" else "-",
                    kind=kind,
                    mode=stats["mode"],
                    tasks=n,
                    success_rate=success,
                    tokens_per_task=stats["tokens_generated"] / n,
                    verifier_calls_per_task=stats["verifier_calls"] / n,
                    self_eval_calls_per_task=stats["self_eval_calls"] / n,
                    env_steps_per_task=stats["env_steps"] / n,
                    wall_s=wall,
                )
            )
            print(
                f"[bench] maze {label:<10} {kind:<9} success {success:.3f} ({wall:.0f} s)",
                file=sys.stderr,
            )
    finally:
        env.close()
    return rows


def smollm_row(args: argparse.Namespace) -> dict[str, Any] | None:
    """Greedy SmolLM2 (through the search agent, n=1) on a few Math-v0 tasks, or None.

    A smoke row: on a shared 2-core CPU the 135M model decodes a few tokens per second, so
    turns are capped at ``--smollm-turns`` and tokens per step at ``--smollm-max-tokens``.
    """
    try:
        from reasongym.agents.models import load_model

        lm = load_model("smollm2")
    except Exception as exc:  # the model package is optional: report, do not fail the bench
        print(f"[bench] SmolLM2 row skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    import gymnasium as gym

    from reasongym.agents.models.base import GenerationConfig
    from reasongym.agents.search import BestOfN

    env = gym.make(MATH, max_turns=args.smollm_turns)
    tasks = list(range(args.smollm_tasks))
    generation = GenerationConfig(temperature=0.0, max_tokens=args.smollm_max_tokens)
    out: dict[str, Any] = {
        "model": "SmolLM2-135M-Instruct",
        "env": MATH,
        "tasks": len(tasks),
        "max_turns": args.smollm_turns,
    }
    try:
        success, stats, wall = run_method(env, BestOfN(lm, n=1, generation=generation), tasks)
        out["greedy"] = {
            "success_rate": success,
            "tokens_per_task": stats["tokens_generated"] / len(tasks),
            "tokens_per_s": stats["tokens_generated"] / wall,
            "wall_s": wall,
        }
        print(f"[bench] smollm2 greedy: {out['greedy']}", file=sys.stderr)
    finally:
        env.close()
        lm.close()
    return out


def print_table(rows: list[Row], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in (
        "method",
        "guidance",
        "kind",
        "mode",
        "success",
        "tokens/task",
        "verifier calls/task",
        "self-eval/task",
        "env steps/task",
        "wall s",
    ):
        table.add_column(
            column,
            justify="right" if column not in ("method", "guidance", "kind", "mode") else "left",
        )
    for r in rows:
        table.add_row(
            r.method,
            r.guidance,
            r.kind,
            r.mode,
            f"{r.success_rate:.3f}",
            f"{r.tokens_per_task:.1f}",
            f"{r.verifier_calls_per_task:.2f}",
            f"{r.self_eval_calls_per_task:.1f}",
            f"{r.env_steps_per_task:.1f}",
            f"{r.wall_s:.1f}",
        )
    Console(width=max(150, Console().width)).print(table)


def print_smollm(smollm: dict[str, Any] | None) -> None:
    from rich.console import Console

    console = Console(width=max(150, Console().width))
    if smollm:
        r = smollm["greedy"]
        console.print(
            f"SmolLM2-135M-Instruct, greedy, {smollm['tasks']} {MATH} tasks (max {smollm['max_turns']} "
            f"turns): success {r['success_rate']:.2f}, {r['tokens_per_task']:.0f} tokens/task, "
            f"{r['tokens_per_s']:.1f} tokens/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tasks", type=int, default=200, help="Arithmetic-v0 tasks (indices 0..N-1)"
    )
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="where the tiny policy is saved/loaded"
    )
    parser.add_argument(
        "--target-accuracy",
        type=float,
        default=0.45,
        help="pretraining stops at this greedy accuracy",
    )
    parser.add_argument("--no-tiny", action="store_true", help="skip the Arithmetic-v0 table")
    parser.add_argument(
        "--maze-tasks", type=int, default=40, help="text Maze-v0 tasks (indices 0..N-1)"
    )
    parser.add_argument("--maze-size", type=int, default=7, help="maze side (odd)")
    parser.add_argument("--maze-turns", type=int, default=20, help="max_turns of the maze episodes")
    parser.add_argument(
        "--maze-accuracy",
        type=float,
        default=0.7,
        help="policy: share of states where the best move is its top move",
    )
    parser.add_argument(
        "--maze-judge-accuracy", type=float, default=0.8, help="policy: self-evaluation accuracy"
    )
    parser.add_argument("--smollm-tasks", type=int, default=2)
    parser.add_argument("--smollm-turns", type=int, default=2, help="Math-v0 max_turns for SmolLM2")
    parser.add_argument("--smollm-max-tokens", type=int, default=128)
    parser.add_argument("--no-smollm", action="store_true", help="skip the SmolLM2 smoke row")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--json", help="write the results as JSON")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    rows, pretrain = ([], {}) if args.no_tiny else tiny_rows(args)
    maze = maze_rows(args) if args.maze_tasks > 0 else []
    smollm = None if args.no_smollm else smollm_row(args)
    if rows:
        print_table(
            rows,
            f"Search scaling on {ARITHMETIC} (difficulty {pretrain['difficulty']}, {rows[0].tasks} "
            f"fixed tasks; tiny policy, greedy accuracy {pretrain['greedy_accuracy']:.3f})",
        )
    if maze:
        print_table(
            maze,
            f"Search on a text-mode puzzle: {MAZE} text, size {args.maze_size}, "
            f"{maze[0].tasks} tasks, max {args.maze_turns} turns (synthetic policy: top move right "
            f"in {args.maze_accuracy:.0%} of states, self-evaluation {args.maze_judge_accuracy:.0%} right)",
        )
    print_smollm(smollm)
    total = time.perf_counter() - start
    print(f"total {total:.0f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "pretrain": pretrain,
            "rows": [asdict(r) for r in rows],
            "maze_rows": [asdict(r) for r in maze],
            "smollm2": smollm,
            "total_s": total,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
