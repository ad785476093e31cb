"""``DockerSandbox``: a thread-safe warm pool of locked-down containers.

Each container runs ``runner.py`` as PID 1 and takes runs over its attached stdin/stdout. The
runner is a fork server: it has imported the standard modules tests use, and each run is a
fork of it that drops to uid 1000 (``launch="fork"``, the default), so a run costs a fork, not
an interpreter start, nor a container start; ``launch="exec"`` (or
``REASONGYM_SANDBOX_LAUNCH=exec``) starts a fresh ``python3 main.py`` per run instead.
Every container: no network, memory with swap equal to it, a pids limit, a CPU quota, a
read-only root with tmpfs scratch dirs, every capability dropped except the three the runner
needs to drop privileges and kill (SETUID, SETGID, KILL; the program has none), programs as
uid 1000, no-new-privileges, no log driver. A run that timed out, was OOM-killed, left a
process, a file or an IPC object behind taints its container, which is replaced in the
background.

Waiting callers are served first come, first served: a released container goes to the
longest-waiting caller, never straight back to the thread that released it.

Nothing leaks: containers carry ownership labels and ``auto_remove``; ``close()`` and
interpreter exit remove them; if the owner dies anyway, the engine closes the attached
stdin, the runner exits and the container removes itself; and a new pool reaps any
container whose owner is gone (``engine.reap_orphans``).
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reasongym.sandboxes import engine
from reasongym.sandboxes.base import Files, Sandbox, check_input, clip_output
from reasongym.sandboxes.errors import (
    EngineUnavailable,
    ImageMissing,
    SandboxClosed,
    SandboxCrashed,
    SandboxError,
    SandboxStartError,
)
from reasongym.sandboxes.runner import PROTOCOL_VERSION
from reasongym.sandboxes.types import ExecResult, Limits
from reasongym.sandboxes.worker import Worker, WorkerBroken, WorkerTimeout

log = logging.getLogger("reasongym.sandboxes")

SANDBOX_UID = 1000  # programs run as this uid; the runner (PID 1) is uid 0 with 3 capabilities
RUNNER_CAPS = ("SETUID", "SETGID", "KILL")
RUNNER_CAP_MASK = (1 << 5) | (1 << 6) | (1 << 7)  # CAP_KILL, CAP_SETGID, CAP_SETUID
RUNNER_HEADROOM_MB = 48  # the runner itself (~20 MB with its preloads) plus slack
INPUT_STEP_MB = 64  # the runner holds a run's input: memory grows in steps of this
RUNNER_PIDS = 8  # the runner, its helper, seeds (up to 3, each with a worker); + Limits.pids
# Cores on top of Limits.cpus, with launch="fork": the runner forks and prepares the next
# runs' children (and their workers) while a run goes on, ~2-5 ms of CPU per run on another
# core. Charged to the program's quota, that work throttled the program itself (the
# container used up its 100 ms per 100 ms period within the period: stalls of ~40 ms).
# A single-threaded program never uses more than one core whatever the quota.
RUNNER_CPUS = 0.5
LAUNCH_ENV = "REASONGYM_SANDBOX_LAUNCH"
LAUNCHES = ("fork", "exec")
SCRATCH_TMP_MB = 16  # /tmp and /dev/shm (both count against the memory limit)
ANSWER_GRACE_S = 15.0  # beyond timeout_s: killing, wiping, and a slow engine
START_TIMEOUT_S = 60.0
WARM_RETRY_S = 60.0  # a warm module whose container broke or hung is tried again after this,
WARM_RETRY_MAX_S = 3600.0  # doubled per failure up to this; one that raised, never


class _Waiter:
    """A caller queued for a worker: handed one (``worker``) or a slot to start one in."""

    __slots__ = ("may_start", "worker")

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.may_start = False


@cache
def runner_source() -> str:
    return (Path(__file__).with_name("runner.py")).read_text()


@dataclass(frozen=True)
class _WarmFailure:
    """A warm module's source that failed to import, and whether it may be tried again."""

    source: bytes
    error: str
    failures: int  # in a row, for this source
    retry_at: float | None  # time.monotonic() after which to try again; None: never

    def may_retry(self) -> bool:
        return self.retry_at is not None and time.monotonic() >= self.retry_at


class DockerSandbox(Sandbox):
    """Runs code in a warm pool of Docker containers.

    Args:
        image: the sandbox image (``reasongym sandbox build`` makes the default one).
        pool_size: containers kept warm, i.e. how many runs proceed at once; more
            concurrent callers wait for a free container.
        limits: default limits of a run. ``timeout_s`` and ``output_bytes`` apply per run as
            given; ``memory_mb``, ``cpus`` and ``pids`` are container settings, updated in
            place (one engine call) when a run asks for different ones; a different
            ``disk_mb`` needs a new container.
        client: a ``docker.DockerClient`` to use instead of ``docker.from_env()``.
        connect: a zero-argument callable returning a fresh client; used instead of
            ``docker.from_env()`` when no ``client`` is given and again in a forked child
            (a client's connections cannot be shared across a fork). Give it with ``client``
            for an engine other than the default one, or the child talks to the default.
        launch: ``"fork"``: each run is a fork of the warm runner (the default; about a
            millisecond); ``"exec"``: each run starts ``python3 main.py`` (an interpreter
            start, as before). None: ``$REASONGYM_SANDBOX_LAUNCH``, else ``"fork"``.

    Raises:
        DockerSDKMissing, EngineUnavailable, ImageMissing, SandboxStartError.
    """

    name = "docker"

    def __init__(
        self,
        image: str = engine.DEFAULT_IMAGE,
        pool_size: int = 2,
        limits: Limits | None = None,
        client: Any = None,
        connect: Callable[[], Any] | None = None,
        launch: str | None = None,
    ) -> None:
        super().__init__(limits)
        if not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"pool_size={pool_size!r} must be an int >= 1")
        launch = launch if launch is not None else (os.environ.get(LAUNCH_ENV) or "fork")
        if launch not in LAUNCHES:
            raise ValueError(
                f"launch={launch!r} (or ${LAUNCH_ENV}) must be one of {', '.join(LAUNCHES)}"
            )
        self.launch = launch
        self.image = image
        self.pool_size = pool_size
        self._docker = engine.docker_sdk()
        self._connect = connect or engine.connect
        self._client_obj = client if client is not None else self._connect()
        self._check_image()
        self._owner = engine.Owner.me()
        self.pool_id = uuid.uuid4().hex[:12]
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._starting = 0
        self._closed = False
        self._background: set[threading.Thread] = set()
        self._warm: dict[str, bytes] = {}  # warm_module: name -> source, for every container
        self._warm_failed: dict[str, _WarmFailure] = {}  # name -> its last failed source
        self._warming: set[str] = set()  # names being tried on a container now
        engine.reap_orphans(self._client, self._owner, keep_pool=self.pool_id)
        _register(self)
        try:
            with ThreadPoolExecutor(max_workers=pool_size) as ex:
                workers = list(ex.map(lambda _: self._start_worker(self.limits), range(pool_size)))
        except BaseException:
            self.close()
            raise
        with self._cond:
            self._idle.extend(workers)

    # --- public API -------------------------------------------------------------------

    def run(
        self,
        code: str,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        limits = limits if limits is not None else self.limits
        given = check_input(code, stdin, files, limits)  # the caller's mistakes cost nothing
        names_and_data = [(name.encode("utf-8"), data) for name, data in given.files]
        request = {
            "op": "run",
            "launch": self.launch,
            "code": len(given.code),
            "stdin": len(given.stdin),
            # sizes only: the names travel in the payload (see runner._split_payload)
            "files": [[len(name), len(data)] for name, data in names_and_data],
            "timeout_s": limits.timeout_s,
            "output_bytes": limits.output_bytes,
            "cpu_s": limits.cpu_time_s,
            "fsize_bytes": limits.disk_mb << 20,
        }
        parts = [
            given.code,
            given.stdin,
            *(name for name, _ in names_and_data),
            *(data for _, data in names_and_data),
        ]
        input_mb = sum(len(p) for p in parts) >> 20
        for _ in range(self.pool_size + 2):
            worker = self._acquire(limits, input_mb)
            try:
                self._ensure_warm(worker)
            except SandboxCrashed:
                self._discard(worker)
                raise
            t0 = time.monotonic()
            try:
                answer, payload = worker.request(
                    request, timeout=limits.timeout_s + ANSWER_GRACE_S + input_mb / 20, parts=parts
                )
            except WorkerTimeout:
                self._discard(worker)
                return ExecResult(
                    "",
                    "",
                    None,
                    timed_out=True,
                    duration_s=time.monotonic() - t0,
                    backend=self.name,
                )
            except WorkerBroken as exc:
                self._discard(worker)
                return self._after_crash(worker, exc, time.monotonic() - t0)
            except BaseException:  # e.g. KeyboardInterrupt mid-run: the program may still run
                self._discard(worker)
                raise
            if answer.get("op") != "tainted":
                break
            # The wipe after its previous run failed; it ran nothing: run it on another one.
            log.info(
                "sandbox container %s is tainted (%s); replacing it",
                worker.short_id,
                answer.get("error"),
            )
            self._discard(worker)
        else:
            raise SandboxCrashed(
                "every sandbox container was tainted by the run before; retry the run"
            )
        sizes = (answer.get("stdout"), answer.get("stderr"))
        if (
            answer.get("op") != "result"
            or not all(type(n) is int and n >= 0 for n in sizes)
            or sum(sizes) != len(payload)
        ):
            self._discard(worker)
            raise SandboxCrashed(
                f"sandbox runner failed: {answer.get('error', answer)!r}; the container was replaced"
            )
        worker.runs += 1
        tainted = (
            answer["timed_out"] or answer["oom_killed"] or answer["leftover"] or not answer["clean"]
        )
        if tainted:
            self._discard(worker)
        else:
            self._release(worker)
        view = memoryview(payload)
        stdout, cut_out = clip_output(view[: sizes[0]], limits.output_bytes)
        stderr, cut_err = clip_output(view[sizes[0] :], limits.output_bytes)
        return ExecResult(
            stdout=stdout,
            stderr=stderr,
            exit_code=answer["exit_code"],
            timed_out=bool(answer["timed_out"]),
            oom_killed=bool(answer["oom_killed"]),
            truncated=bool(answer["truncated"] or cut_out or cut_err),
            duration_s=float(answer["duration_s"]),
            backend=self.name,
        )

    def warm_module(self, name: str, source: str) -> bool:
        """Have every container's runner import ``source`` as module ``name``, so that each
        later run (a fork of the runner) finds it in ``sys.modules``; see
        :meth:`Sandbox.warm_module`. Tried on one container, by one caller at a time (a
        module that fails to import is an answer here, False, never a failed run later);
        containers started later import it before their first run.

        A failure costs one container (it is replaced: the module may have left the runner
        in any state) and is remembered: the same source that raised is refused from then
        on, one whose container broke or hung is tried again only after a back-off
        (``WARM_RETRY_S``, doubling), so a caller asking on every run does not replace a
        container on every run.

        Raises:
            ValueError: ``name`` is not an identifier, or names a different warm module.
        """
        if self.launch != "fork":
            return False  # each run is a fresh interpreter
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"warm_module: name {name!r} must be a Python identifier")
        data = source.encode("utf-8")
        with self._cond:
            while True:
                known = self._warm.get(name)
                if known is not None:
                    if known != data:
                        raise ValueError(
                            f"warm_module: a different module named {name!r} is warm already"
                        )
                    return True
                failed = self._warm_failed.get(name)
                if failed is not None and failed.source == data and not failed.may_retry():
                    log.debug(
                        "warm module %s failed before (%s); not tried again", name, failed.error
                    )
                    return False
                if name not in self._warming:
                    break
                self._cond.wait()  # another caller is trying it: take its answer
            self._warming.add(name)
        try:
            return self._try_warm(name, data, failed if failed and failed.source == data else None)
        finally:
            with self._cond:
                self._warming.discard(name)
                self._cond.notify_all()

    def _try_warm(self, name: str, data: bytes, before: _WarmFailure | None) -> bool:
        worker = self._acquire(self.limits)
        try:
            self._warm_one(worker, name, data)
        except SandboxError as exc:
            self._discard(worker)
            transient = isinstance(exc.__cause__, (WorkerTimeout, WorkerBroken))
            failures = before.failures + 1 if before is not None else 1
            retry_in = min(WARM_RETRY_S * 2 ** (failures - 1), WARM_RETRY_MAX_S)
            failure = _WarmFailure(
                data, str(exc), failures, time.monotonic() + retry_in if transient else None
            )
            with self._cond:
                self._warm_failed[name] = failure
            log.warning(
                "the sandbox could not warm module %s (%s); runs import it; %s",
                name,
                exc,
                f"trying again in {retry_in:.0f} s"
                if transient
                else "not trying this source again",
            )
            return False
        self._release(worker)
        with self._cond:
            self._warm[name] = data
            self._warm_failed.pop(name, None)
        return True

    def _ensure_warm(self, worker: Worker) -> None:
        """Import in ``worker``'s runner the warm modules it does not hold yet."""
        with self._cond:
            missing = [(n, d) for n, d in self._warm.items() if n not in worker.warmed]
        for name, data in missing:
            self._warm_one(worker, name, data)

    def _warm_one(self, worker: Worker, name: str, data: bytes) -> None:
        """Send one warm module; SandboxCrashed when it failed (the container is then unusable;
        its ``__cause__`` is the WorkerTimeout/WorkerBroken when the container hung or broke,
        None when the module raised)."""
        cause = None
        try:
            answer, _ = worker.request(
                {"op": "warm", "name": name}, timeout=START_TIMEOUT_S, parts=[data]
            )
        except (WorkerTimeout, WorkerBroken) as exc:
            answer, cause = {"error": str(exc)}, exc
        if answer.get("op") != "warmed":
            raise SandboxCrashed(
                f"sandbox container {worker.short_id} could not import warm module {name!r}: "
                f"{answer.get('error', answer)!r}"
            ) from cause
        worker.warmed.add(name)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            workers = self._idle + list(self._busy)
            self._idle, self._busy = [], set()
            self._cond.notify_all()
        for w in workers:
            w.close_stream()
        _remove_all([w.container for w in workers])
        # Containers that were being started when we closed: reap by our pool label.
        for t in list(self._background):
            t.join(timeout=START_TIMEOUT_S)
        try:
            left = self._client.containers.list(
                all=True,
                filters={"label": f"{engine.LABEL_POOL}={self.pool_id}"},
                ignore_removed=True,
            )
            _remove_all(left)
        except Exception as exc:  # noqa: BLE001 - the engine may be gone; reaping covers it later
            log.debug("could not list containers on close: %s", exc)

    @property
    def _client(self) -> Any:
        # None only in a forked child (see _reset_after_fork): it gets its own connection.
        if self._client_obj is None:
            self._client_obj = self._connect()
        return self._client_obj

    def _reset_after_fork(self) -> None:
        """In a forked child: forget the parent's containers and connections (they stay the
        parent's), and warm new ones on demand under a new owner and pool id."""
        self._cond = threading.Condition()
        self._idle, self._busy, self._starting = [], set(), 0
        self._waiters = collections.deque()
        self._background = set()
        self._client_obj = None
        self._owner = engine.Owner.me()
        self.pool_id = uuid.uuid4().hex[:12]

    @property
    def container_ids(self) -> list[str]:
        """Ids of the pool's live containers (for tests and `docker ps`)."""
        with self._cond:
            return [w.container.id for w in self._idle + list(self._busy)]

    def __repr__(self) -> str:
        return f"DockerSandbox(image={self.image!r}, pool_size={self.pool_size}, pool_id={self.pool_id!r})"

    # --- pool mechanics ---------------------------------------------------------------

    def _acquire(self, limits: Limits, input_mb: int = 0) -> Worker:
        """A container fitted to ``limits``: an idle one, one this thread starts when the pool
        has room, or the one handed over by whoever releases next, first come first served."""
        while True:
            with self._cond:
                if self._closed:
                    raise SandboxClosed()
                worker = None
                if not self._waiters and self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                elif not self._waiters and self._has_room():
                    self._starting += 1  # fill the gap ourselves, in this thread
                else:
                    worker = self._wait_turn()
            if worker is None:
                worker = self._start_reserved(limits)
            elif worker.looks_dead():  # died while idle (engine restart, ...): replace quietly
                self._discard(worker, replace=False)
                continue
            try:
                return self._fit(worker, limits, input_mb)
            except BaseException:
                self._discard(worker, replace=False)
                raise

    def _has_room(self) -> bool:
        return len(self._idle) + len(self._busy) + self._starting < self.pool_size

    def _wait_turn(self) -> Worker | None:
        """Queue up (lock held) until handed a worker, or a slot to start one in (None)."""
        me = _Waiter()
        self._waiters.append(me)
        try:
            while me.worker is None and not me.may_start and not self._closed:
                self._cond.wait()
        except BaseException:
            self._leave_queue(me)
            raise
        if me.worker is None and not me.may_start:
            self._leave_queue(me)
            raise SandboxClosed()
        return me.worker

    def _leave_queue(self, me: _Waiter) -> None:
        """A waiter gives up (lock held): whatever it was handed goes to the next one."""
        if me in self._waiters:
            self._waiters.remove(me)
        if me.worker is not None:
            self._busy.discard(me.worker)
            self._hand_over(me.worker)
        elif me.may_start:
            self._starting -= 1
            self._free_slot()

    def _hand_over(self, worker: Worker) -> None:
        """(Lock held.) Give a healthy worker to the longest waiter, or put it back idle."""
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.worker = worker
            self._busy.add(worker)
        else:
            self._idle.append(worker)
        self._cond.notify_all()

    def _free_slot(self) -> None:
        """(Lock held.) A slot has no worker any more: the longest waiter may start one."""
        if self._waiters and self._has_room() and not self._closed:
            waiter = self._waiters.popleft()
            waiter.may_start = True
            self._starting += 1
        self._cond.notify_all()

    def _start_reserved(self, limits: Limits) -> Worker:
        """Start a worker in a slot already counted in ``_starting``; it comes back busy."""
        try:
            worker = self._start_worker(limits)
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._free_slot()
            raise
        with self._cond:
            self._starting -= 1
            closed = self._closed
            if not closed:
                self._busy.add(worker)
        if closed:
            worker.close_stream()
            _remove_all([worker.container])
            raise SandboxClosed()
        return worker

    def _fit(self, worker: Worker, limits: Limits, input_mb: int = 0) -> Worker:
        """Give the container the run's container-level limits."""
        if worker.disk_mb != limits.disk_mb:
            worker.close_stream()
            with self._cond:
                self._busy.discard(worker)
                self._starting += 1  # keep the slot: this thread starts the replacement
            self._in_background(lambda: _remove_all([worker.container]))
            worker = self._start_reserved(limits)
        extra = -(-input_mb // INPUT_STEP_MB) * INPUT_STEP_MB if input_mb else 0
        want = (limits.memory_mb + extra, limits.cpus, limits.pids)
        if worker.applied != want:
            api = self._client.api
            mem = (want[0] + RUNNER_HEADROOM_MB) << 20
            data = {
                "Memory": mem,
                "MemorySwap": mem,
                "NanoCpus": self._nano_cpus(limits),
                "PidsLimit": limits.pids + RUNNER_PIDS,
            }
            try:
                resp = api._post_json(
                    api._url("/containers/{0}/update", worker.container.id), data=data
                )
                api._raise_for_status(resp)
            except Exception as exc:
                raise self._engine_error(exc, "updating container limits") from None
            worker.applied = want
        return worker

    def _nano_cpus(self, limits: Limits) -> int:
        """The container's CPU quota: the program's ``cpus``, plus the runner's share for
        the children it prepares ahead (fork launch only: exec runs have none)."""
        return int((limits.cpus + (RUNNER_CPUS if self.launch == "fork" else 0.0)) * 1e9)

    def _release(self, worker: Worker) -> None:
        with self._cond:
            self._busy.discard(worker)
            closed = self._closed
            if not closed:
                self._hand_over(worker)
        if closed:
            worker.close_stream()
            _remove_all([worker.container])

    def _discard(self, worker: Worker, replace: bool = True) -> None:
        """Drop a worker (its container goes in the background) and, if asked, warm a new one."""
        worker.close_stream()
        with self._cond:
            self._busy.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            replace = replace and not self._closed
            if replace:
                self._starting += 1
            else:
                self._free_slot()
        self._in_background(lambda: _remove_all([worker.container]))
        if replace:
            self._in_background(self._replace)

    def _replace(self) -> None:
        try:
            worker = self._start_worker(self.limits)
        except SandboxError as exc:
            log.warning("could not warm a replacement sandbox container: %s", exc)
            worker = None
        with self._cond:
            self._starting -= 1
            if worker is not None and not self._closed:
                self._hand_over(worker)
                worker = None
            else:
                self._free_slot()
        if worker is not None:  # closed meanwhile
            worker.close_stream()
            _remove_all([worker.container])

    def _in_background(self, fn: Any) -> None:
        def target() -> None:
            try:
                fn()
            finally:
                self._background.discard(threading.current_thread())

        t = threading.Thread(target=target, name="reasongym-sandbox-pool", daemon=True)
        self._background.add(t)
        t.start()

    def _start_worker(self, limits: Limits) -> Worker:
        """Create, attach, start and ping one container."""
        docker = self._docker
        mem = f"{limits.memory_mb + RUNNER_HEADROOM_MB}m"
        try:
            container = self._client.containers.create(
                self.image,
                command=["python3", "-I", "-c", runner_source()],
                user="0:0",  # the runner; it drops every program to SANDBOX_UID
                working_dir="/work",
                # With stdin_open (and no detach) the SDK also sets StdinOnce: when the owner
                # dies, the engine closes stdin, the runner exits, the container removes itself.
                stdin_open=True,
                tty=False,
                network_mode="none",
                mem_limit=mem,
                memswap_limit=mem,
                pids_limit=limits.pids + RUNNER_PIDS,
                nano_cpus=self._nano_cpus(limits),
                read_only=True,
                tmpfs={
                    "/work": f"rw,exec,nosuid,nodev,size={limits.disk_mb}m,uid=1000,gid=1000,mode=0700",
                    "/tmp": f"rw,noexec,nosuid,nodev,size={SCRATCH_TMP_MB}m,mode=1777",
                },
                shm_size=f"{SCRATCH_TMP_MB}m",
                cap_drop=["ALL"],
                cap_add=list(RUNNER_CAPS),
                security_opt=["no-new-privileges"],
                ulimits=[
                    docker.types.Ulimit(name="nofile", soft=1024, hard=1024),
                    docker.types.Ulimit(name="core", soft=0, hard=0),
                ],
                log_config=docker.types.LogConfig(type=docker.types.LogConfig.types.NONE),
                labels=self._owner.labels(self.pool_id),
                hostname="sandbox",
                auto_remove=True,
                environment={"PYTHONDONTWRITEBYTECODE": "1"},
            )
        except docker.errors.ImageNotFound:
            raise ImageMissing(self.image) from None
        except Exception as exc:
            raise self._engine_error(exc, "creating a sandbox container") from None
        try:
            attach = container.attach_socket(
                params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            worker = Worker(
                container, attach, limits.disk_mb, (limits.memory_mb, limits.cpus, limits.pids)
            )
            container.start()
            pong, _ = worker.request({"op": "ping", "launch": self.launch}, timeout=START_TIMEOUT_S)
        except Exception as exc:
            detail = ""
            if "worker" in locals():
                detail = worker.stderr_tail.decode(errors="replace")[-500:]
                worker.close_stream()
            _remove_all([container])
            if isinstance(exc, WorkerBroken | WorkerTimeout):
                raise SandboxStartError(
                    f"sandbox container from {self.image!r} did not start its runner ({exc}). "
                    f"Runner stderr: {detail or '(empty)'}. Does the image have python3? Rebuild it "
                    "with `reasongym sandbox build`, and check `reasongym sandbox doctor`."
                ) from None
            raise self._engine_error(exc, "starting a sandbox container") from None
        if pong.get("op") != "pong":
            worker.close_stream()
            _remove_all([container])
            raise SandboxStartError(f"sandbox runner answered the handshake with {pong!r}")
        problem = None
        if pong.get("protocol") != PROTOCOL_VERSION:
            problem = f"speaks protocol {pong.get('protocol')!r}, not {PROTOCOL_VERSION}"
        elif pong.get("caps") is None or pong["caps"] & ~RUNNER_CAP_MASK:
            problem = f"has capabilities {pong.get('caps')!r}, more than {', '.join(RUNNER_CAPS)}"
        elif not pong.get("clean"):
            problem = "could not clean its scratch dirs (does the image have uid 1000?)"
        if problem:
            worker.close_stream()
            _remove_all([container])
            raise SandboxStartError(f"sandbox runner in {self.image!r} {problem}; refusing it")
        try:
            self._ensure_warm(worker)  # a new container takes runs with every warm module
        except SandboxCrashed as exc:
            worker.close_stream()
            _remove_all([container])
            raise SandboxStartError(str(exc)) from None
        return worker

    # --- errors -------------------------------------------------------------------------

    def _engine_answers(self) -> bool:
        try:
            self._client.ping()
        except Exception:  # noqa: BLE001 - any failure means no
            return False
        return True

    def _engine_error(self, exc: BaseException, doing: str) -> SandboxError:
        if isinstance(exc, SandboxError):
            return exc
        # The engine answered with an error (APIError) unless the request never got through;
        # a ping could still succeed over a pooled connection to an engine shutting down.
        answered = isinstance(exc, self._docker.errors.APIError)
        if not answered or not self._engine_answers():
            return EngineUnavailable(f"the engine stopped answering while {doing} ({exc})")
        return SandboxStartError(f"the Docker engine refused {doing}: {exc}")

    def _after_crash(self, worker: Worker, exc: WorkerBroken, elapsed: float) -> ExecResult:
        """The stream broke mid-run: the engine went away, or the container died."""
        if not self._engine_answers():
            raise EngineUnavailable(
                f"the engine stopped answering mid-run ({exc}); the pool recovers on the next run once it is back"
            )
        state: dict[str, Any] = {}
        try:
            worker.container.reload()
            state = worker.container.attrs.get("State", {})
        except Exception:  # noqa: BLE001 - auto_remove may have removed it already
            pass
        if state.get("OOMKilled"):
            return ExecResult("", "", -9, oom_killed=True, duration_s=elapsed, backend=self.name)
        raise SandboxCrashed(
            f"sandbox container {worker.short_id} died mid-run ({exc}; state {state.get('Status', 'gone')}); "
            "it was replaced, retry the run"
        )

    def _check_image(self) -> None:
        try:
            self._client.images.get(self.image)
        except self._docker.errors.ImageNotFound:
            raise ImageMissing(self.image) from None
        except Exception as exc:
            raise EngineUnavailable(f"could not inspect image {self.image!r}: {exc}") from None


def _remove_all(containers: list[Any]) -> None:
    """Force-remove containers, in parallel (each removal is a round trip of ~50-200 ms)."""
    if not containers:
        return
    if len(containers) == 1:
        engine.remove_quietly(containers[0])
        return
    with ThreadPoolExecutor(max_workers=min(8, len(containers))) as ex:
        list(ex.map(engine.remove_quietly, containers))


# --- interpreter exit ---------------------------------------------------------------------

_LIVE: weakref.WeakSet[DockerSandbox] = weakref.WeakSet()
_atexit_registered = False
_atexit_lock = threading.Lock()


def _register(sandbox: DockerSandbox) -> None:
    global _atexit_registered
    with _atexit_lock:
        _LIVE.add(sandbox)
        if not _atexit_registered:
            atexit.register(_close_all)
            _atexit_registered = True


def _reset_all_after_fork() -> None:
    for sandbox in list(_LIVE):
        sandbox._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)


def _close_all() -> None:
    for sandbox in list(_LIVE):
        try:
            sandbox.close()
        except Exception as exc:  # noqa: BLE001 - exit must go on
            log.debug("closing %r at exit failed: %s", sandbox, exc)
