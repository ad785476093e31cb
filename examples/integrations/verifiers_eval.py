"""verifiers' own ``vf-eval`` on a reasongym id, next to ``reasongym run`` on the same tasks.

    python examples/integrations/verifiers_eval.py                 # SmolLM2-135M-Instruct
    python examples/integrations/verifiers_eval.py --model PATH    # any local HF chat model
    python examples/integrations/verifiers_eval.py --base-url http://127.0.0.1:8766/v1 --model NAME

The model is served on loopback as ``python -m reasongym.agents.models.serve`` serves it (here
in-process, unless ``--base-url`` names a running server); then the two commands of the README
run against it, greedy, with the same token budget: ``vf-eval reasongym-env ...`` (verifiers'
evaluation entry point; the taskset id ``reasongym-env`` is this package) and ``reasongym run
--agent llm ...``. The script prints each task's reward from both, which must be equal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENV_ID = "reasongym/Arithmetic-v0"
# One-digit sums, prose answers graded ("The answer is 9."), as in `reasongym demo`: a 135M
# model solves some, so the comparison has rewards of both signs. Two turns: a format error
# gets one more try.
EASY = json.dumps(
    {
        "task": {"source": "procedural", "generator": "arithmetic", "difficulty": 1},
        "answer_mode": "free_text",
        "max_turns": 2,
    }
)


def commands(base_url: str, model: str, tasks: int, max_tokens: int, env_kwargs: str, out: Path):
    """The README's two commands (argv lists) for these settings."""
    bindir = Path(sys.executable).parent
    vf_eval = shutil.which("vf-eval", path=str(bindir)) or "vf-eval"
    reasongym = shutil.which("reasongym", path=str(bindir)) or "reasongym"
    # README start
    # fmt: off
    vf = [vf_eval, "reasongym-env", "--env.taskset.env-id", ENV_ID,
          "--env.taskset.num-tasks", str(tasks), "--env.taskset.env-kwargs", env_kwargs,
          "-m", model, "--client.base-url", base_url, "--client.api-key-var", "OPENAI_API_KEY",
          "--env.player.sampling.max-tokens", str(max_tokens),
          "--env.player.sampling.temperature", "0", "-c", "1", "--no-push"]
    run = [reasongym, "run", ENV_ID, "--agent", "llm", "--base-url", base_url, "--model", model,
           "--tasks", f"0:{tasks}", "--env-kwargs", env_kwargs, "--max-tokens", str(max_tokens)]
    # fmt: on
    # README end  (the script adds output paths)
    vf += ["-o", str(out / "vf"), "--clean", "true"]
    run += ["--quiet", "--json", str(out / "run.json")]
    return vf, run


def compare(
    base_url: str,
    model: str,
    tasks: int,
    max_tokens: int,
    env_kwargs: str,
    out: Path,
    timeout_s: float = 3600.0,
):
    """Run both commands (each bounded by ``timeout_s``); returns ``(rows, seconds per
    command)``, rows being ``(task_id, vf-eval reward, reasongym run reward)``."""
    vf, run = commands(base_url, model, tasks, max_tokens, env_kwargs, out)
    env = {**os.environ, "OPENAI_API_KEY": os.environ.get("OPENAI_API_KEY", "unused")}
    env["PRIME_API_KEY"] = ""  # offline: nothing is pushed
    timings = {}
    for name, argv in (("vf-eval", vf), ("reasongym run", run)):
        start = time.perf_counter()
        done = subprocess.run(
            argv, env=env, cwd=out, capture_output=True, text=True, timeout=timeout_s
        )
        timings[name] = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    ours = {
        r["task_id"]: float(r["reward"])
        for r in json.loads((out / "run.json").read_text())["results"]
    }
    theirs: dict[str, float] = {}
    for path in (out / "vf").rglob("traces.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                episode = json.loads(line)
                (trace,) = episode["traces"]
                score = trace["rewards"]["reasongym_reward"]["score"]
                theirs[episode["task"]["data"]["id"]] = float(score)
    rows = [(task, theirs.get(task), ours.get(task)) for task in sorted({*ours, *theirs})]
    return rows, timings


def main(argv: list[str] | None = None, policy: Any = None) -> list[tuple]:
    """Serve the model (or use ``--base-url``), run both evaluations, print the comparison.

    ``policy``: a ``LanguageModel`` to serve instead of loading ``--model`` (for tests).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="smollm2, a path, or a served name")
    parser.add_argument("--base-url", default=None, help="a running OpenAI-compatible server")
    parser.add_argument("--tasks", type=int, default=2, help="task indices 0..N-1")
    parser.add_argument("--max-tokens", type=int, default=48, help="new tokens per turn")
    parser.add_argument("--env-kwargs", default=EASY, help="JSON gym.make kwargs")
    parser.add_argument("--out", default=None, help="output dir (default: a temporary one)")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="rg-vf-")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        base_url = args.base_url
        if base_url is None:
            from reasongym.agents.models import load_model
            from reasongym.agents.models.serve import serve_in_thread

            model = policy if policy is not None else load_model(args.model)
            server = stack.enter_context(serve_in_thread(model, model_name=args.model))
            base_url = server.base_url
        rows, timings = compare(
            base_url, args.model, args.tasks, args.max_tokens, args.env_kwargs, out
        )
    print(f"{'task':<20} {'vf-eval reward':>15} {'reasongym run':>14}")
    for task, theirs, ours in rows:
        print(f"{task:<20} {theirs!s:>15} {ours!s:>14}")
    same = all(theirs == ours for _, theirs, ours in rows)
    print(
        f"rewards equal: {same}; vf-eval {timings['vf-eval']:.0f} s, reasongym run "
        f"{timings['reasongym run']:.0f} s, wall {time.perf_counter() - start:.0f} s"
    )
    return rows


if __name__ == "__main__":
    main()
