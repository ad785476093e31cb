"""What a run writes as it goes: metrics JSONL, TensorBoard, the learning curve, progress
bars, threads and the summary."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class RunLog:
    """Metrics to ``metrics.jsonl`` and TensorBoard, and the learning-curve PNG.

    On resume, the points already in ``metrics.jsonl`` are kept (and plotted).
    """

    def __init__(self, out: Path, x_key: str, title: str):
        self.out = out
        self.x_key = x_key
        self.title = title
        self.path = out / "metrics.jsonl"
        self.rows: list[dict[str, Any]] = []
        if self.path.is_file():
            self.rows = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        self._writer = None

    def truncate_after(self, x: float) -> None:
        """Forget points logged after ``x`` (work past the checkpoint a resume starts from)."""
        self.rows = [r for r in self.rows if r[self.x_key] <= x]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in self.rows))

    @property
    def writer(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.out / "tb"))
        return self._writer

    def log(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        x = int(row[self.x_key])
        for key, value in row.items():
            if key != self.x_key and isinstance(value, int | float) and value == value:
                self.writer.add_scalar(key, value, x)
        self.writer.flush()

    def plot(self, keys: Iterable[str] = ("pass1", "pass1_unseen_questions")) -> Path:
        """Save ``learning_curve.png``: ``keys`` against ``x_key``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for key in keys:
            points = [(r[self.x_key], r[key]) for r in self.rows if key in r]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", label=key)
        ax.set_xlabel(self.x_key)
        ax.set_ylabel("greedy pass@1 (held-out)")
        ax.set_ylim(0, 1)
        ax.set_title(self.title)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = self.out / "learning_curve.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def progress(total: int, description: str, enabled: bool):
    """A tqdm progress bar (a no-op one when ``enabled`` is False)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, disable=not enabled, leave=False)


def write_summary(out: Path, summary: dict[str, Any]) -> Path:
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2))
    return path
