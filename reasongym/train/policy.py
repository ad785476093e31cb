"""The policy handle the training loops update: a language model plus its torch modules."""

from __future__ import annotations

import copy
import json
import logging
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasongym.train.run_config import PolicyConfig

logger = logging.getLogger(__name__)


@dataclass
class Policy:
    """A trainable policy: the ``TransformersLM`` that generates, plus how to save it.

    Attributes:
        lm: the language model (``lm.model`` is the torch module being trained).
        tiny_config: the tiny model's shape when it is one (saved with it), else None.
        tool_calls: how episodes call tools (``PolicyConfig.tool_calls``).
    """

    lm: Any
    tiny_config: Any = None
    tool_calls: str = "tags"

    @property
    def model(self) -> Any:
        return self.lm.model

    @property
    def tokenizer(self) -> Any:
        return self.lm.tokenizer

    def save(self, directory: Path) -> None:
        """Save the model (LoRA adapters merged into a copy) where ``load_policy`` finds it."""
        from reasongym.agents.models.tiny import save_tiny

        model = self.lm.model
        if hasattr(model, "merge_and_unload"):  # a peft model
            model = copy.deepcopy(model).merge_and_unload()
        if self.tiny_config is not None:
            save_tiny(
                types.SimpleNamespace(model=model, tokenizer=self.lm.tokenizer),
                directory,
                self.tiny_config,
            )
        else:
            directory.mkdir(parents=True, exist_ok=True)
            model.save_pretrained(directory)
            self.lm.tokenizer.save_pretrained(directory)

    def frozen_copy(self) -> Any:
        """A frozen deep copy of the torch model (the reference policy of GRPO's KL and DPO)."""
        ref = copy.deepcopy(self.model).eval()
        for p in ref.parameters():
            p.requires_grad_(False)
        return ref


def load_policy(config: PolicyConfig, directory: Path | None = None) -> Policy:
    """The policy ``config.model`` names, or the checkpoint in ``directory`` when given (with
    LoRA adapters when ``config.lora`` is set)."""
    policy = _load_weights(config, directory)
    policy.tool_calls = config.tool_calls
    if config.lora is not None:
        try:
            import peft
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                "policy.lora needs peft: pip install peft (or drop 'lora' for full fine-tuning)"
            ) from exc
        lora = config.lora
        policy.lm.model = peft.get_peft_model(
            policy.lm.model,
            peft.LoraConfig(
                r=lora.r,
                lora_alpha=lora.alpha,
                lora_dropout=lora.dropout,
                target_modules=list(lora.target_modules),
                task_type="CAUSAL_LM",
            ),
        ).eval()
    return policy


def _load_weights(config: PolicyConfig, directory: Path | None) -> Policy:
    from reasongym.agents.models import tiny
    from reasongym.agents.models.transformers_lm import TransformersLM

    options = {"batch_size": config.batch_size}
    spec = str(directory) if directory is not None else config.model
    if directory is None and spec.startswith("tiny-pretrained:"):
        result = tiny.pretrain_arithmetic(
            Path(spec.split(":", 1)[1]).expanduser(), **config.pretrain
        )
        logger.info(result.summary())
        spec = str(Path(spec.split(":", 1)[1]).expanduser())
    elif directory is None and spec == "tiny-fresh":
        shape = tiny.TinyModelConfig()
        model, tokenizer = tiny.build_tiny_model(shape, seed=0)
        return Policy(tiny.tiny_lm(model, tokenizer, shape, **options), shape)
    elif spec.startswith("tiny:"):
        spec = str(Path(spec.split(":", 1)[1]).expanduser())
    path = Path(spec).expanduser()
    if (path / tiny.MARKER_FILE).is_file():
        shape = tiny.TinyModelConfig(**json.loads((path / tiny.MARKER_FILE).read_text())["model"])
        return Policy(tiny.load_tiny(path, **options), shape)
    return Policy(TransformersLM(str(path), **options))
