"""Threads that run env calls for the server's sessions, off the event loop.

Every session has a :class:`Lane`: its calls run one at a time, in the order submitted, on a
thread of one shared :class:`WorkerPool`. The pool keeps as few threads as the work needs and
adds threads whenever all of them have been in their calls longer than ``stall_s`` while other
sessions wait, so slow calls (sandboxed test runs, hard verifier calls) delay the others by
about ``stall_s``, never for their whole duration. Threads are bounded by the calls in flight
(one per session), as before.

Why not one thread per session (what ``openenv`` and our first server did): env steps are
Python and hold the GIL, so 64 threads for 64 busy sessions never run at once; they only add
two thread switches per step (to the worker and back), which ``perf`` showed as ~20% of the
server's CPU. A few threads that take the next session's call without sleeping, and a loop
woken once per batch of finished calls instead of once per call, do the same work with far
fewer switches. The price: an env sees one thread at a time, not always the same one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

_SPAWN_BURST = 8  # threads started per stall check at most

_Job = tuple[asyncio.AbstractEventLoop, asyncio.Future, Callable[..., Any], tuple[Any, ...]]


class Lane:
    """One session's queue of calls; see :meth:`WorkerPool.lane`."""

    __slots__ = ("jobs", "pool", "scheduled")

    def __init__(self, pool: WorkerPool):
        self.pool = pool
        self.jobs: deque[_Job] = deque()
        self.scheduled = False  # queued in the pool or running (guarded by the pool's lock)

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Queue ``fn(*args)``; the returned future (of the running loop) gets its outcome."""
        return self.pool.submit(self, fn, args)


class WorkerPool:
    """Shared worker threads with per-lane ordering (see the module docstring).

    Args:
        stall_s: when every thread has been in its call longer than this and lanes wait,
            threads are started for them (up to 8 per check, one check per ``stall_s``).
        idle_exit_s: threads beyond the first exit after this long without work.
    """

    def __init__(self, stall_s: float = 0.02, idle_exit_s: float = 30.0):
        self.stall_s = stall_s
        self.idle_exit_s = idle_exit_s
        self._cond = threading.Condition(threading.Lock())
        self._ready: deque[Lane] = deque()
        self._running: dict[int, float] = {}  # worker id -> monotonic start of its call
        self._threads = 0
        self._idle = 0
        self._next_id = 0
        self._closed = False
        self._done: list[tuple[asyncio.Future, Any, bool]] = []
        self._flush_pending = False
        self._watch: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def threads(self) -> int:
        return self._threads

    def lane(self) -> Lane:
        return Lane(self)

    def submit(self, lane: Lane, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        self._loop = loop
        future = loop.create_future()
        with self._cond:
            lane.jobs.append((loop, future, fn, args))
            if not lane.scheduled:
                lane.scheduled = True
                self._ready.append(lane)
                if self._idle:
                    self._cond.notify()
                elif self._threads == 0:
                    self._spawn_locked()
        if self._watch is None:
            self._watch = loop.call_later(self.stall_s, self._check_stalls)
        return future

    def close(self) -> None:
        """Let the threads exit once the queued calls are done (does not wait)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    # -- loop side -------------------------------------------------------------------------------
    def _check_stalls(self) -> None:
        """On the loop, every ``stall_s`` while calls wait: a thread for them if all are stuck."""
        self._watch = None
        with self._cond:
            if self._closed:
                return
            waiting = bool(self._ready)
            if waiting and not self._idle and self._running:
                now = time.monotonic()
                if all(now - start > self.stall_s for start in self._running.values()):
                    # every thread is stuck in a long call: threads for the waiting lanes
                    for _ in range(min(len(self._ready), _SPAWN_BURST)):
                        self._spawn_locked()
            busy = waiting or bool(self._running)
        if busy and self._loop is not None and not self._loop.is_closed():
            self._watch = self._loop.call_later(self.stall_s, self._check_stalls)

    def _flush(self) -> None:
        with self._cond:
            done, self._done = self._done, []
            self._flush_pending = False
        for future, outcome, failed in done:
            if future.cancelled():
                continue
            if failed:
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    # -- worker side -----------------------------------------------------------------------------
    def _spawn_locked(self) -> None:
        self._threads += 1
        self._next_id += 1
        name = f"reasongym-worker-{self._next_id}"
        threading.Thread(target=self._serve, args=(self._next_id,), name=name, daemon=True).start()

    def _serve(self, me: int) -> None:
        cond = self._cond
        with cond:
            while True:
                while not self._ready:
                    if self._closed:
                        self._threads -= 1
                        return
                    self._idle += 1
                    notified = cond.wait(timeout=self.idle_exit_s)
                    self._idle -= 1
                    if not notified and not self._ready and self._threads > 1:
                        self._threads -= 1
                        return
                lane = self._ready.popleft()
                loop, future, fn, args = lane.jobs.popleft()
                self._running[me] = time.monotonic()
                cond.release()
                try:
                    try:
                        outcome, failed = fn(*args), False
                    except BaseException as exc:  # noqa: BLE001 - delivered to the awaiting coroutine
                        outcome, failed = exc, True
                finally:
                    cond.acquire()
                del self._running[me]
                if lane.jobs:
                    self._ready.append(lane)  # behind the lanes already waiting: fair turns
                else:
                    lane.scheduled = False
                self._done.append((future, outcome, failed))
                if not self._flush_pending:  # one loop wake-up per batch of finished calls
                    self._flush_pending = True
                    try:
                        loop.call_soon_threadsafe(self._flush)
                    except RuntimeError:  # the loop is closed: nobody waits any more
                        self._done.clear()
                        self._flush_pending = False
                del lane, future, fn, args, outcome
