"""Checkpoints of a run: save, find the latest, resume the optimizer loop, and end a run."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from reasongym.train.policy import Policy, load_policy
from reasongym.train.rollouts import evaluate
from reasongym.train.run_log import RunLog, write_summary
from reasongym.train.tasks import TaskSplit

logger = logging.getLogger(__name__)


def save_checkpoint(
    out: Path, name: str, policy: Policy, state: dict[str, Any], optimizer: Any = None
) -> Path:
    """Save the policy and ``state`` (plain data) under ``out/checkpoints/name`` and point
    ``latest`` at it (written last, so a crash mid-save leaves the previous one)."""
    import torch

    directory = out / "checkpoints" / name
    tmp = directory.with_name(name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    policy.save(tmp)
    if optimizer is not None:
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=2))
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)
    (out / "checkpoints" / "latest").write_text(name)
    return directory


def latest_checkpoint(out: Path) -> tuple[Path, dict[str, Any]] | None:
    """``(directory, state)`` of the last checkpoint of a run, or None."""
    marker = out / "checkpoints" / "latest"
    if not marker.is_file():
        return None
    directory = out / "checkpoints" / marker.read_text().strip()
    return directory, json.loads((directory / "state.json").read_text())


def load_optimizer_state(optimizer: Any, directory: Path) -> None:
    import torch

    path = directory / "optimizer.pt"
    if path.is_file():
        optimizer.load_state_dict(torch.load(path, weights_only=True))


def resume_optimizer_loop(
    out: Path, start_policy: Policy, config: Any, log: RunLog, split: TaskSplit, **first_row: Any
) -> tuple[Policy, Any, int]:
    """Start or resume a step-wise optimiser run (DPO, GRPO): ``(policy, AdamW, first step)``.

    A fresh run logs step 0 (``first_row`` plus the held-out evaluation); a resumed one loads
    the last checkpoint's weights and optimiser state and forgets metrics logged after it."""
    import torch

    resumed = latest_checkpoint(out)
    policy = start_policy if resumed is None else load_policy(config.policy, resumed[0])
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=config.learning_rate)
    if resumed is None:
        log.truncate_after(-1)
        log.log(
            {"step": 0, **first_row, **evaluate(policy.lm, split, tool_calls=policy.tool_calls)}
        )
        return policy, optimizer, 1
    load_optimizer_state(optimizer, resumed[0])
    log.truncate_after(resumed[1]["step"])
    return policy, optimizer, resumed[1]["step"] + 1


def optimizer_step(loss: Any, policy: Policy, optimizer: Any) -> None:
    """Backward, clip the gradient norm at 1, step."""
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.model.parameters(), 1.0)
    optimizer.step()


def end_step(
    step: int,
    row: dict[str, Any],
    config: Any,
    out: Path,
    log: RunLog,
    split: TaskSplit,
    policy: Policy,
    optimizer: Any,
) -> None:
    """Evaluate every ``eval_every`` steps, log ``row``, checkpoint every ``checkpoint_every``
    steps (and always at the last step)."""
    last = step == config.steps
    if step % config.eval_every == 0 or last:
        row.update(evaluate(policy.lm, split, tool_calls=policy.tool_calls))
    log.log(row)
    if step % config.checkpoint_every == 0 or last:
        save_checkpoint(out, f"step-{step}", policy, {"step": step}, optimizer)


def finish_run(
    out: Path, log: RunLog, env: Any, method: str, rows_key: str = "evaluations", **extra: Any
) -> dict[str, Any]:
    """Plot, close, and write ``summary.json``: pass@1 at the start and the end (on the held-out
    tasks and on the unseen questions), ``extra``, and the evaluated rows under ``rows_key``."""
    log.plot()
    log.close()
    env.close()
    evaluated = [r for r in log.rows if "pass1" in r]
    summary = {
        "method": method,
        "start_pass1": evaluated[0]["pass1"],
        "final_pass1": evaluated[-1]["pass1"],
        "start_pass1_unseen_questions": evaluated[0]["pass1_unseen_questions"],
        "final_pass1_unseen_questions": evaluated[-1]["pass1_unseen_questions"],
        **extra,
        rows_key: evaluated,
    }
    write_summary(out, summary)
    return summary
