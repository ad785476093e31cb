"""``ProcessSandbox``: runs code as a local subprocess, for machines without a Docker engine.

Each run: a fresh work dir, ``python3 main.py`` in its own session with rlimits (CPU time,
address space, processes, file size, no core dumps), run as ``nobody`` when the host
process is root, and a wall-clock timeout.

Without bubblewrap, a launcher (``launcher.py``) supervises the run: it is the child
subreaper of everything the program starts, so a process that escapes into a new session,
double-forks and drops its environment is still re-parented to it and killed when the run
ends. Where it can (as root, or as a user with unprivileged user namespaces) it also gives
the run private mount and IPC namespaces (a fresh ``/tmp``, ``/dev/shm`` and
``/dev/mqueue``; SysV IPC and scratch files die with the run); as root it stays root itself
so that the program (``nobody``) cannot signal it.

Where bubblewrap (``bwrap``, Debian's ``bubblewrap``) works, the run goes inside it: new
user/pid/net/ipc/uts/cgroup namespaces (so only ``lo`` and no way out), read-only system
dirs, a private ``/tmp``, the work dir a size-capped tmpfs, ``--die-with-parent``, and the
pid namespace takes every leftover process down with it. The program is pid 1 of that
namespace (``--as-pid-1``): no other process in the sandbox holds its stdio (bwrap's own
init would, same uid and dumpable: open to ``pidfd_getfd``, ``ptrace`` and
``/proc/1/mem``), at the price of pid 1's rules (a signal the program sends itself with the
default action, e.g. ``os.kill(os.getpid(), SIGTERM)``, is ignored; orphans are re-parented
to it, and die with it). A seccomp filter (``--seccomp``) refuses ``ptrace``,
``process_vm_readv``/``writev``, ``pidfd_open`` and ``pidfd_getfd`` with EPERM: a run
cannot reach into another process even where the ptrace rules would let it (a child into
a dumpable parent). Files go in as memfds, or for runs with many files as one archive that
the launcher unpacks inside (one fd, one argument).
Without bwrap this backend is *not* a security boundary (the program sees the host's files
and network as its user does; as a non-root user it can also kill its launcher); it says
so once in the log.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from reasongym.sandboxes.base import MAIN_FILE, Files, Sandbox, check_input, clip_output
from reasongym.sandboxes.errors import SandboxClosed, SandboxStartError
from reasongym.sandboxes.runner import pump
from reasongym.sandboxes.types import ExecResult, Limits

log = logging.getLogger("reasongym.sandboxes")

NOBODY = 65534
MARKER_VAR = "REASONGYM_SANDBOX_RUN"  # tags a run's processes so that strays can be found
KILL_TIMEOUT_S = 3.0
MAX_FILE_FDS = 64  # more files than this go in as one archive (see launcher.py)
_MEMORY_ERROR = re.compile(r"^(MemoryError|.*Cannot allocate memory)", re.M)
_warned_unsafe = False
_warn_lock = threading.Lock()
_bwrap_probe: dict[tuple[str, str, int], str | None] = {}


class ProcessSandbox(Sandbox):
    """Runs code in a local subprocess (inside bubblewrap when available).

    Args:
        limits: default limits of a run (``cpus`` is not enforced: CPU *time* is capped at
            ``timeout_s`` instead).
        use_bwrap: True: require bubblewrap; False: never use it; None: use it when it works.
        python: interpreter to run the code with. Default: this interpreter, or when the host
            runs as root (the code then runs as ``nobody``) the first of it,
            ``/usr/bin/python3``, ``/usr/local/bin/python3`` that ``nobody`` can execute.
        tmp_root: where run dirs are made (default: the system temp dir); when the host is
            root it must be traversable by ``nobody``.
    """

    name = "process"

    def __init__(
        self,
        limits: Limits | None = None,
        use_bwrap: bool | None = None,
        python: str | None = None,
        tmp_root: str | None = None,
    ):
        super().__init__(limits)
        self._uid = NOBODY if os.geteuid() == 0 else os.geteuid()
        self._gid = NOBODY if os.geteuid() == 0 else os.getegid()
        self.python = python or _pick_python(self._uid)
        if self.python is None:
            raise SandboxStartError(
                "no Python interpreter that uid 65534 (nobody) can execute: the host runs as root and "
                f"{sys.executable} is in a private dir. Pass python='/usr/bin/python3' (apt install python3) "
                "or run as a normal user."
            )
        bwrap = shutil.which("bwrap")
        problem = None
        if use_bwrap is not False:
            problem = (
                "bwrap is not installed (apt install bubblewrap)"
                if bwrap is None
                else _probe_bwrap(bwrap, self.python, self._uid)
            )
            if problem and use_bwrap:
                raise SandboxStartError(
                    f"use_bwrap=True but bubblewrap does not work here: {problem}"
                )
        self._bwrap = bwrap if use_bwrap is not False and not problem else None
        if self._bwrap:
            self.name = "process+bwrap"
        else:
            _warn_once(problem or "use_bwrap=False")
        # Bare runs get private /tmp, /dev/shm and IPC namespaces when this works here (as
        # root; as a user, where unprivileged user namespaces are allowed).
        self._private_ns = self._bwrap is None and _probe_private_ns(self.python, tmp_root)
        self.tmp_root = tmp_root
        self._closed = False
        self._live: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    @property
    def isolated(self) -> bool:
        """True when runs go through bubblewrap."""
        return self._bwrap is not None

    def run(
        self,
        code: str,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        if self._closed:
            raise SandboxClosed()
        limits = limits if limits is not None else self.limits
        given = check_input(code, stdin, files, limits)
        contents = dict(given.files)
        contents[MAIN_FILE] = given.code
        marker = secrets.token_hex(12)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            MARKER_VAR: marker,
        }
        if self._bwrap:
            # Files go in through memfds that bwrap copies into its tmpfs (no disk I/O), or
            # when there are many, as one archive the launcher unpacks inside.
            if len(contents) <= MAX_FILE_FDS:
                fds = [_memfd(data) for data in contents.values()]
                names = list(contents)
                tail = [self.python, "-E", "-s", MAIN_FILE]
            else:
                fds = [_archive(contents)]
                names = []  # no --file: the launcher unpacks the archive
                tail = [self.python, "-E", "-s", "-c", _launcher_source()]
                tail.append(json.dumps({"archive_fd": fds[0], "python": self.python}))
            status_r, status_w = os.pipe()  # bwrap says there when the program itself exited
            os.set_blocking(status_r, False)
            fds.append(status_w)
            filter_fd = _seccomp_fd()
            if filter_fd is not None:
                fds.append(filter_fd)
            try:
                cmd = self._bwrap_command(names, fds[: len(names)], limits, tail)
                cmd[1:1] = ["--json-status-fd", str(status_w)]
                if filter_fd is not None:
                    cmd[1:1] = ["--seccomp", str(filter_fd)]
                env.update(HOME="/work", TMPDIR="/tmp")
                return self._execute(
                    cmd, "/", env, given.stdin, limits, marker, fds, None, status_r
                )
            finally:
                for fd in [*fds, status_r]:
                    os.close(fd)
        stage = Path(tempfile.mkdtemp(prefix="reasongym-run-", dir=self.tmp_root))
        work, tmp = stage / "work", stage / "tmp"  # a private TMPDIR beside the work dir
        try:
            for rel, data in contents.items():
                path = work / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            tmp.mkdir()
            root = os.geteuid() == 0
            if self._uid != os.geteuid():
                _chown_tree(stage, self._uid, self._gid)
            env.update(HOME=str(work), TMPDIR="/tmp" if self._private_ns else str(tmp))
            config = {
                "supervise": True,
                "isolate": self._private_ns,
                "uid": self._uid if root else None,
                "gid": self._gid if root else None,
                "python": self.python,
                "work": str(work),
                "scratch_mb": limits.disk_mb,
                "nproc": self._nproc(limits),
            }
            cmd = [self.python, "-E", "-s", "-c", _launcher_source(), json.dumps(config)]
            return self._execute(cmd, str(work), env, given.stdin, limits, marker, [], True)
        finally:
            _rmtree_forcibly(stage)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            live = list(self._live)
        for proc in live:
            _killpg(proc.pid)

    # --- internals ----------------------------------------------------------------------

    def _bwrap_command(
        self, names: list[str], fds: list[int], limits: Limits, tail: list[str]
    ) -> list[str]:
        cmd = [self._bwrap, *_bwrap_base_args(self.python)]
        cmd += ["--size", str(limits.disk_mb << 20), "--tmpfs", "/tmp"]
        cmd += ["--size", str(limits.disk_mb << 20), "--tmpfs", "/work"]
        made = set()
        for rel, fd in zip(names, fds, strict=True):
            parts = Path(rel).parts[:-1]
            for i in range(1, len(parts) + 1):
                d = "/work/" + "/".join(parts[:i])
                if d not in made:
                    cmd += ["--dir", d]
                    made.add(d)
            cmd += ["--perms", "0644", "--file", str(fd), f"/work/{rel}"]
        cmd += ["--remount-ro", "/", "--chdir", "/work", "--", *tail]
        return cmd

    def _nproc(self, limits: Limits) -> int:
        return limits.pids + _tasks_of(self._uid) + (4 if self._bwrap else 0)

    def _preexec(self, limits: Limits, supervised: bool | None):
        # Supervised runs set RLIMIT_NPROC in the launcher's child after its uid switch: set
        # before it, the switch to a uid already over the limit would make execve fail.
        nproc = None if supervised else self._nproc(limits)
        mem = (limits.memory_mb + (16 if self._bwrap else 0)) << 20
        cpu = limits.cpu_time_s
        fsize = limits.disk_mb << 20

        def setup() -> None:  # after setsid and the uid/gid switch; only async-signal-safe calls
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
            if nproc is not None:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        return setup

    def _execute(
        self,
        cmd: list[str],
        cwd: str,
        env: dict[str, str],
        stdin: bytes,
        limits: Limits,
        marker: str,
        fds: list[int],
        supervised: bool | None,
        bwrap_status: int | None = None,
    ) -> ExecResult:
        # Supervised (bare) runs drop to the run's uid in the launcher, which stays root.
        drop = self._uid != os.geteuid() and not supervised
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=fds,
                user=self._uid if drop else None,
                group=self._gid if drop else None,
                extra_groups=[] if drop else None,
                preexec_fn=self._preexec(limits, supervised),
            )
        except OSError as exc:
            raise SandboxStartError(f"could not start {cmd[0]}: {exc}") from None
        with self._lock:
            self._live.add(proc)

        def sweep() -> None:
            if supervised and proc.poll() is None:  # the launcher takes its whole tree down
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(KILL_TIMEOUT_S)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            _killpg(proc.pid)
            if not self._bwrap:  # bwrap: the pid namespace dies with the program
                _kill_marked(marker, self._uid)

        try:
            out, err, total, timed_out, end = pump(
                proc,
                stdin,
                limits.output_bytes,
                start + limits.timeout_s,
                sweep,
                sweep,
                KILL_TIMEOUT_S,
            )
        finally:
            sweep()
            proc.wait()
            with self._lock:
                self._live.discard(proc)
        code = proc.returncode
        if code is not None and 128 < code <= 128 + 64:
            code = -(code - 128)  # bwrap reports a signalled child as 128 + signal
        if timed_out:
            code = -signal.SIGKILL
        stdout, _ = clip_output(out, limits.output_bytes)
        stderr, _ = clip_output(err, limits.output_bytes)
        if bwrap_status is not None and not timed_out:
            status = _read_available(bwrap_status)
            if b'"exit-code"' not in status and stderr.startswith("bwrap:"):
                # bwrap failed before the program started: not the program's exit 1.
                raise SandboxStartError(
                    f"bubblewrap could not start the run: {stderr.strip()[-500:]}"
                )
        oom = not timed_out and code != 0 and bool(_MEMORY_ERROR.search(stderr[-2000:]))
        return ExecResult(
            stdout=stdout,
            stderr=stderr,
            exit_code=code,
            timed_out=timed_out,
            oom_killed=oom,
            truncated=total[0] > limits.output_bytes or total[1] > limits.output_bytes,
            duration_s=end - start,
            backend=self.name,
        )


def _read_available(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@functools.cache
def _launcher_source() -> str:
    return Path(__file__).with_name("launcher.py").read_text()


def _archive(contents: dict[str, bytes]) -> int:
    """One memfd with every file: a JSON index line, then the contents back to back."""
    index = json.dumps([[name, len(data)] for name, data in contents.items()]).encode()
    fd = os.memfd_create("reasongym-files")
    for part in (index, b"\n", *contents.values()):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _memfd(data: bytes) -> int:
    """An anonymous in-memory file holding ``data``, positioned at its start."""
    fd = os.memfd_create("reasongym-file")
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_marked(marker: str, uid: int) -> int:
    """SIGKILL every process of ``uid`` whose environment carries ``marker``; returns how many."""
    needle = f"{MARKER_VAR}={marker}".encode()
    killed = 0
    end = time.monotonic() + KILL_TIMEOUT_S
    while time.monotonic() < end:
        found = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if entry.stat().st_uid != uid:
                    continue
                with open(f"/proc/{entry.name}/environ", "rb") as f:
                    if needle not in f.read():
                        continue
                os.kill(int(entry.name), signal.SIGKILL)
                found += 1
            except (OSError, ValueError):
                continue
        killed += found
        if not found:
            break
        time.sleep(0.01)
    return killed


def _tasks_of(uid: int) -> int:
    """Tasks (processes and threads) that ``uid`` runs now: RLIMIT_NPROC counts them all."""
    n = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return n


def _rmtree_forcibly(root: Path) -> None:
    """Remove a run's dir even where the program took away permissions."""

    def fix(func, path, _exc) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                shutil.rmtree(path, onerror=fix)
            else:
                func(path)
        except OSError:
            pass

    shutil.rmtree(root, onerror=fix)
    if root.exists():
        log.warning("could not remove the run dir %s", root)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), uid, gid)


def _executable_by_others(path: str) -> bool:
    """True when a user other than the owner (and not in its group) can run ``path``."""
    p = Path(path)
    try:
        if not p.stat().st_mode & stat.S_IXOTH:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in p.parents)
    except OSError:
        return False


def _pick_python(uid: int) -> str | None:
    own = os.path.realpath(sys.executable)
    if uid == os.geteuid():
        return own
    for candidate in (own, "/usr/bin/python3", "/usr/local/bin/python3"):
        real = os.path.realpath(candidate)
        if os.path.exists(real) and _executable_by_others(real):
            return real
    return None


def _bwrap_base_args(python: str) -> list[str]:
    args = [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",  # no bwrap init beside the program holding its stdio (module docstring)
    ]
    args += ["--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    prefix = str(Path(os.path.realpath(python)).parent.parent)
    if not prefix.startswith("/usr") and prefix not in ("/", ""):
        args += ["--ro-bind", prefix, prefix]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += [
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/local/bin:/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/work",
    ]
    args += [
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "PYTHONDONTWRITEBYTECODE",
        "1",
        "--setenv",
        "TMPDIR",
        "/tmp",
    ]
    return args


def _probe_bwrap(bwrap: str, python: str, uid: int) -> str | None:
    """None when bwrap can run ``python`` here as ``uid``, else why not (cached)."""
    key = (bwrap, python, uid)
    if key not in _bwrap_probe:
        drop = uid != os.geteuid()
        filter_fd = _seccomp_fd()
        cmd = [
            bwrap,
            *(["--seccomp", str(filter_fd)] if filter_fd is not None else []),
            *_bwrap_base_args(python),
            "--tmpfs",
            "/work",
            "--chdir",
            "/work",
            "--",
            python,
            "-c",
            "pass",
        ]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                timeout=20,
                pass_fds=[filter_fd] if filter_fd is not None else [],
                user=uid if drop else None,
                group=uid if drop else None,
                extra_groups=[] if drop else None,
            )
            problem = (
                None
                if proc.returncode == 0
                else proc.stderr.decode(errors="replace").strip()[-300:]
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = str(exc)
        finally:
            if filter_fd is not None:
                os.close(filter_fd)
        if problem:
            problem = f"bwrap failed: {problem} (are unprivileged user namespaces disabled?)"
        _bwrap_probe[key] = problem
    return _bwrap_probe[key]


# Classic BPF for bwrap's --seccomp (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k) over
# struct seccomp_data (int nr at 0, u32 arch at 4). Per native arch: its audit arch and the
# numbers of ptrace, process_vm_readv, process_vm_writev; then its 32-bit compat ABI, whose
# numbers differ. pidfd_open (434) and pidfd_getfd (438) are the same on every arch.
_DENIED_SYSCALLS = {
    # machine: [(audit arch, (ptrace, process_vm_readv, process_vm_writev)), compat ...]
    "x86_64": [(0xC000003E, (101, 310, 311)), (0x40000003, (26, 347, 348))],
    "aarch64": [(0xC00000B7, (117, 270, 271)), (0x40000028, (26, 376, 377))],
}
_PIDFD_SYSCALLS = (434, 438)  # pidfd_open, pidfd_getfd
_X32_BIT = 0x40000000  # x86_64's x32 ABI: the same calls with this bit set
_BPF_LD_ABS, _BPF_JEQ, _BPF_JGE, _BPF_RET = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW, _RET_EPERM = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM


@functools.cache
def _seccomp_program(machine: str) -> bytes | None:
    """The filter for this machine's arch, or None when its syscall numbers are not known
    here (the run then relies on ``--as-pid-1`` alone)."""
    arches = _DENIED_SYSCALLS.get(machine)
    if arches is None:
        return None
    insns: list[tuple[int, int, int, int]] = []
    for arch, numbers in arches:
        denied = (*numbers, *_PIDFD_SYSCALLS)
        block = [(_BPF_LD_ABS, 0, 0, 0)]  # A = nr
        if arch == 0xC000003E:  # x32: deny them all (nothing here runs x32 code)
            block.append((_BPF_JGE, len(denied) + 1, 0, _X32_BIT))
        for i, nr in enumerate(denied):  # jump to the EPERM after the ALLOW
            block.append((_BPF_JEQ, len(denied) - i, 0, nr))
        block += [(_BPF_RET, 0, 0, _RET_ALLOW), (_BPF_RET, 0, 0, _RET_EPERM)]
        # A = arch; not this one: skip the block
        insns += [(_BPF_LD_ABS, 0, 0, 4), (_BPF_JEQ, 0, len(block), arch), *block]
    insns.append((_BPF_RET, 0, 0, _RET_EPERM))  # an ABI not listed: refuse every call
    return b"".join(struct.pack("=HBBI", *insn) for insn in insns)


def _seccomp_fd() -> int | None:
    """A memfd holding the seccomp filter for one bwrap run (bwrap reads it to its end)."""
    program = _seccomp_program(platform.machine())
    return None if program is None else _memfd(program)


_private_ns_probe: dict[tuple[str, str | None], bool] = {}


def _probe_private_ns(python: str, tmp_root: str | None) -> bool:
    """True when the launcher can give a bare run its own mount and IPC namespaces (cached)."""
    key = (python, tmp_root)
    if key not in _private_ns_probe:
        stage = Path(tempfile.mkdtemp(prefix="reasongym-probe-", dir=tmp_root))
        ok = False
        try:
            (stage / MAIN_FILE).write_text("import os\nprint(os.readlink('/proc/self/ns/ipc'))\n")
            config = {"supervise": True, "isolate": True, "python": python, "work": str(stage)}
            proc = subprocess.run(
                [python, "-E", "-s", "-c", _launcher_source(), json.dumps(config)],
                cwd=stage,
                capture_output=True,
                text=True,
                timeout=30,
            )
            ok = (
                proc.returncode == 0
                and not proc.stderr
                and (proc.stdout.strip() not in ("", os.readlink("/proc/self/ns/ipc")))
            )
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        finally:
            _rmtree_forcibly(stage)
        if not ok:
            log.warning(
                "ProcessSandbox without bubblewrap: no private mount/IPC namespaces here, so "
                "/tmp, /dev/shm and SysV/POSIX IPC of a run are shared with the host"
            )
        _private_ns_probe[key] = ok
    return _private_ns_probe[key]


def _warn_once(why: str) -> None:
    global _warned_unsafe
    with _warn_lock:
        if _warned_unsafe:
            return
        _warned_unsafe = True
    log.warning(
        "ProcessSandbox without bubblewrap (%s): runs are NOT a security boundary; the code sees the "
        "host's files and network as its user. Install bubblewrap (apt install bubblewrap) or use Docker.",
        why,
    )
