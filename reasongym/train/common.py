"""What the learning-from-search loops share: config loading, the policy handle, task splits,
batched rollouts on a text env, token batches, checkpoints and run logs.

Used by :mod:`reasongym.train.expert_iteration`, :mod:`reasongym.train.grpo` and
:mod:`reasongym.train.dpo`. A run directory holds::

    DIR/config.yaml          the full config of the run (a resume must match it)
    DIR/metrics.jsonl        one JSON object per logged point
    DIR/tb/                  TensorBoard logs (``tensorboard --logdir DIR/tb``)
    DIR/learning_curve.png   held-out pass@1 against training progress
    DIR/checkpoints/NAME/    model + ``state.json`` (+ ``optimizer.pt``); ``latest`` names the last
    DIR/summary.json         what the run measured

Heavy libraries (torch, transformers, matplotlib, tensorboard) are imported inside functions.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import random
import shutil
import types
import typing
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reasongym.agents.models.base import GenerationConfig, Message
from reasongym.errors import ConfigError

logger = logging.getLogger(__name__)

# -- config ------------------------------------------------------------------------------------
@dataclass
class LoraConfig:
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


@dataclass
class PolicyConfig:
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
    """

    model: str = "tiny-pretrained:~/.cache/reasongym/tiny-arith-d1"
    pretrain: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 128
    lora: LoraConfig | None = None


@dataclass
class TaskConfig:
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


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_dict(cls: type, data: dict[str, Any], where: str = "config") -> Any:
    """Build dataclass ``cls`` from plain data; unknown keys are an error (nested dataclasses
    are built recursively)."""
    if not isinstance(data, dict):
        raise config_error(f"expected a mapping, got {type(data).__name__}", key=where)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise config_error(
            f"unknown key(s) {unknown}; {cls.__name__} accepts {sorted(names)}", key=where
        )
    hints = _field_types(cls)
    kwargs = {}
    for key, value in data.items():
        hint = hints[key]
        nested = [h for h in (hint, *typing.get_args(hint)) if dataclasses.is_dataclass(h)]
        if nested and isinstance(value, dict):
            value = from_dict(nested[0], value, f"{where}.{key}".lstrip("."))
        elif value is not None and (hint is Path or Path in typing.get_args(hint)):
            value = Path(value)
        kwargs[key] = value
    return cls(**kwargs)


def to_dict(config: Any) -> dict[str, Any]:
    """Plain data of a config dataclass (paths as strings)."""
    return json.loads(json.dumps(asdict(config), default=str))


def load_config(cls: type, path: str | Path, out: str | Path | None = None) -> Any:
    """Read a run config of type ``cls`` from YAML; ``out`` overrides the file's ``out``."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise config_error(f"no run config at {path}; see configs/runs/ for examples", str(path))
    data = yaml.safe_load(path.read_text()) or {}
    if out is not None:
        data["out"] = str(out)
    try:
        return from_dict(cls, data, "")
    except ConfigError as exc:
        raise ConfigError(str(path), exc.problems) from None


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


# -- the policy --------------------------------------------------------------------------------
@dataclass
class Policy:
    """A trainable policy: the ``TransformersLM`` that generates, plus how to save it.

    Attributes:
        lm: the language model (``lm.model`` is the torch module being trained).
        tiny_config: the tiny model's shape when it is one (saved with it), else None.
    """

    lm: Any
    tiny_config: Any = None

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


# -- tasks -------------------------------------------------------------------------------------
def make_env(config: TaskConfig):
    import gymnasium as gym

    import reasongym  # noqa: F401 - registers the ids

    return gym.make(config.env_id, **config.env_kwargs)


def question_of(env: Any, index: int) -> str:
    """The prompt of task ``index`` (what decides whether two tasks are the same), from the
    env contract's ``task_row``."""
    return str(env.unwrapped.task_row(index)["prompt"])


def held_out_question(question: str, percent: int) -> bool:
    """Stable (hash-based) choice of the questions that training never sees."""
    return zlib.crc32(question.encode("utf-8")) % 100 < percent


@dataclass
class TaskSplit:
    """Held-out evaluation tasks and a sampler of training tasks (none asks a held-out
    question, none is an eval index)."""

    eval_indices: list[int]
    unseen_indices: list[int]  # the eval tasks whose question training never sees
    config: TaskConfig
    env: Any

    @classmethod
    def build(cls, config: TaskConfig, env: Any) -> TaskSplit:
        eval_indices = list(range(config.eval_start, config.eval_start + config.eval_tasks))
        unseen = [
            i
            for i in eval_indices
            if held_out_question(question_of(env, i), config.holdout_question_percent)
        ]
        return cls(eval_indices, unseen, config, env)

    def sample_train(self, rng: random.Random, count: int) -> list[int]:
        """``count`` training task indices (rejecting held-out questions)."""
        out: list[int] = []
        tries = 0
        while len(out) < count:
            i = rng.randrange(self.config.train_start, 1 << 62)
            tries += 1
            if tries > 100 * count + 100:
                raise config_error(
                    "almost every training question is held out; lower holdout_question_percent"
                )
            if not held_out_question(
                question_of(self.env, i), self.config.holdout_question_percent
            ):
                out.append(i)
        return out


# -- rollouts ----------------------------------------------------------------------------------
@dataclass
class Turn:
    """One action of an episode: the prompt the policy saw and what it wrote."""

    prompt: list[Message]
    action: str


@dataclass
class Episode:
    """One episode played by the policy (used as training data by GRPO)."""

    task_index: int
    turns: list[Turn] = field(default_factory=list)
    reward: float = 0.0
    success: bool = False
    done: bool = False
    tokens: int = 0


def chat_to_turns(messages: Sequence[Message]) -> list[Turn]:
    """Every assistant message of a chat, with the chat before it as its prompt."""
    from reasongym.agents.search.chat import chat_prompt

    return [
        Turn(list(chat_prompt(list(messages[:k]))), str(m["content"]))
        for k, m in enumerate(messages)
        if m["role"] == "assistant"
    ]


def play_episodes(
    lm: Any,
    env: Any,
    task_indices: Sequence[int],
    generation: GenerationConfig,
    max_turns: int,
) -> list[Episode]:
    """Play one episode per entry of ``task_indices`` (repeats allowed), all in lock step: one
    batched ``generate`` call per turn; the env is branched with ``get_state``/``set_state``,
    so one env serves every episode. Tool replies come back as user turns
    (:func:`~reasongym.agents.search.base.chat_prompt`), as the search agents show them.
    """
    from reasongym.agents.search.chat import chat_prompt

    inner = env.unwrapped
    from reasongym.agents import contract

    limit = contract.max_turns(env) or max_turns
    max_turns = min(max_turns, limit)
    generation = dataclasses.replace(
        generation, stop=tuple(dict.fromkeys((*generation.stop, *contract.stop_strings(env))))
    )
    episodes = [Episode(i) for i in task_indices]
    contexts: list[list[Message]] = []
    states: list[Any] = []
    for index in task_indices:
        _, info = env.reset(options={"task_index": int(index)})
        contexts.append([dict(m) for m in info["messages"]])
        states.append(inner.get_state())
    for turn in range(max_turns):
        active = [k for k, e in enumerate(episodes) if not e.done]
        if not active:
            break
        prompts = [chat_prompt(contexts[k]) for k in active]
        seed = None if generation.seed is None else generation.seed + turn
        outs = lm.generate(prompts, dataclasses.replace(generation, n=1, seed=seed))
        for k, prompt, [completion] in zip(active, prompts, outs, strict=True):
            episode = episodes[k]
            action = completion.text
            episode.turns.append(Turn(list(prompt), action))
            episode.tokens += completion.num_tokens
            inner.set_state(states[k])
            obs, reward, terminated, truncated, info = inner.step(action)
            states[k] = inner.get_state()
            episode.reward += float(reward)
            episode.success = bool(info.get("is_success", False))
            episode.done = bool(terminated or truncated) or turn + 1 >= max_turns
            contexts[k] = [dict(m) for m in info["messages"]]
    return episodes


def pass_at_1(lm: Any, env: Any, task_indices: Sequence[int], config: TaskConfig) -> float:
    """Greedy pass@1: the fraction of tasks whose greedy episode the env marks a success."""
    if not task_indices:
        return float("nan")
    generation = GenerationConfig(
        temperature=0.0, max_tokens=config.max_tokens, logprobs=False
    )
    episodes = play_episodes(lm, env, task_indices, generation, config.max_turns)
    return sum(e.success for e in episodes) / len(episodes)


def evaluate(lm: Any, split: TaskSplit) -> dict[str, float]:
    """Greedy pass@1 on all held-out tasks and on those with never-trained questions."""
    lm.model.eval()
    return {
        "pass1": pass_at_1(lm, split.env, split.eval_indices, split.config),
        "pass1_unseen_questions": pass_at_1(lm, split.env, split.unseen_indices, split.config),
    }


# -- token batches -----------------------------------------------------------------------------
def encode_turn(lm: Any, turn: Turn, add_eos: bool) -> tuple[list[int], list[int]]:
    """``(prompt ids, action ids)``; ``add_eos`` appends EOS to the action (SFT: the model
    learns to stop; GRPO/DPO score exactly what was sampled, which ended on a stop string)."""
    tokenizer = lm.tokenizer
    target = list(tokenizer.encode(turn.action, add_special_tokens=False))
    if add_eos and tokenizer.eos_token_id is not None:
        target.append(int(tokenizer.eos_token_id))
    target = target[: max(1, lm.context_length - 1)]
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


def best_of_n_trees(
    lm: Any,
    env: Any,
    task_indices: Sequence[int],
    n: int,
    temperature: float,
    config: TaskConfig,
    seed: int,
    show_progress: bool = False,
) -> list[Any]:
    """Best-of-N in train mode (verifier guidance: every sampled answer is graded by the env)
    on each task; returns the search trees (:class:`~reasongym.agents.search.SearchTree`)."""
    from reasongym.agents.search import BestOfN

    generation = GenerationConfig(temperature=temperature, max_tokens=config.max_tokens)
    agent = BestOfN(
        lm,
        n=n,
        guidance="verifier",
        mode="train",
        generation=generation,
        max_depth=config.max_turns,
        keep_trees=True,
        seed=seed,
    )
    agent.bind(env)
    lm.model.eval()
    with progress(len(task_indices), "search", show_progress) as bar:
        for index in task_indices:
            obs, info = env.reset(options={"task_index": int(index)})
            agent.reset(obs, info)
            agent.search(obs, info)
            bar.update(1)
    return agent.trees


# -- checkpoints -------------------------------------------------------------------------------
def save_checkpoint(
    out: Path, name: str, policy: Policy, state: dict[str, Any], optimizer: Any = None
) -> Path:
    """Save the policy and ``state`` (plain data) under ``out/checkpoints/name`` and point
    ``latest`` at it (written last, so a crash mid-save leaves the previous one)."""
    import torch

    directory = out / "checkpoints" / name
    tmp = directory.with_name(name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    policy.save(tmp)
    if optimizer is not None:
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=2))
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)
    (out / "checkpoints" / "latest").write_text(name)
    return directory


def latest_checkpoint(out: Path) -> tuple[Path, dict[str, Any]] | None:
    """``(directory, state)`` of the last checkpoint of a run, or None."""
    marker = out / "checkpoints" / "latest"
    if not marker.is_file():
        return None
    directory = out / "checkpoints" / marker.read_text().strip()
    return directory, json.loads((directory / "state.json").read_text())


def load_optimizer_state(optimizer: Any, directory: Path) -> None:
    import torch

    path = directory / "optimizer.pt"
    if path.is_file():
        optimizer.load_state_dict(torch.load(path, weights_only=True))


def resume_optimizer_loop(
    out: Path, start_policy: Policy, config: Any, log: RunLog, split: TaskSplit, **first_row: Any
) -> tuple[Policy, Any, int]:
    """Start or resume a step-wise optimiser run (DPO, GRPO): ``(policy, AdamW, first step)``.

    A fresh run logs step 0 (``first_row`` plus the held-out evaluation); a resumed one loads
    the last checkpoint's weights and optimiser state and forgets metrics logged after it."""
    import torch

    resumed = latest_checkpoint(out)
    policy = start_policy if resumed is None else load_policy(config.policy, resumed[0])
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=config.learning_rate)
    if resumed is None:
        log.truncate_after(-1)
        log.log({"step": 0, **first_row, **evaluate(policy.lm, split)})
        return policy, optimizer, 1
    load_optimizer_state(optimizer, resumed[0])
    log.truncate_after(resumed[1]["step"])
    return policy, optimizer, resumed[1]["step"] + 1


def optimizer_step(loss: Any, policy: Policy, optimizer: Any) -> None:
    """Backward, clip the gradient norm at 1, step."""
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.model.parameters(), 1.0)
    optimizer.step()


def end_step(
    step: int, row: dict[str, Any], config: Any, out: Path, log: RunLog, split: TaskSplit,
    policy: Policy, optimizer: Any,
) -> None:
    """Evaluate every ``eval_every`` steps, log ``row``, checkpoint every ``checkpoint_every``
    steps (and always at the last step)."""
    last = step == config.steps
    if step % config.eval_every == 0 or last:
        row.update(evaluate(policy.lm, split))
    log.log(row)
    if step % config.checkpoint_every == 0 or last:
        save_checkpoint(out, f"step-{step}", policy, {"step": step}, optimizer)


def finish_run(
    out: Path, log: RunLog, env: Any, method: str, rows_key: str = "evaluations", **extra: Any
) -> dict[str, Any]:
    """Plot, close, and write ``summary.json``: pass@1 at the start and the end (on the held-out
    tasks and on the unseen questions), ``extra``, and the evaluated rows under ``rows_key``."""
    log.plot()
    log.close()
    env.close()
    evaluated = [r for r in log.rows if "pass1" in r]
    summary = {
        "method": method,
        "start_pass1": evaluated[0]["pass1"],
        "final_pass1": evaluated[-1]["pass1"],
        "start_pass1_unseen_questions": evaluated[0]["pass1_unseen_questions"],
        "final_pass1_unseen_questions": evaluated[-1]["pass1_unseen_questions"],
        **extra,
        rows_key: evaluated,
    }
    write_summary(out, summary)
    return summary


# -- logs --------------------------------------------------------------------------------------
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
