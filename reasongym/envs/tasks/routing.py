"""Which verifier and which tools apply to each task of a text env.

A task may name its own verifier (``meta["verifier"]``: code rows say ``code_tests`` or
``program_io``; a mixture part may set one) and its own tools (``meta["tools"]``: a mixture
part's). The env builds every verifier and tool its source can name once, up front; each
task then sees only its own tools in the prompt and may call only those.
"""

from __future__ import annotations

from reasongym.envs.tasks.base import TaskSource
from reasongym.envs.types import Task


class TaskRouting:
    """Per-task verifier and tool names, with the env's as defaults."""

    def __init__(self, source: TaskSource, default_verifier: str, default_tools: list[str]):
        from reasongym.envs.verifiers import SANDBOX_VERIFIERS

        self.default_verifier = default_verifier
        self.default_tools = list(default_tools)
        named = source.verifier_names() - {default_verifier}
        self.verifier_names = [default_verifier, *sorted(named)]
        self.tool_names = [*self.default_tools]
        for name in source.tool_names():
            if name not in self.tool_names:
                self.tool_names.append(name)
        self.needs_sandbox = "python" in self.tool_names or any(
            name in SANDBOX_VERIFIERS for name in self.verifier_names
        )

    def verifier_for(self, task: Task | None) -> str:
        name = task.meta.get("verifier") if task is not None else None
        return (
            name if isinstance(name, str) and name in self.verifier_names else self.default_verifier
        )

    def tools_for(self, task: Task | None) -> list[str]:
        """The tool names task ``task`` may use (all of them before the first reset)."""
        if task is None:
            return list(self.tool_names)
        names = task.meta.get("tools")
        if names is None:
            return list(self.default_tools)
        return [name for name in names if name in self.tool_names]
