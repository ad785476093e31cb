"""Server-side sessions: one env per WebSocket, run off the event loop; capacity and reaping.

A session owns one env built by ``gym.make`` and a lane of the manager's worker pool
(``workers.py``): every call on the env runs there, one at a time and in order, so a slow step
(a sandboxed test run) never blocks the event loop, and other sessions wait for it at most
the pool's ``stall_s`` before a thread is added for them. Snapshots from ``get_state`` stay on
the server, keyed by unguessable ids: a client can restore a state the server produced for
its own session in the current episode (a reset drops them), never forge one. Snapshots are
bounded per session by count and by size, so a client cannot make the server hoard memory.

Expiry never waits on a client: an idle session's slot and env are freed first, then the
client is told (bounded by ``expire_timeout_s``), each in its own task, so one client that
stopped reading cannot hold up the reaping of the others.
"""

from __future__ import annotations

import asyncio
import pickle
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reasongym.integrations.openenv.workers import Lane, WorkerPool


class CapacityError(RuntimeError):
    """All session slots are taken."""

    def __init__(self, active: int, limit: int):
        super().__init__(
            f"server at capacity: {active} of {limit} sessions in use; close a session, retry "
            f"later, or start the server with a larger --max-sessions"
        )
        self.active = active
        self.limit = limit


@dataclass
class Session:
    """One client's env and bookkeeping (all fields touched only from the event loop)."""

    id: str
    env: Any
    lane: Lane
    max_snapshots: int
    created_at: float = field(default_factory=time.monotonic)
    last_active: float = field(default_factory=time.monotonic)
    busy: int = 0
    step_count: int = 0
    episode_id: str | None = None
    has_reset: bool = False
    done: bool = False
    closed: bool = False
    on_expire: Callable[[], Any] | None = None
    max_snapshot_bytes: int | None = None
    snapshots: OrderedDict[str, tuple[Any, int, str | None, bool, int]] = field(
        default_factory=OrderedDict
    )
    snapshot_bytes: int = 0

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in this session's lane of the worker pool."""
        self.busy += 1
        self.last_active = time.monotonic()
        try:
            return await self.lane.submit(fn, *args)
        finally:
            self.busy -= 1
            self.last_active = time.monotonic()

    def remember(self, snapshot: Any, size: int = 0) -> str:
        """Store a snapshot (with the session's counters) and return its id; the oldest go
        when more than ``max_snapshots`` are held or they weigh more than
        ``max_snapshot_bytes`` together (``size``: this one's weight, see
        :func:`snapshot_size`). Raises ``ValueError`` for one snapshot above the budget."""
        budget = self.max_snapshot_bytes
        if budget is not None and size > budget:
            raise ValueError(
                f"this snapshot takes {size} bytes, above the server's {budget} per session "
                "(start the server with a larger max_snapshot_bytes)"
            )
        state_id = secrets.token_urlsafe(16)
        self.snapshots[state_id] = (snapshot, self.step_count, self.episode_id, self.done, size)
        self.snapshot_bytes += size
        while len(self.snapshots) > self.max_snapshots or (
            budget is not None and self.snapshot_bytes > budget
        ):
            self.snapshot_bytes -= self.snapshots.popitem(last=False)[1][4]
        return state_id

    def forget_snapshots(self) -> None:
        """Drop every snapshot (a new episode starts, or the session ends)."""
        self.snapshots.clear()
        self.snapshot_bytes = 0


def snapshot_size(snapshot: Any) -> int:
    """The weight of a snapshot in bytes (its pickle's length; the snapshot is the env's own
    plain data and is never unpickled: pickle only measures it, fast, in C)."""
    try:
        return len(pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - an odd snapshot still counts, at a cautious weight
        return len(repr(snapshot))


class SessionManager:
    """Creates, counts, reaps and closes sessions.

    Args:
        make_env: builds one env (called in the new session's lane of the worker pool).
        max_sessions: the capacity; one more is refused with :class:`CapacityError`.
        idle_timeout_s: sessions with no message for this long are closed (None: never).
        max_snapshots: snapshots kept per session.
        max_snapshot_bytes: their total weight per session (None: unbounded).
        expire_timeout_s: how long telling an expired session's client may take.
    """

    def __init__(
        self,
        make_env: Callable[[], Any],
        max_sessions: int,
        idle_timeout_s: float | None,
        max_snapshots: int,
        max_snapshot_bytes: int | None = None,
        expire_timeout_s: float = 5.0,
    ):
        self.make_env = make_env
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.max_snapshots = max_snapshots
        self.max_snapshot_bytes = max_snapshot_bytes
        self.expire_timeout_s = expire_timeout_s
        self.sessions: dict[str, Session] = {}
        self._reserved = 0
        self._reaper: asyncio.Task | None = None
        self._expiring: set[asyncio.Task] = set()
        self.reaped = 0
        self.pool = WorkerPool()

    @property
    def active(self) -> int:
        return len(self.sessions) + self._reserved

    async def open(self) -> Session:
        """A new session with a fresh env; raises ``CapacityError`` when full."""
        if self.active >= self.max_sessions:
            raise CapacityError(self.active, self.max_sessions)
        self._reserved += 1
        lane = self.pool.lane()
        try:
            env = await lane.submit(self.make_env)
        finally:
            self._reserved -= 1
        session = Session(
            id=secrets.token_hex(16),  # 128 random bits: an HTTP session's id is its key
            env=env,
            lane=lane,
            max_snapshots=self.max_snapshots,
            max_snapshot_bytes=self.max_snapshot_bytes,
        )
        self.sessions[session.id] = session
        return session

    async def close(self, session: Session) -> None:
        """Close the session's env on its own thread and free the slot (idempotent)."""
        if session.closed:
            return
        session.closed = True
        self.sessions.pop(session.id, None)
        session.forget_snapshots()
        try:
            await session.lane.submit(session.env.close)
        except Exception:  # noqa: BLE001 - a failing close must not keep the slot
            pass

    def start_reaper(self) -> None:
        if self.idle_timeout_s is not None and self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        for task in list(self._expiring):
            task.cancel()
        for session in list(self.sessions.values()):
            await self.close(session)
        self.pool.close()

    async def _reap_forever(self) -> None:
        assert self.idle_timeout_s is not None
        interval = min(max(self.idle_timeout_s / 4, 0.05), 5.0)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for session in list(self.sessions.values()):
                if session.busy or now - session.last_active <= self.idle_timeout_s:
                    continue
                self.reaped += 1
                # its own task: neither a slow env.close nor a client that stopped reading
                # may hold up the next session's expiry
                task = asyncio.get_running_loop().create_task(self._expire(session))
                self._expiring.add(task)
                task.add_done_callback(self._expiring.discard)

    async def _expire(self, session: Session) -> None:
        """Free the session (slot, env, snapshots), then tell its client, bounded in time."""
        notify = session.on_expire
        await self.close(session)
        if notify is not None:
            try:
                await asyncio.wait_for(notify(), timeout=self.expire_timeout_s)
            except Exception:  # noqa: BLE001 - the peer may be gone or not reading
                pass
