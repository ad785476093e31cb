"""A tiny Hugging Face-format chat model built in-process (no hub), for smoke tests and
benchmarks of the TRL bridge and the in-repo trainers: a real ``tokenizers`` tokenizer with a
tool-capable chat template and a small Llama, saved with ``save_pretrained`` so TRL (and
``TransformersLM``) load it from a path like any model.

Vocabulary: digits, operators and a few words are tokens of their own, and so is each text
in ``calls``: whole tool calls (a random policy then emits valid calls from the first step),
or the fixed parts of one ("tool-call vocabulary": :func:`tool_call_parts` gives the text of a
call before and after its string argument, so a call is prefix token + argument characters +
suffix token and a policy can learn to copy any expression into it). Tokens decode without
separators, so ``1``, ``2`` decode to ``12``."""

from __future__ import annotations

import json
from pathlib import Path


def tool_call_text(name: str, arguments: dict) -> str:
    """The text the template's parser reads as one tool call."""
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def tool_call_parts(name: str, argument: str) -> tuple[str, str]:
    """``(prefix, suffix)``: the text of a call of tool ``name`` before and after the value of
    its one string argument ``argument``, as the chat template renders it and its parser reads
    it (``prefix + "3*4" + suffix`` is the call with ``{argument: "3*4"}``)."""
    prefix, suffix = tool_call_text(name, {argument: "@@"}).split("@@")
    return prefix, suffix


WORDS = [
    *"0123456789",
    *"+-*/().,:?",
    "Compute",
    "Problem",
    "What",
    "is",
    "user",
    "assistant",
    "system",
    "tool",
]
MARKERS = ["<tool_response>", "</tool_response>"]


def build_tiny_chat_model(
    directory: Path,
    calls: list[str],
    words: list[str] | None = None,
    seed: int = 0,
    *,
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 2,
    skip_tool_signatures: bool = False,
    numbers: int = 10,
) -> Path:
    """Save a tiny model (random weights, seeded) and its tokenizer to ``directory``.

    Args:
        directory: where ``save_pretrained`` writes.
        calls: texts that become one token each: whole tool calls, or the
            :func:`tool_call_parts` of the calls a policy should compose.
        words: the word-level vocabulary (default :data:`WORDS`: digits, operators, the
            question words); anything else reads as ``<unk>``.
        seed: torch seed of the initial weights.
        hidden_size: width of the Llama (MLP 2x wider).
        layers: transformer blocks.
        heads: attention heads.
        skip_tool_signatures: the tokenizer drops the template's ``# Tools ... </tool_call>``
            block (the JSON signatures and the call instructions: ~350 tokens this model reads
            as ``<unk>``), so prompts are short; the model learns its tools from its training
            episodes. The template itself is unchanged (TRL still recognises and parses it).
        numbers: the integers ``0..numbers-1`` are one token each (longer ones split into
            such chunks, leftmost-longest: ``"2838"`` is ``"283", "8"``), so most numbers are
            one or two tokens and copying one from a tool reply is a short, near fixed-offset
            copy. The default (10) keeps one token per digit.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from reasongym.agents.models.smollm2 import tool_chat_template

    words = list(words or WORDS)
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

    if skip_tool_signatures:
        from tokenizers import Regex, normalizers

        backend.normalizer = normalizers.Replace(Regex(r"# Tools[\s\S]*?</tool_call>"), "")
    backend.decoder = decoders.Fuse()  # no separators: digits decode to numbers
    backend.add_special_tokens(special)
    added = list(dict.fromkeys([*MARKERS, *calls]))
    backend.add_tokens([AddedToken(c, normalized=False, single_word=False) for c in added])
    # Numbers match after normalization, so they cannot split the tool block it removes.
    backend.add_tokens([AddedToken(str(n), normalized=True) for n in range(10, numbers)])
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
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
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
