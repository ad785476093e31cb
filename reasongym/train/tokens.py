"""Token batches for the losses: encoding turns, padding, log-probs of targets, the SFT loss."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from reasongym.train.rollouts import Turn

logger = logging.getLogger(__name__)


def encode_turn(lm: Any, turn: Turn, add_eos: bool) -> tuple[list[int], list[int]]:
    """``(prompt ids, action ids)``; ``add_eos`` appends EOS to the action (SFT: the model
    learns to stop; GRPO/DPO score exactly what was sampled, which ended on a stop string)."""
    tokenizer = lm.tokenizer
    target = list(tokenizer.encode(turn.action, add_special_tokens=False))
    if add_eos and tokenizer.eos_token_id is not None:
        target.append(int(tokenizer.eos_token_id))
    target = target[: max(1, lm.context_length - 1)]
    if turn.tools:  # rendered as when it was sampled: with the tools, natively
        prompt = lm.encode_prompt(turn.prompt, reserve=len(target), tools=turn.tools)
    else:
        prompt = lm.encode_prompt(turn.prompt, reserve=len(target))
    return prompt, target


def pad_rows(rows: Sequence[tuple[list[int], list[int]]], pad_id: int):
    """Right-padded ``(input_ids, attention_mask, labels)``, each (B, T); labels are -100
    except on the target tokens."""
    import torch

    width = max(len(p) + len(t) for p, t in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (p, t) in enumerate(rows):
        n = len(p) + len(t)
        ids[i, :n] = torch.tensor(p + t)
        mask[i, :n] = 1
        labels[i, len(p) : n] = torch.tensor(t)
    return ids, mask, labels


def token_logprobs(model: Any, rows: Sequence[tuple[list[int], list[int]]], pad_id: int):
    """Log-probs of the target tokens, (B, T-1), zero off target, and the target mask."""
    import torch

    ids, mask, labels = pad_rows(rows, pad_id)
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1, :].float()  # (B, T-1, V)
    targets = labels[:, 1:]  # (B, T-1): position t predicts token t+1
    valid = targets != -100
    logp = torch.log_softmax(logits, dim=-1).gather(2, targets.clamp(min=0)[..., None])[..., 0]
    return logp * valid, valid


def target_logprobs(model: Any, rows: Sequence[tuple[list[int], list[int]]], pad_id: int):
    """Per row: (sum of the target tokens' log-probs, number of target tokens), both (B,)."""
    logp, valid = token_logprobs(model, rows, pad_id)
    return logp.sum(-1), valid.sum(-1)


def sft_loss(model: Any, rows: Sequence[tuple[list[int], list[int]]], pad_id: int):
    """Mean token cross-entropy on the targets."""
    ids, mask, labels = pad_rows(rows, pad_id)
    return model(input_ids=ids, attention_mask=mask, labels=labels).loss
