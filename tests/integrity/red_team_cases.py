"""Red-team candidates for the code grader and the Docker fork server (issue 16/12).

Each :class:`Case` is a wrong candidate plus a way it tries to score anyway, to break its run
(``step()`` raising or hanging) or to break the next run. Every one targets :data:`TESTS`
(``f(x) == 7 * x + 3``: four planned asserts and one live loop), so an honest verdict of the
attack is 0 and :data:`HONEST` scores 1. None repeats tests/integrity/code_attacks.py: these
go after the exit-87 fallback, the worker restarts, the scratch file, the wire protocol (spoken
by the candidate itself), the pids limit and what a run leaves for the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

TESTS = (
    "assert candidate(0) == 3",
    "assert candidate(1) == 10",
    "assert f(2) == 17",
    "assert candidate(x=3) == 24",
    "for i in range(4, 8):\n    assert candidate(i) == 7 * i + 3",
)
HONEST = "def f(x):\n    return 7 * x + 3\n"
# Lenient tests: anything the candidate returns or raises passes; only a harness failure (a
# crash, a hang, a value that cannot be checked) fails them, by design.
LENIENT = ("try:\n    assert candidate(1) == 2\nexcept Exception:\n    pass",) * 6


@dataclass(frozen=True)
class Case:
    """One attack: the candidate's code and the run's limits.

    Attributes:
        code: the candidate's solution (defines ``f``, or tries to look as if it did).
        tests: the task's test steps.
        timeout_s: the whole run's limit.
        step_timeout_s: the limit for loading and for each test.
    """

    code: str
    tests: tuple[str, ...] = TESTS
    timeout_s: float = 4.0
    step_timeout_s: float = 1.0


# Daemons: double-forked into their own session, so that killing the worker leaves them.
_DAEMON = r"""
import os, time
def _daemon(body, seconds):
    try:
        if os.fork():
            return
    except OSError:
        return
    try:
        os.setsid()
        if os.fork() == 0:
            end = time.monotonic() + seconds
            body(end)
    except BaseException:
        pass
    os._exit(0)
"""

# Speaks the worker's side of the protocol itself, from the moment it is loaded.
_WIRE = r"""
import fcntl, json, os
def _pipes():
    r = w = None
    for name in os.listdir('/proc/self/fd'):
        fd = int(name)
        try:
            if fd < 3 or not os.readlink('/proc/self/fd/%d' % fd).startswith('pipe:'):
                continue
            mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        except OSError:
            continue
        if mode == os.O_RDONLY:
            r = fd
        elif mode == os.O_WRONLY:
            w = fd
    return r, w
def _send(fd, obj):
    data = json.dumps(obj, separators=(',', ':')).encode()
    try:
        os.write(fd, len(data).to_bytes(4, 'big') + data)
    except OSError:
        os._exit(0)
def _exact(fd, n):
    data = b''
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            os._exit(0)
        data += chunk
    return data
def _recv(fd):
    return json.loads(_exact(fd, int.from_bytes(_exact(fd, 4), 'big')))
R, W = _pipes()
os.set_blocking(R, True)
os.set_blocking(W, True)
"""

CASES: dict[str, Case] = {
    # --- the exit-87 fallback: "the sandbox lost its warm harness, ship it and run again" ------
    "exits 87 while loading": Case("import os\nos._exit(87)\n"),
    "exits 87 in every call": Case("import os\ndef f(x):\n    os._exit(87)\n"),
    # --- signals from a process that outlives the worker ---------------------------------------
    "a daemon storms the harness with signals while it writes the report": Case(
        _DAEMON
        + r"""
import signal
HARNESS, WORKER = os.getppid(), os.getpid()
def _storm(end):
    while time.monotonic() < end:  # wait for the worker to die: the harness is reporting
        try:
            with open('/proc/%d/stat' % WORKER) as f:
                if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    break
        except OSError:
            break
    while time.monotonic() < end:
        for sig in (signal.SIGALRM, signal.SIGINT, signal.SIGSTOP, signal.SIGCONT, signal.SIGCHLD):
            try:
                os.kill(HARNESS, sig)
            except OSError:
                return
_daemon(_storm, 3.0)
def f(x):
    return 0
"""
    ),
    "a daemon stops every process of its uid, for the next run too": Case(
        _DAEMON
        + r"""
import signal
def _stopper(end):
    while time.monotonic() < end:
        for d in ('/tmp', '/dev/shm', os.getcwd()):
            try:
                with open(os.path.join(d, 'json.py'), 'w') as f:
                    f.write('raise SystemExit(0)\n')
            except OSError:
                pass
        try:
            os.kill(-1, signal.SIGSTOP)  # every process of this uid but itself
        except OSError:
            pass
        time.sleep(0.001)
_daemon(_stopper, 10.0)
def f(x):
    time.sleep(0.05)  # the daemon's turn
    return 0
""",
        timeout_s=2.0,
    ),
    # --- resources ------------------------------------------------------------------------------
    "fills /tmp, /dev/shm and the work dir, then dies in every call": Case(
        r"""
import os
for d in ('/tmp', '/dev/shm', os.getcwd()):
    try:
        with open(os.path.join(d, 'fill'), 'ab') as f:
            while True:
                f.write(b'\0' * (1 << 20))
    except OSError:
        pass
def f(x):
    os._exit(3)
"""
    ),
    "takes every free pid, then dies in every call": Case(
        _DAEMON
        + r"""
def _grab(end):  # takes each pid slot as it frees; its children stay zombies
    while time.monotonic() < end:
        try:
            if os.fork() == 0:
                os._exit(0)
        except OSError:
            pass
def f(x):
    try:
        _daemon(_grab, 8.0)
        _daemon(_grab, 8.0)
        time.sleep(0.3)
    finally:
        os._exit(1)
""",
        timeout_s=6.0,
    ),
    "lowers the harness's rlimits (prlimit: same uid), then dies in every call": Case(
        r"""
import os, resource
H = os.getppid()
def f(x):
    for res, value in ((resource.RLIMIT_NOFILE, 4), (resource.RLIMIT_NPROC, 1),
                       (resource.RLIMIT_AS, 64 << 20), (resource.RLIMIT_CPU, 1)):
        try:
            resource.prlimit(H, res, (value, value))
        except (OSError, ValueError):
            pass
    os._exit(1)
"""
    ),
    # --- the worker's stdout/stderr: an unlinked scratch file it shares with the harness ---
    "scratch-file games: bad UTF-8, no newline, a forged head, a 60 MB sparse tail": Case(
        r"""
import os
os.write(1, b'@@REPORT-' + b'0' * 32 + b'@@{"error": null, "results": [], "stdout": ""}\n')
def f(x):
    os.write(1, b'\xff\xfe\xed\r\x1c\x85\xe2\x80\xa8\x00' * 500)
    os.write(2, b'\xc0\x80' * 1000)
    try:
        os.ftruncate(1, 60 << 20)  # a sparse tail of NULs: what the harness reads last
    except OSError:
        pass
    os.lseek(1, 0, os.SEEK_SET)
    os.write(1, b'\n@@REPORT-@@{}\n' * 10)
    return 0
"""
    ),
    # --- the codec: odd but plain values, none of them the expected one ------------------------
    "codec oddities: nan, -0.0, a 4 MiB int, lone surrogates, {1, True}, 100 levels deep": Case(
        r"""
def _nested(n):
    v = 'x'
    for _ in range(n):
        v = [v]
    return v
ODD = [float('nan'), -0.0, 1 << (14 << 20), '\ud800\udfff\ud800', {1, True, 1.0},
       _nested(99), {(): frozenset(), b'': 0j}, [float('inf'), -float('inf')]]
def f(x):
    return ODD[x % len(ODD)]
"""
    ),
    # --- the wire protocol, spoken by the candidate ---------------------------------------------
    "answers calls never made, twice, and a batch backwards": Case(
        _WIRE
        + r"""
_send(W, ['0', 'loaded', ['f']])
for i in range(1, 40):  # ids of live calls not made yet
    _send(W, ['%x' % i, 'ok', ['i', '0']])
while True:
    seq, name, args, kwargs = _recv(R)
    ids = ['%s.%d' % (seq, i) for i in range(len(args))] if name == '#batch' else [seq]
    for reply in reversed(ids):
        _send(W, [reply, 'ok', ['i', '0']])
        _send(W, [reply, 'ok', ['i', '1']])
"""
    ),
    "sends 36 MiB of answers ahead, in 4 MiB frames of tiny values": Case(
        _WIRE
        + r"""
_send(W, ['0', 'loaded', ['f']])
seq, name, args, kwargs = _recv(R)
tiny = ['l', [['N']] * ((4 << 20) // 6 - 100)]
ids = ['%s.%d' % (seq, i) for i in range(len(args))] if name == '#batch' else [seq]
for reply in reversed(ids):
    _send(W, [reply, 'ok', tiny])
while True:
    _recv(R)
""",
        tests=tuple(f"assert candidate({i}) == {7 * i + 3}" for i in range(9)),
        timeout_s=6.0,
        step_timeout_s=2.0,
    ),
}

# The hole: a failed restart of the worker reaches the test as an OSError, which ``except
# Exception`` swallows. Same uid as the harness, the candidate may set the harness's rlimits
# (prlimit): with 4 fds it cannot open the pipes of the next worker. It never returns nor raises.
FAILED_RESTART = Case(
    r"""
import os, resource
def f(x):
    try:
        resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (4, 4))
    finally:
        os._exit(1)
""",
    tests=LENIENT,
)
