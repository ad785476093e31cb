"""Env step throughput and import time: reasongym vs GEM (gem-llm) in the same run.

Measures, on the same 500 Math-v0 problems:
  * answer steps/s: reset + one final-answer step (the verifier runs) — reasongym Math-v0
    vs GEM's MathEnv over the same problems (its default multiprocessing grader and its
    in-process grader);
  * tool steps/s: one calculator call (reasongym only: GEM has no calculator tool);
  * ``import`` time in a fresh interpreter (median of 5): ``import reasongym`` vs ``import gem``.

GEM runs in its own venv (bench/.venvs/gem, created on first use). Usage:
    python bench/env_throughput.py [--tasks 500] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import peer_python, run_peer  # noqa: E402

GEM_SCRIPT = r"""
import json, logging, sys, time
logging.disable(logging.INFO)
payload = json.load(sys.stdin)
from datasets import Dataset
from gem.envs.math_env import MathEnv
rows = [{"problem": q, "answer": a} for q, a in zip(payload["questions"], payload["answers"])]
out = {}
for use_mp in (True, False):
    env = MathEnv(dataset=Dataset.from_list(rows), use_mp=use_mp, eval=True)
    correct = 0
    start = time.perf_counter()
    for i, action in enumerate(payload["actions"]):
        env.reset(idx=i)
        _, reward, *_ = env.step(action)
        correct += reward == 1.0
    out["mp" if use_mp else "local"] = {"steps_per_s": len(rows) / (time.perf_counter() - start), "correct": correct}
    if use_mp:
        env.close()  # GEM's close() assumes the pool exists
print(json.dumps(out))
"""


def import_time(python: str, module: str, repeats: int = 5) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(repeats):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--json", help="write the results as JSON")
    parser.add_argument("--no-peer", action="store_true", help="skip GEM")
    args = parser.parse_args()

    import gymnasium as gym

    import reasongym  # noqa: F401

    env = gym.make("reasongym/Math-v0").unwrapped
    tasks = [env.source[i] for i in range(args.tasks)]
    # model-style answers: half correct, half wrong, all in \boxed{} so both envs parse them
    actions = [
        f"Let me think. The result is \\boxed{{{t.answer if i % 2 == 0 else t.answer + '1'}}}."
        for i, t in enumerate(tasks)
    ]

    rows = []
    correct = 0
    start = time.perf_counter()
    for i, action in enumerate(actions):
        env.reset(options={"task_index": i})
        _, reward, *_ = env.step(action)
        correct += reward == 1.0
    answer_rate = len(tasks) / (time.perf_counter() - start)
    rows.append(("reasongym Math-v0", "answer step", answer_rate, correct))

    start = time.perf_counter()
    for i in range(len(tasks)):
        if i % 6 == 0:
            env.reset(options={"task_index": i})
        env.step(f'<tool name="calculator">{i} * 37 + 41 / 3</tool>')
    rows.append(
        (
            "reasongym Math-v0",
            "calculator tool step",
            len(tasks) / (time.perf_counter() - start),
            None,
        )
    )
    env.close()

    # gymnasium (which reasongym imports, and every user has) as the floor, measured alongside
    imports = {
        "gymnasium": import_time(sys.executable, "gymnasium"),
        "reasongym": import_time(sys.executable, "reasongym"),
    }
    if not args.no_peer:
        gem_py = peer_python("gem", ["gem-llm==0.1.0", "datasets", "pylatexenc"])
        gem = run_peer(
            gem_py,
            GEM_SCRIPT,
            {
                "questions": [t.question for t in tasks],
                "answers": [t.answer for t in tasks],
                "actions": actions,
            },
        )
        rows.append(
            (
                "GEM MathEnv (default, mp grader)",
                "answer step",
                gem["mp"]["steps_per_s"],
                gem["mp"]["correct"],
            )
        )
        rows.append(
            (
                "GEM MathEnv (in-process grader)",
                "answer step",
                gem["local"]["steps_per_s"],
                gem["local"]["correct"],
            )
        )
        imports["gem"] = import_time(str(gem_py), "gem")

    print(
        f"\nEnv step throughput, {len(tasks)} Math-v0 problems (half the answers correct: {len(tasks) // 2 + len(tasks) % 2})"
    )
    print(f"{'env':<36} {'step':<22} {'steps/s':>10} {'judged correct':>15}")
    for name, kind, rate, ok in rows:
        print(f"{name:<36} {kind:<22} {rate:>10,.0f} {'' if ok is None else ok:>15}")
    ours = rows[0][2]
    for name, _kind, rate, _ in rows[2:]:
        print(f"reasongym answer step vs {name}: {ours / rate:.1f}x")
    print("\nimport time (fresh interpreter, median of 5)")
    for module, seconds in imports.items():
        print(f"  import {module:<10} {seconds * 1000:7.0f} ms")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "rows": [
                        dict(zip(("env", "step", "steps_per_s", "correct"), r, strict=True))
                        for r in rows
                    ],
                    "import_s": imports,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
