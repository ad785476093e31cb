"""The Sandbox contract, on every backend: input, output, files, exit status, clean runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reasongym.sandboxes import ExecResult, Limits, get_sandbox


def test_stdin_stdout_files_and_exit_code(sandbox):
    r = sandbox.run(
        "import sys\nprint(input()[::-1])\nprint(open('data.txt').read(), open('sub/dir/x.bin','rb').read())\nsys.exit(3)",
        stdin="abc\n",
        files={"data.txt": "hello", "sub/dir/x.bin": b"\x00\x01"},
    )
    assert r.stdout == "cba\nhello b'\\x00\\x01'\n"
    assert r.exit_code == 3 and not r.ok
    assert not (r.timed_out or r.oom_killed or r.truncated)
    assert r.duration_s > 0 and r.backend


def test_helper_files_are_importable(sandbox):
    r = sandbox.run(
        "from helper import f\nprint(f(2))", files={"helper.py": "def f(x):\n    return x * 21\n"}
    )
    assert r.ok and r.stdout == "42\n"


def test_traceback_names_main_py(sandbox):
    r = sandbox.run("1/0")
    assert r.exit_code == 1
    assert 'main.py", line 1' in r.stderr and "ZeroDivisionError" in r.stderr


def test_unicode_and_invalid_utf8_output(sandbox):
    r = sandbox.run(
        "import sys\nprint('héllo ✓')\nsys.stdout.flush()\nsys.stdout.buffer.write(b'\\xff\\n')"
    )
    assert r.ok
    assert r.stdout.startswith("héllo ✓\n") and "\ufffd" in r.stdout


def test_large_stdin_does_not_deadlock(sandbox):
    data = "x" * (3 << 20)
    r = sandbox.run("import sys\nprint(len(sys.stdin.read()))", stdin=data)
    assert r.ok and r.stdout == f"{len(data)}\n"


def test_each_run_starts_clean(sandbox):
    first = sandbox.run(
        "import os, tempfile\nopen('left.txt','w').write('x')\nopen(os.path.join(tempfile.gettempdir(),'left.tmp'),'w').write('x')"
    )
    assert first.ok, first.stderr
    for _ in range(3):  # whichever warm worker serves it
        r = sandbox.run(
            "import os, tempfile\nprint(sorted(os.listdir('.')), os.path.exists(os.path.join(tempfile.gettempdir(),'left.tmp')))"
        )
        assert r.stdout == "['main.py'] False\n"


def test_host_environment_does_not_leak(sandbox, monkeypatch):
    monkeypatch.setenv("REASONGYM_TEST_SECRET", "s3cret")
    r = sandbox.run("import os\nprint('s3cret' in repr(os.environ))")
    assert r.stdout == "False\n"


def test_per_run_output_limit(sandbox):
    r = sandbox.run("print('a' * 5000)", limits=Limits(output_bytes=100))
    assert r.truncated and r.stdout == "a" * 100 and r.exit_code == 0


@pytest.mark.parametrize(
    "files",
    [
        {"/etc/passwd": "x"},
        {"../escape.txt": "x"},
        {"main.py": "x"},
        {"a/../../b": "x"},
        {"a": "x", "a/b": "y"},
    ],
)
def test_bad_file_paths_are_rejected(bare_sandbox, files):
    with pytest.raises(ValueError, match="files"):
        bare_sandbox.run("pass", files=files)


def test_limits_validation_says_what_is_wrong():
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=4)
    with pytest.raises(ValueError, match="timeout_s"):
        Limits(timeout_s=0)
    assert Limits(timeout_s=2.5).cpu_time_s == 4


def test_exec_result_describe():
    assert "timed out" in ExecResult("", "", -9, timed_out=True, duration_s=2).describe()
    assert "out of memory" in ExecResult("", "", -9, oom_killed=True).describe()
    assert ExecResult("", "", -11).describe() == "killed by signal 11"
    assert ExecResult("", "", 0).ok


def test_unknown_backend():
    with pytest.raises(ValueError, match="auto, docker, process"):
        get_sandbox("vm")


def test_auto_without_engine_falls_back_to_process(monkeypatch, caplog, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with get_sandbox("auto") as sb:
        assert sb.name.startswith("process")
        assert sb.run("print(7)").stdout == "7\n"
    assert "process backend" in caplog.text


def test_importing_sandboxes_does_not_import_docker():
    code = "import sys, reasongym.sandboxes; from reasongym.sandboxes import Limits; print('docker' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip() == "False"


def test_runner_refuses_to_run_outside_a_container():
    # It kills every other process it can when a run ends: it must only ever run as PID 1.
    from reasongym.sandboxes.docker import runner_source

    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", runner_source()],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode != 0 and "PID 1" in out.stderr
