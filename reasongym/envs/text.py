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
    ``<answer>...</answer>``, ``\\boxed{...}`` or an OpenAI-style JSON tool call
    (``action_format: tags``, the default); with ``action_format: native`` the prompt leaves
    the tag grammar out and actions are OpenAI-style tool calls (a JSON string or a dict),
    the final answer being a call of the ``submit_answer`` tool. With ``answer_mode:
    free_text`` an action that holds no construct but states its final answer in prose
    ("... so the answer is 12.") is graded too, plus ``reward.free_text_answer`` (<= 0); the
    default ``answer_mode: tags`` is strict.

Rewards:
    From the ``reward:`` spec (:class:`reasongym.envs.rewards.TextRewardSpec`), every term a
    signed reward added to the step: ``correct`` / ``incorrect`` (with partial credit) for an
    answer, ``format_error`` for an action that does not parse, ``tool_error`` /
    ``tool_success`` for tool calls (paid once per distinct result, at most ``correct`` per
    episode in all), plus ``per_step`` on every step.

Termination:
    Terminated when an answer is correct or ``max_attempts`` answers were given; truncated
    after ``max_turns`` steps (the one step limit). After the end, see ``ReasonEnv``.

Info:
    ``task_id``, ``turn``, ``messages`` (the chat so far, as ``{"role", "content"}`` dicts),
    ``action`` (the parsed action), ``verdict`` (after an answer; while the episode goes on
    its details leave out the gold and other hidden keys, see ``HIDDEN_DETAILS``),
    ``is_success``.

Reset options:
    ``{"task_index": i}`` poses task ``i`` of the source (for evaluation over a fixed set).

Registered ids:
    Every YAML file under ``configs/envs`` without an ``entry_point`` (``reasongym list``).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from reasongym.envs import actions
from reasongym.envs.actions import SUBMIT_ANSWER, Answer, FormatError, ToolCall, parse_action
from reasongym.envs.base import COMMON_RENAMES, UNBOUNDED_TASKS, EnvConfig, ReasonEnv, StepOutcome
from reasongym.envs.rewards import TextRewardSpec
from reasongym.envs.tasks import TaskSpec, build_source
from reasongym.envs.tasks.routing import TaskRouting
from reasongym.envs.tasks.specs import check_verifier_fits
from reasongym.envs.tools import TOOL_FACTORIES, build_tool
from reasongym.envs.tools.spec import ToolSpec, render_tag_grammar, submit_answer_spec
from reasongym.envs.types import Task, ToolResult, Verdict
from reasongym.envs.verifiers import SANDBOX_VERIFIERS, VERIFIERS, build_verifier
from reasongym.envs.verifiers.math_options import MathVerifierOptions
from reasongym.spaces import UnicodeText, clip_text

#: Verdict detail keys never shown while the episode goes on (a verifier may add its own in
#: a ``hidden_details`` attribute): a next attempt must not copy them from info.
HIDDEN_DETAILS = frozenset({"gold", "golds", "gold_forms", "expected", "solution"})

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

    renamed = COMMON_RENAMES

    task: TaskSpec
    verifier: str = Field(
        default="math", description="a name in reasongym.envs.verifiers.VERIFIERS"
    )
    tools: list[str] = Field(default_factory=list, description="tool names, e.g. [calculator]")
    tool_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-tool constructor options, e.g. {python: {timeout_s: 5}}",
    )
    reward: TextRewardSpec = Field(default_factory=TextRewardSpec)
    sandbox: SandboxSpec = Field(default_factory=SandboxSpec)
    math: MathVerifierOptions = Field(
        default_factory=MathVerifierOptions,
        description="options of the math verifier, e.g. {require_number_for_numeric_gold: true}",
    )
    max_turns: int = Field(default=6, ge=1, le=10_000, description="the one step limit")
    max_attempts: int = Field(
        default=1, ge=1, description="answers allowed (>1: revise after feedback)"
    )
    answer_mode: Literal["tags", "free_text"] = Field(
        default="tags",
        description="tags: only the grammar's constructs answer (strict); free_text: an action "
        "with no construct that states 'The answer is X' is graded too, plus "
        "reward.free_text_answer",
    )
    action_format: Literal["tags", "native"] = Field(
        default="tags",
        description="tags: the <tool>/<answer> grammar in the prompt; native: OpenAI-style "
        "tool calls (JSON string or dict), the answer via the submit_answer tool",
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

    @model_validator(mode="after")
    def _verifier_fits_tasks(self) -> TextEnvConfig:
        check_verifier_fits(self.task, self.verifier)  # e.g. code_tests on math problems
        return self


@dataclass
class TextEnvState:
    """The family part of a TextTaskEnv snapshot (plain data; see ``ReasonEnv.get_state``)."""

    task: Task | None
    messages: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    best_outcome: float | None = None  # the best answer's value so far (paid once)
    paid_calls: list[str] = field(default_factory=list)  # tool results already rewarded
    tool_paid: float = 0.0  # tool_success paid so far (capped at reward.correct)


class TextTaskEnv(ReasonEnv):
    """A multi-turn text task with tools and a verifier (see the module docstring)."""

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}
    Config = TextEnvConfig
    config: TextEnvConfig

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        self._configure(render_mode, kwargs)
        self.source = build_source(self.config.task)
        # per-task verifiers and tools (code rows, mixture parts): reasongym.envs.tasks.routing
        self._routing = TaskRouting(self.source, self.config.verifier, self.config.tools)
        self._sandbox = None
        if self._routing.needs_sandbox:
            # one lazily started sandbox shared by the code verifier and the python tool
            from reasongym.sandboxes import Limits
            from reasongym.sandboxes.lazy import LazySandbox

            spec = self.config.sandbox
            self._sandbox = LazySandbox(
                spec.backend, Limits(timeout_s=spec.timeout_s, memory_mb=spec.memory_mb)
            )
        sandboxed = {**self.config.sandbox.model_dump(), "sandbox": self._sandbox}
        options = {"math": self.config.math.model_dump()}
        for name in SANDBOX_VERIFIERS:
            options[name] = sandboxed
        # the constant-function baselines only lower a partial score: without partial credit
        # their sandbox runs (one per baseline, per task) would buy nothing
        options["code_tests"] = {**sandboxed, "baseline_credit": self.config.reward.partial_credit}
        self._verifiers = {
            name: build_verifier(name, options.get(name, {}))
            for name in self._routing.verifier_names
        }
        self._verify = self._verifiers[self.config.verifier]
        self._tools = {}
        for name in self._routing.tool_names:
            options = dict(self.config.tool_options.get(name, {}))
            if name == "python":
                options = {
                    "timeout_s": self.config.sandbox.timeout_s,
                    "memory_mb": self.config.sandbox.memory_mb,
                    "sandbox": self._sandbox,
                    **options,
                }
            self._tools[name] = build_tool(name, options)
        self._tool_args = {name: tool.argument for name, tool in self._tools.items()}
        self._specs = [tool.spec() for tool in self._tools.values()]
        self._answer_spec = submit_answer_spec(
            "Submit your final answer; the episode ends when it is correct "
            f"(answers allowed: {self.config.max_attempts}).",
            self._submit,
            about="the final answer only (for code: the complete function)",
        )
        self.observation_space = UnicodeText(self.config.max_observation_chars)
        self.action_space = UnicodeText(self.config.max_action_chars)
        self._state = TextEnvState(task=None)

    # -- the contract ------------------------------------------------------------------------
    @property
    def tools(self) -> list[ToolSpec]:
        """The env's tools as ``ToolSpec``s, then ``submit_answer`` (the final answer)."""
        allowed = self._routing.tools_for(self._state.task if hasattr(self, "_state") else None)
        return [*(s for s in self._specs if s.name in allowed), self._answer_spec]

    @property
    def num_tasks(self) -> int | None:
        """The source's size; None for procedural sources (an index space, not a set)."""
        total = len(self.source)
        return None if total >= UNBOUNDED_TASKS else total

    def _task_index_bound(self) -> int:
        return len(self.source)

    def is_final(self, action: Any) -> bool:
        """True for an answer (it ends the episode if correct, or on the last attempt) and
        for any action on the last turn or after the end. Never runs a tool or verifier."""
        status = self._status
        if not status.started:
            return False
        if status.terminated or status.truncated or status.turn + 1 >= self.max_turns:
            return True
        try:
            return isinstance(self._parse(action)[0], Answer)
        except Exception:  # noqa: BLE001 - never raise on a policy's action
            return False

    def _row_answer(self) -> str:
        return self._state.task.answer if self._state.task else ""

    # -- prompt ----------------------------------------------------------------------------
    def system_prompt(self) -> str:
        """Instructions and the tool section rendered from the specs (tags), or the one line
        saying to call tools (native: the specs go to the model as OpenAI ``tools``)."""
        if self.config.action_format == "native":
            return f"{self.config.instructions}\n{actions.NATIVE_HELP}"
        prompt = f"{self.config.instructions}\n{render_tag_grammar(self.tools)}"
        if self.config.answer_mode == "free_text":
            prompt += " A final answer written as 'The answer is ...' is accepted too."
        return prompt

    def _prompt(self, task: Task) -> str:
        return f"{self.system_prompt()}\n\nProblem:\n{task.question}"

    # -- the episode ---------------------------------------------------------------------------
    def _reset(self, task_index: int | None) -> tuple[str, dict[str, Any]]:
        if task_index is not None:
            task = self.source[task_index]
        else:
            task = self.source.sample(self.np_random)
        self._state = TextEnvState(task=task)  # the prompt lists this task's tools
        prompt = clip_text(self._prompt(task), self.config.max_observation_chars)
        self._state = TextEnvState(task=task, messages=[{"role": "user", "content": prompt}])
        self._status.task_id = str(task.id)
        return prompt, self._extra_info()

    def _parse(self, action: Any) -> tuple[Answer | ToolCall | FormatError, bool]:
        """The parsed action, and whether it is an answer read from prose (free_text mode)."""
        if isinstance(action, (Answer, ToolCall, FormatError)):  # from the tools' callables
            return action, False
        action_format = "native" if isinstance(action, dict) else self.config.action_format
        parsed = parse_action(
            action,
            self._tool_args,
            action_format=action_format,
            tools=self.tools,
            max_chars=self.config.max_action_chars,
        )
        if (
            isinstance(parsed, FormatError)
            and self.config.answer_mode == "free_text"
            and action_format == "tags"
        ):
            prose = actions.free_text_answer(action, max_chars=self.config.max_action_chars)
            if prose is not None:
                return Answer(prose), True
        return parsed, False

    def _step(self, action: Any) -> StepOutcome:
        state = self._state
        text = actions.action_as_text(action, self.config.max_action_chars)
        state.messages.append(
            {"role": "assistant", "content": clip_text(text, self.config.max_action_chars)}
        )
        parsed, from_prose = self._parse(action)
        spec = self.config.reward
        terminated, verdict, role, success = False, None, "user", False

        if isinstance(parsed, ToolCall) and parsed.name not in self._routing.tools_for(state.task):
            available = ", ".join(spec.name for spec in self.tools)
            parsed = FormatError(f"unknown tool {parsed.name!r} (available: {available}).")

        if isinstance(parsed, FormatError):
            reply = f"Format error: {parsed.message}"
            reward = spec.format_error
        elif isinstance(parsed, ToolCall):
            result = self._tools[parsed.name](parsed.argument)
            reply, role = result.output, "tool"
            reward = spec.tool_error
            if result.ok:
                reward = self._process_reward(parsed.name, result.output)
        else:
            verdict = self._judge(parsed.text)
            state.attempts += 1
            value = spec.for_answer(verdict.score, verdict.correct)
            reward, state.best_outcome = spec.improvement(value, state.best_outcome)
            if from_prose:  # graded, but not in the asked-for format
                reward += spec.free_text_answer
            success = verdict.correct
            terminated = verdict.correct or state.attempts >= self.config.max_attempts
            reply = self._feedback(verdict, terminated)
            if not (terminated or self._status.turn >= self.max_turns):
                verdict = self._without_hidden_details(verdict)  # the next attempt reads info

        reply = clip_text(reply, self.config.max_observation_chars)
        state.messages.append({"role": role, "content": reply})
        return StepOutcome(
            observation=reply,
            reward=reward + spec.per_step,
            terminated=terminated,
            verdict=verdict.to_dict() if verdict is not None else None,
            is_success=success,
            info=self._extra_info(action={**parsed.to_dict(), "free_text": from_prose}),
        )

    def _process_reward(self, tool: str, output: str) -> float:
        """``tool_success`` for a working call, paid once per distinct *result* (tool name and
        output): a call that only repeats an earlier result -- re-spaced, re-bracketed, or the
        value itself -- did no new work. Positive payments of one episode together stop at
        ``correct`` (an honest solve), so no number of calls out-earns the answer."""
        state, spec = self._state, self.config.reward
        result = f"{tool}\0{output}".encode("utf-8", "surrogatepass")
        key = hashlib.sha256(result).hexdigest()
        if key in state.paid_calls:
            return 0.0
        state.paid_calls.append(key)
        pay = spec.tool_success
        if pay > 0:
            pay = min(pay, max(0.0, max(0.0, spec.correct) - state.tool_paid))
        state.tool_paid += pay
        return pay

    def _without_hidden_details(self, verdict: Verdict) -> Verdict:
        """``verdict`` for a step after which the episode goes on: its details lose every key
        the verifier hides (``HIDDEN_DETAILS`` plus its ``hidden_details``), at any depth,
        and every text equal to the gold or to a hidden value, so a later attempt cannot copy
        them from info. The ending step shows the details whole."""
        task = self._state.task
        verifier = self._verifiers[self._routing.verifier_for(task)]
        keys = HIDDEN_DETAILS | frozenset(getattr(verifier, "hidden_details", ()))
        secrets = {str(task.answer).strip()} if task is not None else set()
        _collect_hidden(verdict.details, keys, secrets)
        secrets.discard("")
        details = _strip_hidden(verdict.details, keys, secrets)
        return Verdict(correct=verdict.correct, score=verdict.score, details=details)

    def _episode_ended(self, success: bool) -> None:
        self.source.end_episode(self._state.task, success)  # curricula count ended episodes

    def _judge(self, answer: str) -> Verdict:
        task = self._state.task
        verdict = self._verifiers[self._routing.verifier_for(task)](task, answer)
        score = min(1.0, max(0.0, float(verdict.score)))  # a verifier never pays above 1
        if score != verdict.score:
            verdict = Verdict(correct=verdict.correct, score=score, details=verdict.details)
        return verdict

    def _submit(self, answer: str) -> ToolResult:
        """The ``submit_answer`` tool's callable: step the env with this answer."""
        if not isinstance(answer, str):
            return ToolResult(f"answer must be a string, got {type(answer).__name__}", ok=False)
        obs, *_ = self.step(Answer(answer))
        return ToolResult(obs)

    def _feedback(self, verdict: Verdict, terminated: bool) -> str:
        if verdict.correct:
            return "Correct."
        if terminated:
            return "Incorrect."
        left = self.config.max_attempts - self._state.attempts
        report = verdict.details.get("feedback")
        report = f"\n{report}" if report else ""
        return f"Incorrect.{report}\nYou may revise your answer ({left} attempt(s) left)."

    def _extra_info(self, action: dict[str, Any] | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {"messages": self._state.messages}  # copied by _fresh_info
        info["action"] = action
        info["attempts_left"] = self.config.max_attempts - self._state.attempts
        if action is not None and action.get("kind") == "format_error":
            info["format_error"] = action["message"]  # as the puzzles and ARC name it
        return info

    def _common_info(self, extra: dict[str, Any], verdict: dict[str, Any] | None) -> dict:
        info = super()._common_info(extra, verdict)
        info.setdefault("messages", self._state.messages)
        info.setdefault("action", None)
        info.update(self.source.info(self._state.task))  # "source", "curriculum" (after this step)
        return info

    def render(self) -> str | None:
        text = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._state.messages)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        for tool in self._tools.values():
            tool.close()
        for verifier in self._verifiers.values():
            close = getattr(verifier, "close", None)
            if close is not None:
                close()
        if self._sandbox is not None:
            self._sandbox.close()

    # -- search support ------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        state = self._state
        return {
            "task": asdict(state.task) if state.task is not None else None,
            "messages": copy.deepcopy(state.messages),
            "attempts": state.attempts,
            "best_outcome": state.best_outcome,
            "paid_calls": list(state.paid_calls),
            "tool_paid": state.tool_paid,
            "source": copy.deepcopy(self.source.snapshot()),
        }

    def _restore(self, data: dict[str, Any]) -> None:
        task = Task(**data["task"]) if data["task"] is not None else None
        self._state = TextEnvState(
            task=task,
            messages=list(data["messages"]),
            attempts=int(data["attempts"]),
            best_outcome=data["best_outcome"],
            paid_calls=list(data["paid_calls"]),
            tool_paid=float(data.get("tool_paid", 0.0)),
        )
        self.source.restore(copy.deepcopy(data.get("source")))

    def oracle_action(self) -> str:
        if self._state.task is None:
            raise RuntimeError("call reset() first")
        if self.config.action_format == "native":
            import json

            return json.dumps(
                {"name": SUBMIT_ANSWER, "arguments": {"answer": self._state.task.answer}}
            )
        return f"<answer>{self._state.task.answer}</answer>"


def _collect_hidden(value: Any, keys: frozenset[str], found: set[str]) -> None:
    """Add to ``found`` the texts held under a hidden key anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys:
                found.update(text.strip() for text in _texts(item))
            else:
                _collect_hidden(item, keys, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_hidden(item, keys, found)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _texts(item)]
    return [str(value)] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _strip_hidden(value: Any, keys: frozenset[str], secrets: set[str]) -> Any:
    """A copy of ``value`` without hidden keys and without texts in ``secrets``."""
    if isinstance(value, dict):
        return {
            key: _strip_hidden(item, keys, secrets)
            for key, item in value.items()
            if key not in keys and not _is_secret(item, secrets)
        }
    if isinstance(value, (list, tuple)):
        kept = [
            _strip_hidden(item, keys, secrets) for item in value if not _is_secret(item, secrets)
        ]
        return type(value)(kept) if isinstance(value, tuple) else kept
    return value


def _is_secret(value: Any, secrets: set[str]) -> bool:
    return isinstance(value, str) and value.strip() in secrets
