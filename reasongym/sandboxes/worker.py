"""One warm sandbox container and the attached stdin/stdout stream to its runner.

The host speaks to the runner (``runner.py``) over the container's attached stdin/stdout: no
``docker exec`` per run (~100 ms), just a write and a read on a socket that is already open.
A message is a JSON header and then ``payload`` raw bytes (code, stdin, files one way;
stdout, stderr the other), so that large inputs and outputs cost linear time. A request's
header is preceded by its length (8 bytes, big-endian), so that the runner reads each part
straight into its own buffer; an answer's header is one line. Output arrives in
the engine's multiplexed framing (8-byte header: stream id, 3 zero bytes, big-endian length),
since the container has no TTY.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from collections.abc import Sequence
from typing import Any

SMALL_REQUEST = 1 << 18  # requests up to this size are sent in one write


class WorkerBroken(Exception):
    """The stream to the runner closed or carried garbage: the container is unusable."""


class WorkerTimeout(Exception):
    """The runner did not answer in time."""


class Worker:
    """A started container whose runner answered a ping.

    Attributes:
        container: the SDK's ``Container``.
        disk_mb: size of the container's work-dir tmpfs (fixed at creation).
        applied: ``(memory_mb, cpus, pids)`` currently set on the container.
        runs: runs served so far.
        warmed: names of the warm modules (``DockerSandbox.warm_module``) its runner holds.
    """

    def __init__(self, container: Any, attach: Any, disk_mb: int, applied: tuple[int, float, int]):
        self.container = container
        self._attach = attach  # keeps the SDK's response (and so the connection) alive
        sock = getattr(attach, "_sock", attach)
        if not isinstance(sock, socket.socket):
            raise TypeError(f"unsupported engine transport: attach gave {type(attach).__name__}")
        self._sock = sock
        self._buf = bytearray()  # stdout bytes of the runner, not yet consumed
        self._next_id = 0
        self.stderr_tail = b""  # the runner's own stderr, for error messages
        self.disk_mb = disk_mb
        self.applied = applied
        self.runs = 0
        self.warmed: set[str] = set()  # names of the warm modules its runner has imported

    @property
    def short_id(self) -> str:
        return self.container.short_id

    def looks_dead(self) -> bool:
        """True when the idle stream is readable, which for an idle runner means EOF or junk."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable) or bool(self._buf)

    def request(
        self,
        message: dict[str, Any],
        timeout: float,
        parts: Sequence[bytes | memoryview] = (),
    ) -> tuple[dict[str, Any], bytearray]:
        """Send one request (header + raw ``parts``) and wait for its answer.

        Returns:
            ``(header, payload)``: the answer's JSON header and its raw payload bytes.

        Raises:
            WorkerTimeout: no answer within ``timeout`` seconds.
            WorkerBroken: the stream closed, or the answer was malformed.
        """
        deadline = time.monotonic() + timeout
        self._next_id += 1
        size = sum(len(p) for p in parts)
        header = json.dumps({**message, "id": self._next_id, "payload": size}).encode()
        header = len(header).to_bytes(8, "big") + header
        try:
            self._sock.settimeout(timeout)
            if size <= SMALL_REQUEST:  # one write: the runner wakes once for the whole request
                self._sock.sendall(b"".join([header, *parts]))
            else:
                self._sock.sendall(header)
                for part in parts:
                    if len(part):
                        self._sock.sendall(part)
        except TimeoutError:
            raise WorkerTimeout("sending the request timed out") from None
        except OSError as exc:
            raise WorkerBroken(f"stream to the runner closed ({exc})") from None
        line = self._read_line(deadline)
        try:
            answer = json.loads(line)
        except ValueError:
            raise WorkerBroken(f"runner sent something that is not JSON: {line[:200]!r}") from None
        if not isinstance(answer, dict):
            raise WorkerBroken(f"runner sent {type(answer).__name__}, not an object")
        if answer.get("id") != self._next_id:
            raise WorkerBroken(f"runner answered request {answer.get('id')!r}, not {self._next_id}")
        want = answer.get("payload", 0)
        if type(want) is not int or want < 0:
            raise WorkerBroken(f"runner announced a payload of {want!r} bytes")
        return answer, self._read_bytes(want, deadline)

    def _read_line(self, deadline: float) -> bytes:
        scanned = 0
        while True:
            i = self._buf.find(b"\n", scanned)
            if i >= 0:
                line = bytes(self._buf[:i])
                del self._buf[: i + 1]
                return line
            scanned = len(self._buf)
            self._read_frame(deadline)

    def _read_bytes(self, n: int, deadline: float) -> bytearray:
        while len(self._buf) < n:
            self._read_frame(deadline)
        out = self._buf[:n]
        del self._buf[:n]
        return out

    def _read_frame(self, deadline: float) -> None:
        header = self._read_exact(8, deadline)
        stream, size = header[0], struct.unpack(">I", header[4:])[0]
        if stream not in (1, 2) or header[1:4] != b"\0\0\0":
            raise WorkerBroken(f"bad frame header {bytes(header)!r}")
        payload = self._read_exact(size, deadline)
        if stream == 1:
            self._buf += payload
        else:
            self.stderr_tail = (self.stderr_tail + bytes(payload))[-4096:]

    def _read_exact(self, n: int, deadline: float) -> bytearray:
        out = bytearray(n)
        view = memoryview(out)
        have = 0
        while have < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout("the runner did not answer in time")
            try:
                self._sock.settimeout(remaining)
                got = self._sock.recv_into(view[have:], min(n - have, 1 << 20))
            except TimeoutError:
                raise WorkerTimeout("the runner did not answer in time") from None
            except OSError as exc:
                raise WorkerBroken(f"stream to the runner failed ({exc})") from None
            if not got:
                raise WorkerBroken("stream to the runner closed (container exited)")
            have += got
        return out

    def close_stream(self) -> None:
        """Close our end: the runner sees EOF on stdin and exits (the container auto-removes)."""
        for obj in (self._sock, self._attach):
            try:
                obj.close()
            except Exception:  # noqa: BLE001 - best effort on teardown
                pass
