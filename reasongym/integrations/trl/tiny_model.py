"""A tiny Hugging Face-format chat model built in-process (no hub), for smoke tests and
benchmarks of the TRL bridge: a real ``tokenizers`` tokenizer with a tool-capable chat
template and a 2-layer Llama, saved with ``save_pretrained`` so TRL loads it from a path
like any model. Whole tool calls are single tokens ("tool-call vocabulary"), so a policy
this small can emit valid calls from the first step and RL has something to choose between."""

from __future__ import annotations

import json
from pathlib import Path


def tool_call_text(name: str, arguments: dict) -> str:
    """The text the template's parser reads as one tool call."""
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def build_tiny_chat_model(
    directory: Path, calls: list[str], words: list[str] | None = None, seed: int = 0
) -> Path:
    """Save a tiny model to ``directory``; each of ``calls`` is one vocabulary token, so a
    near-uniform random policy emits whole tool calls often enough for a few GRPO steps."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from reasongym.agents.models.smollm2 import tool_chat_template

    words = words or [*"0123456789", "+", "-", "*", "/", "(", ")", ".", "Compute", "Problem"]
    special = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
    vocab = {tok: i for i, tok in enumerate(special + words)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [  # words, punctuation and single digits
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Punctuation(),
            pre_tokenizers.Digits(individual_digits=True),
        ]
    )
    from tokenizers import AddedToken, decoders

    backend.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins with spaces
    backend.add_special_tokens(special)
    backend.add_tokens([AddedToken(c, normalized=False, single_word=False) for c in calls])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
    )
    tokenizer.chat_template = tool_chat_template()
    tokenizer.padding_side = "left"
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
