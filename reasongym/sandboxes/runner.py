"""The in-container runner: PID 1 of every warm sandbox container, and a fork server.

The host starts a container with this file's source as ``python3 -I -c SOURCE``, attaches to
its stdin/stdout and sends requests; the runner answers each one. A message (both ways) is one
JSON header line followed by ``payload`` raw bytes, so that megabytes of stdin, files and
output cross in linear time (no base64, no JSON escaping, no re-scanning of a growing buffer).

A ``run`` request carries the code, stdin and files as raw segments of the payload. The runner
(root in the container, holding only CAP_SETUID, CAP_SETGID and CAP_KILL) by default runs it
in a **fork** of itself, the interpreter that has already imported the standard modules tests
use, so a run costs a fork, not an interpreter start; and that fork (the :class:`Spare`) is
made ahead, right after the previous run ended, and has already dropped to uid 1000 and wiped
the scratch dirs when the request comes: it only takes its code and files from a pipe
(``launch="exec"`` starts a fresh ``python3 main.py`` instead, as before). ``warm`` requests
import trusted host code (e.g. the code-test harness) into the runner once, so that every
later fork finds it in ``sys.modules``. Either way the program:

* runs as uid 1000, never the runner's uid 0, with no capabilities and no way back
  (no-new-privileges); so it cannot signal, ptrace or read the memory or ``/proc`` of the runner;
* gets fresh pipes as fds 0-2 and no other descriptor: not the runner's request stream, not
  its answer stream;
* has a clean work dir holding ``main.py`` and the files, its own session, rlimits (CPU time,
  file size, no core), a fresh ``__main__``, environment, ``argv``, std streams and ``random``
  state; the runner's own data from earlier runs is zeroed before it forks, and the spare is
  forked before the request it serves exists.

After the program exits (or times out) the runner kills every other process in the container
(PID 1 with CAP_KILL: nothing escapes, whatever session it moved to) and answers. The next
run's child (the spare), as uid 1000 and before it takes any input, empties ``/work``, ``/tmp``
and ``/dev/shm`` and removes every SysV shared memory segment, message queue and semaphore set
and every POSIX message queue (one fork per run, not two). A run that leaves a process behind,
times out or is OOM-killed is reported so that the host replaces the container; when the wipe
fails, the runner answers ``tainted`` without running anything (the host reruns the run on
another container) and exits: no run sees another's leftovers, in memory, files or IPC.

Why PID 1: ``kill(-1, SIGKILL)`` from init reaches every process in the container, and init
ignores signals it has no handler for from inside its namespace.

Standard library only; runs on the image's Python (3.8+), which need not be the host's. The
host's process sandbox imports :func:`pump` and :func:`run_main` from here.
"""

import fcntl
import json
import os
import resource
import selectors
import signal
import sys
import time

WORK_DIR = "/work"
SCRATCH_DIRS = ("/work", "/tmp", "/dev/shm")
MQUEUE_DIR = "/dev/mqueue"
SYSVIPC = ("shm", "msg", "sem")
MAIN_FILE = "main.py"
SANDBOX_UID = 1000
SANDBOX_GID = 1000
FIRST_REQUEST_TIMEOUT_S = 120.0  # an un-attached container must not live forever
KILL_TIMEOUT_S = 3.0
SETUP_TIMEOUT_S = 30.0
MAX_HEADER_BYTES = 16 << 20
PROTOCOL_VERSION = 5
CHUNK = 1 << 16
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (named there from Python 3.10)
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORK_DIR,
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}
# Imported once by the server, so that a forked run finds them loaded (what tests and the
# code-test harness use). Each is optional: a missing one costs nothing.
PRELOAD = (
    "abc argparse array ast atexit base64 binascii bisect calendar cmath collections "
    "collections.abc contextlib copy csv ctypes dataclasses datetime decimal difflib enum "
    "fractions functools hashlib heapq io itertools json keyword linecache math numbers "
    "operator pprint queue random re shutil statistics string struct textwrap threading time "
    "traceback types typing unicodedata warnings weakref"
).split()
SETUP_FAILED = 125  # a forked child that could not set up the run exits with this
# A run that leaves more files than this in the scratch dirs taints its container: wiping
# a million empty files would cost the next run seconds of its own time limit.
MAX_LEFTOVER_INODES = 20_000
PF_EXITING = 0x4  # /proc/<pid>/stat flags: the process is exiting


# --- small system helpers -----------------------------------------------------------------


_LIBC = []


def _libc():
    if not _LIBC:
        import ctypes

        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


_FORK = []


def _fork():
    """``fork(2)`` without CPython's after-fork hooks in the child, for the runner's seeds.

    ``os.fork()`` runs them in every child: threading's re-initialisation and random's
    reseed cost ~0.6 ms and ~160 copy-on-write page faults per fork here (a bare libc fork:
    ~0.1 ms, 30 faults). They exist for locks other threads may hold; the runner is
    single-threaded (checked: otherwise ``os.fork()``), and what else they do the child does
    itself: a seed reseeds ``random`` (:func:`prepare_main`) and gets threading's record of
    its thread id right (:func:`_after_raw_fork`). libc's own fork handlers still run."""
    if not _FORK:
        try:
            import ctypes

            libc = ctypes.PyDLL(None, use_errno=True)  # PyDLL: the GIL is held throughout
            libc.fork.restype = ctypes.c_int
            _FORK.append((libc.fork, ctypes.get_errno))
        except Exception:  # noqa: BLE001 - no ctypes: the ordinary fork
            _FORK.append(None)
    threading = sys.modules.get("threading")
    if _FORK[0] is None or (threading is not None and threading.active_count() != 1):
        return os.fork()
    fork, get_errno = _FORK[0]
    pid = fork()
    if pid < 0:
        err = get_errno()
        raise OSError(err, os.strerror(err))
    if pid == 0:
        _after_raw_fork()
    return pid


def _after_raw_fork():
    """(In a child of :func:`_fork`.) What of CPython's after-fork work a single-threaded
    child needs: threading's main thread carries this process's thread id; and no garbage
    collection here walks the parent's young objects (each page it touches would be copied):
    they are frozen, as the preloads are."""
    import gc

    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading.main_thread()._set_native_id()
        except Exception:  # noqa: BLE001 - only a record
            pass
    gc.freeze()


def _set_non_dumpable():
    try:
        _libc().prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    except Exception as exc:  # noqa: BLE001 - report, keep serving
        sys.stderr.write(f"runner: could not set non-dumpable: {exc!r}\n")


_OOM_FD = []  # the cgroup file with the OOM-kill counter, opened once (-1: none)


def _oom_kill_count():
    """The container cgroup's OOM-kill counter (cgroup v2 or v1), or None when unreadable.
    Read with pread on a descriptor kept open (a cgroup file reads afresh at offset 0): no
    open and no text stream per read, twice a run."""
    if not _OOM_FD:
        for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
            try:
                _OOM_FD.append(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
                break
            except OSError:
                continue
        else:
            _OOM_FD.append(-1)
    if _OOM_FD[0] < 0:
        return None
    try:
        data = os.pread(_OOM_FD[0], 4096, 0)
        for line in data.split(b"\n"):
            key, _, value = line.partition(b" ")
            if key == b"oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return None


def _other_pids():
    """Every process but the runner and its idle seeds (root's, forked before this run: not
    the program's, and out of the program's reach; a pid cannot be reused until reaped)."""
    own = os.getpid()
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != own]
    seeds = {seed.pid for seed in _seeds if seed.child.returncode is None}
    if not seeds:
        return pids
    # A seed and what its hooks forked: its process group (it is a session leader, and no
    # process of another session can join the group)
    return [pid for pid in pids if pid not in seeds and _pgid(pid) not in seeds]


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return -1


def _dying(pid):
    """True for a process already on its way out: gone, a zombie, exiting, or with SIGKILL
    pending (which it cannot block), e.g. the code harness's last worker, killed as the
    harness wrote its report. Such a process was not left behind by the program."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] in (b"Z", b"X", b"x") or int(fields[6]) & PF_EXITING:
            return True
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith((b"SigPnd:", b"ShdPnd:")) and int(line.split()[1], 16) & (
                    1 << (signal.SIGKILL - 1)
                ):
                    return True
    except FileNotFoundError:
        return True
    except (OSError, ValueError, IndexError):
        return False
    return False


def _reap_zombies():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        for seed in (*_seeds, _spare):
            if seed is not None and pid == seed.pid:  # killed with the rest (os.kill(-1))
                seed.child.returncode = _returncode(status)


def _kill_everything_else():
    """SIGKILL every other process in the container; returns how many could not be removed.
    Processes already dying (see :func:`_dying`) are only waited for."""
    end = time.monotonic() + KILL_TIMEOUT_S
    while True:
        _reap_zombies()
        left = _other_pids()
        if not left or time.monotonic() > end:
            return len(left)
        if not all(_dying(pid) for pid in left):
            _kill_all()
        time.sleep(0.0002)


def _kill_all():
    """SIGKILL every process but the runner: the seeds too, so drop them first (they are
    known gone, not taken for a later spare while they die)."""
    while _seeds:
        _seeds.pop().kill()
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _scratch_inodes():
    """Inodes in use in the scratch filesystems (the root can count them without listing)."""
    used = 0
    for path in SCRATCH_DIRS:
        try:
            st = os.statvfs(path)
        except OSError:
            continue
        used += max(0, st.f_files - st.f_ffree)
    return used


def _ipc_ids(kind):
    """Ids of the SysV IPC objects of ``kind`` (shm, msg, sem) in this IPC namespace."""
    try:
        fd = os.open("/proc/sysvipc/" + kind, os.O_RDONLY)
    except OSError:
        return []
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return []
    finally:
        os.close(fd)
    lines = b"".join(chunks).split(b"\n")[1:]
    return [int(line.split()[1]) for line in lines if line.split()]


def _ipc_left():
    """How many IPC objects exist (SysV of every kind, POSIX message queues)."""
    n = sum(len(_ipc_ids(kind)) for kind in SYSVIPC)
    try:
        n += len(os.listdir(MQUEUE_DIR))
    except OSError:
        pass
    return n


def _remove_ipc():
    """Remove every SysV IPC object and POSIX message queue this uid may remove; returns how
    many there were."""
    libc = None
    found = 0
    for kind in SYSVIPC:
        for ident in _ipc_ids(kind):
            found += 1
            if libc is None:
                libc = _libc()
            if kind == "shm":
                libc.shmctl(ident, 0, None)  # IPC_RMID
            elif kind == "msg":
                libc.msgctl(ident, 0, None)
            else:
                libc.semctl(ident, 0, 0)
    try:
        names = os.listdir(MQUEUE_DIR)
    except OSError:
        names = []
    for name in names:
        found += 1
        try:
            os.unlink(os.path.join(MQUEUE_DIR, name))
        except OSError:
            pass
    return found


def _wipe(path):
    """Empty a scratch dir (as its owner); returns False when something could not be removed."""
    import shutil

    def fix_and_retry(func, target, _exc):
        try:
            os.chmod(os.path.dirname(target) or target, 0o700)
            if os.path.isdir(target) and not os.path.islink(target):
                os.chmod(target, 0o700)
                shutil.rmtree(target)
            else:
                func(target)
        except OSError:
            pass

    try:
        if os.stat(path).st_uid == os.getuid():
            os.chmod(path, 0o700 if path == WORK_DIR else 0o1777)
        entries = list(os.scandir(path))
    except OSError:
        return not os.path.exists(path)
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, onerror=fix_and_retry)
            else:
                os.unlink(entry.path)
        except OSError:
            pass
    try:
        return not os.listdir(path)
    except OSError:
        return False


def _become_sandbox_user():
    """Drop to uid/gid 1000 with no supplementary groups (and so no capabilities)."""
    if os.getuid() == SANDBOX_UID and os.geteuid() == SANDBOX_UID:
        return
    os.setgroups([])
    os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)


class Tainted(Exception):
    """What an earlier run left could not be removed: this container must not run again."""


def _wipe_all():
    """(As uid 1000.) Remove every IPC object and empty the scratch dirs; raise Tainted when
    something is left."""
    try:
        found = _remove_ipc()
        wiped = all([_wipe(d) for d in SCRATCH_DIRS])
    except Exception as exc:  # noqa: BLE001 - e.g. RecursionError on a very deep tree
        raise Tainted(f"the leftovers of an earlier run could not be removed ({exc!r})") from None
    if not wiped:
        raise Tainted("files of an earlier run could not be removed")
    if found and _ipc_left():  # (none found: none left; nothing else runs meanwhile)
        raise Tainted("IPC objects of an earlier run could not be removed")


def _clean_up():
    """Wipe scratch dirs and IPC in a helper forked as uid 1000; True when all is clean."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            _become_sandbox_user()
            _remove_ipc()
            status = 0 if all([_wipe(d) for d in SCRATCH_DIRS]) else 1
        finally:
            os._exit(status)
    end = time.monotonic() + KILL_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.0002)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and _ipc_left() == 0


def _zero(buf):
    """Overwrite a bytearray in place (what a later forked run could find in memory)."""
    if buf:
        import ctypes

        ctypes.memset((ctypes.c_char * len(buf)).from_buffer(buf), 0, len(buf))


# --- the I/O pump (shared with the host's process sandbox) ----------------------------------


def pump(proc, stdin_data, cap, deadline, on_exit, on_timeout, grace_s):
    """Feed ``stdin_data`` to ``proc`` and keep the first ``cap`` bytes of its stdout and
    stderr until it exits (then ``on_exit()``) or ``deadline`` passes (then ``on_timeout()``),
    and after that until both streams reach EOF or ``grace_s`` more seconds pass. The hooks
    kill what the program left, so that pipes its strays hold open reach EOF. Closes the
    pipes; returns ``(stdout, stderr, (bytes out, bytes err), timed_out, ended_at)``.

    ``proc`` needs ``pid``, ``poll()`` and ``stdin``/``stdout``/``stderr`` file objects (a
    ``subprocess.Popen`` or a :class:`Forked`). Linear in the data: stdin is written from a
    moving ``memoryview``, output is kept up to ``cap`` and only counted after that."""
    sel = selectors.DefaultSelector()
    streams = {proc.stdout.fileno(): 0, proc.stderr.fileno(): 1}
    bufs = [Capped(cap), Capped(cap)]
    total = [0, 0]
    for fd in streams:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    in_fd = -1
    pending = memoryview(stdin_data) if stdin_data else None
    if pending is not None:
        in_fd = proc.stdin.fileno()
        os.set_blocking(in_fd, False)
        sel.register(in_fd, selectors.EVENT_WRITE)
    else:
        proc.stdin.close()  # (a no-op when the caller closed it already)
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(proc.pid)
            sel.register(pidfd, selectors.EVENT_READ)
        except OSError:
            pidfd = None
    timed_out = False
    end = None
    drain_until = None
    try:
        while True:
            now = time.monotonic()
            if end is None and proc.poll() is not None:
                end = now
                on_exit()
                drain_until = now + grace_s
            if end is None and now >= deadline:
                timed_out, end = True, now
                on_timeout()
                drain_until = now + grace_s
            open_streams = [k.fd for k in sel.get_map().values() if k.fd in streams]
            if end is not None and (not open_streams or now >= drain_until):
                break
            wait = (deadline if end is None else drain_until) - now
            if pidfd is None and end is None:
                wait = min(wait, 0.005)
            for key, _ in sel.select(max(wait, 0)):
                fd = key.fd
                if fd == pidfd:
                    sel.unregister(fd)
                elif fd == in_fd:
                    try:
                        n = os.write(fd, pending[: 1 << 20])
                        pending = pending[n:]
                    except BlockingIOError:
                        continue
                    except (BrokenPipeError, OSError):
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(fd)
                        proc.stdin.close()
                else:
                    i = streams[fd]
                    try:
                        n = bufs[i].read_from(fd)
                    except BlockingIOError:
                        continue
                    if not n:
                        sel.unregister(fd)
                        continue
                    total[i] += n
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
    return bufs[0].value(), bufs[1].value(), tuple(total), timed_out, end


class Capped:
    """Keeps the first ``cap`` bytes read into it, in fixed chunks read into directly (no
    growing buffer leaving copies behind); bytes past ``cap`` are read and dropped."""

    def __init__(self, cap):
        self.cap = cap
        self.chunks = []
        self.filled = 0  # bytes in the last chunk
        self.size = 0
        self.scratch = None

    def read_from(self, fd):
        """One read from ``fd``; returns the bytes read (0 at EOF)."""
        room = self.cap - self.size
        if room <= 0:
            if self.scratch is None:
                self.scratch = bytearray(CHUNK)
            return os.readv(fd, [self.scratch])
        last = self.chunks[-1] if self.chunks else None
        if last is None or self.filled == len(last):
            last = bytearray(min(room, CHUNK << 2))
            self.chunks.append(last)
            self.filled = 0
        n = os.readv(fd, [memoryview(last)[self.filled :]])
        self.filled += n
        self.size += n
        return n

    def value(self):
        """The kept bytes, as one bytearray (the chunks are zeroed)."""
        if not self.chunks:
            return bytearray()
        parts = self.chunks[:-1] + [memoryview(self.chunks[-1])[: self.filled]]
        out = bytearray().join(parts)
        del parts
        for chunk in self.chunks:
            _zero(chunk)
        _zero(self.scratch)
        self.chunks = []
        return out


class Forked:
    """A forked child, looking enough like ``subprocess.Popen`` for :func:`pump`."""

    def __init__(self, pid, stdin_fd, stdout_fd, stderr_fd):
        self.pid = pid
        self.returncode = None
        self.stdin = os.fdopen(stdin_fd, "wb", buffering=0)
        self.stdout = os.fdopen(stdout_fd, "rb", buffering=0)
        self.stderr = os.fdopen(stderr_fd, "rb", buffering=0)

    def poll(self):
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped already (by _reap_zombies): gone, status lost
                self.returncode = -signal.SIGKILL
                return self.returncode
            if pid:
                self.returncode = _returncode(status)
        return self.returncode

    def wait(self, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                return None
            time.sleep(0.0005)
        return self.returncode


def _returncode(status):
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# --- running a program inside an already started interpreter --------------------------------


def std_streams():
    """New, unused text streams on fds 0-2 as a fresh interpreter has them (for
    :func:`prepare_main`). The runner makes one set ahead and never touches it: every fork
    then finds it already built (its copy of it, and its own fds 0-2)."""
    import io

    return (
        io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"),
        io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8"),
        io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
        ),
    )


def prepare_main(path, argv0=MAIN_FILE, streams=None):
    """The interpreter state :func:`run_main` gives a program, as far as it does not depend on
    the program: std streams on fds 0-2 (``streams``, unused ones from :func:`std_streams`,
    or new), ``argv``, ``sys.path``, signals, ``atexit`` and ``random`` state. A spare does
    it before its request (its fds 0-2 are already the run's)."""
    import _signal
    import atexit

    try:
        atexit._clear()  # handlers the parent registered are not the program's
    except AttributeError:
        pass
    sys.stdin, sys.stdout, sys.stderr = streams or std_streams()
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = [argv0]
    sys.path.insert(0, os.path.dirname(path))
    sys.dont_write_bytecode = True
    # _signal, not signal: the same calls without the enum wrapping (a fresh fork pays for
    # every page it touches)
    for sig in (_signal.SIGTERM, _signal.SIGCHLD, _signal.SIGALRM, _signal.SIGHUP):
        _signal.signal(sig, _signal.SIG_DFL)
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    if "random" in sys.modules:
        sys.modules["random"].seed()  # not the parent's (and so every run's) sequence


def run_main(code, path, argv0=MAIN_FILE, prepared=False):
    """Run ``code`` (bytes of a Python source file) as ``__main__`` in this process, as
    ``python3 main.py`` would, then end the process with its exit status. Never returns.

    Call it in a fresh child after its fds 0-2, cwd, environment, uid and limits are set
    (``prepared``: :func:`prepare_main` was called already).
    """
    import builtins
    import types

    status = 1
    try:
        if not prepared:
            prepare_main(path, argv0)
        main = types.ModuleType("__main__")
        main.__file__ = path
        main.__builtins__ = builtins
        main.__cached__ = None
        sys.modules["__main__"] = main
        try:
            exec(compile(code, path, "exec"), main.__dict__)
            status = 0
        except SystemExit as exc:
            status = _exit_status(exc)
        except KeyboardInterrupt:
            _show_uncaught()
            status = -signal.SIGINT
        except BaseException:
            _show_uncaught()
            status = 1
        status = _finish(status)
    finally:
        if status < 0:
            signal.signal(-status, signal.SIG_DFL)
            os.kill(os.getpid(), -status)
        os._exit(status & 0xFF)


def _show_uncaught():
    """Print the current exception as the interpreter would: without this module's frame."""
    kind, value, tb = sys.exc_info()
    tb = tb.tb_next if tb is not None else None
    try:
        value.__traceback__ = tb
    except Exception:  # noqa: BLE001
        pass
    try:
        sys.excepthook(kind, value, tb)
    except BaseException:  # noqa: BLE001 - a hostile excepthook
        pass


def _exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:  # noqa: BLE001
        pass
    return 1


def _finish(status):
    """What the interpreter does at exit: join threads, run atexit handlers, flush."""
    import atexit

    try:
        import threading

        threading._shutdown()
    except BaseException:  # noqa: BLE001
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - as CPython: a failed flush is exit 120
            if status == 0:
                status = 120
    return status


# --- one run ----------------------------------------------------------------------------------


def _split_payload(req, payload):
    """``(code, stdin, [(name, data)])``: memoryviews into ``payload``, as the header says.
    The header gives only sizes (``files``: ``[name bytes, data bytes]`` each); the names'
    UTF-8 bytes come after stdin, then the files' data: the runner never holds a name as a
    string (a string's freed memory is never zeroed, and a later forked run could find it);
    the payload, names and all, is zeroed once sent on."""
    view = memoryview(payload)
    at = 0
    code = view[at : at + int(req["code"])]
    at += len(code)
    stdin = view[at : at + int(req["stdin"])]
    at += len(stdin)
    sizes = [(int(n), int(size)) for n, size in req.get("files") or []]
    name_at = at
    at += sum(n for n, _ in sizes)
    files = []
    for n, size in sizes:
        files.append((view[name_at : name_at + n], view[at : at + size]))
        name_at += n
        at += size
    if at != len(payload):
        raise ValueError(f"payload is {len(payload)} bytes, the header describes {at}")
    return code, stdin, files


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data) :]


def _write_files(files, code):
    for rel, data in files:
        path = os.path.join(WORK_DIR, bytes(rel).decode("utf-8"))
        parent = os.path.dirname(path)
        if parent != WORK_DIR:
            os.makedirs(parent, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    fd = os.open(os.path.join(WORK_DIR, MAIN_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        _write_all(fd, code)
    finally:
        os.close(fd)


def _limit(cpu_s, fsize_bytes):
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read_exact(fd, size):
    """Exactly ``size`` bytes from a blocking ``fd`` into a new bytearray (EOFError if short)."""
    out = bytearray(size)
    view = memoryview(out)
    have = 0
    while have < size:
        n = os.readv(fd, [view[have:]])
        if n == 0:
            raise EOFError("the runner closed the setup pipe")
        have += n
    return out


def _receive_files(fd, req):
    """(In the spare, as uid 1000.) Read the run's code and files from ``fd``, writing each
    file as it streams in (a chunk at a time: a big file is never held twice in memory);
    returns the code."""
    code = bytes(_read_exact(fd, int(req["code"])))
    chunk = bytearray(min(CHUNK << 4, max([int(n) for _, n in req["files"]] + [1])))
    view = memoryview(chunk)
    for rel, size in req["files"]:
        path = os.path.join(WORK_DIR, rel)
        parent = os.path.dirname(path)
        if parent != WORK_DIR:
            os.makedirs(parent, exist_ok=True)
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            left = int(size)
            while left:
                n = os.readv(fd, [view[: min(left, len(chunk))]])
                if n == 0:
                    raise EOFError("the runner closed the setup pipe")
                _write_all(out, view[:n])
                left -= n
        finally:
            os.close(out)
    _write_files([], code)
    return code


class Spare:
    """The next run's child, forked ahead of its request (fork launch).

    The runner forks it only when it holds nothing of any run's request (between runs, with
    its buffers zeroed; or during a run whose whole input is already with the program, that
    copy zeroed), so it never holds a request in memory: it reads its own code and files from
    its setup pipe and nothing else. Forked, it is a *seed*: still root, it takes the run's
    pipes as fds 0-2, closes every other fd, prepares the interpreter and waits on its go
    pipe, out of reach of the run going on meanwhile (another uid, non-dumpable). Once that
    run is over, :meth:`activate` lets it drop to uid 1000, wipe what the run left, call the
    warm modules' spare hooks and wait on its setup pipe. So the fork and the preparation
    happen during the run before, and the privilege drop and the wipe while the host reads
    its answer, not on the next run's clock. A spare whose wipe failed answers
    ``tainted`` when it is used.
    """

    def __init__(self, prepare=()):
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ready_r, ready_w = os.pipe()
        setup_r, setup_w = os.pipe()
        go_r, go_w = os.pipe()
        try:
            fcntl.fcntl(setup_w, F_SETPIPE_SZ, 1 << 20)  # fewer switches for big files
        except OSError:
            pass
        pid = _fork()
        if pid == 0:
            try:
                for fd in (in_w, out_r, err_r, ready_r, setup_w, go_w):
                    os.close(fd)
                code = _spare_main((in_r, out_w, err_w), ready_w, setup_r, go_r, prepare)
                os.write(ready_w, b"k")
                os.close(ready_w)
            except BaseException as exc:  # noqa: BLE001 - tell the runner, never run a program
                try:
                    kind = "T" if isinstance(exc, Tainted) else "E"
                    os.write(ready_w, (f"{kind}{type(exc).__name__}: {exc}").encode()[:2000])
                finally:
                    os._exit(SETUP_FAILED)
            run_main(code, os.path.join(WORK_DIR, MAIN_FILE), prepared=True)
        for fd in (in_r, out_w, err_w, ready_w, setup_r, go_r):
            os.close(fd)
        self.pid, self.ready_r, self.setup_w, self.go_w = pid, ready_r, setup_w, go_w
        self.child = Forked(pid, in_w, out_r, err_r)

    def activate(self):
        """Let the seed become the next run's spare (call it once the last run is over).
        False: it is gone."""
        if self.child.poll() is not None:
            return False
        try:
            os.write(self.go_w, b"g")
        except OSError:
            return False
        finally:
            os.close(self.go_w)
            self.go_w = -1
        return True

    def start(self, req, code, files):
        """Hand the spare its run; returns the :class:`Forked` once it is ready to run."""
        head = _setup_head(int(req["cpu_s"]), int(req["fsize_bytes"]), code, files)
        parts = [head, code, *(data for _, data in files)]
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        try:
            note = self._send(parts, deadline)
        finally:
            _zero(head)  # it holds the file names
        if note is None:
            left = max(0.0, deadline - time.monotonic())
            note = os.read(self.ready_r, 4096) if _readable(self.ready_r, left) else b""
        os.close(self.ready_r)
        self.ready_r = -1
        if note != b"k":
            self.kill()
            if note[:1] == b"T":
                raise Tainted(note[1:].decode(errors="replace"))
            raise RuntimeError(
                "could not set up the run: " + (note[1:].decode(errors="replace") or "no answer")
            )
        return self.child

    def _send(self, parts, deadline):
        """Write ``parts`` to the setup pipe; returns the spare's note if it answered (or
        failed) before taking everything, else None."""
        os.set_blocking(self.setup_w, False)
        sel = selectors.DefaultSelector()
        sel.register(self.ready_r, selectors.EVENT_READ)
        sel.register(self.setup_w, selectors.EVENT_WRITE)
        note = None
        try:
            for part in parts:
                view = memoryview(part)
                while view:
                    left = deadline - time.monotonic()
                    events = sel.select(max(0.0, left)) if left > 0 else []
                    if not events:
                        return b""  # no answer in time
                    if any(key.fd == self.ready_r for key, _ in events):
                        note = os.read(self.ready_r, 4096)
                        return note
                    try:
                        view = view[os.write(self.setup_w, view[: 1 << 20]) :]
                    except BlockingIOError:
                        continue
                    except OSError:  # the spare is gone: its note says why
                        return None
            return None
        finally:
            sel.close()
            os.close(self.setup_w)
            self.setup_w = -1

    def kill(self):
        """Kill and reap the spare and what it prepared (its process group: it is a session
        leader; uid 1000, which the runner's CAP_KILL reaches), close its fds."""
        if self.child.returncode is None:  # once reaped, its pid may be another's
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass
            self.child.wait()
        for fd in (self.ready_r, self.setup_w, self.go_w):
            if fd >= 0:
                os.close(fd)
        self.ready_r = self.setup_w = self.go_w = -1
        for stream in (self.child.stdin, self.child.stdout, self.child.stderr):
            stream.close()


def _setup_head(cpu_s, fsize_bytes, code, files):
    """What a spare reads first from its setup pipe: the length of the rest (8 bytes), then
    its limits and the sizes and names of what follows, as a line of decimal numbers then
    the names' UTF-8 bytes (no JSON: a fresh fork decoding it would touch, and so copy, a
    hundred pages more). A bytearray: it holds the file names, and the caller zeroes it once
    it is sent."""
    nums = [cpu_s, fsize_bytes, len(code), len(files)]
    for name, data in files:
        nums += [len(name), len(data)]
    line = b" ".join(b"%d" % n for n in nums) + b"\n"
    size = len(line) + sum(len(name) for name, _ in files)
    head = bytearray(size.to_bytes(8, "big"))
    head += line
    for name, _ in files:
        head += name
    return head


def _parse_setup_head(head):
    line, _, names = bytes(head).partition(b"\n")
    nums = [int(n) for n in line.split()]
    files, at = [], 0
    for i in range(nums[3]):
        size = nums[4 + 2 * i]
        files.append([names[at : at + size].decode("utf-8"), nums[5 + 2 * i]])
        at += size
    if at != len(names):
        raise ValueError("malformed setup header")
    return {"cpu_s": nums[0], "fsize_bytes": nums[1], "code": nums[2], "files": files}


def _readable(fd, timeout):
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    try:
        return bool(sel.select(timeout))
    finally:
        sel.close()


_spare = None  # the next fork-launch run's child (an activated Spare), or None
_seeds = []  # the children of the runs after it (Spares not activated yet), oldest first
# A seed has a whole run (however short) to prepare before it is needed: at least
# SEEDS_LOW are kept. They are forked SEEDS_BATCH at a time: after a fork every page of the
# runner is shared with the child, and the runner's next write to each one copies it (a
# page fault, ~2-3 us here; some 300 pages a run); back to back, the forks share them once.
SEEDS_LOW = 1
SEEDS_BATCH = 2


def _take_spare():
    global _spare
    spare, _spare = _spare, None
    if spare is None:
        spare = Spare(_prepare_next)
        spare.activate()
    return spare


def _drop_spare():
    """Kill the spare and the seeds, and any helper the spare prepared (orphaned to the
    runner by then)."""
    global _spare
    if _spare is not None or _seeds:
        if _spare is not None:
            _spare.kill()
            _spare = None
        while _seeds:
            _seeds.pop().kill()
        _kill_everything_else()


_markers = {}  # warm module -> __spare_marker__, for those with a __prepare_spare__ hook
_prepare_next = []  # warm modules whose marker began the last run's code


def _note_code(code):
    """After a run's code arrived: which warm modules' spare hooks the next spare calls."""
    global _prepare_next
    _prepare_next = [n for n, m in _markers.items() if code[: len(m)] == m]  # (no copy)


def _fork_spare():
    """Between runs: the next run's child, from the seed forked during the last run when
    there is one, else forked now (best effort: a failure here only means the next run forks
    its own)."""
    global _spare
    if _spare is not None:
        return
    try:
        seed = None
        while _seeds and seed is None:
            seed = _seeds.pop(0)
            if not seed.activate():
                seed.kill()
                seed = None
        if seed is None:
            seed = Spare(_prepare_next)
            seed.activate()
        _spare = seed
    except Exception as exc:  # noqa: BLE001 - e.g. EAGAIN at the pids limit
        sys.stderr.write(f"runner: could not fork a spare: {exc!r}\n")


def _fork_seed():
    """During a run whose input is all with the program (none of it left in this process):
    fork seeds for later runs' children, off every run's clock (best effort)."""
    if len(_seeds) > SEEDS_LOW:
        return
    for _ in range(SEEDS_BATCH):
        try:
            _seeds.append(Spare(_prepare_next))
        except Exception as exc:  # noqa: BLE001 - e.g. EAGAIN at the pids limit
            sys.stderr.write(f"runner: could not fork a seed: {exc!r}\n")
            return


def _spare_main(ends, ready_w, setup_r, go_r, prepare=()):
    """In the spare, before any program code. As a seed (root): the run's process and
    interpreter state, and the warm modules' spare hooks (``prepare``); once activated (a
    byte on ``go_r``), its user, a wiped work dir, the hooks' activation, then (once the
    request comes) its files and limits. Returns the program's code.

    A warm module may define ``__spare_marker__`` (bytes), ``__prepare_spare__()`` and
    ``__activate_spare__()``: when the last run's code began with the marker, the next seed
    calls ``__prepare_spare__`` as root, while the run before it may still go on (e.g. to
    fork a helper process ahead of time, which must wait, as root and doing nothing, until
    activated): it returns a cancel function. Once that run is over and the spare is the
    sandbox user in the wiped work dir, it calls ``__activate_spare__`` (e.g. to let the
    helper drop to this user and dir). A run whose code begins with the marker keeps what
    was prepared (in the module's globals: the spare becomes the program); for any other run
    the cancel function runs first, and must leave no process and no descriptor behind."""
    os.setsid()
    for target, fd in enumerate(ends):
        os.dup2(fd, target)
    keep = sorted((ready_w, setup_r, go_r))  # the runner's fds for the run going on: closed
    for lo, hi in zip([2, *keep], [*keep, 1 << 16]):  # noqa: B905 - same length; 3.8+
        os.closerange(lo + 1, hi)
    # (the environment is CHILD_ENV already: the runner's own, see _child_env)
    prepare_main(os.path.join(WORK_DIR, MAIN_FILE), streams=_STREAMS)  # (sets SIGINT too)
    try:  # on OOM the kernel picks the program (or this seed), not the runner
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    except OSError:
        pass
    # The hooks come last: what they fork ahead shares the state above without copying it.
    prepared = []
    for name in prepare:
        module = sys.modules.get(name)
        hook = getattr(module, "__prepare_spare__", None)
        if callable(hook):
            try:
                prepared.append((module, _markers.get(name, b""), hook()))
            except Exception:  # noqa: BLE001 - only an optimisation; the hook cleans up after itself
                pass
    try:  # the compiler's pages, copied now while waiting rather than on the run's clock
        compile(b"x = [1]\n", MAIN_FILE, "exec")
    except Exception:  # noqa: BLE001
        pass
    go = _read_to_end(go_r)  # the last run is over (or the runner dropped this seed: EOF)
    os.close(go_r)
    if not go:
        os._exit(0)
    _become_sandbox_user()
    # The uid switch made us non-dumpable (the kernel's rule for changed credentials); a
    # fresh interpreter is dumpable: it may read its own /proc/self/mem, trace its children.
    _libc().prctl(4, 1, 0, 0, 0)
    _wipe_all()  # the previous run's leftovers (its processes are gone): before any input
    os.chdir(WORK_DIR)
    for module, _, _ in prepared:
        hook = getattr(module, "__activate_spare__", None)
        if callable(hook):
            try:
                hook()
            except Exception:  # noqa: BLE001 - only an optimisation
                pass
    req = _parse_setup_head(_read_exact(setup_r, int.from_bytes(_read_exact(setup_r, 8), "big")))
    code = _receive_files(setup_r, req)
    os.close(setup_r)
    for _, marker, cancel in prepared:
        if not (marker and code.startswith(marker)) and callable(cancel):
            try:
                cancel()
            except Exception:  # noqa: BLE001 - what it left is then a leftover: taints the container
                pass
    _limit(int(req["cpu_s"]), int(req["fsize_bytes"]))
    return code


_STREAMS = []  # unused std streams for the seeds (std_streams), made once


def _child_env():
    """The runner's environment is the programs' (it needs none of its own): a seed then has
    nothing to change. Called at start and after each warm module (which might change it)."""
    if os.environ != CHILD_ENV:
        os.environ.clear()
        os.environ.update(CHILD_ENV)


def _read_to_end(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _start_exec(req, code, files):
    """Start ``python3 main.py`` as uid 1000 (the pre-fork-server path)."""
    import subprocess

    pid = os.fork()
    if pid == 0:  # as the sandbox user: wipe what the previous run left, write the files
        status = 1
        try:
            _become_sandbox_user()
            try:
                _wipe_all()
            except Tainted:
                status = 2
                raise
            _write_files(files, code)
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 2:
        raise Tainted("what an earlier run left could not be removed")
    if status != 0:
        raise RuntimeError("could not write the run's files")

    def setup():  # after the switch to uid 1000: /work is that user's, mode 0700
        os.chdir(WORK_DIR)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
        _limit(int(req["cpu_s"]), int(req["fsize_bytes"]))

    return subprocess.Popen(
        [sys.executable, MAIN_FILE],
        env=CHILD_ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        user=SANDBOX_UID,
        group=SANDBOX_GID,
        extra_groups=[],
        preexec_fn=setup,
    )


def _prefill(fd, data):
    """Write as much of ``data`` as the pipe takes without blocking; returns how much."""
    if not data:
        return 0
    os.set_blocking(fd, False)
    try:
        return os.write(fd, data[:CHUNK])
    except OSError:  # full, or the program already closed its stdin: the pump goes on
        return 0


def run(req, payload):
    """Serve one ``run`` request; returns ``(header, stdout, stderr)``."""
    cap = int(req["output_bytes"])
    timeout = float(req["timeout_s"])
    code, stdin_data, files = _split_payload(req, payload)
    t_in = time.monotonic()
    oom_before = _oom_kill_count()
    start = time.monotonic()
    if req.get("launch", "fork") == "exec":
        _drop_spare()  # an exec run must find no other process
        proc = _start_exec(req, code, files)
        sent = _prefill(proc.stdin.fileno(), stdin_data)
    else:
        spare = _take_spare()
        # What fits in the pipe goes in before the spare even has its files: a program that
        # reads a small stdin (the code-test harness reads its tests) never waits for the
        # runner to be scheduled again. (The spare reads only its setup pipe until then.)
        sent = _prefill(spare.child.stdin.fileno(), stdin_data)
        proc = spare.start(req, code, files)
        _note_code(code)
        if sent == len(stdin_data):
            # The code and files are in the spare, stdin in its pipe (its end now: the program
            # need not wait for this fork): with this copy zeroed, the runner holds nothing
            # of the run, and may fork the next run's seed now.
            proc.stdin.close()
            _zero(payload)
            _fork_seed()
    leftover = 0

    def on_timeout():
        nonlocal leftover
        _kill_all()
        try:
            proc.wait(KILL_TIMEOUT_S)  # reap the program itself first: keeps its status
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
            pass
        leftover = _kill_everything_else()

    def on_exit():
        nonlocal leftover
        # Whatever still runs now was started by the program and outlived it (a process
        # already killed, by the program itself, is not: it is only not reaped yet).
        _reap_zombies()
        leftover = sum(1 for pid in _other_pids() if not _dying(pid))
        if leftover:
            _kill_everything_else()

    stdout, stderr, total, timed_out, exited_at = pump(
        proc, stdin_data[sent:], cap, start + timeout, on_exit, on_timeout, KILL_TIMEOUT_S
    )
    duration = exited_at - start
    del code, stdin_data, files
    left_after_kill = _kill_everything_else()
    oom_after = _oom_kill_count()
    oom = oom_before is not None and oom_after is not None and oom_after > oom_before
    # The wipe is the next run's first step; too much to wipe, or a process that would not
    # die, and the host replaces the container instead.
    clean = left_after_kill == 0 and _scratch_inodes() <= MAX_LEFTOVER_INODES
    header = {
        "phases_s": [start - t_in, exited_at - start, time.monotonic() - exited_at],
        "op": "result",
        "exit_code": proc.returncode if not timed_out else -signal.SIGKILL,
        "stdout": len(stdout),
        "stderr": len(stderr),
        "truncated": total[0] > cap or total[1] > cap,
        "timed_out": timed_out,
        "oom_killed": oom,
        "duration_s": duration,
        "leftover": leftover,
        "clean": clean,
    }
    return header, stdout, stderr


# --- the request stream -------------------------------------------------------------------------


class Stream:
    """Reads requests from fd 0: an 8-byte big-endian header length, the JSON header, then
    the payload, each read straight into its own buffer: linear, and no stray copies of a
    run's data are left in the runner's memory for a later (forked) run to find."""

    def __init__(self, fd=0):
        self.fd = fd
        self.sel = selectors.DefaultSelector()
        self.sel.register(fd, selectors.EVENT_READ)

    def header(self, timeout=None):
        if timeout is not None and not self.sel.select(timeout):
            return None  # nobody attached in time: exit, the container goes away
        size = self.payload(8)
        if size is None:
            return None  # stdin closed: the owner is gone
        n = int.from_bytes(size, "big")
        if n > MAX_HEADER_BYTES:
            raise ValueError(f"request header of {n} bytes, more than {MAX_HEADER_BYTES}")
        return self.payload(n)

    def payload(self, size):
        """Exactly ``size`` bytes in a new bytearray, or None at end of stream."""
        out = bytearray(size)
        view = memoryview(out)
        have = 0
        while have < size:
            n = os.readv(self.fd, [view[have:]])
            if n == 0:
                return None
            have += n
        return out


SMALL_ANSWER = 1 << 18  # answers up to this size go out in one write (one frame to the host)


def _send(header, *parts):
    size = sum(len(p) for p in parts)
    line = json.dumps(dict(header, payload=size)).encode() + b"\n"
    if size <= SMALL_ANSWER:
        whole = bytearray(line)
        for part in parts:
            whole += part
        _write_all(1, memoryview(whole))
        _zero(whole)  # a copy of the output: a later forked run must not find it
        return
    _write_all(1, memoryview(line))
    for part in parts:
        _write_all(1, memoryview(part))


def _caps():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return None


def _preload():
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - optional
            pass
    import gc

    gc.collect()
    gc.freeze()  # a forked run's collections skip these: fewer copy-on-write page faults


def _warm(req, payload):
    """``op: warm``: import trusted module source from the host into the runner, so that every
    later forked run finds it already in ``sys.modules`` (no file, no compile, no module body
    per run). The source runs here, in the runner: the host sends only its own code (e.g. the
    code-test harness), never a program's. The module keeps its text as ``__source__`` (for a
    run that must start it in a fresh interpreter). Sending the same module again is a no-op."""
    name = req.get("name")
    if not (type(name) is str and name.isidentifier() and len(name) <= 100):
        raise ValueError(f"warm: module name {name!r} is not an identifier")
    source = bytes(payload).decode("utf-8")
    loaded = sys.modules.get(name)
    if loaded is not None:
        if getattr(loaded, "__source__", None) != source:
            raise ValueError(f"warm: a different module named {name!r} is already loaded")
        return {"op": "warmed", "name": name}
    import gc
    import types

    module = types.ModuleType(name)
    module.__source__ = source
    exec(compile(source, f"<warm {name}>", "exec"), module.__dict__)
    sys.modules[name] = module
    _child_env()
    marker = getattr(module, "__spare_marker__", None)
    if type(marker) is bytes and marker and callable(getattr(module, "__prepare_spare__", None)):
        _markers[name] = marker
    gc.collect()
    gc.freeze()  # as the preloads: a forked run's collections skip it
    return {"op": "warmed", "name": name}


def main():
    if os.getpid() != 1:
        sys.exit(
            "runner: refusing to run outside a container (must be PID 1: it kills every other process)"
        )
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_non_dumpable()
    os.chdir("/")
    _child_env()
    _preload()
    _STREAMS.extend(std_streams())
    stream = Stream(0)
    timeout = FIRST_REQUEST_TIMEOUT_S
    while True:
        line = stream.header(timeout)
        if line is None:
            return
        timeout = None
        req, payload, parts = {}, None, ()
        spare_next = False  # fork the next run's child once this answer is out
        try:
            req = json.loads(line)
            size = int(req.get("payload") or 0)
            payload = stream.payload(size) if size else bytearray()
            if payload is None:
                return
            op = req.get("op")
            fork_launch = req.get("launch", "fork") == "fork"
            if op == "ping":
                _drop_spare()
                resp = {
                    "op": "pong",
                    "protocol": PROTOCOL_VERSION,
                    "python": sys.version.split()[0],
                    "uid": os.getuid(),
                    "caps": _caps(),
                    "clean": _clean_up(),
                }
                spare_next = fork_launch
            elif op == "run":
                try:
                    resp, out, err = run(req, payload)
                except Tainted as exc:  # nothing ran: the host runs it elsewhere
                    _send({"op": "tainted", "error": str(exc), "id": req.get("id")})
                    return  # and this container goes away
                parts = (out, err)
                spare_next = fork_launch
            elif op == "warm":
                _drop_spare()  # forked before the module: the next spare must have it
                resp = _warm(req, payload)
                spare_next = True
            else:
                resp = {"op": "error", "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - the host decides what to do
            resp = {"op": "error", "error": f"{type(exc).__name__}: {exc}"}
            _drop_spare()
            _kill_everything_else()
            resp["clean"] = _clean_up()
        if isinstance(req, dict) and "id" in req:
            resp["id"] = req["id"]
        _zero(payload)
        _zero(line)
        _send(resp, *parts)
        for part in parts:
            _zero(part)
        del payload, parts, line, req, resp
        if spare_next:
            _fork_spare()


if __name__ == "__main__":
    main()
