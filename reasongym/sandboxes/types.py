"""Plain-data types of the sandbox API: what a run may use (``Limits``) and what it did (``ExecResult``)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run.

    Attributes:
        timeout_s: wall-clock limit; on expiry everything the program started is killed.
        memory_mb: memory for the program (Docker: the container's cgroup, swap equal to it,
            plus a fixed allowance for the runner; files the program writes count too, as the
            scratch dirs are tmpfs; process backend: the address-space rlimit, a cruder
            measure).
        cpus: CPU quota in cores for the program (Docker only: the container's quota, plus
            half a core with ``launch="fork"``, where the runner prepares the next runs'
            children alongside the program; the process backend caps CPU *time* at
            ``timeout_s`` instead).
        pids: processes and threads the program may have at once (fork bombs stop here).
        output_bytes: bytes kept of stdout and of stderr each; the rest is dropped and the
            result flagged ``truncated``.
        disk_mb: size of the writable work dir (Docker: a tmpfs; bubblewrap: a tmpfs;
            bare process backend: the largest single file). The code and ``files`` must fit.
        stdin_bytes: the largest ``stdin`` a run accepts; a bigger one is a ``ValueError``
            before anything runs.
        files_bytes: the largest total of the code and ``files`` a run accepts (they must
            also fit in ``disk_mb``); more is a ``ValueError`` before anything runs.
    """

    timeout_s: float = 10.0
    memory_mb: int = 512
    cpus: float = 1.0
    pids: int = 64
    output_bytes: int = 64 * 1024
    disk_mb: int = 64
    stdin_bytes: int = 64 << 20
    files_bytes: int = 64 << 20

    def __post_init__(self) -> None:
        problems = []
        if not (isinstance(self.timeout_s, int | float) and 0 < self.timeout_s <= 3600):
            problems.append(f"timeout_s={self.timeout_s!r} must be in (0, 3600] seconds")
        if not (isinstance(self.memory_mb, int) and 32 <= self.memory_mb <= 1 << 20):
            problems.append(
                f"memory_mb={self.memory_mb!r} must be an int >= 32 (Python alone needs ~10 MB)"
            )
        if not (isinstance(self.cpus, int | float) and 0.05 <= self.cpus <= 1024):
            problems.append(f"cpus={self.cpus!r} must be in [0.05, 1024]")
        if not (isinstance(self.pids, int) and 8 <= self.pids <= 1 << 16):
            problems.append(
                f"pids={self.pids!r} must be an int >= 8 (the interpreter itself needs a few)"
            )
        if not (isinstance(self.output_bytes, int) and 0 < self.output_bytes <= 64 << 20):
            problems.append(f"output_bytes={self.output_bytes!r} must be an int in (0, 64 MiB]")
        if not (isinstance(self.disk_mb, int) and 1 <= self.disk_mb <= 1 << 20):
            problems.append(f"disk_mb={self.disk_mb!r} must be an int >= 1")
        for name in ("stdin_bytes", "files_bytes"):
            value = getattr(self, name)
            if not (isinstance(value, int) and 0 <= value <= 1 << 32):
                problems.append(f"{name}={value!r} must be an int in [0, 4 GiB]")
        if problems:
            raise ValueError("invalid Limits: " + "; ".join(problems))

    @property
    def cpu_time_s(self) -> int:
        """CPU-seconds rlimit: a backstop behind the wall-clock timeout."""
        return int(math.ceil(self.timeout_s)) + 1


@dataclass(frozen=True)
class ExecResult:
    """What one run did.

    Attributes:
        stdout: captured standard output (UTF-8, undecodable bytes replaced), at most
            ``Limits.output_bytes`` bytes.
        stderr: same for standard error.
        exit_code: the program's exit status; negative ``-N`` when killed by signal N
            (as in ``subprocess``); None when it never started.
        timed_out: the wall-clock limit was hit and the program was killed.
        oom_killed: the program ran out of memory (Docker: killed by the cgroup OOM killer;
            process backend: died with ``MemoryError``).
        truncated: stdout or stderr was longer than ``Limits.output_bytes`` and was cut.
        duration_s: wall-clock time of the program, from start to exit or kill.
        backend: which sandbox ran it (``"docker"``, ``"process"``, ``"process+bwrap"``).
    """

    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool = False
    oom_killed: bool = False
    truncated: bool = False
    duration_s: float = 0.0
    backend: str = ""

    @property
    def ok(self) -> bool:
        """True when the program exited 0 within its limits."""
        return self.exit_code == 0 and not self.timed_out and not self.oom_killed

    def describe(self) -> str:
        """One line a person (or an agent) reads: how the run ended."""
        if self.timed_out:
            return f"timed out after {self.duration_s:.1f} s and was killed"
        if self.oom_killed:
            return "killed: out of memory"
        if self.exit_code is None:
            return "did not start"
        if self.exit_code < 0:
            return f"killed by signal {-self.exit_code}"
        return f"exit code {self.exit_code}"
