"""The Docker fork server: a run is a fork of the warm runner, and must behave like a fresh
``python3 main.py`` that cannot reach the runner, the earlier runs or the next one."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import replace

import pytest
from sandbox_helpers import HOSTILE_LIMITS, IMAGE

from reasongym.envs.verifiers.code_harness import SPARE_MARKER
from reasongym.sandboxes import DockerSandbox, Limits

pytestmark = pytest.mark.docker

SCAN_OWN_MEMORY = """
import ctypes, os, re
masked = bytearray.fromhex({masked!r})
for i in range(len(masked)):
    masked[i] ^= 0x5A  # the needle, built in place: its only copy is this buffer
needle_at = ctypes.addressof((ctypes.c_char * len(masked)).from_buffer(masked))
scratch = bytearray(1 << 20)
view = memoryview(scratch)
hits = []
with open('/proc/self/maps') as f:
    regions = [l.split() for l in f]
mem = os.open('/proc/self/mem', os.O_RDONLY)
for r in regions:
    lo, hi = (int(x, 16) for x in r[0].split('-'))
    if not r[1].startswith('r') or (len(r) > 5 and r[5] in ('[vvar]', '[vsyscall]', '[vvar_vclock]')):
        continue
    at = lo
    while at < hi:
        n = min(len(scratch), hi - at)
        scratch[:n] = bytes(n)
        try:
            got = os.preadv(mem, [view[:n]], at)
        except OSError:
            break
        i = scratch.find(masked, 0, got)
        while i >= 0:
            if at + i != needle_at:
                hits.append(hex(at + i))
            i = scratch.find(masked, i + 1, got)
        at += got or n
scratch[:] = bytes(len(scratch))
print(len(hits))
"""


# The pool's limits with more time: a run with other container-level limits (disk_mb) would
# go to a fresh container, where there is nothing of the earlier runs to find.
SCAN_LIMITS = replace(HOSTILE_LIMITS, timeout_s=20)


def masked_hex(token: bytes) -> str:
    return bytes(b ^ 0x5A for b in token).hex()


@pytest.fixture(scope="module")
def pool():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS) as sb:
        assert sb.launch == "fork"
        yield sb


def test_a_run_cannot_find_an_earlier_runs_data_in_its_memory(pool):
    token = b"SECRET-" + secrets.token_hex(16).encode()
    assert pool.run("pass").ok  # a container is up (not one being replaced)
    (container,) = pool.container_ids
    first = pool.run(
        "import sys\ndata = sys.stdin.buffer.read()\nprint(data[:60].decode())",
        stdin=token + b"\n" + token * 1000,
        files={"hidden_tests.py": token * 100},
    )
    assert first.ok and first.stdout.startswith(token.decode()), first
    scan = SCAN_OWN_MEMORY.format(masked=masked_hex(token))
    r = pool.run(scan, limits=SCAN_LIMITS)
    assert r.ok and r.stdout == "0\n", r  # not its stdin, files or output
    assert pool.container_ids == [container]  # in the container that ran them
    # The scan does find data that is there: this run's own stdin, once it has read it.
    r = pool.run(
        "import sys\nkept = sys.stdin.buffer.read()\n" + scan,
        stdin=token,
        limits=SCAN_LIMITS,
    )
    assert r.ok and int(r.stdout) >= 1, r


def test_later_runs_cannot_find_an_earlier_runs_file_names_in_their_memory(pool):
    # Seeds are forked in batches and serve several later runs: scan a few of them.
    token = b"NAME-" + secrets.token_hex(16).encode()
    name = token.decode()
    assert pool.run("pass").ok  # a container is up (not one being replaced)
    (container,) = pool.container_ids
    first = pool.run("print(1)", files={f"{name}.py": "1", f"sub/{name}.txt": "2"})
    assert first.ok, first
    scan = SCAN_OWN_MEMORY.format(masked=masked_hex(token))
    for _ in range(4):
        r = pool.run(scan, limits=SCAN_LIMITS)
        assert r.ok and r.stdout == "0\n", r
    assert pool.container_ids == [container]
    # The scan finds a name that is there: this run's own file, once it has listed it.
    r = pool.run(
        "import os\nkept = os.listdir('.')\n" + scan,
        files={f"{name}.py": "1"},
        limits=SCAN_LIMITS,
    )
    assert r.ok and int(r.stdout) >= 1, r


def test_the_run_holds_only_its_own_pipes(pool):
    r = pool.run("import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))")
    assert r.ok, r
    fds = eval(r.stdout)  # noqa: S307 - our own program's output
    assert fds[:3] == [0, 1, 2] and len(fds) <= 4  # + the fd of the listing itself


def test_the_run_cannot_reach_the_runner(pool):
    code = (
        "import ctypes, os, signal\n"
        "out = []\n"
        "for path in ('/proc/1/mem', '/proc/1/environ', '/proc/1/fd/0'):\n"
        "    try:\n"
        "        open(path, 'rb').read(1); out.append('READ ' + path)\n"
        "    except OSError as e:\n"
        "        out.append(type(e).__name__)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "out.append(libc.ptrace(16, 1, None, None))  # PTRACE_ATTACH\n"
        "for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):\n"
        "    try:\n"
        "        os.kill(1, sig); out.append('SIGNALLED')\n"
        "    except OSError as e:\n"
        "        out.append(type(e).__name__)\n"
        "print(out)\n"
    )
    r = pool.run(code)
    assert r.ok, r
    assert "READ" not in r.stdout and "SIGNALLED" not in r.stdout, r.stdout
    assert "-1" in r.stdout  # ptrace refused
    assert pool.run("print('runner fine')").stdout == "runner fine\n"


def test_each_run_gets_fresh_interpreter_state(pool):
    code = (
        "import random, sys, os\n"
        "print(random.random(), sys.argv, __name__, os.getcwd(), sorted(os.environ))\n"
        "import json\n"
        "json.dumps = None  # a change that must not reach the next run\n"
        "sys.modules['math'].pi = 3\n"
    )
    first, second = pool.run(code), pool.run(code)
    assert first.ok and second.ok, (first, second)
    assert first.stdout.split()[0] != second.stdout.split()[0]  # random is reseeded per run
    assert "['main.py'] __main__ /work" in first.stdout
    r = pool.run("import json, math\nprint(json.dumps([1]), math.pi > 3.14)")
    assert r.stdout == "[1] True\n"


def test_a_forked_run_has_a_fresh_interpreters_threads_signals_and_streams(pool):
    # the runner forks without CPython's after-fork hooks: what they would fix must be right
    code = (
        "import threading, signal, os, sys, gc\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "main = threading.main_thread()\n"
        "print(main is threading.current_thread(), main.native_id == threading.get_native_id(),"
        " threading.active_count())\n"
        "with ThreadPoolExecutor(4) as ex:\n"
        "    print(sorted(ex.map(lambda x: x * x, range(5))))\n"
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler,"
        " signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, gc.isenabled())\n"
        "print(sys.stdout.fileno(), sys.stdin.read(), sys.__stdout__ is sys.stdout)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    t = threading.Thread(target=print, args=('child thread',), kwargs={'flush': True})\n"
        "    t.start(); t.join()\n"
        "    os._exit(0)\n"
        "print(os.waitpid(pid, 0)[1])\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    for _ in range(3):  # seeds from every position of the batch
        r = pool.run(code, stdin="in")
        assert r.ok, r
        lines = r.stdout.splitlines()
        assert lines[:4] == ["True True 1", "[0, 1, 4, 9, 16]", "True True True", "1 in True"], r
        assert "child thread" in lines and lines[-2:] == ["0", "interrupted"], r


def test_exit_paths_match_a_fresh_interpreter(pool):
    cases = {
        "import sys; sys.exit(7)": (7, ""),
        "raise SystemExit('bye')": (1, "bye"),
        "import os, signal; os.kill(os.getpid(), signal.SIGTERM)": (-15, ""),
        "import atexit; atexit.register(print, 'at exit')": (0, ""),
        "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()": (
            0,
            "",
        ),
    }
    for code, (status, err) in cases.items():
        r = pool.run(code)
        assert r.exit_code == status, (code, r)
        assert err in r.stderr
    assert pool.run("import atexit; atexit.register(print, 'at exit')").stdout == "at exit\n"
    r = pool.run(
        "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()"
    )
    assert r.stdout == "thread\n"
    r = pool.run("1/0")
    assert 'File "/work/main.py", line 1' in r.stderr and "runner" not in r.stderr, r.stderr


def test_waiting_callers_are_served_in_turn():
    """8 threads on a pool of 2: each gets runs (no thread starves while two hog the pool)."""
    with DockerSandbox(image=IMAGE, pool_size=2, limits=HOSTILE_LIMITS) as sb:
        counts = [0] * 8
        stop = time.monotonic() + 3.0
        gate = threading.Barrier(8)

        def worker(i: int) -> None:
            gate.wait()
            while time.monotonic() < stop:
                assert sb.run("print(1)").ok
                counts[i] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert min(counts) >= 0.5 * max(counts), counts


def test_exec_launch_is_the_fallback_switch(monkeypatch):
    monkeypatch.setenv("REASONGYM_SANDBOX_LAUNCH", "exec")
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS) as sb:
        assert sb.launch == "exec"
        r = sb.run("import sys; print(sys.flags.isolated, 'json' in sys.modules)")
        assert r.stdout == "0 False\n", r  # a fresh `python3 main.py`
    monkeypatch.setenv("REASONGYM_SANDBOX_LAUNCH", "vm")
    with pytest.raises(ValueError, match="REASONGYM_SANDBOX_LAUNCH"):
        DockerSandbox(image=IMAGE, pool_size=1)


def test_a_run_whose_leftovers_cannot_be_wiped_is_never_followed_on_that_container():
    """The wipe after a run happens after its answer; if it fails, the next run goes to a
    fresh container, transparently."""
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS) as sb:
        (before,) = sb.container_ids
        deep = "import os\nfor _ in range(1500):\n    os.mkdir('d'); os.chdir('d')\nprint('deep')"
        r = sb.run(deep, limits=Limits(timeout_s=20, disk_mb=16))
        assert r.ok and r.stdout == "deep\n", r
        r = sb.run("import os\nprint(sorted(os.listdir('.')))")
        assert r.ok and r.stdout == "['main.py']\n", r
        assert before not in sb.container_ids


def test_a_run_leaving_a_flood_of_files_does_not_cost_the_next_run_its_time():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS) as sb:
        (before,) = sb.container_ids
        flood = "import os\nfor i in range(30000):\n    open(f'/tmp/f{i}', 'w').close()\nprint('flooded')"
        r = sb.run(flood, limits=replace(HOSTILE_LIMITS, timeout_s=30))  # same container
        assert r.ok and r.stdout == "flooded\n", r
        assert sb.run("print('next')").stdout == "next\n"
        assert before not in sb.container_ids  # replaced, not wiped on the next run's time


# It begins as the code harness's main.py does, so the seed forked during it forks a worker.
REACH_EVERY_OTHER_PROCESS = (
    SPARE_MARKER.decode()
    + """
import ctypes, os, resource, signal, time
time.sleep(0.2)  # the seed and its worker are forked meanwhile
libc = ctypes.CDLL(None, use_errno=True)
me, out, uids, seen = os.getpid(), [], set(), 0
for name in os.listdir('/proc'):
    if not name.isdigit() or int(name) == me:
        continue
    pid = int(name)
    try:
        if int(open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[1]) == me:
            continue  # its own worker, forked ahead for this run (it would be the harness's)
        uids.add(os.stat('/proc/%d' % pid).st_uid)
        seen += 1
    except OSError:
        continue
    for path in ('mem', 'environ', 'fd/0', 'fd/1'):
        try:
            open('/proc/%d/%s' % (pid, path), 'rb').read(1); out.append('READ %d %s' % (pid, path))
        except OSError:
            pass
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        out.append('TRACED %d' % pid)
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (4, 4)); out.append('LIMITED %d' % pid)
    except OSError:
        pass
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(pid, sig); out.append('SIGNALLED %d' % pid)
        except OSError:
            pass
print(repr((sorted(uids), seen, out)))
"""
)


def test_a_run_cannot_reach_the_next_runs_seed_nor_its_worker():
    # During a run the runner holds the next run's child ready (a root-owned seed and, after a
    # graded run, the worker it forked ahead): the run sees them in /proc and nothing more.
    from reasongym.envs.tasks.humaneval import load_humaneval
    from reasongym.envs.verifiers.code import CodeTestsVerifier

    task = load_humaneval()[0]
    with DockerSandbox(image=IMAGE, pool_size=1) as sb:
        verifier = CodeTestsVerifier(sandbox=sb)
        assert verifier(task, task.answer).score == 1.0
        (before,) = sb.container_ids
        for _ in range(2):
            assert verifier(task, task.answer).score == 1.0
            r = sb.run(REACH_EVERY_OTHER_PROCESS)
            assert r.ok, r
            uids, seen, reached = eval(r.stdout)  # noqa: S307 - our own program's output
            # the runner, the seed and the worker it forked ahead: all root's, all out of reach
            assert uids == [0] and seen >= 3 and reached == [], r.stdout
        assert verifier(task, task.answer).score == 1.0
        assert (
            verifier(task, "def has_close_elements(numbers, threshold):\n    return True\n").score
            < 1.0
        )
        assert sb.container_ids == [before]
