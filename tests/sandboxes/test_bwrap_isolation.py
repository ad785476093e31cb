"""process+bwrap: a run cannot reach into another process of its sandbox. The program is
pid 1 of its pid namespace (no bwrap init beside it holding its stdio), and a seccomp filter
refuses the calls that take another process's fds or memory (red-team hole 4, 2026-12-02)."""

from __future__ import annotations

import platform

import pytest

from reasongym.sandboxes import process

# A program posing as the code harness: it makes itself non-dumpable and forks a "candidate",
# which tries every way it knows to get at the fds or memory of every other process it can see.
REACH_OTHERS = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0, as the harness does
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(r)
    got = []
    me = os.getpid()
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me)
    got.append("pids %s" % pids)
    for pid in pids:
        pidfd = libc.syscall(434, pid, 0)  # pidfd_open
        if pidfd >= 0:
            got.append("pidfd_open %d" % pid)
            for n in (0, 1, 2):
                if libc.syscall(438, pidfd, n, 0) >= 0:  # pidfd_getfd
                    got.append("pidfd_getfd %d %d" % (pid, n))
        if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
            got.append("ptrace %d" % pid)
        for name in ("mem", "fd/1", "environ"):
            try:
                os.close(os.open("/proc/%d/%s" % (pid, name), os.O_RDONLY))
                got.append("open %d %s" % (pid, name))
            except OSError:
                pass
    os.write(w, repr(got).encode())
    os._exit(0)
os.close(w)
print(os.read(r, 65536).decode())
os.waitpid(child, 0)
print("pid", os.getpid())
"""


def test_a_child_of_a_non_dumpable_program_reaches_no_other_process(bwrap_sandbox):
    r = bwrap_sandbox.run(REACH_OTHERS)
    assert r.ok, r
    got, pid = r.stdout.splitlines()
    assert (
        pid == "pid 1"
    )  # the program itself is the namespace's init: nothing else holds its stdio
    assert eval(got) == ["pids [1]"], got  # noqa: S307 - our own program's repr


@pytest.mark.skipif(
    process._seccomp_program(platform.machine()) is None, reason="no seccomp filter for this arch"
)
def test_the_calls_that_reach_into_processes_are_refused_even_on_oneself(bwrap_sandbox):
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "out = []\n"
        "for args in ((434, os.getpid(), 0), (438, 0, 0, 0)):\n"  # pidfd_open, pidfd_getfd
        "    out.append((libc.syscall(*args), ctypes.get_errno()))\n"
        "out.append((libc.process_vm_readv(os.getpid(), None, 0, None, 0, 0), ctypes.get_errno()))\n"
        "print(out)\n"
    )
    r = bwrap_sandbox.run(code)
    assert r.ok, r
    assert r.stdout.strip() == "[(-1, 1), (-1, 1), (-1, 1)]", r  # EPERM each time


def test_the_rest_of_a_run_is_as_before_as_pid_1(bwrap_sandbox):
    r = bwrap_sandbox.run("import sys\nprint(input())\nsys.exit(3)", stdin="ping\n")
    assert (r.stdout, r.exit_code) == ("ping\n", 3), r
    r = bwrap_sandbox.run("import os\nos.kill(os.getpid(), 9)\nprint('pid 1 ignores it')")
    assert r.ok and r.stdout == "pid 1 ignores it\n", r  # pid 1's rule (module docstring)
    # Orphans are re-parented to the program, never reaped: they still end with the run.
    daemons = (
        "import os, time\n"
        "for _ in range(20):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork():\n"
        "            os._exit(0)\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "time.sleep(0.2)\n"
        "print('done')\n"
    )
    r = bwrap_sandbox.run(daemons)  # they sleep 60 s; the run's timeout is 2 s
    assert r.ok and r.stdout == "done\n" and not r.timed_out, r
    r = bwrap_sandbox.run("import os\nprint(sorted(p for p in os.listdir('/proc') if p.isdigit()))")
    assert r.stdout == "['1']\n", r  # nothing of the earlier run is around
