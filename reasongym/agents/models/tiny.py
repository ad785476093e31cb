"""A tiny Llama-style policy (~0.5M parameters, char-level) and its in-process pretraining on
``reasongym/Arithmetic-v0`` prompts, for tests and the search benchmark (no model hub).

The model reads only the last ``prompt_window`` characters of the formatted chat (which hold the
problem and the ``Assistant:`` cue) and answers ``<answer>N</answer>``. Pretraining stops as
soon as greedy accuracy on validation tasks reaches ``target_accuracy``: the point is a *weak*
policy (roughly 30-60% pass@1), so that search and learning have room to help.

The default is difficulty 1 (``Compute a + b.`` / ``a - b`` with single digits), which the
model learns in a few hundred steps (a few CPU minutes). That level has only 200 distinct
questions, so training sees them all: the policy is weak because training stops early, and
"held-out" means unseen task indices, not unseen questions. Difficulty 2 (three 2-digit
operands with ``*``) has millions of questions and can be truly held out
(``holdout_tasks=1000``), but this model needs far more than a few CPU minutes to reach 30%
there (0.5% after 600 steps).

Task indices (``env.reset(options={"task_index": i})``):

* ``0 .. holdout_tasks-1``: held out (evaluate here); training never uses their questions;
* ``VALIDATION_START ..``: validation tasks that decide when pretraining stops;
* training samples come from indices ``>= TRAIN_START``, minus any held-out question.

Example::

    from reasongym.agents.models.tiny import pretrain_arithmetic, arithmetic_accuracy

    result = pretrain_arithmetic("~/.cache/reasongym/tiny-arith")   # trains, or loads if saved
    print(result.summary())
    print(arithmetic_accuracy(result.lm, range(200)))
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from reasongym.agents.models.base import GenerationConfig
from reasongym.agents.models.transformers_lm import TransformersLM

logger = logging.getLogger(__name__)

ARITHMETIC_ENV_ID = "reasongym/Arithmetic-v0"
VALIDATION_START = 1_000_000
TRAIN_START = 2_000_000
MARKER_FILE = "reasongym_tiny.json"
_SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
_CHARS = "\n" + "".join(chr(c) for c in range(32, 127))


class CharTokenizer:
    """One token per character (printable ASCII and newline), plus pad/bos/eos/unk.

    Implements the part of the Hugging Face tokenizer API that :class:`TransformersLM` uses.
    """

    chat_template = None  # TransformersLM then uses its plain ``User:/Assistant:`` format
    pad_token_id, bos_token_id, eos_token_id, unk_token_id = range(4)

    def __init__(self, chars: str = _CHARS):
        self.chars = chars
        self._index = {c: i + len(_SPECIALS) for i, c in enumerate(chars)}

    @property
    def vocab_size(self) -> int:
        return len(_SPECIALS) + len(self.chars)

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        ids = [self._index.get(c, self.unk_token_id) for c in text]
        return [self.bos_token_id, *ids] if add_special_tokens else ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        out = []
        for i in ids:
            i = int(i)
            if i >= len(_SPECIALS):
                out.append(self.chars[i - len(_SPECIALS)])
            elif not skip_special_tokens:
                out.append(_SPECIALS[i])
        return "".join(out)

    def save_pretrained(self, directory: str | Path) -> None:
        Path(directory, "char_tokenizer.json").write_text(json.dumps({"chars": self.chars}))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> CharTokenizer:
        return cls(json.loads(Path(directory, "char_tokenizer.json").read_text())["chars"])


@dataclass(frozen=True)
class TinyModelConfig:
    """Shape of the tiny model (a ``transformers.LlamaConfig`` underneath).

    Attributes:
        hidden_size: width; 128 with 3 layers gives ~0.5M parameters (4 layers of 384-wide
            MLPs, 0.9M, learnt more slowly: 11% after 300 steps against 52%).
        num_layers: transformer blocks.
        num_heads: attention heads (head size hidden_size / num_heads).
        intermediate_size: MLP width (SwiGLU, so three matrices of this size).
        prompt_window: characters of the formatted prompt the model reads; the last 32
            characters of an Arithmetic-v0 prompt hold the problem and the answer cue.
        max_answer_tokens: room for the answer; context length = prompt_window + this.
    """

    hidden_size: int = 128
    num_layers: int = 3
    num_heads: int = 4
    intermediate_size: int = 256
    prompt_window: int = 32
    max_answer_tokens: int = 24


@dataclass(frozen=True)
class PretrainConfig:
    """Settings of :func:`pretrain_arithmetic` (unknown keys are rejected).

    Attributes:
        difficulty: Arithmetic-v0 difficulty (1: a + b or a - b with one digit; see the
            module docstring for difficulty 2).
        target_accuracy: stop once greedy accuracy on the validation tasks reaches this.
        max_steps: give up (and keep the model as it is) after this many steps.
        batch_size: sequences per optimizer step.
        learning_rate: AdamW peak learning rate (linear warmup, then constant: the stop is
            decided by accuracy, not by a schedule's end).
        warmup_steps: linear warmup.
        weight_decay: AdamW weight decay.
        eval_every: steps between validation checks.
        validation_tasks: how many validation tasks decide the stop.
        holdout_tasks: tasks 0..holdout_tasks-1 whose questions training never uses (0 at
            difficulty 1, where all 200 questions occur among the first tasks).
        seed: model initialisation and data order.
        model: the model shape.
    """

    difficulty: int = 1
    target_accuracy: float = 0.45
    max_steps: int = 2000
    batch_size: int = 64
    learning_rate: float = 3e-3
    warmup_steps: int = 100
    weight_decay: float = 0.01
    eval_every: int = 25
    validation_tasks: int = 200
    holdout_tasks: int = 0
    seed: int = 0
    model: TinyModelConfig = field(default_factory=TinyModelConfig)


@dataclass
class PretrainResult:
    """What :func:`pretrain_arithmetic` returns.

    Attributes:
        lm: the model, ready to generate.
        steps: optimizer steps taken.
        seconds: wall time of training (0 when loaded).
        validation_accuracy: greedy accuracy on the validation tasks at the stop.
        history: ``(step, validation accuracy, training loss)`` at every check.
        loaded: True when the model came from ``out_dir`` rather than being trained now.
    """

    lm: TransformersLM
    steps: int
    seconds: float
    validation_accuracy: float
    history: list[tuple[int, float, float]]
    loaded: bool = False

    def summary(self) -> str:
        how = "loaded" if self.loaded else f"trained in {self.seconds:.0f} s"
        return f"tiny arithmetic policy: {self.steps} steps, {how}, validation accuracy {self.validation_accuracy:.3f}"


def build_tiny_model(config: TinyModelConfig | None = None, seed: int = 0):
    """A freshly initialised tiny Llama and its tokenizer: ``(model, tokenizer)``."""
    config = config or TinyModelConfig()
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = CharTokenizer()
    llama = LlamaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_heads,
        max_position_embeddings=config.prompt_window + config.max_answer_tokens,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng(devices=[]):  # seed the init without touching the global RNG
        torch.manual_seed(seed)
        model = LlamaForCausalLM(llama)
    return model, tokenizer


def tiny_lm(
    model, tokenizer: CharTokenizer, config: TinyModelConfig, **options: Any
) -> TransformersLM:
    """Wrap a tiny model so that prompts are cut to its window."""
    return TransformersLM(model, tokenizer, max_prompt_tokens=config.prompt_window, **options)


def load_tiny(directory: str | Path, **options: Any) -> TransformersLM:
    """Load a tiny model saved by :func:`pretrain_arithmetic` or :func:`save_tiny`."""
    from transformers import LlamaForCausalLM

    directory = Path(directory).expanduser()
    marker = directory / MARKER_FILE
    if not marker.is_file():
        raise FileNotFoundError(
            f"{directory} holds no tiny model ({MARKER_FILE} missing); create one with "
            "reasongym.agents.models.tiny.pretrain_arithmetic(out_dir)"
        )
    config = TinyModelConfig(**json.loads(marker.read_text())["model"])
    model = LlamaForCausalLM.from_pretrained(directory, local_files_only=True)
    return tiny_lm(model, CharTokenizer.from_pretrained(directory), config, **options)


def save_tiny(
    lm: TransformersLM,
    directory: str | Path,
    config: TinyModelConfig,
    extra: dict[str, Any] | None = None,
) -> None:
    """Save model, tokenizer and the marker file that :func:`load_tiny` reads."""
    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    lm.model.save_pretrained(directory)
    lm.tokenizer.save_pretrained(directory)
    (directory / MARKER_FILE).write_text(
        json.dumps({"model": asdict(config), **(extra or {})}, indent=2)
    )


# -- arithmetic data ---------------------------------------------------------------------------
def arithmetic_env(difficulty: int):
    """``reasongym/Arithmetic-v0`` at the given difficulty."""
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the ids

    task = {"source": "procedural", "generator": "arithmetic", "difficulty": difficulty}
    return gym.make(ARITHMETIC_ENV_ID, task=task)


def _prompt_and_answer(env, index: int) -> tuple[list[dict[str, str]], str, str]:
    """Task ``index`` as (chat, prompt text, gold answer), through the env contract."""
    row = env.unwrapped.task_row(index)
    return row["messages"], row["prompt"], row["answer"]


def answer_matches(completion: str, gold: str) -> bool:
    """Whether a completion's answer equals the gold integer (exact, after parsing)."""
    from reasongym.envs.actions import Answer, parse_action

    parsed = parse_action(completion)
    if not isinstance(parsed, Answer):
        return False
    try:
        return int(parsed.text.replace(",", "").strip()) == int(gold)
    except ValueError:
        return False


def arithmetic_accuracy(
    lm, task_indices: Iterable[int], difficulty: int = 1, batch: int = 100
) -> float:
    """Greedy pass@1 of ``lm`` on Arithmetic-v0 tasks (by task index), answers compared as
    integers (what the env's math verifier decides for these integer answers)."""
    env = arithmetic_env(difficulty)
    items = [_prompt_and_answer(env, i) for i in task_indices]
    stops = env.unwrapped.stop_strings
    env.close()
    config = GenerationConfig(max_tokens=24, stop=stops, logprobs=False)
    correct = 0
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        outs = lm.generate([messages for messages, _, _ in chunk], config)
        correct += sum(
            answer_matches(out[0].text, gold) for out, (_, _, gold) in zip(outs, chunk, strict=True)
        )
    return correct / max(1, len(items))


# -- pretraining -------------------------------------------------------------------------------
def pretrain_arithmetic(
    out_dir: str | Path | None = None, config: PretrainConfig | None = None, **overrides: Any
) -> PretrainResult:
    """Train (or load from ``out_dir``) a weak tiny policy for Arithmetic-v0.

    Args:
        out_dir: where to save the model; if it already holds one trained with the same
            config, that model is loaded instead of training.
        config: the settings (default :class:`PretrainConfig`).
        **overrides: fields of ``config`` to change, e.g. ``target_accuracy=0.3``.

    Deterministic for a seed on a given machine and thread count. Uses the calling process's
    torch threads (tests set ``torch.set_num_threads(1)``).
    """
    import numpy as np
    import torch

    config = replace(config or PretrainConfig(), **overrides)
    wanted = _config_json(config)
    if out_dir is not None and (Path(out_dir).expanduser() / MARKER_FILE).is_file():
        saved = json.loads((Path(out_dir).expanduser() / MARKER_FILE).read_text())
        if saved.get("pretrain") != wanted:
            raise ValueError(
                f"{out_dir} holds a tiny model trained with different settings; use another "
                f"directory or the same settings (saved: {saved.get('pretrain')})"
            )
        info = saved["result"]
        return PretrainResult(
            load_tiny(out_dir),
            info["steps"],
            0.0,
            info["validation_accuracy"],
            [tuple(h) for h in info["history"]],
            loaded=True,
        )

    start_time = time.perf_counter()
    model, tokenizer = build_tiny_model(config.model, config.seed)
    lm = tiny_lm(model, tokenizer, config.model)
    env = arithmetic_env(config.difficulty)
    held_out = {env.unwrapped.task_row(i)["prompt"] for i in range(config.holdout_tasks)}
    val_indices = range(VALIDATION_START, VALIDATION_START + config.validation_tasks)
    rng = np.random.default_rng(config.seed)

    def sample_batch() -> tuple[torch.Tensor, torch.Tensor]:
        rows, rejected = [], 0
        while len(rows) < config.batch_size:
            messages, question, answer = _prompt_and_answer(
                env, int(rng.integers(TRAIN_START, 1 << 62))
            )
            if question in held_out:
                rejected += 1
                if rejected > 100 * config.batch_size:
                    raise ValueError(
                        f"almost every Arithmetic question at difficulty {config.difficulty} is "
                        f"held out (tasks 0..{config.holdout_tasks - 1}); lower holdout_tasks"
                    )
                continue
            prompt = lm.encode_prompt(messages)
            target = tokenizer.encode(f"<answer>{answer}</answer>")[
                : config.model.max_answer_tokens - 1
            ]
            rows.append((prompt, [*target, tokenizer.eos_token_id]))
        width = max(len(p) + len(t) for p, t in rows)
        ids = torch.full((len(rows), width), tokenizer.pad_token_id)
        labels = torch.full((len(rows), width), -100)
        for i, (p, t) in enumerate(rows):  # right padding; loss on the answer only
            ids[i, : len(p) + len(t)] = torch.tensor(p + t)
            labels[i, len(p) : len(p) + len(t)] = torch.tensor(t)
        return ids, labels

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / config.warmup_steps)
    )
    history: list[tuple[int, float, float]] = []
    accuracy, step, losses = 0.0, 0, []
    while step < config.max_steps:
        model.train()
        ids, labels = sample_batch()
        loss = model(input_ids=ids, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        step += 1
        losses.append(loss.item())
        if step % config.eval_every == 0 or step == config.max_steps:
            model.eval()
            accuracy = arithmetic_accuracy(lm, val_indices, config.difficulty)
            history.append((step, accuracy, sum(losses) / len(losses)))
            logger.info(
                "tiny pretrain step %d: loss %.3f, validation accuracy %.3f",
                step,
                history[-1][2],
                accuracy,
            )
            losses = []
            if accuracy >= config.target_accuracy:
                break
    model.eval()
    env.close()
    seconds = time.perf_counter() - start_time
    if accuracy < config.target_accuracy:
        logger.warning(
            "tiny pretraining stopped at max_steps=%d with accuracy %.3f < target %.3f",
            step,
            accuracy,
            config.target_accuracy,
        )
    if out_dir is not None:
        result_info = {
            "steps": step,
            "seconds": seconds,
            "validation_accuracy": accuracy,
            "history": history,
        }
        save_tiny(lm, out_dir, config.model, {"pretrain": wanted, "result": result_info})
    return PretrainResult(lm, step, seconds, accuracy, history)


def _config_json(config: PretrainConfig) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(config)))
