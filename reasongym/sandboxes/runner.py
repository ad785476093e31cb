"""The in-container runner: PID 1 of every warm sandbox container.

The host starts a container with this file's source as ``python3 -c SOURCE``, attaches to
its stdin/stdout, and sends one JSON request per line; the runner answers one JSON line per
request. Each ``run`` request writes the files into the clean work dir, starts
``python3 main.py`` in its own session, feeds stdin, keeps the first ``output_bytes`` of
stdout and stderr, enforces the wall-clock timeout, and afterwards kills every other process
in the container and wipes the writable dirs. A run that leaves something behind (a timeout,
an OOM kill, a leftover process, a dir it could not wipe) is reported so that the host
replaces the container.

Why PID 1: inside its PID namespace init ignores signals it has no handler for, so a program
cannot kill its parent, and ``kill(-1, SIGKILL)`` from init reaches every other process in
the container, whatever session or process group it escaped to. Why non-dumpable: the
program runs as the same (unprivileged) user, and a non-dumpable runner keeps it out of
``/proc/1/fd`` and ``ptrace``, so it cannot forge answers or read later requests.

Standard library only; runs on the image's Python (3.8+), which need not be the host's.
"""

import base64
import json
import os
import resource
import selectors
import shutil
import signal
import sys
import time

WORK_DIR = "/work"
SCRATCH_DIRS = ("/work", "/tmp", "/dev/shm")
MAIN_FILE = "main.py"
FIRST_REQUEST_TIMEOUT_S = 120.0  # an un-attached container must not live forever
KILL_TIMEOUT_S = 3.0
PROTOCOL_VERSION = 1
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORK_DIR,
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def _set_non_dumpable():
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_dumpable = 4
        libc.prctl(pr_set_dumpable, 0, 0, 0, 0)
    except Exception as exc:  # noqa: BLE001 - report, keep serving
        sys.stderr.write(f"runner: could not set non-dumpable: {exc!r}\n")


def _oom_kill_count():
    """The container cgroup's OOM-kill counter (cgroup v2 or v1), or None when unreadable."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


def _other_pids():
    own = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != own]


def _reap_zombies():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_everything_else():
    """SIGKILL every other process in the container; returns how many could not be removed."""
    end = time.monotonic() + KILL_TIMEOUT_S
    while True:
        _reap_zombies()
        left = _other_pids()
        if not left or time.monotonic() > end:
            return len(left)
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.001)


def _wipe(path):
    """Empty a scratch dir; returns False when something could not be removed."""

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
            os.chmod(path, 0o700)
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


def _write_files(files, code):
    for rel, b64 in files.items():
        path = os.path.join(WORK_DIR, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(b64))
    with open(os.path.join(WORK_DIR, MAIN_FILE), "w", encoding="utf-8") as f:
        f.write(code)


def _child_setup(cpu_s, fsize_bytes):
    def setup():
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the runner ignores it; the program must not
        try:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")  # on OOM the kernel picks the program, not the runner
        except OSError:
            pass
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return setup


def pump(proc, stdin_data, cap, deadline, on_exit, on_timeout, grace_s):
    """Feed ``stdin_data`` to ``proc`` and keep the first ``cap`` bytes of its stdout and
    stderr until it exits (then ``on_exit()``) or ``deadline`` passes (then ``on_timeout()``),
    and after that until both streams reach EOF or ``grace_s`` more seconds pass. The hooks
    kill what the program left, so that pipes its strays hold open reach EOF. Closes the
    pipes; returns ``(stdout, stderr, (bytes out, bytes err), timed_out, ended_at)``.

    Shared with the host's process sandbox (``reasongym.sandboxes.process``)."""
    sel = selectors.DefaultSelector()
    streams = {proc.stdout.fileno(): 0, proc.stderr.fileno(): 1}
    bufs = [bytearray(), bytearray()]
    total = [0, 0]
    for fd in streams:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    in_fd = proc.stdin.fileno()
    if stdin_data:
        os.set_blocking(in_fd, False)
        sel.register(in_fd, selectors.EVENT_WRITE)
    else:
        proc.stdin.close()
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
                        n = os.write(fd, stdin_data[:65536])
                        stdin_data = stdin_data[n:]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        stdin_data = b""
                    if not stdin_data:
                        sel.unregister(fd)
                        proc.stdin.close()
                else:
                    try:
                        chunk = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        sel.unregister(fd)
                        continue
                    i = streams[fd]
                    total[i] += len(chunk)
                    room = cap - len(bufs[i])
                    if room > 0:
                        bufs[i] += chunk[:room]
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
    return bytes(bufs[0]), bytes(bufs[1]), tuple(total), timed_out, end


def run(req):
    import subprocess

    cap = int(req["output_bytes"])
    timeout = float(req["timeout_s"])
    clean = all(_wipe(d) for d in SCRATCH_DIRS)
    _write_files(req.get("files") or {}, req["code"])
    stdin_data = base64.b64decode(req.get("stdin") or "")
    oom_before = _oom_kill_count()

    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, MAIN_FILE],
        cwd=WORK_DIR,
        env=CHILD_ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_child_setup(int(req["cpu_s"]), int(req["fsize_bytes"])),
    )
    leftover = 0

    def on_timeout():
        nonlocal leftover
        os.kill(-1, signal.SIGKILL)
        try:
            proc.wait(KILL_TIMEOUT_S)  # reap the program itself first: keeps its status
        except subprocess.TimeoutExpired:
            pass
        leftover = _kill_everything_else()

    def on_exit():
        nonlocal leftover
        # Whatever still runs now was started by the program and outlived it.
        _reap_zombies()
        leftover = len(_other_pids())
        if leftover:
            _kill_everything_else()

    stdout, stderr, total, timed_out, exited_at = pump(
        proc, stdin_data, cap, start + timeout, on_exit, on_timeout, KILL_TIMEOUT_S
    )
    duration = exited_at - start
    left_after_kill = _kill_everything_else()
    oom_after = _oom_kill_count()
    oom = oom_before is not None and oom_after is not None and oom_after > oom_before
    clean = all(_wipe(d) for d in SCRATCH_DIRS) and clean and left_after_kill == 0
    return {
        "op": "result",
        "exit_code": proc.returncode,
        "stdout": base64.b64encode(stdout).decode(),
        "stderr": base64.b64encode(stderr).decode(),
        "truncated": total[0] > cap or total[1] > cap,
        "timed_out": timed_out,
        "oom_killed": oom,
        "duration_s": duration,
        "leftover": leftover,
        "clean": clean,
    }


def _read_lines(first_timeout):
    buf = b""
    timeout = first_timeout
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    while True:
        while b"\n" not in buf:
            if timeout is not None and not sel.select(timeout):
                return  # nobody attached in time: exit, the container goes away
            chunk = os.read(0, 1 << 20)
            if not chunk:
                return  # stdin closed: the owner is gone
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        timeout = None
        yield line


def _send(obj):
    data = json.dumps(obj).encode() + b"\n"
    while data:
        n = os.write(1, data)
        data = data[n:]


def main():
    if os.getpid() != 1:
        sys.exit(
            "runner: refusing to run outside a container (must be PID 1: it kills every other process)"
        )
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_non_dumpable()
    for line in _read_lines(FIRST_REQUEST_TIMEOUT_S):
        req = {}
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "ping":
                resp = {
                    "op": "pong",
                    "protocol": PROTOCOL_VERSION,
                    "python": sys.version.split()[0],
                    "uid": os.getuid(),
                }
            elif op == "run":
                resp = run(req)
            else:
                resp = {"op": "error", "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - the host decides what to do
            resp = {"op": "error", "error": f"{type(exc).__name__}: {exc}"}
            _kill_everything_else()
        if isinstance(req, dict) and "id" in req:
            resp["id"] = req["id"]
        _send(resp)


if __name__ == "__main__":
    main()
