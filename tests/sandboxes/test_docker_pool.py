"""The Docker warm pool: locked-down containers, replacement of tainted ones, thread safety,
no leaks (close, interpreter exit, owner crash, orphan reaping), clear errors, recovery."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sandbox_helpers import IMAGE, docker_ps

from reasongym.sandboxes import (
    DockerSandbox,
    EngineUnavailable,
    ImageMissing,
    Limits,
    SandboxClosed,
)
from reasongym.sandboxes import engine as eng

pytestmark = pytest.mark.docker
LIMITS = Limits(timeout_s=2.0, memory_mb=128, pids=64, disk_mb=16)


@pytest.fixture
def client():
    import docker

    c = docker.from_env(timeout=30)
    yield c
    c.close()


def wait_until(predicate, timeout=10.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_containers_are_locked_down(client):
    with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS) as sb:
        (cid,) = sb.container_ids
        attrs = client.api.inspect_container(cid)
        host, config = attrs["HostConfig"], attrs["Config"]
        assert host["NetworkMode"] == "none"
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert sorted(host["CapAdd"]) == ["CAP_KILL", "CAP_SETGID", "CAP_SETUID"] or sorted(
            host["CapAdd"]
        ) == ["KILL", "SETGID", "SETUID"]
        assert "no-new-privileges" in host["SecurityOpt"]
        assert host["Memory"] == host["MemorySwap"] > 0
        assert host["PidsLimit"] and host["PidsLimit"] < 100
        # the program's core, plus the runner's share for the children it prepares ahead
        assert host["NanoCpus"] == 1_500_000_000
        assert set(host["Tmpfs"]) == {"/work", "/tmp"}
        assert host["AutoRemove"] is True
        assert config["User"] == "0:0"  # the runner only: it drops every program to 1000
        assert config["StdinOnce"] is True
        assert config["Labels"][eng.LABEL] == "1"
        assert config["Labels"][eng.LABEL_PID] == str(os.getpid())
        r = sb.run(
            "import os\nprint(os.getuid(), os.getgid(), os.getgroups())\n"
            "caps = [l.split()[1] for l in open('/proc/self/status') if l[:6] in ('CapEff', 'CapPrm', 'CapInh', 'CapAmb')]\n"
            "print(set(caps))"
        )
        assert r.stdout == "1000 1000 []\n{'0000000000000000'}\n", r


def test_the_cpu_quota_is_the_programs_plus_the_runners_share_on_fork_launch_only(client):
    """With launch="fork" the runner prepares the next runs' children while a run goes on:
    that work gets its own share on top of Limits.cpus (else it throttles the program); an
    exec-launch container runs nothing but the program, and gets exactly Limits.cpus."""
    quotas = {}
    for launch in ("fork", "exec"):
        with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS, launch=launch) as sb:
            (cid,) = sb.container_ids
            quotas[launch] = client.api.inspect_container(cid)["HostConfig"]["NanoCpus"]
            # a run asking for other limits updates the container in place, same rule
            assert sb.run("print(1)", limits=Limits(timeout_s=2.0, cpus=0.25)).stdout == "1\n"
            (cid,) = sb.container_ids
            quotas[launch + " 0.25"] = client.api.inspect_container(cid)["HostConfig"]["NanoCpus"]
    assert quotas == {
        "fork": 1_500_000_000,
        "fork 0.25": 750_000_000,
        "exec": 1_000_000_000,
        "exec 0.25": 250_000_000,
    }


def test_close_removes_every_container():
    sb = DockerSandbox(image=IMAGE, pool_size=2, limits=LIMITS)
    assert len(docker_ps(f"{eng.LABEL_POOL}={sb.pool_id}")) == 2
    sb.run("print(1)")
    sb.close()
    assert docker_ps(f"{eng.LABEL_POOL}={sb.pool_id}") == []
    with pytest.raises(SandboxClosed):
        sb.run("print(1)")
    sb.close()  # idempotent


def test_tainted_container_is_replaced():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS) as sb:
        (before,) = sb.container_ids
        assert sb.run("import time; time.sleep(30)").timed_out
        r = sb.run("print('next')")  # waits for the replacement, if need be
        assert r.ok and r.stdout == "next\n"
        assert before not in sb.container_ids
        assert wait_until(lambda: before not in docker_ps(f"{eng.LABEL_POOL}={sb.pool_id}"))


def test_healthy_container_is_reused():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS) as sb:
        ids = sb.container_ids
        for _ in range(5):
            assert sb.run("print(1)").ok
        assert sb.container_ids == ids


def test_thread_safe_under_contention():
    with DockerSandbox(image=IMAGE, pool_size=2, limits=LIMITS) as sb:

        def job(i):
            r = sb.run("import sys; print(int(sys.stdin.read()) * 2)", stdin=str(i))
            return r.stdout

        with ThreadPoolExecutor(max_workers=6) as ex:
            outputs = list(ex.map(job, range(40)))
        assert outputs == [f"{2 * i}\n" for i in range(40)]
        assert len(docker_ps(f"{eng.LABEL_POOL}={sb.pool_id}")) == 2


def test_runs_proceed_in_parallel():
    # Both workers busy at once: each run waits until the other has started.
    with DockerSandbox(image=IMAGE, pool_size=2, limits=Limits(timeout_s=20)) as sb:
        barrier = threading.Barrier(2, timeout=15)

        def job(_):
            barrier.wait()
            return sb.run("import time; time.sleep(1); print('ok')")

        with ThreadPoolExecutor(max_workers=2) as ex:
            results = list(ex.map(job, range(2)))
        assert all(r.ok for r in results)


def test_per_run_container_limits_are_applied(client):
    with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS) as sb:
        r = sb.run(
            "x = bytearray(200 << 20); print('ok')", limits=Limits(timeout_s=5, memory_mb=512)
        )
        assert r.ok, r
        (cid,) = sb.container_ids
        assert client.api.inspect_container(cid)["HostConfig"]["Memory"] >= 512 << 20
        r = sb.run("x = bytearray(200 << 20); print('ok')", limits=LIMITS)
        assert r.oom_killed
        r = sb.run(
            "import os; st = os.statvfs('.'); print(st.f_blocks * st.f_frsize >> 20)",
            limits=Limits(disk_mb=32),
        )
        assert r.stdout.strip() == "32"


def test_image_missing_says_how_to_build():
    with pytest.raises(ImageMissing, match="reasongym sandbox build"):
        DockerSandbox(image="reasongym-sandbox:no-such-tag", pool_size=1)


def test_engine_unreachable_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    t0 = time.monotonic()
    with pytest.raises(EngineUnavailable, match="Start a Docker engine"):
        DockerSandbox(image=IMAGE, pool_size=1)
    assert time.monotonic() - t0 < 10


OWNER_SCRIPT = """
import json, os, sys
from reasongym.sandboxes import DockerSandbox, Limits
sb = DockerSandbox(image=sys.argv[1], pool_size=2, limits=Limits(timeout_s=5))
assert sb.run("print(1)").ok
print(json.dumps({"pool": sb.pool_id, "ids": sb.container_ids}), flush=True)
how = sys.argv[2]
if how == "sigkill":
    os.kill(os.getpid(), 9)
elif how == "exit":
    sys.exit(0)  # atexit closes the pool
"""


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_nothing_left_when_the_owner_exits_or_crashes(how):
    proc = subprocess.run(
        [sys.executable, "-c", OWNER_SCRIPT, IMAGE, how],
        capture_output=True,
        text=True,
        timeout=120,
    )
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(info["ids"]) == 2
    # exit: atexit removed them; SIGKILL: the engine closed their stdin, the runner exited
    # and auto_remove removed them.
    assert wait_until(lambda: docker_ps(f"{eng.LABEL_POOL}={info['pool']}") == [], timeout=15)


def test_new_pool_reaps_orphans_of_dead_owners(client):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    me = eng.Owner.me()
    labels = eng.Owner(pid=dead.pid, start="1", host=me.host, boot=me.boot).labels("orphan-test")
    # An orphan that would otherwise live for ten minutes (no runner, no stdin to close).
    orphan = client.containers.run(
        IMAGE,
        ["python3", "-c", "import time; time.sleep(600)"],
        detach=True,
        labels=labels,
        network_mode="none",
    )
    try:
        assert docker_ps(f"{eng.LABEL_POOL}=orphan-test") == [orphan.id]
        with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS):
            assert docker_ps(f"{eng.LABEL_POOL}=orphan-test") == []
    finally:
        eng.remove_quietly(orphan)


def test_live_owners_containers_are_not_reaped():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS) as first:
        with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS):
            pass
        assert first.run("print('still mine')").ok


class EngineProxy:
    """A unix-socket proxy in front of the real engine socket that we can take down and bring
    back, as a stand-in for an engine restart (all traffic stays on this machine)."""

    def __init__(self, path: str, upstream: str = "/var/run/docker.sock"):
        self.path, self.upstream = path, upstream
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.up()

    def up(self):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self):
        """Refuse new connections and cut the open ones (attach streams included)."""
        listener, self._listener = self._listener, None
        listener.close()
        os.unlink(self.path)
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_engine_restart_mid_run_is_an_error_then_the_pool_recovers(tmp_path):
    import docker

    if docker.from_env().api.base_url != "http+docker://localhost":
        pytest.skip("the proxy stands in front of the local engine socket only")
    proxy = EngineProxy(str(tmp_path / "engine.sock"))
    client = docker.DockerClient(base_url=f"unix://{proxy.path}", timeout=10)
    sb = DockerSandbox(image=IMAGE, pool_size=1, limits=Limits(timeout_s=20), client=client)
    try:
        assert sb.run("print(1)").ok
        threading.Timer(1.0, proxy.down).start()
        t0 = time.monotonic()
        with pytest.raises(EngineUnavailable, match="mid-run"):
            sb.run("import time; time.sleep(10)")
        assert time.monotonic() - t0 < 8  # an error promptly, not a hang until the timeout
        with pytest.raises(EngineUnavailable):
            sb.run("print(2)")  # still down: fails fast, does not hang
        proxy.up()
        r = sb.run("print(3)")
        assert r.ok and r.stdout == "3\n"
    finally:
        sb.close()
    assert wait_until(lambda: docker_ps(f"{eng.LABEL_POOL}={sb.pool_id}") == [], timeout=15)


def test_a_forked_child_gets_its_own_pool():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS) as sb:
        parent_ids = sb.container_ids
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: must not touch the parent's containers or connections
            status = 1
            try:
                r = sb.run("print('child')")
                ok = r.stdout == "child\n" and not set(sb.container_ids) & set(parent_ids)
                sb.close()
                status = 0 if ok else 2
            finally:
                os.write(write, bytes([status]))
                os._exit(0)
        os.waitpid(pid, 0)
        assert os.read(read, 1) == b"\x00"
        assert sb.container_ids == parent_ids
        assert sb.run("print('parent')").stdout == "parent\n"


def test_a_forked_child_reconnects_with_the_given_connect(tmp_path):
    """A pool on a non-default engine must not fall back to the default engine after fork."""
    marker = tmp_path / "connected-in"

    def connect():
        marker.write_text(str(os.getpid()))
        return eng.connect()

    with DockerSandbox(image=IMAGE, pool_size=1, limits=LIMITS, connect=connect) as sb:
        assert marker.read_text() == str(os.getpid())
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                ok = sb.run("print('child')").stdout == "child\n"
                status = 0 if ok and marker.read_text() == str(os.getpid()) else 2
                sb.close()
            finally:
                os.write(write, bytes([status]))
                os._exit(0)
        os.waitpid(pid, 0)
        assert os.read(read, 1) == b"\x00"
        assert marker.read_text() != str(os.getpid())  # the child connected, the parent did not
