"""Run configs of the learning-from-search loops: the policy, LoRA and task sections, reading
a run YAML (unknown keys are errors naming the key), the run folder and seeding."""

from __future__ import annotations

import logging
import random
from dataclasses import field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from reasongym.envs.base import EnvConfig as ConfigModel
from reasongym.errors import ConfigError

logger = logging.getLogger(__name__)


class LoraConfig(ConfigModel):
    """LoRA adapters (``peft``) instead of full fine-tuning.

    Attributes:
        r: adapter rank.
        alpha: scaling numerator (the update is scaled by alpha / r).
        dropout: dropout on the adapter input.
        target_modules: names of the linear layers that get adapters (Llama-style names).
    """

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


class PolicyConfig(ConfigModel):
    """Where the starting policy comes from.

    Attributes:
        model: ``tiny-pretrained:DIR`` (the tiny Arithmetic policy: loaded from DIR, or
            pretrained into DIR first, in-process), ``tiny:DIR`` (a saved tiny model),
            ``tiny-fresh`` (an untrained tiny model: smoke tests), or a local ``transformers``
            checkpoint directory (nothing is downloaded).
        pretrain: overrides of :class:`~reasongym.agents.models.tiny.PretrainConfig` for
            ``tiny-pretrained`` (e.g. ``{target_accuracy: 0.45}``).
        batch_size: rows decoded together when generating.
        lora: train LoRA adapters (needs ``peft``) instead of all weights; checkpoints hold
            the merged weights, so they load like any model (a resume starts fresh adapters
            on the merged weights).
        tool_calls: how the policy calls the env's tools: ``native`` (the typed tools go to
            the model's chat template as ``tools=``, its ``<tool_call>`` output is parsed and
            sent to the env as the contract's tool-call JSON: for Hugging Face chat models
            with a tool template), ``tags`` (the model writes the env's tag grammar), or
            ``auto`` (native when the env's ``action_format`` is ``native``).
    """

    model: str = "tiny-pretrained:~/.cache/reasongym/tiny-arith-d1"
    pretrain: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = 128
    lora: LoraConfig | None = None
    tool_calls: Literal["auto", "native", "tags"] = "auto"


class TaskConfig(ConfigModel):
    """The env and how its tasks split into training and held-out evaluation.

    Tasks are addressed by index (``env.reset(options={"task_index": i})``).

    Attributes:
        env_id: a registered text env.
        env_kwargs: keyword arguments of ``gym.make`` (e.g. the task source).
        eval_start: first held-out evaluation task.
        eval_tasks: held-out tasks evaluated with greedy pass@1 (>= 300 for the proof).
        train_start: training tasks are drawn from indices >= this (disjoint from eval).
        holdout_question_percent: questions whose stable hash falls in this percentage never
            appear in training data; pass@1 is also reported on the eval tasks that ask them
            ("unseen" questions). Needed where the question space is small (Arithmetic
            difficulty 1 has 200 questions), so that "held out" means more than a new index.
        max_turns: env steps per episode (tool calls + answer); capped by the env's limit.
        max_tokens: tokens per action.
    """

    env_id: str = "reasongym/Arithmetic-v0"
    env_kwargs: dict[str, Any] = field(
        default_factory=lambda: {
            "task": {"source": "procedural", "generator": "arithmetic", "difficulty": 1}
        }
    )
    eval_start: int = 0
    eval_tasks: int = 400
    train_start: int = 2_000_000
    holdout_question_percent: int = 20
    max_turns: int = 4
    max_tokens: int = 24


def config_error(message: str, file: str | None = None, key: str = "") -> ConfigError:
    """A :class:`~reasongym.errors.ConfigError` with one problem."""
    return ConfigError(file, [(key, message)])


def validation_problems(cls: type, exc: Any) -> list[tuple[str, str]]:
    """``(key path, message)`` of a pydantic ``ValidationError`` of config model ``cls``, in the
    words the env configs use (an unknown key lists the valid ones)."""
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = f"unknown key; valid keys: {sorted(cls.model_fields)}"
        problems.append((key, message))
    return problems


def to_dict(config: Any) -> dict[str, Any]:
    """Plain data of a config model (paths as strings)."""
    return config.model_dump(mode="json")


def load_config(cls: type, path: str | Path, out: str | Path | None = None) -> Any:
    """Read a run config of model ``cls`` from YAML; ``out`` overrides the file's ``out``.
    Every problem (unknown key, bad value, nested ones too) is a ``ConfigError`` naming the
    file and the key path."""
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    if not path.is_file():
        raise config_error(f"no run config at {path}; see configs/runs/ for examples", str(path))
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise config_error(f"expected a mapping, got {type(data).__name__}", str(path))
    if out is not None:
        data["out"] = str(out)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), validation_problems(cls, exc)) from None


def prepare_run_dir(config: Any, resume: bool = True) -> Path:
    """Create ``config.out`` and save the config there as ``config.yaml``. A directory that
    already holds a run must have been made with the same config (then the run resumes)."""
    import yaml

    out = Path(config.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    saved_path = out / "config.yaml"
    wanted = to_dict(config)
    if saved_path.is_file():
        saved = yaml.safe_load(saved_path.read_text())
        if _results_part(saved) != _results_part(wanted):
            changed = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
            raise config_error(
                f"{out} holds a run with a different config (keys {changed} differ); use another "
                "--out, or delete the folder to start over"
            )
        if not resume:
            raise config_error(f"{out} already holds a run; pass resume=True to continue it")
    else:
        saved_path.write_text(yaml.safe_dump(wanted, sort_keys=False))
    return out


#: Config keys that do not change what a run computes (a resume may change them).
NOT_RESULT_KEYS = ("out", "progress", "threads")


def _results_part(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in NOT_RESULT_KEYS}


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global RNGs (data order and dropout; sampling has its
    own seeded generators)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)
