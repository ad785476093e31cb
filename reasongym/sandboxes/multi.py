"""``MultiEngineSandbox``: one sandbox over several Docker engines.

```python
from reasongym.sandboxes.multi import MultiEngineSandbox
hosts = ["unix:///var/run/docker.sock", "ssh://runner@10.0.0.7", "tcp://10.0.0.8:2376"]
with MultiEngineSandbox(hosts, pool_size=8) as sb:
    sb.run("print(42)").stdout
```

Or without code changes: ``REASONGYM_DOCKER_HOSTS="unix:///var/run/docker.sock ssh://..."``
makes ``get_sandbox("docker")`` / ``"auto"`` (and so every code env) use one.

Each engine (a ``DOCKER_HOST``-style URL; ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH`` apply to
all) gets its own :class:`~reasongym.sandboxes.docker.DockerSandbox` warm pool. A run goes to
the engine with the fewest runs in flight per warm container (ties: the next one in turn).

An engine that stops answering (or refuses to start containers, or lacks the image) is set
aside: the run that found out is rerun on another engine (runs are hermetic: a fresh work
dir, no network, so a rerun is safe), runs in flight on it do the same, and the engine is
retried in the background after ``retry_after_s``, doubling up to ``max_retry_after_s``; it
takes runs again once its pool is warm. Only when no engine can take a run does ``run``
raise :class:`~reasongym.sandboxes.errors.EngineUnavailable`, naming each engine's problem.

Warm modules (:meth:`MultiEngineSandbox.warm_module`, e.g. the code-test harness) are imported
on every engine that is up, and on every engine opened or revived later before it takes a run.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from reasongym.sandboxes import engine as engine_mod
from reasongym.sandboxes.base import Files, Sandbox
from reasongym.sandboxes.errors import (
    DockerSDKMissing,
    EngineUnavailable,
    SandboxClosed,
    SandboxCrashed,
    SandboxError,
)
from reasongym.sandboxes.types import ExecResult, Limits

log = logging.getLogger("reasongym.sandboxes")

HOSTS_ENV = "REASONGYM_DOCKER_HOSTS"


def hosts_from_env(environ: dict[str, str] | None = None) -> list[str]:
    """Engine URLs in ``REASONGYM_DOCKER_HOSTS`` (separated by commas or whitespace)."""
    value = (environ if environ is not None else os.environ).get(HOSTS_ENV, "")
    return [h for h in value.replace(",", " ").split() if h]


def connect_to(host: str, timeout: float = 30.0) -> Any:
    """A ``docker.DockerClient`` for ``host``, checked with a ping (TLS settings from the env).

    Raises:
        DockerSDKMissing, EngineUnavailable.
    """
    docker = engine_mod.docker_sdk()
    try:
        client = docker.from_env(environment={**os.environ, "DOCKER_HOST": host}, timeout=timeout)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - SDK, requests and socket errors alike
        raise EngineUnavailable(f"{host}: {exc}") from None
    return client


@dataclass(frozen=True)
class EngineStatus:
    """One engine as the sandbox sees it (``MultiEngineSandbox.engines()``).

    Attributes:
        host: the engine URL.
        up: taking runs.
        in_flight: runs on it now.
        runs: runs it finished (with any outcome of the program).
        failovers: times it was set aside.
        last_error: why it was last set aside (None if never).
        pool_id: the ``org.reasongym.pool`` label of its warm containers (None while down).
        warm_modules: the warm modules (``warm_module``) its pool holds, sorted.
    """

    host: str
    up: bool
    in_flight: int
    runs: int
    failovers: int
    last_error: str | None
    pool_id: str | None
    warm_modules: tuple[str, ...] = ()


class _Engine:
    def __init__(self, host: str, capacity: int, retry_after_s: float):
        self.host = host
        self.capacity = capacity
        self.sandbox: Any = None  # a DockerSandbox while up
        self.in_flight = 0
        self.runs = 0
        self.failovers = 0
        self.last_error: str | None = None
        self.retry_at = 0.0  # monotonic time of the next revival attempt
        self.backoff = retry_after_s
        self.reviving = False
        self.warm: set[str] = set()  # warm modules its current sandbox holds

    def status(self) -> EngineStatus:
        sandbox = self.sandbox
        return EngineStatus(
            host=self.host,
            up=sandbox is not None,
            in_flight=self.in_flight,
            runs=self.runs,
            failovers=self.failovers,
            last_error=self.last_error,
            pool_id=getattr(sandbox, "pool_id", None),
            warm_modules=tuple(sorted(self.warm)) if sandbox is not None else (),
        )


class MultiEngineSandbox(Sandbox):
    """Runs code on a warm pool per Docker engine, balanced, failing over between engines.

    Args:
        hosts: engine URLs (``unix://``, ``tcp://``, ``ssh://``), each at most once.
        image: the sandbox image; every engine needs it (see ``docs/scale.md``).
        pool_size: warm containers per engine (an int for all, or one per host); runs are
            balanced by runs in flight per warm container.
        limits: default limits of a run.
        retry_after_s: first wait before retrying an engine that was set aside (then doubled).
        max_retry_after_s: the longest wait between retries.
        connect_timeout_s: timeout of each engine's API calls.
        make_sandbox: ``(host, pool_size) -> Sandbox`` replacing the Docker pool (for tests).

    Raises:
        ValueError: no hosts, a host listed twice, or a bad ``pool_size``.
        EngineUnavailable: no engine could start its pool (each one's reason is given).
    """

    name = "docker"

    def __init__(
        self,
        hosts: Sequence[str],
        image: str = engine_mod.DEFAULT_IMAGE,
        pool_size: int | Sequence[int] = 2,
        limits: Limits | None = None,
        *,
        retry_after_s: float = 5.0,
        max_retry_after_s: float = 120.0,
        connect_timeout_s: float = 30.0,
        make_sandbox: Callable[[str, int], Sandbox] | None = None,
    ) -> None:
        super().__init__(limits)
        hosts = list(hosts)
        if not hosts:
            raise ValueError(f"hosts is empty: give at least one engine URL (or set {HOSTS_ENV})")
        if len(set(hosts)) != len(hosts):
            raise ValueError(f"hosts lists an engine twice: {hosts}")
        sizes = [pool_size] * len(hosts) if isinstance(pool_size, int) else list(pool_size)
        if len(sizes) != len(hosts) or not all(isinstance(s, int) and s >= 1 for s in sizes):
            raise ValueError(f"pool_size={pool_size!r}: an int >= 1, or one per host")
        if not 0 < retry_after_s <= max_retry_after_s:
            raise ValueError("need 0 < retry_after_s <= max_retry_after_s")
        self.image = image
        self.retry_after_s = retry_after_s
        self.max_retry_after_s = max_retry_after_s
        self.connect_timeout_s = connect_timeout_s
        self._make_sandbox = make_sandbox or self._docker_sandbox
        self._engines = [_Engine(h, s, retry_after_s) for h, s in zip(hosts, sizes, strict=True)]
        self._cond = threading.Condition()
        self._turn = 0
        self._closed = False
        self._threads: set[threading.Thread] = set()
        # warm_module: every module ever sent to an engine (name -> source), the ones promised
        # to every run (each engine that is up holds them all: see _open and _warm_everywhere),
        # and, for one that some engine could not import, (retry time, next backoff).
        self._sources: dict[str, str] = {}
        self._warm: dict[str, str] = {}
        self._cold: dict[str, tuple[float, float]] = {}
        self._warm_lock = threading.Lock()  # one warm_module at a time past the fast path
        _LIVE.add(self)
        with ThreadPoolExecutor(max_workers=len(self._engines)) as ex:
            opened = list(ex.map(self._open, self._engines))
        if not any(opened):
            self.close()
            raise EngineUnavailable(
                "none of the engines could start a sandbox pool: " + self._problems()
            )

    # --- public API -------------------------------------------------------------------

    def run(
        self,
        code: str,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        tried: set[int] = set()
        crash: SandboxCrashed | None = None
        while True:
            try:
                engine, sandbox = self._pick(tried)
            except EngineUnavailable:
                if crash is not None:  # every engine answers; the containers kept dying
                    raise crash from None
                raise
            try:
                result = sandbox.run(code, stdin=stdin, files=files, limits=limits)
            except SandboxClosed:
                if self._closed:
                    raise
                tried.add(id(engine))  # set aside by another thread meanwhile: go elsewhere
                continue
            except DockerSDKMissing:
                raise
            except SandboxError as exc:
                if isinstance(exc, SandboxCrashed) and self._answers(engine):
                    # the container died, not the engine (the pool replaced it): rerun elsewhere
                    log.info("run on %s crashed (%s); rerunning elsewhere", engine.host, exc)
                    crash = exc
                else:
                    self._set_aside(engine, sandbox, exc)
                tried.add(id(engine))
                continue
            finally:
                with self._cond:
                    engine.in_flight -= 1
            with self._cond:
                engine.runs += 1
            return result

    def warm_module(self, name: str, source: str) -> bool:
        """Have every engine's pool import ``source`` as module ``name`` (see
        :meth:`Sandbox.warm_module`), now on each engine that is up, and on each engine opened or
        revived later before it takes a run.

        True is a promise that every run finds the module, kept with one exception: an engine
        opened later that cannot import it still takes runs (an engine is never given up for an
        optimisation) and the promise is withdrawn, so a caller that was told True may land a
        run there without the module; the caller's fallback (``code_runner``: the loader exits
        ``NO_WARM_HARNESS`` and the run is repeated with the files) keeps that run correct, and
        the next call answers False until every engine holds the module again. Within an
        engine, its pool warms each new container before that container's first run (a
        container that cannot import it fails that run, which is rerun on another engine).

        An engine that cannot import it now (it fails or raises) is logged, never raised, and
        makes the answer False (the caller ships the code; no engine is set aside, so a module
        that imports nowhere costs no capacity); the engines that could keep it. Asking again
        retries only after ``retry_after_s`` (doubling up to ``max_retry_after_s``), so a
        caller asking before every run does not pay a failing attempt each time.

        Raises:
            ValueError: ``name`` is not an identifier, or was sent with a different source.
            SandboxClosed: the sandbox is closed.
        """
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"warm_module: name {name!r} must be a Python identifier")
        if not isinstance(source, str):
            raise TypeError(f"warm_module: source must be a str, not {type(source).__name__}")
        with self._cond:  # the fast path: asked before every graded run
            if self._known(name, source):
                return True
        with self._warm_lock:
            return self._warm_everywhere(name, source)

    def engines(self) -> list[EngineStatus]:
        """A snapshot of every engine (for monitoring and tests)."""
        with self._cond:
            return [e.status() for e in self._engines]

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            sandboxes = [e.sandbox for e in self._engines if e.sandbox is not None]
            for e in self._engines:
                e.sandbox = None
            self._cond.notify_all()
        if sandboxes:
            with ThreadPoolExecutor(max_workers=len(sandboxes)) as ex:
                list(ex.map(_close_quietly, sandboxes))
        for t in list(self._threads):
            t.join(timeout=self.connect_timeout_s + 30)

    def __repr__(self) -> str:
        hosts = [e.host for e in self._engines]
        return f"MultiEngineSandbox(hosts={hosts!r}, image={self.image!r})"

    # --- choosing an engine -----------------------------------------------------------

    def _pick(self, tried: set[int]) -> tuple[_Engine, Sandbox]:
        """The least-loaded engine that is up and has not failed this run (its in-flight
        count already taken). With none, waits for engines being retried, else raises."""
        with self._cond:
            while True:
                if self._closed:
                    raise SandboxClosed()
                self._revive_due_in_background()
                n = len(self._engines)
                order = [self._engines[(self._turn + k) % n] for k in range(n)]
                candidates = [e for e in order if e.sandbox is not None and id(e) not in tried]
                if candidates:
                    engine = min(candidates, key=lambda e: e.in_flight / e.capacity)
                    engine.in_flight += 1
                    self._turn = (self._engines.index(engine) + 1) % n
                    return engine, engine.sandbox
                if not any(e.reviving and id(e) not in tried for e in self._engines):
                    break
                self._cond.wait(timeout=1.0)  # an engine being retried may come back
        raise EngineUnavailable("no engine could take the run: " + self._problems())

    def _revive_due_in_background(self) -> None:
        now = time.monotonic()
        for e in self._engines:
            if e.sandbox is None and not e.reviving and now >= e.retry_at:
                e.reviving = True
                t = threading.Thread(
                    target=self._revive, args=(e,), name="reasongym-engine-retry", daemon=True
                )
                self._threads.add(t)
                t.start()

    # --- warm modules -----------------------------------------------------------------

    def _known(self, name: str, source: str) -> bool:
        """True when ``name`` is promised; raises for a conflict (call holding the lock)."""
        if self._closed:
            raise SandboxClosed()
        known = self._sources.get(name)
        if known is not None and known != source:
            raise ValueError(f"warm_module: a different module named {name!r} is warm already")
        return name in self._warm

    def _warm_everywhere(self, name: str, source: str) -> bool:
        """Warm ``name`` on each engine that is up and lacks it, until none does (engines may
        come up meanwhile), then promise it; False at the first engine that cannot."""
        with self._cond:
            if self._known(name, source):
                return True
            cold = self._cold.get(name)
            if cold is not None and time.monotonic() < cold[0]:
                return False  # failed recently: not worth another attempt yet
            self._sources[name] = source
        while True:
            with self._cond:
                if self._closed:
                    raise SandboxClosed()
                todo = [
                    (e, e.sandbox)
                    for e in self._engines
                    if e.sandbox is not None and name not in e.warm
                ]
                if not todo:
                    # Every engine that is up holds it; _open warms the others before they
                    # publish their pool (both under this lock), so the promise holds.
                    self._warm[name] = source
                    self._cold.pop(name, None)
                    return True
            if len(todo) == 1:
                oks = [self._try_warm(todo[0][0].host, todo[0][1], name, source)]
            else:
                with ThreadPoolExecutor(max_workers=len(todo)) as ex:
                    oks = list(
                        ex.map(lambda t: self._try_warm(t[0].host, t[1], name, source), todo)
                    )
            with self._cond:
                failed = False
                for (e, sandbox), ok in zip(todo, oks, strict=True):
                    if e.sandbox is not sandbox:
                        continue  # set aside meanwhile: its next pool is warmed when it opens
                    if ok:
                        e.warm.add(name)
                    else:
                        failed = True
                if failed:
                    self._note_cold(name)
                    return False

    def _try_warm(self, host: str, sandbox: Sandbox, name: str, source: str) -> bool:
        """``sandbox.warm_module``, never raising: an exception is logged as a warning and
        answered False. A plain False is logged at debug level only: it is a backend that
        cannot warm modules (by design: each run is a fresh interpreter) or one that refused
        and logged its own failure (``DockerSandbox``)."""
        try:
            answer = sandbox.warm_module(name, source)
        except Exception as exc:  # noqa: BLE001 - an optimisation: never fails a caller
            log.warning(
                "sandbox engine %s could not warm module %s (%s: %s)",
                host,
                name,
                type(exc).__name__,
                exc,
            )
            return False
        if answer is True:
            return True
        log.debug("sandbox engine %s does not warm module %s (it answered %r)", host, name, answer)
        return False

    def _note_cold(self, name: str) -> None:
        """``name`` failed on some engine: not retried before the backoff (hold the lock)."""
        backoff = self._cold.get(name, (0.0, self.retry_after_s))[1]
        self._cold[name] = (time.monotonic() + backoff, min(backoff * 2, self.max_retry_after_s))

    # --- engine life cycle ------------------------------------------------------------

    def _docker_sandbox(self, host: str, pool_size: int) -> Sandbox:
        from reasongym.sandboxes.docker import DockerSandbox

        client = connect_to(host, timeout=self.connect_timeout_s)
        try:
            return DockerSandbox(
                image=self.image,
                pool_size=pool_size,
                limits=self.limits,
                client=client,
                connect=functools.partial(connect_to, host, self.connect_timeout_s),
            )
        except BaseException:
            client.close()
            raise

    def _open(self, e: _Engine) -> bool:
        """Start ``e``'s pool; on failure, note why and when to retry."""
        try:
            sandbox = self._make_sandbox(e.host, e.capacity)
        except DockerSDKMissing:
            raise
        except SandboxError as exc:
            with self._cond:
                wait = self._note_failure(e, exc)
            log.warning("sandbox engine %s is unusable (retry in %.0f s): %s", e.host, wait, exc)
            return False
        warm: set[str] = set()
        while True:
            with self._cond:
                closed = self._closed
                todo = [(n, s) for n, s in self._warm.items() if n not in warm]
                if not closed and not todo:  # it takes runs only once it holds every module
                    e.sandbox, e.warm = sandbox, warm
                    e.backoff = self.retry_after_s
                    return True
            if closed:
                _close_quietly(sandbox)
                return False
            for name, source in todo:
                if self._try_warm(e.host, sandbox, name, source):
                    warm.add(name)
                else:
                    self._withdraw(name, source, e.host)

    def _withdraw(self, name: str, source: str, host: str) -> None:
        """An engine about to take runs cannot import ``name``: stop promising it (runs told
        otherwise fall back to shipping the code) rather than keep the engine out."""
        with self._cond:
            if self._warm.get(name) != source:
                return
            del self._warm[name]
            self._note_cold(name)
        log.warning(
            "sandbox engine %s takes runs without warm module %s; runs ship it again", host, name
        )

    def _revive(self, e: _Engine) -> None:
        try:
            if self._open(e):
                log.info("sandbox engine %s is back", e.host)
        finally:
            with self._cond:
                e.reviving = False
                self._cond.notify_all()
            self._threads.discard(threading.current_thread())

    def _set_aside(self, e: _Engine, sandbox: Sandbox, exc: BaseException) -> None:
        with self._cond:
            if e.sandbox is not sandbox:
                return  # already set aside (and maybe revived) by another thread
            e.sandbox, e.warm = None, set()
            e.failovers += 1
            wait = self._note_failure(e, exc)
        log.warning("sandbox engine %s set aside, retried in %.0f s: %s", e.host, wait, exc)
        # runs still in flight on it fail over by themselves; closing may hang on a dead engine
        t = threading.Thread(target=_close_quietly, args=(sandbox,), daemon=True)
        t.start()

    def _note_failure(self, e: _Engine, exc: BaseException) -> float:
        """Record why ``e`` failed and when to retry it (call holding the lock)."""
        wait = e.backoff
        e.last_error = str(exc)
        e.retry_at = time.monotonic() + wait
        e.backoff = min(wait * 2, self.max_retry_after_s)
        return wait

    def _answers(self, e: _Engine) -> bool:
        try:
            connect_to(e.host, timeout=5.0).close()
        except SandboxError:
            return False
        return True

    def _problems(self) -> str:
        with self._cond:
            return "; ".join(f"{e.host}: {e.last_error or 'not tried yet'}" for e in self._engines)

    def _reset_after_fork(self) -> None:
        """In a forked child: the parent's pools (and connections) stay the parent's; this
        copy starts its own on the first run, each warmed with the promised modules first."""
        self._cond = threading.Condition()
        self._warm_lock = threading.Lock()
        self._threads = set()
        for e in self._engines:
            e.sandbox, e.in_flight, e.reviving, e.retry_at = None, 0, False, 0.0
            e.warm = set()  # the warm modules are kept: each new pool imports them on opening


def _close_quietly(sandbox: Sandbox) -> None:
    try:
        sandbox.close()
    except Exception as exc:  # noqa: BLE001 - the engine may be gone; its containers reap later
        log.debug("closing %r failed: %s", sandbox, exc)


_LIVE: weakref.WeakSet[MultiEngineSandbox] = weakref.WeakSet()


def _reset_all_after_fork() -> None:
    for sandbox in list(_LIVE):
        sandbox._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)
