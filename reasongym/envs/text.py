"""TextTaskEnv: the generic text environment behind every math and QA id.

Description:
    The agent is given a problem and the tools it may use. Each step it sends one action in
    the grammar of :mod:`reasongym.envs.actions`: a tool call (the tool's output comes back
    as the observation) or a final answer (checked by the verifier).

Observation:
    ``UnicodeText``: after ``reset`` the task prompt (instructions, tools, problem); after a
    step the environment's reply (tool output, verifier feedback or a format-error message).

Action:
    ``UnicodeText``: free text containing ``<tool name="...">...</tool>``,
    ``<answer>...</answer>``, ``\\boxed{...}`` or an OpenAI-style JSON tool call.

Rewards:
    From the ``reward:`` spec (:class:`reasongym.envs.rewards.RewardSpec`): ``correct`` /
    ``incorrect`` (with partial credit) for an answer, ``format_error`` for an action that does
    not parse, ``tool_error`` / ``tool_success`` for tool calls, minus ``step_cost`` each step.

Termination:
    Terminated when an answer is correct or ``max_attempts`` answers were given; truncated
    after ``max_turns`` steps.

Info:
    ``task_id``, ``turn``, ``messages`` (the chat so far, as ``{"role", "content"}`` dicts),
    ``action`` (the parsed action), ``verdict`` (after an answer), ``is_success``.

Reset options:
    ``{"task_index": i}`` poses task ``i`` of the source (for evaluation over a fixed set).

Registered ids:
    Every YAML file under ``configs/envs`` without an ``entry_point`` (``reasongym list``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, field_validator

from reasongym.envs.actions import GRAMMAR_HELP, Answer, FormatError, ToolCall, parse_action
from reasongym.envs.base import EnvConfig, ReasonEnv
from reasongym.envs.rewards import RewardSpec
from reasongym.envs.tasks import TaskSpec, build_source
from reasongym.envs.tools import TOOL_FACTORIES, build_tool
from reasongym.envs.types import Task, Verdict
from reasongym.envs.verifiers import VERIFIERS, build_verifier
from reasongym.spaces import UnicodeText, clip_text

DEFAULT_INSTRUCTIONS = (
    "Solve the problem. Think step by step, then give only the final result as your answer."
)


class SandboxSpec(EnvConfig):
    """Where code runs (the ``code_tests`` verifier and the ``python`` tool)."""

    backend: Literal["auto", "docker", "process"] = "auto"
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    memory_mb: int = Field(default=512, ge=32, le=65_536)


class TextEnvConfig(EnvConfig):
    """Keyword arguments of :class:`TextTaskEnv` (the ``kwargs:`` of its YAML files)."""

    task: TaskSpec
    verifier: str = Field(
        default="math", description="a name in reasongym.envs.verifiers.VERIFIERS"
    )
    tools: list[str] = Field(default_factory=list, description="tool names, e.g. [calculator]")
    tool_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-tool constructor options, e.g. {python: {timeout_s: 5}}",
    )
    reward: RewardSpec = Field(default_factory=RewardSpec)
    sandbox: SandboxSpec = Field(default_factory=SandboxSpec)
    max_turns: int = Field(default=6, ge=1, description="steps before truncation")
    max_attempts: int = Field(
        default=1, ge=1, description="answers allowed (>1: revise after feedback)"
    )
    instructions: str = DEFAULT_INSTRUCTIONS
    max_observation_chars: int = Field(default=16_384, ge=256)
    max_action_chars: int = Field(default=16_384, ge=16)

    @field_validator("verifier")
    @classmethod
    def _known_verifier(cls, value: str) -> str:
        if value not in VERIFIERS:
            raise ValueError(f"unknown verifier {value!r}; choose from {sorted(VERIFIERS)}")
        return value

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in TOOL_FACTORIES:
                raise ValueError(f"unknown tool {name!r}; choose from {sorted(TOOL_FACTORIES)}")
        if len(set(value)) != len(value):
            raise ValueError("a tool is listed twice")
        return value


@dataclass
class TextEnvState:
    """A snapshot of a TextTaskEnv episode (plain data; see ``get_state``)."""

    task: Task | None
    messages: list[dict[str, str]] = field(default_factory=list)
    turn: int = 0
    attempts: int = 0
    done: bool = False
    rng: dict[str, Any] | None = None


class TextTaskEnv(ReasonEnv):
    """A multi-turn text task with tools and a verifier (see the module docstring)."""

    metadata = {"render_modes": ["ansi", "human"]}
    Config = TextEnvConfig

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        self._configure(render_mode, kwargs)
        self.source = build_source(self.config.task)
        self._sandbox = None
        verifier_options: dict[str, Any] = {}
        if self.config.verifier == "code_tests" or "python" in self.config.tools:
            # one lazily started sandbox shared by the code verifier and the python tool
            from reasongym.sandboxes import Limits
            from reasongym.sandboxes.lazy import LazySandbox

            spec = self.config.sandbox
            self._sandbox = LazySandbox(
                spec.backend, Limits(timeout_s=spec.timeout_s, memory_mb=spec.memory_mb)
            )
        if self.config.verifier == "code_tests":
            verifier_options = {**self.config.sandbox.model_dump(), "sandbox": self._sandbox}
        self._verify = build_verifier(self.config.verifier, verifier_options)
        self.tools = {}
        for name in self.config.tools:
            options = dict(self.config.tool_options.get(name, {}))
            if name == "python":
                options = {
                    "timeout_s": self.config.sandbox.timeout_s,
                    "memory_mb": self.config.sandbox.memory_mb,
                    "sandbox": self._sandbox,
                    **options,
                }
            self.tools[name] = build_tool(name, options)
        self._tool_args = {name: tool.argument for name, tool in self.tools.items()}
        self.observation_space = UnicodeText(self.config.max_observation_chars)
        self.action_space = UnicodeText(self.config.max_action_chars)
        self._state = TextEnvState(task=None)

    # -- prompt ----------------------------------------------------------------------------
    def system_prompt(self) -> str:
        """Instructions, tools and the action grammar (the first part of the reset prompt)."""
        lines = [self.config.instructions]
        if self.tools:
            lines.append("Tools you can call (one per turn; the output comes back to you):")
            lines += [f"- {tool.description}" for tool in self.tools.values()]
            lines.append(GRAMMAR_HELP)
        else:
            lines.append(
                "Give your final answer with <answer>ANSWER</answer> (or \\boxed{ANSWER})."
            )
        return "\n".join(lines)

    def _prompt(self, task: Task) -> str:
        return f"{self.system_prompt()}\n\nProblem:\n{task.question}"

    # -- gymnasium API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "task_index" in options:
            index = int(options["task_index"])
            if not 0 <= index < len(self.source):
                raise IndexError(f"task_index {index} is out of range [0, {len(self.source)})")
            task = self.source[index]
        else:
            task = self.source.sample(self.np_random)
        prompt = clip_text(self._prompt(task), self.config.max_observation_chars)
        self._state = TextEnvState(task=task, messages=[{"role": "user", "content": prompt}])
        return prompt, self._info()

    def step(self, action: Any):
        state = self._state
        if state.task is None:
            raise RuntimeError("call reset() before step()")
        if state.done:
            reply = "The episode is over; call reset() to start a new one."
            return reply, 0.0, True, False, self._info(action={"kind": "after_end"})
        state.turn += 1
        text = action if isinstance(action, str) else repr(action)
        state.messages.append(
            {"role": "assistant", "content": clip_text(text, self.config.max_action_chars)}
        )
        parsed = parse_action(action, self._tool_args)
        reward_spec = self.config.reward
        terminated, verdict, role = False, None, "user"

        if isinstance(parsed, ToolCall) and parsed.name not in self.tools:
            available = ", ".join(self.tools) or "none in this environment"
            parsed = FormatError(
                f"unknown tool {parsed.name!r} (available: {available}). {GRAMMAR_HELP}"
            )

        if isinstance(parsed, FormatError):
            reply = f"Format error: {parsed.message}"
            reward = reward_spec.format_error - reward_spec.step_cost
        elif isinstance(parsed, ToolCall):
            result = self.tools[parsed.name](parsed.argument)
            reply, role = result.output, "tool"
            reward = (
                reward_spec.tool_success if result.ok else reward_spec.tool_error
            ) - reward_spec.step_cost
        else:
            assert isinstance(parsed, Answer)
            verdict = self._verify(state.task, parsed.text)
            state.attempts += 1
            reward = reward_spec.for_answer(verdict.score, verdict.correct)
            terminated = verdict.correct or state.attempts >= self.config.max_attempts
            reply = self._feedback(verdict, terminated)

        reply = clip_text(reply, self.config.max_observation_chars)
        state.messages.append({"role": role, "content": reply})
        truncated = not terminated and state.turn >= self.config.max_turns
        state.done = terminated or truncated
        info = self._info(action=parsed.to_dict(), verdict=verdict)
        if self.render_mode == "human":
            self.render()
        return reply, float(reward), terminated, truncated, info

    def _feedback(self, verdict: Verdict, terminated: bool) -> str:
        if verdict.correct:
            return "Correct."
        if terminated:
            return "Incorrect."
        left = self.config.max_attempts - self._state.attempts
        report = verdict.details.get("feedback")
        report = f"\n{report}" if report else ""
        return f"Incorrect.{report}\nYou may revise your answer ({left} attempt(s) left)."

    def _info(
        self, action: dict[str, Any] | None = None, verdict: Verdict | None = None
    ) -> dict[str, Any]:
        state = self._state
        info: dict[str, Any] = {
            "task_id": state.task.id if state.task else None,
            "turn": state.turn,
            "messages": [dict(m) for m in state.messages],
            "is_success": bool(verdict is not None and verdict.correct),
        }
        if action is not None:
            info["action"] = action
        if verdict is not None:
            info["verdict"] = verdict.to_dict()
        return info

    def render(self) -> str | None:
        text = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._state.messages)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        for tool in self.tools.values():
            tool.close()
        close = getattr(self._verify, "close", None)
        if close is not None:
            close()
        if self._sandbox is not None:
            self._sandbox.close()

    # -- search support ------------------------------------------------------------------------
    def get_state(self) -> TextEnvState:
        state = copy.deepcopy(self._state)
        state.rng = self._rng_state()
        return state

    def set_state(self, state: TextEnvState) -> None:
        state = copy.deepcopy(state)
        if state.rng is not None:
            self._set_rng_state(state.rng)
        state.rng = None
        self._state = state

    def oracle_action(self) -> str:
        if self._state.task is None:
            raise RuntimeError("call reset() first")
        return f"<answer>{self._state.task.answer}</answer>"
