"""The tool interface: a named function from an argument string to a ``ToolResult``."""

from __future__ import annotations

from abc import ABC, abstractmethod

from reasongym.envs.types import ToolResult


class Tool(ABC):
    """A tool an agent calls with ``<tool name="NAME">ARGUMENT</tool>``.

    Attributes:
        name: the name agents use in the action grammar.
        description: one or two lines for the prompt: what it does and an example call.
        argument: the name of the single string argument in JSON tool calls
            (``{"name": "calculator", "arguments": {"expression": "2+2"}}``).
    """

    name: str = ""
    description: str = ""
    argument: str = "input"

    @abstractmethod
    def __call__(self, argument: str) -> ToolResult:
        """Run the tool. Errors the agent caused come back as ``ToolResult(ok=False)``;
        never raise for bad input."""

    def close(self) -> None:
        """Release resources (sandboxes, processes). Called by the env's ``close``."""
