"""``GridDynamicsModel``: a learned simulator of the grid puzzles in grid/one-hot mode (torch).

The board is a ``(H, W)`` grid of cell codes in ``[0, K)``; a move is one of ``A`` discrete
actions. The model predicts, for every cell, a categorical distribution over its next code,
plus the step's reward (a class among the reward values seen in training, or a regression
when there are too many of them) and whether the episode terminates.

Architecture (``arch="conv"``, the default)::

    one-hot cells (K) + action one-hot broadcast to every cell (A) + row/col coordinates (2)
      -> 3x3 conv stem, residual 3x3 conv blocks, the action also gating
         the features (FiLM)                                                 # (B, C, H, W)
      -> per cell, a 1x1 conv mixes: keep the code, copy a neighbour's code,
         or a new code (softmax over K)                                      # (B, K, H, W)
    next board (argmax; the true one in training), one-hot:
      -> with a flat summary of the features, the action, the changed cells and the
         termination logit -> MLP -> reward class
      -> per-cell accepted codes, product over cells -> P(terminal)

Convolutions make it local and position-aware (a move changes the cells around the agent or
the gap; the borders come from zero padding and the coordinate channels). Copying a
neighbour's code generalises over tile identities, which a per-code classifier would have to
learn tile by tile. Termination is a conjunction over the next board's cells (the 8-puzzle
is solved only when every tile is home): an unseen wrong code anywhere vetoes it, so
near-solved boards the data never showed are not called solved. ``arch="mlp"`` is the bare
baseline (an MLP over the flattened one-hot board and the action, same heads);
``bench/world_models.py`` measures both.

Observations may be given as grid codes ``(B, H, W)`` or one-hot ``(B, H*W*K)``; predictions
come back in the same form, so one model serves an env in either observation mode.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import model_validator

from reasongym.envs.base import EnvConfig as ConfigModel
from reasongym.world_models.base import Prediction, WorldModel, renamed_config_keys
from reasongym.world_models.data import TransitionDataset
from reasongym.world_models.progress import progress_bar


@dataclass(frozen=True)
class GridSpec:
    """The board of one puzzle env: ``grid_shape`` (H, W), ``num_codes`` K, ``num_actions`` A."""

    grid_shape: tuple[int, int]
    num_codes: int
    num_actions: int

    @classmethod
    def from_env(cls, env: Any) -> GridSpec:
        inner = getattr(env, "unwrapped", env)
        try:
            shape = tuple(int(x) for x in inner.grid_shape)
            return cls((shape[0], shape[1]), int(inner.num_codes), int(inner.num_actions))
        except AttributeError:
            raise TypeError(
                f"{type(inner).__name__} is not a grid puzzle (no grid_shape/num_codes/"
                "num_actions); GridDynamicsModel simulates the reasongym puzzles"
            ) from None

    @classmethod
    def from_env_id(cls, env_id: str, env_kwargs: dict[str, Any] | None = None) -> GridSpec:
        import gymnasium as gym

        import reasongym  # noqa: F401 - registers the ids

        env = gym.make(env_id, **(env_kwargs or {}))
        try:
            return cls.from_env(env)
        finally:
            env.close()

    @property
    def cells(self) -> int:
        return self.grid_shape[0] * self.grid_shape[1]

    def to_codes(self, obs: np.ndarray) -> np.ndarray:
        """``(B, H, W)`` int64 codes from grid ``(B, H, W)`` or one-hot ``(B, H*W*K)`` obs."""
        obs = np.asarray(obs)
        h, w = self.grid_shape
        if obs.ndim == 3 and obs.shape[1:] == (h, w):
            return obs.astype(np.int64, copy=False)
        if obs.ndim == 2 and obs.shape[1] == self.cells * self.num_codes:
            return obs.reshape(len(obs), self.cells, self.num_codes).argmax(-1).reshape(-1, h, w)
        raise ValueError(
            f"observations of shape {obs.shape} fit neither grid (B, {h}, {w}) nor one-hot "
            f"(B, {self.cells * self.num_codes}); this model simulates a {h}x{w} board with "
            f"{self.num_codes} codes (image observations are not supported: use "
            "observation_mode='grid' or 'onehot')"
        )

    def from_codes(self, codes: np.ndarray, like: np.ndarray) -> np.ndarray:
        """``codes`` in the form (and dtype) of the observations ``like``."""
        like = np.asarray(like)
        if like.ndim == 3:
            return codes.astype(like.dtype, copy=False)
        eye = np.eye(self.num_codes, dtype=like.dtype)
        return eye[codes.reshape(len(codes), -1)].reshape(len(codes), -1)  # (B, H*W*K)


class GridModelConfig(ConfigModel):
    """How a ``GridDynamicsModel`` is built and trained.

    Attributes:
        arch: ``conv`` (local, position-aware; the default) or ``mlp`` (flattened baseline).
        channels: conv width (conv) or hidden units (mlp).
        blocks: residual conv blocks (each two 3x3 convs) after the stem; the receptive
            field is ``3 + 4 * blocks`` cells wide.
        head_hidden: hidden units of the reward/termination MLP.
        epochs: passes over the training data per ``fit`` call.
        min_epoch_samples: an epoch draws at least this many transitions (reshuffling as
            needed), so that a small dataset (the first Dyna iterations) still gets enough
            gradient steps.
        batch_size: transitions per gradient step.
        learning_rate: Adam learning rate (cosine-decayed to 5% over the ``fit`` call).
        seed: seeds weight init and batch order.
        threads: torch CPU threads while fitting (1 is fastest for these small nets).
        max_reward_classes: above this many distinct rewards, reward is a regression.
        patience: stop after this many epochs without a better validation score (exactness,
            then loss) (None: run all epochs).
        max_seconds: stop fitting after this long (None: no limit).
        progress: show a progress bar over epochs.
    """

    renamed: ClassVar[dict[str, str]] = {"lr": "use learning_rate (as every training config)"}

    arch: Literal["conv", "mlp"] = "conv"
    channels: int = 32
    blocks: int = 2
    head_hidden: int = 128
    epochs: int = 20
    min_epoch_samples: int = 4096
    batch_size: int = 128
    learning_rate: float = 5e-3
    seed: int = 0
    threads: int = 1
    max_reward_classes: int = 32
    patience: int | None = 3
    max_seconds: float | None = None
    progress: bool = False

    @model_validator(mode="after")
    def _check(self) -> GridModelConfig:
        if self.arch not in ("conv", "mlp"):
            raise ValueError(f"arch must be 'conv' or 'mlp', not {self.arch!r}")
        if min(self.channels, self.head_hidden, self.epochs, self.batch_size) < 1:
            raise ValueError("channels, head_hidden, epochs and batch_size must be >= 1")
        if self.blocks < 0 or self.learning_rate <= 0:
            raise ValueError("blocks must be >= 0 and learning_rate > 0")
        return self


@dataclass
class FitSummary:
    """What one ``fit`` call did (``val_*`` on the validation set, else on the train set)."""

    transitions: int
    epochs: int
    seconds: float
    final_loss: float
    val_obs_exact: float
    val_all_exact: float
    history: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GridDynamicsModel(WorldModel):
    """Per-cell categorical next-state model with reward and termination heads.

    Args:
        spec: the board (see :class:`GridSpec`); ``for_dataset`` reads it from the env.
        config: architecture and training settings.
        env_id, env_kwargs: the simulated env (kept in ``model.json``).
    """

    kind: ClassVar[str] = "grid"
    markov: ClassVar[bool] = True

    def __init__(
        self,
        spec: GridSpec,
        config: GridModelConfig | None = None,
        env_id: str | None = None,
        env_kwargs: dict[str, Any] | None = None,
    ):
        self.spec = spec
        self.config = config or GridModelConfig()
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.reward_values: list[float] | None = None  # None: regression
        self.net: Any = None  # built on the first fit (it needs the reward classes)
        self._traced: tuple[int, Any] | None = None  # (version, net traced for one step)

    @classmethod
    def for_dataset(
        cls, dataset: TransitionDataset, config: GridModelConfig | None = None
    ) -> GridDynamicsModel:
        """A fresh model for the env that recorded ``dataset``."""
        meta = dataset.meta
        if meta.env_id is None:
            raise ValueError("the dataset does not name its env; build GridSpec yourself")
        if meta.observation != "array" or meta.action != "discrete":
            raise ValueError(
                f"GridDynamicsModel needs array observations and discrete actions; this dataset "
                f"has {meta.observation} observations and {meta.action} actions (collect with "
                "a ...Discrete-v0 id, or observation_mode grid/onehot and action_mode discrete)"
            )
        spec = GridSpec.from_env_id(meta.env_id, meta.env_kwargs)
        return cls(spec, config, meta.env_id, meta.env_kwargs)

    # -- training ---------------------------------------------------------------------------
    def fit(
        self, dataset: TransitionDataset, validation: TransitionDataset | None = None
    ) -> dict[str, Any]:
        """Fit on ``dataset`` (validate on ``validation``); torch's seed and thread count are
        set for the fit and restored afterwards (:func:`torch_scope`)."""
        from reasongym.world_models.torch_scope import torch_scope

        with torch_scope(seed=self.config.seed, threads=self.config.threads):
            return self._fit(dataset, validation)

    def _fit(
        self, dataset: TransitionDataset, validation: TransitionDataset | None = None
    ) -> dict[str, Any]:
        import torch

        cfg = self.config
        check = validation if validation is not None and len(validation) else dataset
        self._prepare_rewards(np.concatenate([dataset.reward, check.reward]))
        tensors = self._tensors(dataset)
        check_tensors = tensors if check is dataset else self._tensors(check)
        codes = tensors[0]
        n = len(codes)
        if n == 0:
            raise ValueError("cannot fit on an empty dataset")
        net = self.net
        net.train()
        optimizer = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate)
        epoch_size = max(n, cfg.min_epoch_samples)
        steps_per_epoch = (epoch_size + cfg.batch_size - 1) // cfg.batch_size
        total = steps_per_epoch * cfg.epochs
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(s, total) / total))
        )
        generator = torch.Generator().manual_seed(cfg.seed)
        best_state, best_score = copy.deepcopy(net.state_dict()), (-1.0, -float("inf"))
        history: list[dict[str, float]] = []
        start = time.perf_counter()
        bar = progress_bar(cfg.epochs, f"fit {cfg.arch} model", cfg.progress, unit="epoch")
        loss_value = float("nan")
        epoch = best_epoch = 0
        for epoch in range(1, cfg.epochs + 1):
            net.train()
            rounds = -(-epoch_size // n)
            order = torch.cat([torch.randperm(n, generator=generator) for _ in range(rounds)])
            order = order[:epoch_size]
            running, batches = 0.0, 0
            for i in range(0, epoch_size, cfg.batch_size):
                loss = self._loss(tensors, order[i : i + cfg.batch_size])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                running += float(loss.detach())
                batches += 1
            loss_value = running / max(1, batches)
            obs_exact, all_exact = self._exactness(check)
            with torch.no_grad():
                val_loss = float(self._loss(check_tensors, torch.arange(len(check))))
            history.append(
                {
                    "epoch": epoch,
                    "loss": loss_value,
                    "val_loss": val_loss,
                    "val_all_exact": all_exact,
                }
            )
            # Best = most exact, then lowest validation loss: once validation is all exact, a
            # falling loss still means wider margins, which hold up better off-distribution.
            if all_exact > best_score[0] or (
                all_exact == best_score[0] and val_loss < best_score[1] * (1 - 1e-3)
            ):
                best_score, best_state = (all_exact, val_loss), copy.deepcopy(net.state_dict())
                best_epoch = epoch
            bar.update(1)
            if cfg.patience is not None and epoch - best_epoch >= cfg.patience:
                break
            if cfg.max_seconds is not None and time.perf_counter() - start > cfg.max_seconds:
                break
        bar.close()
        net.load_state_dict(best_state)
        net.eval()
        self.version += 1
        obs_exact, all_exact = self._exactness(check)
        return FitSummary(
            transitions=n,
            epochs=epoch,
            seconds=time.perf_counter() - start,
            final_loss=loss_value,
            val_obs_exact=obs_exact,
            val_all_exact=all_exact,
            history=history,
        ).to_dict()

    def _loss(self, tensors: tuple, idx: Any) -> Any:
        """Training loss on rows ``idx``: per-cell cross-entropy + reward + termination."""
        import torch.nn.functional as F

        codes, actions, next_codes, reward_t, term = tensors
        cell_logits, reward_out, term_logit = self.net(codes[idx], actions[idx], next_codes[idx])
        loss = F.cross_entropy(cell_logits, next_codes[idx])  # (B, K, H, W) vs (B, H, W)
        if self.reward_values is None:
            loss = loss + F.mse_loss(reward_out.squeeze(-1), reward_t[idx])
        else:
            loss = loss + F.cross_entropy(reward_out, reward_t[idx])
        return loss + F.binary_cross_entropy_with_logits(term_logit, term[idx])

    def _prepare_rewards(self, rewards: np.ndarray) -> None:
        """Fix the reward classes on the first fit; add new values seen by a later fit."""
        values = sorted({round(float(r), 6) for r in rewards})
        if self.net is None:
            regression = len(values) > self.config.max_reward_classes
            self.reward_values = None if regression else values
            self.net = _build_net(self.spec, self.config, 1 if regression else len(values))
            return
        if self.reward_values is None:
            return
        new = [v for v in values if v not in self.reward_values]
        if new:
            self.reward_values = self.reward_values + new  # appended: old class ids stay valid
            self.net.grow_reward_classes(len(self.reward_values))

    def _tensors(self, dataset: TransitionDataset):
        import torch

        if dataset.is_text:
            raise ValueError("GridDynamicsModel needs an array dataset")
        codes = torch.from_numpy(self.spec.to_codes(dataset.obs))
        next_codes = torch.from_numpy(self.spec.to_codes(dataset.next_obs))
        actions = torch.from_numpy(np.asarray(dataset.action, np.int64))
        if int(actions.max()) >= self.spec.num_actions or int(actions.min()) < 0:
            raise ValueError(f"actions outside Discrete({self.spec.num_actions}) in the dataset")
        if self.reward_values is None:
            reward_t = torch.from_numpy(dataset.reward.astype(np.float32))
        else:
            index = {v: i for i, v in enumerate(self.reward_values)}
            reward_t = torch.tensor([index[round(float(r), 6)] for r in dataset.reward])
        term = torch.from_numpy(dataset.terminated.astype(np.float32))
        return codes, actions, next_codes, reward_t, term

    def _exactness(self, dataset: TransitionDataset) -> tuple[float, float]:
        """(next-state exact match rate, state+reward+termination exact match rate)."""
        codes = self.spec.to_codes(dataset.obs)
        pred_codes, reward, term = self.predict_codes(codes, np.asarray(dataset.action))
        obs_ok = (pred_codes == self.spec.to_codes(dataset.next_obs)).all(axis=(1, 2))
        all_ok = obs_ok & (np.abs(reward - dataset.reward) < 1e-4) & (term == dataset.terminated)
        return float(obs_ok.mean()), float(all_ok.mean())

    # -- inference --------------------------------------------------------------------------
    def predict(self, obs: Any, actions: Any) -> Prediction:
        obs = np.asarray(obs)
        codes, reward, term = self.predict_codes(self.spec.to_codes(obs), np.asarray(actions))
        return self.spec.from_codes(codes, obs), reward, term

    def predict_codes(
        self, codes: np.ndarray, actions: np.ndarray, batch_size: int = 4096
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Codes ``(B, H, W)`` and actions ``(B,)`` -> next codes, rewards, terminations."""
        import torch

        if self.net is None:
            raise RuntimeError("the model is not trained: call fit() or load() first")
        if self.net.training:
            self.net.eval()
        outs_c, outs_r, outs_t = [], [], []
        with torch.inference_mode():
            for i in range(0, len(codes), batch_size):
                c = torch.from_numpy(np.ascontiguousarray(codes[i : i + batch_size], np.int64))
                a = torch.from_numpy(np.ascontiguousarray(actions[i : i + batch_size], np.int64))
                net = self._single_step_net(c, a) if len(c) == 1 else self.net
                cell_logits, reward_out, term_logit = net(c, a)
                outs_c.append(cell_logits.argmax(1).numpy())  # (B, H, W)
                if self.reward_values is None:
                    outs_r.append(reward_out.squeeze(-1).double().numpy())
                else:
                    table = np.asarray(self.reward_values, np.float64)
                    outs_r.append(table[reward_out.argmax(-1).numpy()])
                outs_t.append((term_logit > 0).numpy())
        if not outs_c:
            h, w = self.spec.grid_shape
            return np.zeros((0, h, w), np.int64), np.zeros(0), np.zeros(0, bool)
        return np.concatenate(outs_c), np.concatenate(outs_r), np.concatenate(outs_t)

    def _single_step_net(self, codes: Any, actions: Any) -> Any:
        """The net traced for batches of one (an env step): about half the Python overhead
        of the eager module, which dominates at this size. Retraced after every fit."""
        import torch

        if self._traced is None or self._traced[0] != self.version:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about shape-derived values
                traced = torch.jit.trace(self.net, (codes, actions), check_trace=False)
            self._traced = (self.version, traced)
        return self._traced[1]

    # -- persistence ------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> Path:
        return self._save_torch(
            folder,
            {
                "spec": asdict(self.spec),
                "config": self.config.model_dump(mode="json"),
                "reward_values": self.reward_values,
            },
        )

    @classmethod
    def load(cls, folder: str | os.PathLike) -> GridDynamicsModel:
        import torch

        manifest = cls._read_own_manifest(folder)
        s = manifest["spec"]
        spec = GridSpec(tuple(s["grid_shape"]), s["num_codes"], s["num_actions"])
        model = cls(
            spec,
            GridModelConfig(**renamed_config_keys(manifest["config"])),
            manifest["env_id"],
            manifest["env_kwargs"],
        )
        model.reward_values = manifest["reward_values"]
        n_rewards = 1 if model.reward_values is None else len(model.reward_values)
        model.net = _build_net(spec, model.config, n_rewards)
        state = torch.load(Path(folder) / "weights.pt", map_location="cpu", weights_only=True)
        model.net.load_state_dict(state)
        model.net.eval()
        return model


def _build_net(spec: GridSpec, config: GridModelConfig, n_rewards: int):
    """The torch module (defined here so that torch is imported only when a model is built)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    h, w = spec.grid_shape
    k, a = spec.num_codes, spec.num_actions

    class TerminalTemplate(nn.Module):
        """Termination as a per-cell condition on the next board: each cell accepts some
        codes with probability ``sigmoid(GAIN * accept[k, i, j])``, and
        ``P(terminal) = prod over cells of the acceptance of the cell's code``. Every puzzle
        here ends that way (all tiles home; the agent on the goal square; no box off a
        target; no light on). A linear or MLP head learns the same training data but calls
        unseen near-solved boards solved; the product cannot (there is no bias to drift):
        a code never seen on a terminal board vetoes termination."""

        GAIN = 30.0  # parameters are stored / GAIN so that Adam's fixed-size steps are fast

        def __init__(self):
            super().__init__()
            # every code starts rejected (sigmoid(-3) = 0.05); terminal boards accept theirs
            self.accept = nn.Parameter(torch.full((k, h, w), -3.0 / self.GAIN))

        def forward(self, next_board):  # (B, K, H, W) one-hot
            log_accept = F.logsigmoid(self.GAIN * self.accept)  # (K, H, W)
            log_p = (log_accept * next_board).sum((1, 2, 3)).clamp(max=-1e-6)  # (B,)
            return log_p - torch.log(-torch.expm1(log_p))  # logit of P(terminal)

    class Heads(nn.Module):
        """Reward and termination from the next board (:class:`TerminalTemplate` for
        termination). The reward MLP reads a flat summary of the features, the action, the
        next board, which cells changed (illegal moves change nothing) and the termination
        logit (puzzles pay on the solving step)."""

        def __init__(self, flat: int, n_rewards: int):
            super().__init__()
            features = flat + a + k * h * w + h * w + 2
            self.body = nn.Sequential(nn.Linear(features, config.head_hidden), nn.ReLU())
            self.reward = nn.Linear(config.head_hidden, n_rewards)
            self.term = TerminalTemplate()

        def forward(self, flat, action_onehot, codes, cell_logits, next_codes=None):
            # The heads read a discrete next board: the true one in training (so they learn
            # the rules, not the cell model's early mistakes; no gradient reaches codes that
            # never occur), the predicted one (argmax) at inference.
            if next_codes is None:
                next_codes = cell_logits.argmax(dim=1)  # (B, H, W)
            board = F.one_hot(next_codes, k).permute(0, 3, 1, 2).float()  # (B, K, H, W)
            term = self.term(board)  # (B,)
            changed = (next_codes != codes).float().flatten(1)  # (B, H*W)
            extra = torch.stack([changed.sum(1) / (h * w), term.detach() / 10], dim=1)
            z = self.body(torch.cat([flat, action_onehot, board.flatten(1), changed, extra], 1))
            return self.reward(z), term

    class ResBlock(nn.Module):
        """Two 3x3 convs, the first one's features gated by the action (FiLM)."""

        def __init__(self, c: int):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1)
            self.film = nn.Embedding(a, 2 * c)
            nn.init.zeros_(self.film.weight)

        def forward(self, x, actions):
            gamma, beta = self.film(actions)[:, :, None, None].chunk(2, dim=1)  # (B, C, 1, 1)
            hidden = F.relu(self.conv1(x) * (1 + gamma) + beta)
            return F.relu(x + self.conv2(hidden))

    class ConvDynamics(nn.Module):
        def __init__(self):
            super().__init__()
            c = config.channels
            rows = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(1, 1, h, w)
            cols = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(1, 1, h, w)
            self.register_buffer("coords", torch.cat([rows, cols], 1))  # (1, 2, H, W)
            self.stem = nn.Conv2d(k + a + 2, c, 3, padding=1)
            self.stem_film = nn.Embedding(a, 2 * c)
            nn.init.zeros_(self.stem_film.weight)
            self.blocks = nn.ModuleList([ResBlock(c) for _ in range(config.blocks)])
            self.source_out = nn.Conv2d(c, 6, 1)  # keep, from up/down/left/right, or new
            self.new_out = nn.Conv2d(c, k, 1)
            with torch.no_grad():
                self.source_out.bias.copy_(torch.tensor([3.0, 0, 0, 0, 0, 0]))  # keep, at first
            self.summary = nn.Conv2d(c, 4, 1)
            self.heads = Heads(4 * h * w, n_rewards)

        def forward(self, codes, actions, next_codes=None):
            b = codes.shape[0]
            cells = F.one_hot(codes, k).permute(0, 3, 1, 2).float()  # (B, K, H, W)
            act = F.one_hot(actions, a).float()  # (B, A)
            x = torch.cat(
                [cells, act[:, :, None, None].expand(b, a, h, w), self.coords.expand(b, 2, h, w)],
                dim=1,
            )  # (B, K + A + 2, H, W)
            # The action enters twice: as input planes (where it acts) and as multiplicative
            # gates on the features (which neighbour matters), which additive planes alone
            # learn slowly: the 8-puzzle's gap copies the tile in the action's direction.
            gamma, beta = self.stem_film(actions)[:, :, None, None].chunk(2, dim=1)
            z = F.relu(self.stem(x) * (1 + gamma) + beta)  # (B, C, H, W)
            for block in self.blocks:
                z = block(z, actions)
            # Each cell's next code is a mixture: keep its code, copy a neighbour's (a tile or
            # the agent moving in), or a new code. Copying generalises over tile identities,
            # which a per-code classifier has to learn for every tile separately.
            padded = F.pad(cells, (1, 1, 1, 1))  # (B, K, H+2, W+2), zeros off the board
            sources = torch.stack(
                [
                    cells,
                    padded[:, :, :-2, 1:-1],  # the cell above
                    padded[:, :, 2:, 1:-1],  # below
                    padded[:, :, 1:-1, :-2],  # left
                    padded[:, :, 1:-1, 2:],  # right
                    F.softmax(self.new_out(z), dim=1),
                ],
                dim=1,
            )  # (B, 6, K, H, W)
            mix = F.softmax(self.source_out(z), dim=1).unsqueeze(2)  # (B, 6, 1, H, W)
            cell_logits = torch.log((mix * sources).sum(1) + 1e-6)  # (B, K, H, W) log-probs
            summary = F.relu(self.summary(z)).flatten(1)
            reward, term = self.heads(summary, act, codes, cell_logits, next_codes)
            return cell_logits, reward, term

        def grow_reward_classes(self, n: int) -> None:
            _grow(self.heads, n)

    class MLPDynamics(nn.Module):
        def __init__(self):
            super().__init__()
            hidden = config.channels
            self.body = nn.Sequential(
                nn.Linear(h * w * k + a, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
            )
            self.cell_out = nn.Linear(hidden, h * w * k)
            self.heads = Heads(hidden, n_rewards)

        def forward(self, codes, actions, next_codes=None):
            b = codes.shape[0]
            act = F.one_hot(actions, a).float()
            flat = F.one_hot(codes, k).float().reshape(b, -1)  # (B, H*W*K)
            z = self.body(torch.cat([flat, act], dim=1))
            cell_logits = self.cell_out(z).view(b, h, w, k).permute(0, 3, 1, 2)  # (B, K, H, W)
            reward, term = self.heads(z, act, codes, cell_logits, next_codes)
            return cell_logits, reward, term

        def grow_reward_classes(self, n: int) -> None:
            _grow(self.heads, n)

    def _grow(heads: nn.Module, n: int) -> None:
        old = heads.reward
        new = nn.Linear(old.in_features, n)
        with torch.no_grad():
            new.weight[: old.out_features] = old.weight
            new.bias[: old.out_features] = old.bias
            new.bias[old.out_features :] = old.bias.min() - 2.0  # unseen classes start unlikely
        heads.reward = new

    return ConvDynamics() if config.arch == "conv" else MLPDynamics()
