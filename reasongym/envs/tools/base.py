"""The tool interface: a named function from an argument string to a ``ToolResult``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from reasongym.envs.types import ToolResult

if TYPE_CHECKING:
    from reasongym.envs.tools.spec import ToolSpec


class Tool(ABC):
    """A tool an agent calls with ``<tool name="NAME">ARGUMENT</tool>``.

    Attributes:
        name: the name agents use in the action grammar.
        summary: what it does, for the model (no grammar; the spec's description).
        example: an example argument, shown in the prompt.
        argument: the name of the single string argument in JSON tool calls
            (``{"name": "calculator", "arguments": {"expression": "2+2"}}``).
        max_argument_chars: longer arguments are refused (an error result, never a run).
    """

    name: str = ""
    summary: str = ""
    example: str = ""
    argument: str = "input"
    max_argument_chars: int = 100_000

    @property
    def description(self) -> str:
        """The tool's line in a tag-grammar prompt: name, summary and an example call."""
        line = f"{self.name}: {self.summary}"
        if self.example:
            line += f' Example: <tool name="{self.name}">{self.example}</tool>'
        return line

    def spec(self) -> ToolSpec:
        """This tool as a typed :class:`ToolSpec` (one required string argument)."""
        from reasongym.envs.tools.spec import string_spec

        return string_spec(
            self.name,
            self.summary,
            self.argument,
            self._call_with_argument,
            example=self.example,
            max_length=self.max_argument_chars,
        )

    def _call_with_argument(self, **arguments: str) -> ToolResult:
        return self(arguments[self.argument])

    @abstractmethod
    def __call__(self, argument: str) -> ToolResult:
        """Run the tool. Errors the agent caused come back as ``ToolResult(ok=False)``;
        never raise for bad input."""

    def close(self) -> None:
        """Release resources (sandboxes, processes). Called by the env's ``close``."""
