"""MultiEngineSandbox: balancing, failover and retry over several engines.

The fast tests use stand-in engines (``make_sandbox``); the Docker test starts a second dockerd
on this machine (its own socket, data root, exec root and pidfile; no bridge, no iptables),
loads the image into it, and stops it in the middle of a batch of runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sandbox_helpers import IMAGE, IN_CI, unavailable

from reasongym.sandboxes import (
    EngineUnavailable,
    ExecResult,
    Sandbox,
    SandboxClosed,
    SandboxCrashed,
    get_sandbox,
)
from reasongym.sandboxes.multi import HOSTS_ENV, MultiEngineSandbox, hosts_from_env


# -- stand-in engines -----------------------------------------------------------------------
class FakeEngines:
    """Engines that are up or down at the flip of a flag; runs can be held open."""

    def __init__(self, *hosts: str):
        self.up = dict.fromkeys(hosts, True)
        self.crash = dict.fromkeys(hosts, False)
        self.release = threading.Event()
        self.release.set()
        self.opened: list[FakeSandbox] = []
        # warm modules: how each engine answers ("ok", "false", "raise"), a gate its warming
        # waits on, every (host, name) asked, and every run as (host, code, modules it found)
        self.warm = dict.fromkeys(hosts, "ok")
        self.warm_gate = {h: threading.Event() for h in hosts}
        for gate in self.warm_gate.values():
            gate.set()
        self.warm_calls: list[tuple[str, str]] = []
        self.ran: list[tuple[str, str, frozenset[str]]] = []

    def make(self, host: str, pool_size: int) -> Sandbox:
        if not self.up[host]:
            raise EngineUnavailable(f"{host} is down")
        sandbox = FakeSandbox(self, host)
        self.opened.append(sandbox)
        return sandbox


class FakeSandbox(Sandbox):
    def __init__(self, engines: FakeEngines, host: str):
        super().__init__()
        self.engines, self.host, self.closed = engines, host, False
        self.modules: dict[str, str] = {}

    def run(self, code, stdin=None, files=None, limits=None) -> ExecResult:
        if self.closed:
            raise SandboxClosed()
        self.engines.release.wait(10)
        if not self.engines.up[self.host]:
            raise EngineUnavailable(f"{self.host} went away")
        if self.engines.crash[self.host]:
            raise SandboxCrashed("container died")
        self.engines.ran.append((self.host, code, frozenset(self.modules)))
        return ExecResult(stdout=f"{self.host}:{code}", stderr="", exit_code=0)

    def warm_module(self, name: str, source: str) -> bool:
        self.engines.warm_calls.append((self.host, name))
        assert self.engines.warm_gate[self.host].wait(10)
        if self.closed:
            raise SandboxClosed()
        how = self.engines.warm[self.host]
        if how == "raise":
            raise SandboxCrashed(f"{self.host} could not import {name}")
        if how == "false":
            return False
        self.modules[name] = source
        return True

    def close(self) -> None:
        self.closed = True


def _multi(engines: FakeEngines, **kwargs) -> MultiEngineSandbox:
    kwargs.setdefault("retry_after_s", 0.05)
    return MultiEngineSandbox(list(engines.up), make_sandbox=engines.make, **kwargs)


def _runs(sb: MultiEngineSandbox) -> dict[str, int]:
    return {e.host: e.runs for e in sb.engines()}


def test_sequential_runs_alternate():
    engines = FakeEngines("a", "b")
    with _multi(engines) as sb:
        outputs = [sb.run(str(i)).stdout for i in range(10)]
        assert _runs(sb) == {"a": 5, "b": 5}
        assert outputs[0].endswith(":0") and outputs[9].endswith(":9")


@pytest.mark.parametrize(("pool_size", "expected"), [(2, [2, 2]), ([1, 3], [1, 3])])
def test_concurrent_runs_balance_by_warm_containers(pool_size, expected):
    engines = FakeEngines("a", "b")
    engines.release.clear()
    with _multi(engines, pool_size=pool_size) as sb, ThreadPoolExecutor(4) as ex:
        futures = [ex.submit(sb.run, str(i)) for i in range(4)]
        deadline = time.monotonic() + 5
        while sum(e.in_flight for e in sb.engines()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [e.in_flight for e in sb.engines()] == expected
        engines.release.set()
        assert all(f.result().exit_code == 0 for f in futures)


def test_engine_going_away_fails_over_and_comes_back():
    engines = FakeEngines("a", "b")
    with _multi(engines) as sb:
        sb.run("warm")  # on a
        engines.up["b"] = False
        result = sb.run("x")  # b's turn: it fails, the run goes to a
        assert result.stdout == "a:x"
        b = sb.engines()[1]
        assert not b.up and b.failovers == 1 and "went away" in b.last_error
        assert all(sb.run(str(i)).stdout.startswith("a:") for i in range(3))
        engines.up["b"] = True
        deadline = time.monotonic() + 5
        while not sb.engines()[1].up:  # runs trigger the retry (in the background)
            assert time.monotonic() < deadline, "engine b was not retried"
            sb.run("poll")
            time.sleep(0.02)
        hosts = {sb.run(str(i)).stdout.split(":")[0] for i in range(4)}
        assert hosts == {"a", "b"}


def test_runs_in_flight_on_a_dying_engine_are_rerun():
    engines = FakeEngines("a", "b")
    engines.release.clear()
    with _multi(engines, retry_after_s=60) as sb, ThreadPoolExecutor(6) as ex:
        futures = [ex.submit(sb.run, str(i)) for i in range(6)]
        time.sleep(0.2)
        engines.up["b"] = False
        engines.release.set()
        outputs = [f.result(timeout=10).stdout for f in futures]
    assert sorted(o.split(":")[1] for o in outputs) == [str(i) for i in range(6)]
    assert all(o.startswith("a:") for o in outputs)


def test_every_engine_down_raises_with_each_reason():
    engines = FakeEngines("a", "b")
    with _multi(engines, retry_after_s=60) as sb:
        engines.up.update(a=False, b=False)
        with pytest.raises(EngineUnavailable) as err:
            sb.run("x")
        assert "a: " in str(err.value) and "b: " in str(err.value)


def test_start_with_one_engine_down_and_with_none():
    engines = FakeEngines("a", "b")
    engines.up["b"] = False
    with _multi(engines, retry_after_s=60) as sb:
        assert [e.up for e in sb.engines()] == [True, False]
        assert sb.run("x").stdout == "a:x"
    engines.up["a"] = False
    with pytest.raises(EngineUnavailable, match="none of the engines"):
        _multi(engines)


def test_crashed_container_reruns_elsewhere_without_setting_the_engine_aside(monkeypatch):
    engines = FakeEngines("a", "b")
    monkeypatch.setattr(MultiEngineSandbox, "_answers", lambda self, e: True)
    with _multi(engines) as sb:
        sb.run("warm")  # on a
        engines.crash["b"] = True
        assert sb.run("x").stdout == "a:x"
        assert all(e.up for e in sb.engines())
        engines.crash["a"] = True
        with pytest.raises(SandboxCrashed):
            sb.run("y")


def test_forked_child_opens_its_own_pools():
    import multiprocessing

    engines = FakeEngines("a", "b")
    with _multi(engines) as sb:
        parent_pools = list(engines.opened)

        def child(conn):
            result = sb.run("x")  # the parent's pools are not used: new ones open here
            conn.send((result.stdout, len(engines.opened), [p.closed for p in parent_pools]))

        parent_end, child_end = multiprocessing.get_context("fork").Pipe()
        proc = multiprocessing.get_context("fork").Process(target=child, args=(child_end,))
        proc.start()
        stdout, opened, parent_closed = parent_end.recv()
        proc.join(10)
        assert stdout.endswith(":x") and opened == 4 and parent_closed == [False, False]
        assert sb.run("y").stdout.endswith(":y") and len(engines.opened) == 2


def test_close_closes_every_pool():
    engines = FakeEngines("a", "b")
    sb = _multi(engines)
    sb.close()
    assert all(s.closed for s in engines.opened)
    with pytest.raises(SandboxClosed):
        sb.run("x")


def test_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        MultiEngineSandbox([])
    with pytest.raises(ValueError, match="twice"):
        MultiEngineSandbox(["a", "a"])
    with pytest.raises(ValueError, match="pool_size"):
        MultiEngineSandbox(["a", "b"], pool_size=[1])


def test_hosts_from_env():
    assert hosts_from_env({HOSTS_ENV: "unix:///a.sock, tcp://10.0.0.2:2376\nssh://me@b"}) == [
        "unix:///a.sock",
        "tcp://10.0.0.2:2376",
        "ssh://me@b",
    ]
    assert hosts_from_env({}) == []


# -- warm modules on stand-in engines ------------------------------------------------------
def _wait_until_up(sb: MultiEngineSandbox, index: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not sb.engines()[index].up:  # runs trigger the retry (in the background)
        assert time.monotonic() < deadline, f"engine not revived: {sb.engines()[index]}"
        sb.run("poll")
        time.sleep(0.02)


def test_warm_module_warms_every_engine_once_and_every_run_finds_it():
    engines = FakeEngines("a", "b", "c")
    with _multi(engines) as sb:
        assert sb.warm_module("rg_mod", "x = 1") is True
        assert sb.warm_module("rg_mod", "x = 1") is True  # again: no engine is asked again
        assert sorted(engines.warm_calls) == [("a", "rg_mod"), ("b", "rg_mod"), ("c", "rg_mod")]
        assert [e.warm_modules for e in sb.engines()] == [("rg_mod",)] * 3
        for i in range(6):
            sb.run(str(i))
        assert {host for host, _, _ in engines.ran} == {"a", "b", "c"}
        assert all("rg_mod" in found for _, _, found in engines.ran), engines.ran


def test_warm_module_refuses_a_bad_name_and_a_different_source():
    engines = FakeEngines("a", "b")
    with _multi(engines, retry_after_s=60) as sb:
        with pytest.raises(ValueError, match="identifier"):
            sb.warm_module("not a name", "x = 1")
        with pytest.raises(TypeError, match="str"):
            sb.warm_module("rg_bytes", b"x = 1")
        assert sb.warm_module("rg_mod", "x = 1")
        with pytest.raises(ValueError, match="different module"):
            sb.warm_module("rg_mod", "x = 2")
        # one that was sent but not promised (b failed) is held by a: a conflict too
        engines.warm["b"] = "false"
        assert sb.warm_module("rg_half", "y = 1") is False
        with pytest.raises(ValueError, match="different module"):
            sb.warm_module("rg_half", "y = 2")
        assert sorted(engines.warm_calls[2:]) == [("a", "rg_half"), ("b", "rg_half")]
    with pytest.raises(SandboxClosed):
        sb.warm_module("rg_mod", "x = 1")


@pytest.mark.parametrize("how", ["false", "raise"])
def test_an_engine_that_cannot_warm_makes_it_false_and_keeps_taking_runs(how, caplog):
    engines = FakeEngines("a", "b")
    engines.warm["b"] = how
    with _multi(engines, retry_after_s=0.3) as sb:
        with caplog.at_level(logging.DEBUG, logger="reasongym.sandboxes"):
            assert sb.warm_module("rg_mod", "x = 1") is False
        # an exception is a warning; a plain False (a backend without warm modules, or one
        # that logged its own failure) only a debug line
        said = [(r.levelno, r.getMessage()) for r in caplog.records if "rg_mod" in r.getMessage()]
        level = logging.WARNING if how == "raise" else logging.DEBUG
        assert [lvl for lvl, _ in said] == [level], said
        assert "engine b" in said[0][1]
        assert [e.up for e in sb.engines()] == [True, True]
        assert [e.warm_modules for e in sb.engines()] == [("rg_mod",), ()]
        asked = len(engines.warm_calls)
        # asked again before the backoff: False without another attempt
        assert sb.warm_module("rg_mod", "x = 1") is False
        assert len(engines.warm_calls) == asked
        assert {sb.run(str(i)).stdout.split(":")[0] for i in range(4)} == {"a", "b"}
        # b can import it now: after the backoff only b is asked, and it is promised
        engines.warm["b"] = "ok"
        time.sleep(0.35)
        assert sb.warm_module("rg_mod", "x = 1") is True
        assert engines.warm_calls[asked:] == [("b", "rg_mod")]
        engines.ran.clear()
        for i in range(4):
            sb.run(str(i))
        assert all("rg_mod" in found for _, _, found in engines.ran), engines.ran


@pytest.mark.parametrize("start_down", [True, False], ids=["opened-later", "revived"])
def test_an_engine_that_comes_up_later_holds_the_modules_before_its_first_run(start_down):
    engines = FakeEngines("a", "b")
    engines.up["b"] = not start_down
    with _multi(engines) as sb:
        assert sb.warm_module("rg_mod", "x = 1") is True
        if not start_down:  # b goes away and is set aside
            engines.up["b"] = False
            while sb.engines()[1].up:
                sb.run("x")
        first_pool = engines.opened[-1]
        engines.up["b"] = True
        _wait_until_up(sb, 1)
        assert engines.opened[-1] is not first_pool and engines.opened[-1].host == "b"
        for i in range(6):
            sb.run(str(i))
        on_b = [found for host, _, found in engines.ran if host == "b"]
        assert on_b and all("rg_mod" in found for found in on_b), engines.ran
        assert sb.engines()[1].warm_modules == ("rg_mod",)


def test_a_module_promised_while_an_engine_is_opening_is_warmed_there_before_it_serves():
    engines = FakeEngines("a", "b")
    with _multi(engines) as sb:
        assert sb.warm_module("rg_one", "x = 1")
        engines.up["b"] = False
        while sb.engines()[1].up:
            sb.run("x")
        engines.up["b"] = True
        engines.warm_gate["b"].clear()  # b's new pool is stuck importing rg_one
        deadline = time.monotonic() + 5
        while ("b", "rg_one") not in engines.warm_calls[2:]:
            assert time.monotonic() < deadline, "b was not revived"
            sb.run("poll")
            time.sleep(0.02)
        # promised now: only a is up; b, still opening, must import it before it serves
        assert sb.warm_module("rg_two", "y = 2") is True
        engines.warm_gate["b"].set()
        _wait_until_up(sb, 1)
        engines.ran.clear()
        for i in range(4):
            sb.run(str(i))
        assert {h for h, _, _ in engines.ran} == {"a", "b"}
        assert all(found == {"rg_one", "rg_two"} for _, _, found in engines.ran), engines.ran


def test_a_revived_engine_that_cannot_warm_still_serves_and_the_promise_is_withdrawn():
    engines = FakeEngines("a", "b")
    with _multi(engines, retry_after_s=0.05) as sb:
        assert sb.warm_module("rg_mod", "x = 1")
        engines.up["b"] = False
        while sb.engines()[1].up:
            sb.run("x")
        engines.warm["b"] = "raise"
        engines.up["b"] = True
        _wait_until_up(sb, 1)  # taking runs without it: capacity is not traded for speed
        assert sb.engines()[1].warm_modules == ()
        assert sb.warm_module("rg_mod", "x = 1") is False  # no longer promised
        engines.warm["b"] = "ok"
        deadline = time.monotonic() + 5
        while not sb.warm_module("rg_mod", "x = 1"):  # retried after the backoff
            assert time.monotonic() < deadline
            time.sleep(0.05)
        engines.ran.clear()
        for i in range(4):
            sb.run(str(i))
        assert all("rg_mod" in found for _, _, found in engines.ran), engines.ran


def test_concurrent_warm_module_calls_ask_each_engine_once():
    engines = FakeEngines("a", "b")
    engines.warm_gate["a"].clear()  # hold the first call so that the others pile up
    with _multi(engines) as sb, ThreadPoolExecutor(8) as ex:
        futures = [ex.submit(sb.warm_module, "rg_mod", "x = 1") for _ in range(8)]
        time.sleep(0.2)
        engines.warm_gate["a"].set()
        assert [f.result(timeout=10) for f in futures] == [True] * 8
        assert sorted(engines.warm_calls) == [("a", "rg_mod"), ("b", "rg_mod")]


def test_a_forked_child_warms_its_own_pools_before_their_first_run():
    import multiprocessing

    engines = FakeEngines("a", "b")
    with _multi(engines) as sb:
        assert sb.warm_module("rg_mod", "x = 1")

        def child(conn):
            engines.ran.clear()
            promised = sb.warm_module("rg_mod", "x = 1")
            for i in range(4):
                sb.run(str(i))
            conn.send((promised, [found for _, _, found in engines.ran], len(engines.opened)))

        ctx = multiprocessing.get_context("fork")
        parent_end, child_end = ctx.Pipe()
        proc = ctx.Process(target=child, args=(child_end,))
        proc.start()
        promised, found, opened = parent_end.recv()
        proc.join(10)
        assert promised is True and opened == 4
        assert found and all(f == {"rg_mod"} for f in found), found


# -- two real engines -----------------------------------------------------------------------
DEFAULT_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


class SecondEngine:
    """A dockerd of our own: separate socket, data root, exec root and pidfile; no bridge and
    no iptables rules, so it touches nothing of the machine's engine or network."""

    def __init__(self) -> None:
        # short: containerd's socket lives under the exec root (108-byte limit on unix sockets)
        self.root = tempfile.mkdtemp(prefix="rgd-", dir="/tmp")
        self.socket = f"{self.root}/docker.sock"
        self.host = f"unix://{self.socket}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        log = open(f"{self.root}/dockerd.log", "ab")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen(
            [
                "dockerd",
                f"--host={self.host}",
                f"--data-root={self.root}/data",
                f"--exec-root={self.root}/exec",
                f"--pidfile={self.root}/docker.pid",
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
                "--userland-proxy=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"second dockerd did not start: {self.log_tail()}")
            time.sleep(0.5)

    def answers(self) -> bool:
        done = subprocess.run(
            ["docker", "-H", self.host, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            timeout=30,
        )
        return done.returncode == 0

    def load_image(self, image: str) -> None:
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "-H", self.host, "load", "-q"],
            stdin=save.stdout,
            check=True,
            capture_output=True,
            timeout=300,
        )
        save.stdout.close()
        assert save.wait(timeout=60) == 0

    def stop(self, timeout: float = 60) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def containers(self, label: str) -> list[str]:
        return subprocess.run(
            ["docker", "-H", self.host, "ps", "-aq", "--filter", f"label={label}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()

    def remove(self) -> None:
        self.stop()
        # a containerd that outlived its dockerd (it should not) is ours to stop
        for pid in _pids_with(f"{self.root}/exec"):
            os.kill(pid, signal.SIGKILL)
        with open("/proc/mounts") as f:
            mounts = [line.split()[1] for line in f if self.root in line]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            with open(f"{self.root}/dockerd.log", "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""


def _pids_with(token: str) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            continue
    return pids


@pytest.fixture
def second_engine():
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        unavailable("a second Docker engine needs root and dockerd (scripts/setup_docker.sh)")
    engine = SecondEngine()
    try:
        engine.start()
        engine.load_image(IMAGE)
    except Exception as exc:  # noqa: BLE001
        tail = engine.log_tail()
        engine.remove()
        if IN_CI:
            pytest.fail(f"could not start a second dockerd: {exc}\n{tail}", pytrace=False)
        pytest.skip(f"could not start a second dockerd: {exc}")
    yield engine
    engine.remove()
    assert not os.path.exists(engine.root)
    assert _pids_with(engine.root) == [], "a process of the second engine outlived it"


@pytest.mark.docker
@pytest.mark.slow
def test_two_engines_balance_fail_over_and_recover(second_engine):
    hosts = [DEFAULT_HOST, second_engine.host]
    sb = MultiEngineSandbox(hosts, image=IMAGE, pool_size=2, retry_after_s=1.0)
    pools = [e.pool_id for e in sb.engines()]
    try:
        assert all(e.up for e in sb.engines())

        def run(i: int, sleep: float = 0.3) -> str:
            result = sb.run(f"import time; time.sleep({sleep}); print({i} * 2)")
            assert result.ok, result
            return result.stdout

        with ThreadPoolExecutor(4) as ex:
            assert list(ex.map(run, range(8))) == [f"{i * 2}\n" for i in range(8)]
        assert all(e.runs >= 2 for e in sb.engines()), sb.engines()

        # stop the second engine under load (dockerd stops its containers, killing the runs
        # in them): every run still completes, with the right output
        stopped = threading.Event()

        def keep_running(k: int) -> list[tuple[int, str]]:
            out, i = [], k
            while not stopped.is_set() or len(out) < 3:
                out.append((i, run(i, sleep=1.0)))
                i += 4
            return out

        with ThreadPoolExecutor(4) as ex:
            futures = [ex.submit(keep_running, k) for k in range(4)]
            time.sleep(1.5)
            second_engine.stop()
            stopped.set()
            done = [pair for f in futures for pair in f.result(timeout=300)]
        assert all(out == f"{i * 2}\n" for i, out in done)
        second = sb.engines()[1]
        assert not second.up and second.failovers >= 1, second
        assert all(run(i) == f"{i * 2}\n" for i in range(3))

        # the engine comes back: it is retried and takes runs again
        second_engine.start()
        deadline = time.monotonic() + 90
        while not sb.engines()[1].up:
            assert time.monotonic() < deadline, f"engine not retried: {sb.engines()[1]}"
            run(0)
            time.sleep(0.5)
        before = sb.engines()[1].runs
        with ThreadPoolExecutor(4) as ex:
            list(ex.map(run, range(8)))
        assert sb.engines()[1].runs > before
        pools.append(sb.engines()[1].pool_id)
    finally:
        sb.close()
    for pool in pools:
        label = f"org.reasongym.pool={pool}"
        deadline = time.monotonic() + 30
        while subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label={label}"], capture_output=True, text=True
        ).stdout.split() or second_engine.containers(label):
            assert time.monotonic() < deadline, f"containers of pool {pool} left behind"
            time.sleep(0.5)


@pytest.mark.docker
def test_get_sandbox_reads_the_engine_list_from_the_env(monkeypatch):
    monkeypatch.setenv(HOSTS_ENV, DEFAULT_HOST)
    for backend in ("docker", "auto"):
        with get_sandbox(backend, pool_size=1) as sb:
            assert isinstance(sb, MultiEngineSandbox)
            assert [e.host for e in sb.engines()] == [DEFAULT_HOST]
            assert sb.run("print(7)").stdout == "7\n"


# -- warm modules on real engines ------------------------------------------------------------
class RecordedEngines:
    """Real Docker pools (one per engine URL) behind a proxy that records what each run was
    sent and, when a host is ``broken``, answers like an engine that went away."""

    def __init__(self) -> None:
        self.broken: set[str] = set()
        self.sent: list[tuple[str, str, list[str]]] = []  # (host, pool id, file names)
        self.pools: list[str] = []  # pool ids, in the order they were opened

    def make(self, host: str, pool_size: int) -> Sandbox:
        from reasongym.sandboxes import DockerSandbox
        from reasongym.sandboxes.multi import connect_to

        if host in self.broken:
            raise EngineUnavailable(f"{host} is broken on purpose")
        inner = DockerSandbox(image=IMAGE, pool_size=pool_size, client=connect_to(host))
        self.pools.append(inner.pool_id)
        return _Recorded(self, host, inner)

    def assert_nothing_left(self, timeout: float = 30) -> None:
        """Every pool's containers are gone (one set aside closes in the background)."""
        from sandbox_helpers import docker_ps

        deadline = time.monotonic() + timeout
        for pool in self.pools:
            while docker_ps(f"org.reasongym.pool={pool}"):
                assert time.monotonic() < deadline, f"containers of pool {pool} left behind"
                time.sleep(0.5)


class _Recorded(Sandbox):
    def __init__(self, engines: RecordedEngines, host: str, inner: Sandbox):
        super().__init__()
        self.engines, self.host, self.inner = engines, host, inner
        self.pool_id = inner.pool_id

    def run(self, code, stdin=None, files=None, limits=None) -> ExecResult:
        if self.host in self.engines.broken:
            raise EngineUnavailable(f"{self.host} is broken on purpose")
        self.engines.sent.append((self.host, self.pool_id, sorted(files or {})))
        return self.inner.run(code, stdin=stdin, files=files, limits=limits)

    def warm_module(self, name: str, source: str) -> bool:
        return self.inner.warm_module(name, source)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def two_local_engines(tmp_path):
    """Two engine URLs for the local dockerd (the second a symlink to its socket), so that a
    MultiEngineSandbox keeps two pools and balances between them, with no second dockerd."""
    if not DEFAULT_HOST.startswith("unix://"):
        pytest.skip(f"needs the local engine on a unix socket (DOCKER_HOST={DEFAULT_HOST})")
    alias = tmp_path / "docker.sock"
    os.symlink(DEFAULT_HOST.removeprefix("unix://"), alias)
    return [DEFAULT_HOST, f"unix://{alias}"]


def _sum_squares_task():
    from reasongym.envs.tasks.humaneval import check_steps
    from reasongym.envs.types import Task

    prompt = 'def sum_squares(xs):\n    """The sum of the squares of the numbers in xs."""\n'
    test = (
        "def check(candidate):\n"
        "    assert candidate([]) == 0\n"
        "    assert candidate([1, 2]) == 5\n"
        "    assert candidate([-3]) == 9\n"
        "    assert candidate([1.5]) == 2.25\n"
    )
    return Task(
        id="multi/sum_squares",
        question=prompt,
        answer=f"```python\n{prompt}    return sum(x * x for x in xs)\n```",
        meta={"entry_point": "sum_squares", "prompt": prompt, "steps": check_steps(test)},
    )


@pytest.mark.docker
def test_graded_runs_on_several_engines_use_the_warm_harness(two_local_engines):
    from reasongym.envs.verifiers import code_runner
    from reasongym.envs.verifiers.code import CodeTestsVerifier

    engines = RecordedEngines()
    task = _sum_squares_task()
    with MultiEngineSandbox(
        two_local_engines, image=IMAGE, pool_size=1, make_sandbox=engines.make
    ) as sb:
        name = code_runner.harness_module()
        assert sb.warm_module(name, code_runner.harness_source()) is True
        assert [e.warm_modules for e in sb.engines()] == [(name,), (name,)]
        with pytest.raises(ValueError, match="different module"):
            sb.warm_module(name, code_runner.harness_source() + "\n# changed")
        verifier = CodeTestsVerifier(sandbox=sb, timeout_s=20)
        scores = [verifier(task, task.answer).score for _ in range(4)]
        wrong = verifier(task, "```python\ndef sum_squares(xs):\n    return sum(xs) + len(xs)\n```")
    assert scores == [1.0] * 4
    # the [] and [1, 2] tests hold; a constant 0 passes the first too, so it earns nothing
    assert wrong.details["passed"] == 2, wrong.details
    assert wrong.score == pytest.approx(1 / 3), wrong.details
    assert {host for host, _, _ in engines.sent} == set(two_local_engines)
    assert all(files == ["solution.py"] for _, _, files in engines.sent), engines.sent
    engines.assert_nothing_left()


@pytest.mark.docker
def test_a_revived_engine_imports_the_warm_modules_before_its_first_run(two_local_engines):
    from reasongym.envs.verifiers import code_runner
    from reasongym.envs.verifiers.code import CodeTestsVerifier

    engines = RecordedEngines()
    task = _sum_squares_task()
    probe = "import sys; print('rg_multi_probe' in sys.modules, sys.modules['rg_multi_probe'].X)"
    second = two_local_engines[1]
    with MultiEngineSandbox(
        two_local_engines, image=IMAGE, pool_size=1, retry_after_s=0.5, make_sandbox=engines.make
    ) as sb:
        assert sb.warm_module("rg_multi_probe", "X = 41 + 1") is True
        assert sb.warm_module(code_runner.harness_module(), code_runner.harness_source())
        first_pool = sb.engines()[1].pool_id
        engines.broken.add(second)
        while sb.engines()[1].up:  # the second engine's next run finds it gone
            assert sb.run(probe).stdout == "True 42\n"
        engines.broken.discard(second)
        deadline = time.monotonic() + 60
        while not sb.engines()[1].up:
            assert time.monotonic() < deadline, f"engine not revived: {sb.engines()[1]}"
            assert sb.run(probe).stdout == "True 42\n"
            time.sleep(0.2)
        revived = sb.engines()[1]
        assert revived.pool_id != first_pool
        assert set(revived.warm_modules) == {"rg_multi_probe", code_runner.harness_module()}
        engines.sent.clear()
        outputs = [sb.run(probe).stdout for _ in range(4)]
        verifier = CodeTestsVerifier(sandbox=sb, timeout_s=20)
        scores = [verifier(task, task.answer).score for _ in range(4)]
    assert outputs == ["True 42\n"] * 4 and scores == [1.0] * 4
    on_revived = [files for host, pool, files in engines.sent if pool == revived.pool_id]
    assert len(on_revived) >= 2 and all("harness.py" not in f for f in on_revived), engines.sent
    assert len(engines.pools) == 3  # the first engine's, the second's, its revival's
    engines.assert_nothing_left()
