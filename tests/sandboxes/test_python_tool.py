"""The ``python`` tool: code in, output and status out, through a sandbox made on first use."""

from __future__ import annotations

import pytest

from reasongym.envs.tools import build_tool
from reasongym.envs.tools.python import PythonTool, clip_middle
from reasongym.sandboxes import Limits


@pytest.fixture
def tool():
    t = PythonTool(backend="process", timeout_s=2)
    yield t
    t.close()


def test_prints_output(tool):
    r = tool("print(sum(range(10)))")
    assert r.ok and r.output == "45"


def test_accepts_a_markdown_fence(tool):
    assert tool("```python\nprint(2 ** 10)\n```").output == "1024"


def test_error_shows_traceback_and_exit_code(tool):
    r = tool("1/0")
    assert not r.ok
    assert "ZeroDivisionError" in r.output and "[exit code 1]" in r.output


def test_timeout_is_reported(tool):
    r = tool("import time; time.sleep(30)")
    assert not r.ok and "timed out" in r.output


def test_empty_code_is_the_agents_error(tool):
    r = tool("   ")
    assert not r.ok and "No code" in r.output


def test_long_output_is_clipped_keeping_head_and_tail():
    t = PythonTool(backend="process", max_output_chars=300)
    try:
        r = t("for i in range(2000): print(i)")
    finally:
        t.close()
    assert len(r.output) <= 300
    assert r.output.startswith("0\n1\n") and r.output.rstrip().endswith("1999")
    assert "characters clipped" in r.output


def test_sandbox_is_lazy_and_released(tool):
    assert tool._sandbox is None
    tool("print(1)")
    assert tool._sandbox is not None
    tool.close()
    assert tool._sandbox is None
    assert tool("print(2)").output == "2"  # a new one on demand


def test_shared_sandbox_is_not_closed():
    from reasongym.sandboxes import ProcessSandbox

    shared = ProcessSandbox()
    t = PythonTool(sandbox=shared)
    assert t("print(5)").output == "5"
    t.close()
    assert shared.run("print(6)").stdout == "6\n"


def test_built_from_env_options():
    t = build_tool("python", {"backend": "process", "timeout_s": 3.0, "memory_mb": 256})
    assert isinstance(t, PythonTool) and t.name == "python" and t.argument == "code"
    assert t.limits == Limits(timeout_s=3.0, memory_mb=256)
    t.close()


def test_rejects_unknown_backend():
    with pytest.raises(ValueError, match="backend"):
        PythonTool(backend="vm")


def test_clip_middle_short_text_unchanged():
    assert clip_middle("abc", 100) == "abc"


@pytest.mark.docker
def test_docker_backend():
    t = PythonTool(backend="docker", timeout_s=5)
    try:
        r = t("import socket; print([n for _, n in socket.if_nameindex()])")
        assert r.ok and r.output == "['lo']"
    finally:
        t.close()
