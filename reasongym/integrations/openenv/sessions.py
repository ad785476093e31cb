"""Server-side sessions: one env per WebSocket, run off the event loop; capacity and reaping.

A session owns one env built by ``gym.make`` and a lane of the manager's worker pool
(``workers.py``): every call on the env runs there, one at a time and in order, so a slow step
(a sandboxed test run) never blocks the event loop, and other sessions wait for it at most
the pool's ``stall_s`` before a thread is added for them. Snapshots from ``get_state`` stay on
the server, keyed by unguessable ids: a client can restore a state the server produced for
its own session, never forge one.
"""

from __future__ import annotations

import asyncio
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
    snapshots: OrderedDict[str, tuple[Any, int, str | None, bool]] = field(
        default_factory=OrderedDict
    )

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in this session's lane of the worker pool."""
        self.busy += 1
        self.last_active = time.monotonic()
        try:
            return await self.lane.submit(fn, *args)
        finally:
            self.busy -= 1
            self.last_active = time.monotonic()

    def remember(self, snapshot: Any) -> str:
        """Store a snapshot (with the session's counters) and return its id; the oldest goes
        when more than ``max_snapshots`` are held."""
        state_id = secrets.token_urlsafe(12)
        self.snapshots[state_id] = (snapshot, self.step_count, self.episode_id, self.done)
        while len(self.snapshots) > self.max_snapshots:
            self.snapshots.popitem(last=False)
        return state_id


class SessionManager:
    """Creates, counts, reaps and closes sessions.

    Args:
        make_env: builds one env (called in the new session's lane of the worker pool).
        max_sessions: the capacity; one more is refused with :class:`CapacityError`.
        idle_timeout_s: sessions with no message for this long are closed (None: never).
        max_snapshots: snapshots kept per session.
    """

    def __init__(
        self,
        make_env: Callable[[], Any],
        max_sessions: int,
        idle_timeout_s: float | None,
        max_snapshots: int,
    ):
        self.make_env = make_env
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.max_snapshots = max_snapshots
        self.sessions: dict[str, Session] = {}
        self._reserved = 0
        self._reaper: asyncio.Task | None = None
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
            id=secrets.token_hex(8), env=env, lane=lane, max_snapshots=self.max_snapshots
        )
        self.sessions[session.id] = session
        return session

    async def close(self, session: Session) -> None:
        """Close the session's env on its own thread and free the slot (idempotent)."""
        if session.closed:
            return
        session.closed = True
        self.sessions.pop(session.id, None)
        session.snapshots.clear()
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
                if session.on_expire is not None:
                    try:
                        await session.on_expire()
                    except Exception:  # noqa: BLE001 - the peer may already be gone
                        pass
                await self.close(session)
