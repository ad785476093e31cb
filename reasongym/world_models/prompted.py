"""``PromptedWorldModel``: a language model asked to predict the next observation (the RAP idea:
"Reasoning with Language Model is Planning with World Model", Hao et al., 2023).

No training: ``fit`` keeps a few real transitions as in-context examples. Each prediction is
one prompt with the rules of the game (the env's first observation, if it states them), the
examples and the query, answered in a fixed format::

    <next_observation>...</next_observation>
    <reward>0.0</reward>
    <terminated>no</terminated>

Array observations (grid codes) are written as rows of integers and parsed back to the
observation's shape; text observations are used as they are. A reply that does not parse
predicts "nothing changed, reward 0, not terminated" and is counted in ``parse_failures``.
It is as good as the language model behind it: measure it with
:func:`~reasongym.world_models.fidelity.dynamics_fidelity` before planning with it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reasongym.agents.models.base import GenerationConfig, LanguageModel, Message
from reasongym.world_models.base import Prediction, WorldModel
from reasongym.world_models.data import TransitionDataset

_NEXT = re.compile(r"<next_observation>\s*(.*?)\s*</next_observation>", re.S)
_REWARD = re.compile(r"<reward>\s*([-+0-9.eE]+)\s*</reward>")
_TERMINATED = re.compile(r"<terminated>\s*(yes|no|true|false)\s*</terminated>", re.I)


@dataclass
class PromptedConfig:
    """How the language model is asked.

    Attributes:
        examples: real transitions shown in every prompt (chosen by ``fit``).
        max_tokens: tokens the model may write per prediction.
        rules_chars: how much of the env's first observation (its rules) to include.
        seed: picks the examples.
    """

    examples: int = 4
    max_tokens: int = 256
    rules_chars: int = 1500
    seed: int = 0


class PromptedWorldModel(WorldModel):
    """A language model as a world model; see the module docstring.

    Args:
        llm: any :class:`~reasongym.agents.models.base.LanguageModel`.
        config: prompt settings.
        env_id, env_kwargs: the simulated env.
        model_spec: how to load ``llm`` again (``load_model`` spec), kept by ``save``.
    """

    kind: ClassVar[str] = "prompted"
    markov: ClassVar[bool] = True

    def __init__(
        self,
        llm: LanguageModel,
        config: PromptedConfig | None = None,
        env_id: str | None = None,
        env_kwargs: dict[str, Any] | None = None,
        model_spec: str | None = None,
    ):
        self.llm = llm
        self.config = config or PromptedConfig()
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.model_spec = model_spec
        self.rules = ""
        self.examples: list[
            dict[str, Any]
        ] = []  # {"obs", "action", "next_obs", "reward", "terminated"}
        self.obs_shape: list[int] | None = None  # array observations: their shape
        self.obs_dtype = "int64"
        self.parse_failures = 0

    # -- observations as text -----------------------------------------------------------------
    def _show(self, obs: Any) -> str:
        if isinstance(obs, np.ndarray):
            rows = obs if obs.ndim == 2 else obs.reshape(1, -1)
            return "\n".join(" ".join(_number(x) for x in row) for row in rows.tolist())
        return str(obs)

    def _read(self, text: str, like: Any) -> Any:
        if self.obs_shape is None:
            return text
        numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
        if len(numbers) != int(np.prod(self.obs_shape)):
            raise ValueError("wrong number of cells")
        return np.array([float(x) for x in numbers]).reshape(self.obs_shape).astype(self.obs_dtype)

    # -- WorldModel API -------------------------------------------------------------------------
    def fit(
        self, dataset: TransitionDataset, validation: TransitionDataset | None = None
    ) -> dict[str, Any]:
        """Keep ``config.examples`` transitions (terminal ones included when there are any)
        and the env's rules (the first observation of an episode, if it is text)."""
        meta = dataset.meta
        self.env_id = self.env_id or meta.env_id
        self.env_kwargs = self.env_kwargs or dict(meta.env_kwargs)
        if meta.observation == "array":
            self.obs_shape, self.obs_dtype = list(meta.obs_shape), meta.obs_dtype
        rng = np.random.default_rng(self.config.seed)
        n = self.config.examples
        ends = np.flatnonzero(dataset.terminated)
        others = np.flatnonzero(~dataset.terminated)
        pick = list(rng.permutation(ends)[: max(1, n // 4)]) if len(ends) else []
        pick += list(rng.permutation(others)[: n - len(pick)])
        self.examples = [
            {
                "obs": self._show(_row(dataset.obs, i)),
                "action": str(_row(dataset.action, i)),
                "next_obs": self._show(_row(dataset.next_obs, i)),
                "reward": float(dataset.reward[i]),
                "terminated": bool(dataset.terminated[i]),
            }
            for i in sorted(int(i) for i in pick)
        ]
        firsts = [i for i in range(len(dataset)) if dataset.step[i] == 0]
        if firsts and isinstance(_row(dataset.obs, firsts[0]), str):
            self.rules = str(_row(dataset.obs, firsts[0]))[: self.config.rules_chars]
        self.version += 1
        return {"examples": len(self.examples), "rules_chars": len(self.rules)}

    def prompt(self, obs: Any, action: Any) -> list[Message]:
        """The chat sent to the language model for one prediction."""
        lines = [
            "You simulate an environment"
            + (f" ({self.env_id})" if self.env_id else "")
            + ". Given an observation and an action, predict the next observation, the reward "
            "and whether the episode terminates. Reply exactly in this format:\n"
            "<next_observation>\nNEXT OBSERVATION\n</next_observation>\n"
            "<reward>NUMBER</reward>\n<terminated>yes or no</terminated>"
        ]
        if self.rules:
            lines.append(f"The environment's rules, as it tells its agents:\n{self.rules}")
        for ex in self.examples:
            lines.append(
                f"Example.\nObservation:\n{ex['obs']}\nAction: {ex['action']}\n"
                f"<next_observation>\n{ex['next_obs']}\n</next_observation>\n"
                f"<reward>{ex['reward']:g}</reward>\n"
                f"<terminated>{'yes' if ex['terminated'] else 'no'}</terminated>"
            )
        lines.append(f"Now predict.\nObservation:\n{self._show(obs)}\nAction: {action}")
        return [{"role": "user", "content": "\n\n".join(lines)}]

    def predict(self, obs: Any, actions: Any) -> Prediction:
        obs_list = list(obs)
        actions_list = (
            list(np.asarray(actions).tolist()) if isinstance(actions, np.ndarray) else list(actions)
        )
        prompts = [self.prompt(o, a) for o, a in zip(obs_list, actions_list, strict=True)]
        config = GenerationConfig(
            n=1, temperature=0.0, max_tokens=self.config.max_tokens, stop=("</terminated>",)
        )
        replies = self.llm.generate(prompts, config) if prompts else []
        next_obs, rewards, terms = [], [], []
        for o, [completion] in zip(obs_list, replies, strict=True):
            parsed = self._parse(completion.text, o)
            if parsed is None:
                self.parse_failures += 1
                parsed = (o, 0.0, False)
            next_obs.append(parsed[0])
            rewards.append(parsed[1])
            terms.append(parsed[2])
        if isinstance(obs, np.ndarray):
            out: Any = np.stack(next_obs) if next_obs else obs[:0].copy()
        else:
            out = next_obs
        return out, np.asarray(rewards, np.float64), np.asarray(terms, bool)

    def _parse(self, text: str, obs: Any) -> tuple[Any, float, bool] | None:
        if not text.rstrip().endswith("</terminated>"):
            text += "</terminated>"  # the stop string may be cut off by the backend
        nxt, reward, term = _NEXT.search(text), _REWARD.search(text), _TERMINATED.search(text)
        if nxt is None or reward is None or term is None:
            return None
        try:
            value = self._read(nxt.group(1), obs)
            return value, float(reward.group(1)), term.group(1).lower() in ("yes", "true")
        except ValueError:
            return None

    # -- persistence ----------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> Path:
        folder = Path(folder)
        self._write_manifest(
            folder,
            {
                "config": asdict(self.config),
                "model_spec": self.model_spec,
                "rules": self.rules,
                "obs_shape": self.obs_shape,
                "obs_dtype": self.obs_dtype,
            },
        )
        (folder / "examples.json").write_text(json.dumps(self.examples, indent=2))
        return folder

    @classmethod
    def load(
        cls, folder: str | os.PathLike, llm: LanguageModel | None = None
    ) -> PromptedWorldModel:
        """Load the prompt settings; the language model is ``llm`` or, when None, loaded
        with ``reasongym.agents.models.load_model(model_spec)``."""
        manifest = cls._read_own_manifest(folder)
        spec = manifest.get("model_spec")
        if llm is None:
            if not spec:
                raise ValueError(
                    f"{folder}: no language model recorded; pass llm= to PromptedWorldModel.load"
                )
            from reasongym.agents.models import load_model

            llm = load_model(spec)
        model = cls(
            llm,
            PromptedConfig(**manifest["config"]),
            manifest["env_id"],
            manifest["env_kwargs"],
            spec,
        )
        model.rules = manifest["rules"]
        model.obs_shape = manifest["obs_shape"]
        model.obs_dtype = manifest["obs_dtype"]
        model.examples = json.loads((Path(folder) / "examples.json").read_text())
        return model


def _row(column: Any, i: int) -> Any:
    return column[i]


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
