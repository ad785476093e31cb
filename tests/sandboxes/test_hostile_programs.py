"""Hostile programs, on Docker, the process backend in bubblewrap, and the bare process backend.

Each must come back as a clear result within its limits, leave the host alone, and leave no
process (or container, or run dir) behind. Network probes only look at interfaces and talk
to loopback: nothing here sends a packet anywhere else.
"""

from __future__ import annotations

import os
import tempfile
import time

import pytest
from sandbox_helpers import HOSTILE_LIMITS, host_processes_with

GRACE_S = 6.0  # beyond the timeout: killing, wiping, replacing a worker


@pytest.fixture(autouse=True)
def nothing_left_behind(sandbox, run_dirs_root):
    """After each hostile run: no run dir of the process backend left."""
    yield
    assert os.listdir(run_dirs_root) == [], "run dirs left behind"


def run_timed(sandbox, code, **kwargs):
    t0 = time.monotonic()
    r = sandbox.run(code, **kwargs)
    elapsed = time.monotonic() - t0
    assert elapsed < HOSTILE_LIMITS.timeout_s + GRACE_S, f"took {elapsed:.1f} s"
    return r


def still_works(sandbox):
    r = sandbox.run("print('fine')")
    assert r.ok and r.stdout == "fine\n", r


def test_fork_bomb(sandbox):
    r = run_timed(
        sandbox,
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    )
    assert r.timed_out and r.exit_code == -9
    still_works(sandbox)


def test_memory_bomb(sandbox):
    r = run_timed(sandbox, "x = []\nwhile True:\n    x.append(bytearray(16 << 20))\n")
    assert r.oom_killed and not r.ok and not r.timed_out
    assert "out of memory" in r.describe()
    still_works(sandbox)


def test_infinite_loop(sandbox):
    r = run_timed(sandbox, "while True:\n    pass\n")
    assert r.timed_out and r.exit_code == -9
    assert HOSTILE_LIMITS.timeout_s <= r.duration_s < HOSTILE_LIMITS.timeout_s + 1


def test_sleep_past_timeout(sandbox):
    r = run_timed(
        sandbox, "import time\nprint('before', flush=True)\ntime.sleep(60)\nprint('after')"
    )
    assert r.timed_out and r.stdout == "before\n"


def test_daemonised_child_does_not_outlive_the_run(sandbox):
    token = "987.654321"  # a sleep nobody else runs: findable in the host's process list
    code = (
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.closerange(0, 3)\n"
        # an empty environment: no marker variable to find it by
        f"        os.execve('/bin/sleep', ['sleep', '{token}'], {{}})\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "print('parent done')\n"
    )
    r = run_timed(sandbox, code)
    assert r.ok and r.stdout == "parent done\n"
    assert r.duration_s < HOSTILE_LIMITS.timeout_s  # not held up by the daemon
    deadline = time.monotonic() + 5
    while host_processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(token) == []
    still_works(sandbox)


def test_100_mb_of_output(sandbox):
    code = "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(100):\n    sys.stdout.write(chunk)\nprint('done', file=sys.stderr)"
    r = run_timed(sandbox, code)
    assert r.exit_code == 0 and r.truncated
    assert r.stdout == "x" * HOSTILE_LIMITS.output_bytes
    assert r.stderr == "done\n"


def test_writing_outside_the_work_dir(sandbox, request):
    if sandbox.name == "process" and os.geteuid() != 0:
        pytest.skip("the bare process backend runs as your own user: it can write where you can")
    target = tempfile.mkdtemp(prefix="reasongym-host-")  # root- or user-owned, mode 700
    try:
        paths = ["/etc/reasongym-x", "/usr/reasongym-x", "/reasongym-x", f"{target}/x"]
        code = (
            "import sys\n"
            f"for p in {paths!r}:\n"
            "    try:\n"
            "        open(p, 'w').write('x')\n"
            "        print('WROTE', p)\n"
            "    except OSError as e:\n"
            "        print(p, type(e).__name__)\n"
        )
        r = run_timed(sandbox, code)
        assert r.ok and "WROTE" not in r.stdout, r.stdout
        assert os.listdir(target) == []
        for p in paths[:3]:
            assert not os.path.exists(p)
    finally:
        os.rmdir(target)


def test_filling_the_disk(sandbox):
    if sandbox.name == "process":
        # Bare backend: only a single file's size is capped (RLIMIT_FSIZE), not the total.
        code = "try:\n    with open('big', 'wb') as f:\n        while True:\n            f.write(b'0' * (1 << 20))\nexcept OSError as e:\n    print('stopped', e.errno)"
    else:
        code = "i = 0\ntry:\n    while True:\n        open(f'f{i}', 'wb').write(b'0' * (1 << 20))\n        i += 1\nexcept OSError as e:\n    print('stopped', e.errno, i)"
    r = run_timed(sandbox, code)
    assert r.ok and r.stdout.startswith("stopped"), r
    errno = int(r.stdout.split()[1])
    assert errno in (27, 28)  # EFBIG, ENOSPC
    still_works(sandbox)


def test_reading_host_files(sandbox):
    if sandbox.name == "process" and os.geteuid() != 0:
        pytest.skip("the bare process backend runs as your own user: it reads what you can")
    secret_dir = tempfile.mkdtemp(prefix="reasongym-secret-")  # mode 700
    secret = os.path.join(secret_dir, "secret.txt")
    with open(secret, "w") as f:
        f.write("TOPSECRET")
    try:
        code = (
            f"for p in [{secret!r}, '/etc/shadow', '/root/.bash_history']:\n"
            "    try:\n"
            "        print(open(p).read()[:20])\n"
            "    except OSError as e:\n"
            "        print(p, type(e).__name__)\n"
        )
        r = run_timed(sandbox, code)
        assert r.ok and "TOPSECRET" not in r.stdout
        assert "Error" in r.stdout
    finally:
        os.unlink(secret)
        os.rmdir(secret_dir)


def test_socket_only_loopback(sandbox):
    # Look at the interfaces and talk to loopback only; never connect anywhere else.
    code = (
        "import socket\n"
        "print(sorted(name for _, name in socket.if_nameindex()))\n"
        "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)\n"
        "cli = socket.create_connection(srv.getsockname(), timeout=2)\n"
        "conn, _ = srv.accept(); cli.sendall(b'ping'); print(conn.recv(4).decode())\n"
    )
    r = run_timed(sandbox, code)
    assert r.ok, r.stderr
    interfaces, echoed = r.stdout.splitlines()
    assert echoed == "ping"
    if sandbox.name != "process":  # the bare backend shares the host's network (documented)
        assert interfaces == "['lo']"


def test_killing_its_parent(sandbox):
    if sandbox.name == "process" and os.geteuid() != 0:
        pytest.skip("the bare process backend runs as your own user: it could kill this test run")
    code = (
        "import os, signal\n"
        "for target in {os.getppid(), 1} - {0, os.getpid()}:\n"
        "    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):\n"
        "        try:\n"
        "            os.kill(target, sig)\n"
        "        except OSError as e:\n"
        "            print(type(e).__name__)\n"
        "print('alive')\n"
    )
    r = run_timed(sandbox, code)
    assert r.stdout.strip().endswith("alive"), r
    still_works(sandbox)
