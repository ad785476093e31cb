"""What one run leaves must not reach the next one; the caller's mistakes are ``ValueError``s
that cost nothing; big inputs arrive; on every backend (Docker fork and exec paths, process
backend in bubblewrap and bare)."""

from __future__ import annotations

import os
import secrets

import pytest

from reasongym.sandboxes import Limits

IPC_LEFTOVERS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT = 0o1000
size = {size}
shmid = libc.shmget(0x5EED, ctypes.c_size_t(size), IPC_CREAT | 0o600)
addr = libc.shmat(shmid, None, 0)
ctypes.memset(addr, 1, size)  # touch it: it now holds memory
libc.shmdt(ctypes.c_void_p(addr))
msg = libc.msgget(0x5EEE, IPC_CREAT | 0o600)
sem = libc.semget(0x5EEF, 1, IPC_CREAT | 0o600)
mq = libc.mq_open(b"/reasongym-left", os.O_CREAT | os.O_RDWR, 0o600, None)
print(shmid >= 0, msg >= 0, sem >= 0, mq >= 0)
"""

COUNT_IPC = """
import os
n = {kind: len(open('/proc/sysvipc/' + kind).read().splitlines()) - 1 for kind in ('shm', 'msg', 'sem')}
mq = sorted(os.listdir('/dev/mqueue')) if os.path.isdir('/dev/mqueue') else []
print(n, mq)
"""


def test_ipc_objects_do_not_survive_into_the_next_run(sandbox):
    if sandbox.name == "process" and os.geteuid() != 0:
        pytest.skip("the bare process backend as a non-root user shares the host's IPC namespace")
    docker = sandbox.name == "docker"
    size = (80 if docker else 8) << 20
    limits = Limits(timeout_s=10, memory_mb=96 if docker else 256, disk_mb=16)
    for _ in range(2):  # whichever warm container serves them
        r = sandbox.run(IPC_LEFTOVERS.format(size=size), limits=limits)
        assert r.ok and r.stdout == "True True True True\n", r
        after = sandbox.run(COUNT_IPC, limits=limits)
        assert after.stdout == "{'shm': 0, 'msg': 0, 'sem': 0} []\n", after
    if docker:  # 80 MB of leftover shared memory would have made this run run out of memory
        r = sandbox.run("x = bytearray(80 << 20)\nprint('fits')", limits=limits)
        assert r.ok and r.stdout == "fits\n" and not r.oom_killed, r


def test_scratch_dirs_start_empty_and_host_keeps_nothing(sandbox, tmp_path):
    token = secrets.token_hex(6)
    code = (
        "import os\n"
        f"for d in ('/tmp', '/dev/shm'):\n"
        f"    open(os.path.join(d, 'left-{token}'), 'w').write('x')\n"
    )
    r = sandbox.run(code)
    assert r.ok, r
    r = sandbox.run(
        f"import os\nprint([d for d in ('/tmp', '/dev/shm') if 'left-{token}' in os.listdir(d)])"
    )
    assert r.stdout == "[]\n", r
    if sandbox.name == "process" and os.geteuid() != 0:
        return  # documented: the bare backend as a non-root user writes where its user can
    assert not os.path.exists(f"/tmp/left-{token}")
    assert not os.path.exists(f"/dev/shm/left-{token}")


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"code": "print('\ud800')"}, "code: character '\\ud800'"),
        ({"code": "print(input())", "stdin": "a\udfffb"}, "stdin"),
        ({"code": "pass", "files": {"x.txt": "\ud801"}}, "content of 'x.txt'"),
        ({"code": "pass", "files": {"x\udc80.txt": "hi"}}, "path"),
        ({"code": "pass", "files": {"n" * 5000: "hi"}}, "longer than"),
        ({"code": "pass", "files": {"a/" * 2000 + "f": "hi"}}, "files: path"),
        ({"code": "pass", "files": {"a/" * 100 + "f": "hi"}}, "deep"),
        ({"code": "pass", "files": {("d" * 300) + "/f": "hi"}}, "longer than 255"),
        ({"code": b"print(1)"}, "code must be a str"),
        ({"code": "pass", "files": {"f": 3}}, "must be str or bytes"),
        ({"code": "pass", "stdin": "x" * 5000, "limits": Limits(stdin_bytes=4096)}, "stdin_bytes"),
        (
            {"code": "pass", "files": {"f": b"x" * 5000}, "limits": Limits(files_bytes=4096)},
            "files_bytes",
        ),
        (
            {"code": "pass", "files": {"big": b"\0" * (3 << 20)}, "limits": Limits(disk_mb=2)},
            "disk_mb",
        ),
    ],
)
def test_callers_mistakes_are_value_errors_that_cost_nothing(sandbox, kwargs, complaint):
    before = list(getattr(sandbox, "container_ids", []))
    with pytest.raises(ValueError, match=None) as info:
        sandbox.run(**kwargs)
    assert complaint in str(info.value), str(info.value)
    assert list(getattr(sandbox, "container_ids", [])) == before  # nothing spent or replaced
    r = sandbox.run("print('fine')")
    assert r.ok and r.stdout == "fine\n"


BIG = Limits(timeout_s=60, memory_mb=400, disk_mb=160, stdin_bytes=80 << 20, files_bytes=80 << 20)


def test_fifty_megabytes_of_stdin_arrive(sandbox):
    data = b"0123456789abcdef" * (50 << 16)  # 50 MiB
    r = sandbox.run(
        "import sys, hashlib\nb = sys.stdin.buffer.read()\nprint(len(b), hashlib.md5(b).hexdigest())",
        stdin=data,
        limits=BIG,
    )
    import hashlib

    assert r.ok, r
    assert r.stdout == f"{len(data)} {hashlib.md5(data).hexdigest()}\n"


def test_sixty_megabyte_file_arrives_and_unread_stdin_is_fine(sandbox):
    blob = os.urandom(1 << 20) * 60
    r = sandbox.run(
        "import os, hashlib\nprint(os.path.getsize('blob.bin'), hashlib.md5(open('blob.bin','rb').read()).hexdigest())",
        files={"blob.bin": blob},
        stdin=b"y" * (20 << 20),  # never read by the program
        limits=BIG,
    )
    import hashlib

    assert r.ok and not r.timed_out, r
    assert r.stdout == f"{len(blob)} {hashlib.md5(blob).hexdigest()}\n"


def test_a_file_too_big_for_the_work_dir_fails_before_running(sandbox):
    roomy = Limits(timeout_s=60, memory_mb=400, disk_mb=64, files_bytes=200 << 20)
    with pytest.raises(ValueError, match="disk_mb"):
        sandbox.run("print('never')", files={"big.bin": b"\0" * (100 << 20)}, limits=roomy)
    with pytest.raises(ValueError, match="files_bytes"):
        sandbox.run("print('never')", files={"big.bin": b"\0" * (100 << 20)}, limits=BIG)


def test_ten_thousand_files(sandbox):
    files = {f"d{i % 10}/f{i}.txt": str(i) for i in range(10_000)}
    r = sandbox.run(
        "import os\nn = sum(len(os.listdir(f'd{i}')) for i in range(10))\nprint(n, open('d7/f1237.txt').read())",
        files=files,
        limits=Limits(timeout_s=30, disk_mb=64),
    )
    assert r.ok and r.stdout == "10000 1237\n", r


def test_bubblewrap_failing_to_start_is_the_sandboxes_error_not_exit_1(bwrap_sandbox, monkeypatch):
    from reasongym.sandboxes import SandboxStartError, process

    real = process._bwrap_base_args
    monkeypatch.setattr(
        process, "_bwrap_base_args", lambda py: [*real(py), "--ro-bind", "/no/such/dir", "/x"]
    )
    with pytest.raises(SandboxStartError, match="bubblewrap could not start"):
        bwrap_sandbox.run("print(1)")
    monkeypatch.undo()
    # ... while a program that prints what bwrap would and exits 1 is just that program.
    r = bwrap_sandbox.run("import sys\nsys.stderr.write('bwrap: fake\\n')\nsys.exit(1)")
    assert r.exit_code == 1 and r.stderr == "bwrap: fake\n"


AS_A_USER = """
import os, sys, types
pkg = types.ModuleType("reasongym")  # just the sandboxes: the rest needs the venv's packages
pkg.__path__ = [sys.argv[1]]
sys.modules["reasongym"] = pkg
from reasongym.sandboxes import ProcessSandbox
sb = ProcessSandbox(use_bwrap=False, tmp_root=sys.argv[2])
token = sys.argv[3]
r = sb.run(
    "import ctypes, os\\n"
    f"open('/tmp/{token}', 'w').write('x'); open('/dev/shm/{token}', 'w').write('x')\\n"
    "ctypes.CDLL(None).shmget(0x5EED, 4096, 0o1600)\\n"
    "print(os.getuid(), os.readlink('/proc/self/ns/ipc'))"
)
print(r.ok, r.stdout.split()[0], r.stdout.split()[1] != os.readlink("/proc/self/ns/ipc"))
"""


def test_bare_backend_as_a_user_keeps_scratch_and_ipc_off_the_host():
    import shutil
    import subprocess
    import tempfile

    import reasongym.sandboxes

    if os.geteuid() != 0 or not shutil.which("setpriv") or not os.path.exists("/usr/bin/python3"):
        pytest.skip("needs root (to become a plain user with setpriv) and /usr/bin/python3")
    runs = tempfile.mkdtemp(prefix="reasongym-user-runs-")  # the user must reach it
    os.chmod(runs, 0o777)
    token = f"left-{secrets.token_hex(6)}"
    package = os.path.dirname(os.path.dirname(reasongym.sandboxes.__file__))
    try:
        out = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3"]
            + ["-c", AS_A_USER, package, runs, token],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": runs},
        )
    finally:
        shutil.rmtree(runs, ignore_errors=True)
    if "no private mount/IPC namespaces" in out.stderr:
        pytest.skip("unprivileged user namespaces are not allowed here")
    assert out.returncode == 0 and out.stdout == "True 65534 True\n", out
    assert not os.path.exists(f"/tmp/{token}") and not os.path.exists(f"/dev/shm/{token}")
    ipcs = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
    assert "0x00005eed" not in ipcs
