"""Transitions on disk: the ``RecordTransitions`` wrapper, the dataset format and its loader.

A dataset is a folder::

    DIR/meta.json          DatasetMeta: env id and kwargs, formats, shard list, counts
    DIR/shard-00000.npz    array observations: obs, action, reward, next_obs, terminated,
                           truncated, episode, step, info (JSON strings), one row per step
    DIR/shard-00000.jsonl  text observations (or text actions): one JSON object per step

Recording into a folder that already holds a dataset of the same env appends new shards
(episode ids continue), which is how the Dyna loop grows its real data.

    env = RecordTransitions(gym.make("reasongym/MazeDiscrete-v0"), "data/maze")
    ...  # reset/step as usual
    env.close()                                   # writes the last shard and meta.json
    train, val = TransitionDataset.load("data/maze").split(0.1, seed=0)

Splits are by episode, so k-step rollouts never straddle the two sides.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np

FORMAT_VERSION = 1
DEFAULT_INFO_KEYS = ("is_success", "illegal", "task_id")

ObservationFormat = Literal["array", "text"]
ActionFormat = Literal["discrete", "array", "text"]


@dataclass
class DatasetMeta:
    """What ``meta.json`` says about a dataset.

    Attributes:
        env_id: the id the transitions come from (None for an env made outside the registry).
        env_kwargs: overrides passed to ``gym.make`` (plain data).
        observation: ``array`` (numpy shards) or ``text`` (JSONL shards).
        action: ``discrete`` (ints), ``array`` or ``text``.
        obs_shape, obs_dtype: of one array observation (empty for text).
        latent: the ``obs``/``next_obs`` columns hold the env's latent board
            (``latent_state()``: grid codes) and ``action`` its moves, not what the env
            showed (a multimodal or text observation is a function of the board and the
            action: ``observation_from_latent`` renders it again).
        max_episode_steps: the env's time limit, if it had one.
        policy: the policy that acted (``random``, ``oracle``, a model path, ...).
        info_keys: the ``info`` keys kept for each step.
        shards: shard file names, in recording order.
        transitions, episodes: counts over all shards.
    """

    env_id: str | None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    observation: ObservationFormat = "array"
    action: ActionFormat = "discrete"
    obs_shape: list[int] = field(default_factory=list)
    obs_dtype: str = ""
    max_episode_steps: int | None = None
    latent: bool = False
    policy: str = "unknown"
    info_keys: list[str] = field(default_factory=lambda: list(DEFAULT_INFO_KEYS))
    shards: list[str] = field(default_factory=list)
    transitions: int = 0
    episodes: int = 0
    format_version: int = FORMAT_VERSION

    @classmethod
    def read(cls, folder: str | os.PathLike) -> DatasetMeta:
        path = Path(folder) / "meta.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{folder} holds no dataset (no meta.json); record one with RecordTransitions "
                "or `reasongym wm collect ENV_ID --out DIR`"
            )
        data = json.loads(path.read_text())
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: dataset format {data.get('format_version')} is not {FORMAT_VERSION}; "
                "re-collect it with this version of reasongym"
            )
        return cls(**data)

    def write(self, folder: str | os.PathLike) -> None:
        path = Path(folder) / "meta.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)  # readers never see a half-written file


class TransitionWriter:
    """Buffers transitions and writes them as shards of ``shard_size`` steps.

    Args:
        folder: the dataset folder (created; appended to if it already holds a dataset of
            the same env).
        meta: the dataset description; its shard list and counts are filled in here.
        shard_size: steps per shard file.
    """

    def __init__(self, folder: str | os.PathLike, meta: DatasetMeta, shard_size: int = 10_000):
        if shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {shard_size}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        if (self.folder / "meta.json").exists():
            old = DatasetMeta.read(self.folder)
            for name in ("env_id", "observation", "action", "obs_shape", "latent"):
                if getattr(old, name) != getattr(meta, name):
                    raise ValueError(
                        f"{self.folder} holds a dataset with {name}={getattr(old, name)!r}, not "
                        f"{getattr(meta, name)!r}; record into a new folder"
                    )
            meta.shards, meta.transitions, meta.episodes = old.shards, old.transitions, old.episodes
            if old.policy != meta.policy and meta.policy not in old.policy.split("+"):
                meta.policy = f"{old.policy}+{meta.policy}"
        self.meta = meta
        self.shard_size = shard_size
        self._rows: list[dict[str, Any]] = []
        self.first_episode = meta.episodes  # episode ids of this writer start here

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        """Write the buffered steps as one shard and update ``meta.json``."""
        if not self._rows:
            return
        index = len(self.meta.shards)
        if self.meta.observation == "array" and self.meta.action != "text":
            name = f"shard-{index:05d}.npz"
            _write_npz(self.folder / name, self._rows, self.meta)
        else:
            name = f"shard-{index:05d}.jsonl"
            with open(self.folder / name, "w") as f:
                for row in self._rows:
                    f.write(json.dumps(_jsonable(row)) + "\n")
        self.meta.shards.append(name)
        self.meta.transitions += len(self._rows)
        self.meta.episodes = max(self.meta.episodes, 1 + max(r["episode"] for r in self._rows))
        self._rows = []
        self.meta.write(self.folder)


def _write_npz(path: Path, rows: list[dict[str, Any]], meta: DatasetMeta) -> None:
    dtype = np.dtype(meta.obs_dtype)
    action_dtype = np.int64 if meta.action == "discrete" else np.float32
    np.savez_compressed(
        path,
        obs=np.stack([r["obs"] for r in rows]).astype(dtype, copy=False),  # (N, *obs_shape)
        action=np.array([r["action"] for r in rows], dtype=action_dtype),  # (N,) or (N, *act)
        reward=np.array([r["reward"] for r in rows], np.float64),
        next_obs=np.stack([r["next_obs"] for r in rows]).astype(dtype, copy=False),
        terminated=np.array([r["terminated"] for r in rows], bool),
        truncated=np.array([r["truncated"] for r in rows], bool),
        episode=np.array([r["episode"] for r in rows], np.int64),
        step=np.array([r["step"] for r in rows], np.int64),
        info=np.array([json.dumps(_jsonable(r["info"])) for r in rows], dtype=np.str_),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


class RecordTransitions(gym.Wrapper):
    """Logs every step of the wrapped env to a dataset folder (see the module docstring).

    Args:
        env: any env whose observations are numpy arrays or strings.
        folder: where the dataset goes (appended to if it exists).
        policy: a name for the acting policy, kept in ``meta.json``.
        info_keys: ``info`` keys kept per step (missing keys are skipped).
        shard_size: steps per shard file.
        env_id, env_kwargs: recorded in ``meta.json``; default from ``env.spec``.
        latent: record the env's latent board (``env.unwrapped.latent_state()``) and the
            moves of the actions instead of the observations; None (default): when the
            observations are neither arrays nor text (e.g. a multimodal puzzle) and the env
            has a latent state. Steps whose action is not exactly one move (format errors,
            which never change the board, and multi-move answers) are not recorded then.

    Call ``close()`` (or ``flush()``) to write the last shard.
    """

    def __init__(
        self,
        env: gym.Env,
        folder: str | os.PathLike,
        *,
        policy: str = "unknown",
        info_keys: Sequence[str] = DEFAULT_INFO_KEYS,
        shard_size: int = 10_000,
        env_id: str | None = None,
        env_kwargs: dict[str, Any] | None = None,
        latent: bool | None = None,
    ):
        super().__init__(env)
        spec = env.spec
        obs_space = env.observation_space
        inner = env.unwrapped
        has_latent = callable(getattr(inner, "latent_state", None))
        if latent is None:
            latent = has_latent and not isinstance(obs_space, gym.spaces.Box | gym.spaces.Text)
        if latent and not has_latent:
            raise TypeError(
                f"{type(inner).__name__} has no latent_state(); latent recording needs a grid "
                "puzzle (the reasongym puzzles have one)"
            )
        self.latent = bool(latent)
        if self.latent:
            observation: ObservationFormat = "array"
            shape, dtype = [int(x) for x in inner.grid_shape], "int64"
        elif isinstance(obs_space, gym.spaces.Box):
            observation: ObservationFormat = "array"
            shape, dtype = list(obs_space.shape), str(obs_space.dtype)
        elif isinstance(obs_space, gym.spaces.Text):
            observation, shape, dtype = "text", [], ""
        else:
            raise TypeError(
                f"RecordTransitions records Box (array) or Text observations, or an env's "
                f"latent board (latent=True, for envs with latent_state()), not {obs_space}"
            )
        action_space = env.action_space
        if self.latent or isinstance(action_space, gym.spaces.Discrete):
            action: ActionFormat = "discrete"
        elif isinstance(action_space, gym.spaces.Text):
            action = "text"
        else:
            action = "array"
        meta = DatasetMeta(
            env_id=env_id if env_id is not None else (spec.id if spec else None),
            env_kwargs=_jsonable(
                dict(env_kwargs if env_kwargs is not None else _spec_overrides(spec))
            ),
            observation=observation,
            action=action,
            obs_shape=shape,
            obs_dtype=dtype,
            max_episode_steps=spec.max_episode_steps if spec else None,
            latent=self.latent,
            policy=policy,
            info_keys=list(info_keys),
        )
        self.writer = TransitionWriter(folder, meta, shard_size)
        self._episode = self.writer.first_episode - 1
        self._step = 0
        self._obs: Any = None

    @property
    def meta(self) -> DatasetMeta:
        return self.writer.meta

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._episode += 1
        self._step = 0
        self._obs = self._board() if self.latent else _copy(obs)
        return obs, info

    def _board(self) -> np.ndarray:
        return np.asarray(self.env.unwrapped.latent_state()).copy()

    def step(self, action: Any):
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        moves = self.env.unwrapped.latent_moves(action) if self.latent else None
        obs, reward, terminated, truncated, info = self.env.step(action)
        after = self._board() if self.latent else _copy(obs)
        if self.latent and not (isinstance(moves, list) and len(moves) == 1):
            self._step += 1  # not one move: the board rule is known, nothing to learn here
            self._obs = after
            return obs, reward, terminated, truncated, info
        keep = {k: info[k] for k in self.writer.meta.info_keys if k in info}
        if self.latent:
            action = int(moves[0])
        self.writer.add(
            {
                "obs": self._obs,
                "action": _jsonable(action) if self.meta.action == "text" else action,
                "reward": float(reward),
                "next_obs": after,
                "terminated": bool(terminated),
                "truncated": bool(truncated),
                "episode": self._episode,
                "step": self._step,
                "info": keep,
            }
        )
        self._step += 1
        self._obs = after
        return obs, reward, terminated, truncated, info

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.flush()
        super().close()


def _copy(obs: Any) -> Any:
    return obs.copy() if isinstance(obs, np.ndarray) else obs


def _spec_overrides(spec: Any) -> dict[str, Any]:
    """The kwargs a ``gym.make(spec.id, **kwargs)`` needs to rebuild the env (the spec's
    kwargs are the YAML's plus the caller's overrides; keeping them all is exact)."""
    if spec is None:
        return {}
    return {k: v for k, v in (spec.kwargs or {}).items() if k != "render_mode"}


@dataclass
class TransitionDataset:
    """All transitions of a dataset, in memory.

    Array datasets hold numpy arrays (``obs``/``next_obs``: ``(N, *obs_shape)``,
    ``action``: ``(N,)``); text datasets hold lists. ``episode`` and ``step`` place each row
    in its episode (rows of an episode are contiguous and in order).
    """

    meta: DatasetMeta
    obs: Any
    action: Any
    reward: np.ndarray  # (N,) float64
    next_obs: Any
    terminated: np.ndarray  # (N,) bool
    truncated: np.ndarray  # (N,) bool
    episode: np.ndarray  # (N,) int64
    step: np.ndarray  # (N,) int64
    info: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.reward)

    @property
    def is_text(self) -> bool:
        return self.meta.observation == "text" or self.meta.action == "text"

    @classmethod
    def load(cls, folder: str | os.PathLike) -> TransitionDataset:
        """Read every shard of the dataset in ``folder``."""
        folder = Path(folder)
        meta = DatasetMeta.read(folder)
        if not meta.shards:
            raise ValueError(f"{folder} holds no transitions yet")
        parts = [_read_shard(folder / name, meta) for name in meta.shards]
        return cls.concat(meta, parts)

    @classmethod
    def concat(cls, meta: DatasetMeta, parts: list[TransitionDataset]) -> TransitionDataset:
        def join(values: list[Any]) -> Any:
            if isinstance(values[0], np.ndarray):
                return np.concatenate(values)
            return [x for v in values for x in v]

        names = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "episode")
        columns = {n: join([getattr(p, n) for p in parts]) for n in names}
        return cls(
            meta=meta,
            **columns,
            step=np.concatenate([p.step for p in parts]),
            info=[x for p in parts for x in p.info],
        )

    def subset(self, rows: np.ndarray) -> TransitionDataset:
        """The rows ``rows`` (an index array), in that order."""
        rows = np.asarray(rows, np.int64)

        def take(column: Any) -> Any:
            if isinstance(column, np.ndarray):
                return column[rows]
            return [column[i] for i in rows.tolist()]

        return TransitionDataset(
            meta=self.meta,
            obs=take(self.obs),
            action=take(self.action),
            reward=self.reward[rows],
            next_obs=take(self.next_obs),
            terminated=self.terminated[rows],
            truncated=self.truncated[rows],
            episode=self.episode[rows],
            step=self.step[rows],
            info=[self.info[i] for i in rows.tolist()],
        )

    def split(
        self, val_fraction: float = 0.1, seed: int = 0
    ) -> tuple[TransitionDataset, TransitionDataset]:
        """(train, validation), split by whole episodes (a seeded shuffle of episode ids)."""
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
        ids = np.unique(self.episode)
        if len(ids) < 2:
            raise ValueError("need at least 2 episodes to split by episode; collect more data")
        rng = np.random.default_rng(seed)
        shuffled = rng.permutation(ids)
        n_val = min(len(ids) - 1, max(1, round(val_fraction * len(ids))))
        is_val = np.isin(self.episode, shuffled[:n_val])
        return self.subset(np.flatnonzero(~is_val)), self.subset(np.flatnonzero(is_val))

    def episodes(self) -> Iterator[np.ndarray]:
        """Row indices of each episode, in order."""
        if len(self) == 0:
            return
        starts = np.flatnonzero(np.r_[True, np.diff(self.episode) != 0])
        ends = np.r_[starts[1:], len(self)]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            yield np.arange(a, b)

    def success(self) -> np.ndarray:
        """``info["is_success"]`` per row (False where it was not recorded)."""
        return np.array([bool(i.get("is_success", False)) for i in self.info])


def _read_shard(path: Path, meta: DatasetMeta) -> TransitionDataset:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            return TransitionDataset(
                meta=meta,
                obs=z["obs"],
                action=z["action"],
                reward=z["reward"],
                next_obs=z["next_obs"],
                terminated=z["terminated"],
                truncated=z["truncated"],
                episode=z["episode"],
                step=z["step"],
                info=[json.loads(s) for s in z["info"].tolist()],
            )
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]

    def obs_column(name: str) -> Any:
        values = [r[name] for r in rows]
        if meta.observation == "array":
            return np.array(values, dtype=np.dtype(meta.obs_dtype))
        return values

    return TransitionDataset(
        meta=meta,
        obs=obs_column("obs"),
        action=[r["action"] for r in rows],
        reward=np.array([r["reward"] for r in rows], np.float64),
        next_obs=obs_column("next_obs"),
        terminated=np.array([r["terminated"] for r in rows], bool),
        truncated=np.array([r["truncated"] for r in rows], bool),
        episode=np.array([r["episode"] for r in rows], np.int64),
        step=np.array([r["step"] for r in rows], np.int64),
        info=[r["info"] for r in rows],
    )
