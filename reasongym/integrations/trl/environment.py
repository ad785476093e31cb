"""``environment_factory(env_id)``: a reasongym env as a TRL ``GRPOTrainer`` environment.

TRL's protocol (``GRPOTrainer(environment_factory=...)``, TRL >= 1.16): the class is built
with no arguments, one instance per rollout; ``reset(**row)`` gets every column of the
dataset row and returns text that TRL appends to the row's last user message; each public
method is a tool (TRL reads its name, type hints and Google docstring); ``get_reward()``
scores the finished rollout.

Here each typed tool of the env becomes one such method, and a call is one ``env.step``
of the tool call (the env's own JSON tool-call form), so the env's turn limit, step cost,
format penalty and verifier apply exactly as in ``gym.make`` — the model cannot get an
unscored or unlimited call. The final answer is the env's ``submit_answer`` tool (text envs
in ``action_format: native``, which the factory selects when the env has it).
``get_reward()`` is the episode's summed reward (0 for an episode that never answered beyond
its step terms).
"""

from __future__ import annotations

import inspect
import keyword
from typing import Any

from reasongym.agents import contract as agent_contract
from reasongym.integrations import contract

_JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}
_RESERVED = {"reset", "get_reward"}


def _env_kwargs(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``env_kwargs`` plus ``action_format="native"`` when the env's config has that field."""
    import gymnasium as gym

    import reasongym  # noqa: F401

    kwargs = dict(env_kwargs)
    if "action_format" not in kwargs:
        entry = gym.spec(env_id).entry_point
        cls = gym.envs.registration.load_env_creator(entry) if isinstance(entry, str) else entry
        config = getattr(cls, "Config", None)
        if config is not None and "action_format" in getattr(config, "model_fields", {}):
            kwargs["action_format"] = "native"
    return kwargs


def _tool_method(view: contract.ToolView):
    """A method ``view.name(self, **arguments) -> str`` with a real signature and docstring."""
    properties = view.parameters.get("properties", {}) or {}
    required = set(view.parameters.get("required", []) or [])
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    annotations: dict[str, Any] = {}
    arg_lines = []
    for name, schema in properties.items():
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(
                f"tool {view.name!r} has an argument {name!r} that is not a Python name"
            )
        kind = schema.get("type") if isinstance(schema, dict) else None
        hint = _JSON_TYPES.get(kind if isinstance(kind, str) else "string", str)
        default = inspect.Parameter.empty if name in required else None
        if default is None:
            hint = hint | None
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint
            )
        )
        annotations[name] = hint
        desc = (schema.get("description") if isinstance(schema, dict) else None) or name
        arg_lines.append(f"    {name}: {' '.join(str(desc).split())}")
    annotations["return"] = str

    def method(self, **arguments: Any) -> str:
        return self._call_tool(view.name, arguments)

    method.__name__ = method.__qualname__ = view.name
    method.__signature__ = inspect.Signature(params, return_annotation=str)
    method.__annotations__ = annotations
    summary = " ".join(view.description.split()) or f"Call the {view.name} tool."
    doc = f"{summary}\n\nArgs:\n" + "\n".join(arg_lines) if arg_lines else summary
    method.__doc__ = (
        doc + "\n\nReturns:\n    The environment's reply (tool output or verifier feedback)."
    )
    return method


class ReasonGymToolEnv:
    """Base of the generated classes; subclasses set ``env_id``/``env_kwargs``/``multimodal``."""

    env_id: str = ""
    env_kwargs: dict[str, Any] = {}
    multimodal: bool = False
    legacy_answer: bool = False  # no typed submit_answer tool: answer with the <answer> tag

    def __init__(self) -> None:
        import gymnasium as gym

        import reasongym  # noqa: F401

        self._env = gym.make(self.env_id, **self.env_kwargs)
        self._total = 0.0
        self._done = False
        self._steps = 0
        self._info: dict[str, Any] = {}

    def reset(self, task_index: int | None = None, seed: int | None = None, **row: Any) -> str:
        """Pose the row's task (``task_index``; else a seeded or random task) and return it.

        Other columns of the row (``prompt``, ``answer``, ...) are TRL's to keep; they do not
        reach the env, so the policy never sees the gold answer.
        """
        options = {"task_index": int(task_index)} if task_index is not None else None
        obs, info = self._env.reset(seed=None if seed is None else int(seed), options=options)
        self._total, self._done, self._steps, self._info = 0.0, False, 0, dict(info)
        return self._render(obs)

    def get_reward(self) -> float:
        """The episode's summed reward (what ``gym.make(env_id)`` would have paid)."""
        return float(self._total)

    @property
    def info(self) -> dict[str, Any]:
        """The env's ``info`` after the last step (``is_success``, ``verdict``, ...)."""
        return self._info

    @property
    def steps(self) -> int:
        """How many tool calls reached the env this episode."""
        return self._steps

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        if self._done:
            return "The episode is over; no further calls are scored."
        arguments = {k: v for k, v in arguments.items() if v is not None}
        if name == "submit_answer" and self.legacy_answer:
            action = contract.answer_action(str(arguments.get("answer", "")))
        else:
            action = contract.tool_call_action(name, arguments)
        obs, reward, terminated, truncated, info = self._env.step(action)
        self._steps += 1
        self._total += float(reward)
        self._done = bool(terminated or truncated)
        self._info = dict(info)
        return self._render(obs)

    def _render(self, obs: Any) -> Any:
        if not isinstance(obs, dict):
            return str(obs)
        text = str(obs.get("text", ""))
        image = obs.get("image")
        if not self.multimodal or image is None:
            return text
        from PIL import Image

        return [{"type": "image", "image": Image.fromarray(image)}, {"type": "text", "text": text}]

    def __del__(self) -> None:
        env = self.__dict__.get("_env")
        if env is not None:
            try:
                env.close()
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass


def environment_factory(env_id: str, *, multimodal: bool = False, **env_kwargs: Any) -> type:
    """A class for ``GRPOTrainer(environment_factory=...)`` that plays ``env_id``.

    Args:
        env_id: a registered id, e.g. ``"reasongym/Arithmetic-v0"``.
        multimodal: tool replies of image envs as ``[image, text]`` content blocks (for VLMs);
            text only otherwise.
        **env_kwargs: ``gym.make`` keyword arguments (``action_format`` defaults to
            ``"native"`` where the env has it).

    Returns:
        A ``ReasonGymToolEnv`` subclass with one public method per typed tool.
    """
    import gymnasium as gym

    kwargs = _env_kwargs(env_id, env_kwargs)
    probe = gym.make(env_id, **kwargs)
    try:
        views = contract.tool_views(probe)
        typed = bool(agent_contract.tools(probe))  # False: an env from before typed tools
    finally:
        probe.close()
    namespace: dict[str, Any] = {"env_id": env_id, "env_kwargs": kwargs, "multimodal": multimodal}
    names = {v.name for v in views}
    for view in views:
        if view.name in _RESERVED or view.name.startswith("_") or not view.name.isidentifier():
            raise ValueError(f"{env_id}: tool name {view.name!r} cannot be a TRL tool method")
        namespace[view.name] = _tool_method(view)
    if not typed and "submit_answer" not in names:  # a text env from before typed tools
        namespace["submit_answer"] = _tool_method(
            contract.ToolView(
                name="submit_answer",
                description="Submit your final answer; the episode ends when it is correct.",
                parameters={
                    "type": "object",
                    "properties": {
                        "answer": {"type": "string", "description": "the final answer only"}
                    },
                    "required": ["answer"],
                },
            )
        )
        namespace["legacy_answer"] = True
    title = "".join(ch for ch in env_id.split("/")[-1].title() if ch.isalnum())
    return type(f"{title}Env", (ReasonGymToolEnv,), namespace)


def environment_factories(env_ids: dict[str, str], **env_kwargs: Any) -> dict[str, type]:
    """``{name: environment_factory(env_id)}`` for a mixed suite (rows carry ``environment``)."""
    return {name: environment_factory(env_id, **env_kwargs) for name, env_id in env_ids.items()}
