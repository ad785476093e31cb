"""The process backend's launcher: started as ``python -E -s -c SOURCE CONFIG`` in a run's
work dir, it puts the files in place and starts ``python main.py``.

Standard library only (it runs on the interpreter the program runs on). ``CONFIG`` is JSON:

* ``archive_fd``: an inherited fd holding the run's files (a JSON index line, then their
  bytes back to back): written into the work dir, so that a run with 10,000 files costs one
  fd and one argument, not one of each per file (bubblewrap's ``--file`` route);
* ``supervise``: stay as the run's supervisor (the bare backend, with no pid namespace):
  a child subreaper, so that every process the program starts, whatever session, process
  group or environment it moves to, is re-parented here when orphaned and killed when the
  program ends (or when the host sends SIGTERM on a timeout); the launcher's exit status is
  the program's;
* ``isolate``: first unshare a mount and an IPC namespace (not root: inside a new user
  namespace that maps only our own ids) with a private tmpfs on ``/tmp`` and ``/dev/shm`` and
  a private ``/dev/mqueue``: SysV IPC, POSIX queues and scratch files die with the run
  instead of persisting on the host;
* ``uid``/``gid``: drop the program to them (the launcher itself stays root when it is, so
  a program running as nobody cannot signal it);
* ``work``: the work dir's path (bound back at its place inside the private ``/tmp``);
* ``nproc``: the program's RLIMIT_NPROC, set after the uid switch.
"""

import json
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
PR_SET_CHILD_SUBREAPER = 36


def _unpack(fd):
    with os.fdopen(fd, "rb") as f:
        index = json.loads(f.readline())
        for rel, size in index:
            parent = os.path.dirname(rel)
            if parent:
                os.makedirs(parent, exist_ok=True)
            out = os.open(rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            try:
                left = size
                while left:
                    chunk = f.read(min(left, 1 << 20))
                    if not chunk:
                        raise OSError(f"the files archive ended early at {rel!r}")
                    os.write(out, chunk)
                    left -= len(chunk)
            finally:
                os.close(out)


def _isolate(libc, work, scratch_mb):
    """Private mount + IPC namespaces with fresh /tmp, /dev/shm, /dev/mqueue; returns the
    problem, or None."""
    import ctypes

    def mount(src, target, fstype, flags, data):
        if libc.mount(src, target.encode(), fstype, flags, data) != 0:
            raise OSError(ctypes.get_errno(), f"mount {target}: {os.strerror(ctypes.get_errno())}")

    uid, gid = os.getuid(), os.getgid()
    user_ns = CLONE_NEWUSER if uid != 0 else 0  # not root: a user namespace grants the mounts
    if libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | user_ns) != 0:
        return f"unshare: {os.strerror(ctypes.get_errno())}"
    if user_ns:  # the same ids inside: files keep their owner, the program keeps no caps
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {uid} 1"),
            ("gid_map", f"{gid} {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    keep = os.open(work, os.O_RDONLY | os.O_DIRECTORY)  # in the new namespace's tree
    opts = f"size={scratch_mb}m,mode=1777".encode()
    mount(b"tmpfs", "/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, opts)
    if os.path.isdir("/dev/shm"):
        mount(b"tmpfs", "/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, opts)
    if os.path.isdir("/dev/mqueue"):
        mount(b"mqueue", "/dev/mqueue", b"mqueue", MS_NOSUID | MS_NODEV, None)
    if work.startswith("/tmp/"):  # the private /tmp hides the work dir: bind it back
        os.makedirs(work, mode=0o755)
        mount(f"/proc/self/fd/{keep}".encode(), work, None, MS_BIND, None)
    os.close(keep)
    os.chdir(work)
    return None


def _descendants(me):
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    parent[int(name)] = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [me]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        frontier += kids
    return found


def _kill_tree(me):
    """SIGKILL every descendant (orphans come back to us: we are their subreaper)."""
    for _ in range(10000):
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if not pid:
                break
        left = _descendants(me)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _exec_program(python, uid, gid, nproc=None):
    if uid is not None and os.getuid() != uid:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if nproc is not None:  # after the switch: RLIMIT_NPROC counts the new uid's processes
        import resource

        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    os.execv(python, [python, "-E", "-s", "main.py"])


def main(argv):
    config = json.loads(argv[1])
    python = config.get("python") or sys.executable
    if config.get("archive_fd") is not None:
        _unpack(int(config["archive_fd"]))
    uid, gid = config.get("uid"), config.get("gid")
    if not config.get("supervise"):
        _exec_program(python, uid, gid)
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if config.get("isolate"):
        problem = _isolate(libc, config["work"], int(config.get("scratch_mb") or 64))
        if problem:
            os.write(2, f"sandbox launcher: no private namespaces ({problem})\n".encode())
    me = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            os.setsid()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _exec_program(python, uid, gid, config.get("nproc"))
        except BaseException as exc:  # noqa: BLE001 - say why, as a shell would
            os.write(2, f"sandbox launcher: could not start the program: {exc!r}\n".encode())
        finally:
            os._exit(127)

    def on_term(_sig, _frame):  # the host's timeout: take everything down, report SIGKILL
        _kill_tree(me)
        os._exit(128 + signal.SIGKILL)

    signal.signal(signal.SIGTERM, on_term)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the program's pipes must reach EOF when it and its strays are gone
        os.dup2(devnull, fd)
    while True:
        try:
            pid, status = os.waitpid(child, 0)
            break
        except ChildProcessError:
            status = 0
            break
        except InterruptedError:
            continue
    _kill_tree(me)
    if os.WIFSIGNALED(status):  # end the same way, so that the host sees the same status
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(me, sig)
        except (OSError, ValueError):
            pass
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main(sys.argv)
