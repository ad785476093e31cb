"""Warm modules (``Sandbox.warm_module``) and the spare child of the fork server: what a run
finds already imported, on every container, and what it gets from the pipe it is handed."""

from __future__ import annotations

import hashlib

import pytest
from sandbox_helpers import HOSTILE_LIMITS, IMAGE

from reasongym.sandboxes import DockerSandbox, Limits, ProcessSandbox

pytestmark = pytest.mark.docker

COUNTER = """
calls = []
def bump():
    calls.append(1)
    return len(calls)
"""
USE = "import sys\nm = sys.modules.get('rg_counter')\nprint(m.bump() if m else 'missing')"


def test_a_warm_module_is_in_every_run_and_each_run_starts_from_its_fresh_copy():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="fork") as sb:
        assert sb.run(USE).stdout == "missing\n"
        assert sb.warm_module("rg_counter", COUNTER) is True
        assert sb.warm_module("rg_counter", COUNTER) is True  # again: a no-op
        # Each run is a fork: what one run does to the module, the next one never sees.
        assert [sb.run(USE).stdout for _ in range(3)] == ["1\n"] * 3
        assert "rg_counter" in sb.run("import sys; print(sorted(sys.modules))").stdout


def test_containers_started_later_are_warmed_before_their_first_run():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="fork") as sb:
        assert sb.warm_module("rg_counter", COUNTER)
        (before,) = sb.container_ids
        r = sb.run("import time\nwhile True: time.sleep(1)", limits=Limits(timeout_s=0.5))
        assert r.timed_out  # that container is replaced
        assert sb.run(USE).stdout == "1\n"
        assert before not in sb.container_ids


def test_warm_module_refuses_what_it_cannot_keep():
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="fork") as sb:
        with pytest.raises(ValueError, match="identifier"):
            sb.warm_module("not a name", "x = 1")
        assert sb.warm_module("rg_once", "x = 1")
        with pytest.raises(ValueError, match="different module"):
            sb.warm_module("rg_once", "x = 2")
        # A module that fails to import is an answer here, never a failed run later.
        assert sb.warm_module("rg_broken", "raise RuntimeError('no')") is False
        r = sb.run("import sys; print('rg_broken' in sys.modules, sys.modules['rg_once'].x)")
        assert r.ok and r.stdout == "False 1\n", r
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="exec") as sb:
        assert sb.warm_module("rg_counter", COUNTER) is False  # each run is a fresh interpreter
        assert sb.run(USE).stdout == "missing\n"
    with ProcessSandbox(limits=HOSTILE_LIMITS, use_bwrap=False) as sb:
        assert sb.warm_module("rg_counter", COUNTER) is False


def test_a_module_that_fails_to_import_costs_one_container_not_one_per_call(monkeypatch):
    from reasongym.sandboxes import docker

    broken, kills_the_runner = "raise RuntimeError('no')", "import os\nos._exit(3)"
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="fork") as sb:
        assert sb.warm_module("rg_broken", broken) is False  # that container is replaced
        assert sb.run("pass").ok  # (waits for the replacement)
        (after,) = sb.container_ids
        for _ in range(3):  # a caller asking before every run: answered from memory
            assert sb.warm_module("rg_broken", broken) is False
        assert sb.run("pass").ok and sb.container_ids == [after]
        # A runner that broke is tried again, but only after a back-off: not on the next call.
        assert sb.warm_module("rg_fatal", kills_the_runner) is False
        assert sb.run("pass").ok
        (after,) = sb.container_ids
        assert sb.warm_module("rg_fatal", kills_the_runner) is False
        assert sb.run("pass").ok and sb.container_ids == [after]
        # A new source under a failed name is a new module: it is tried.
        assert sb.warm_module("rg_broken", "x = 1") is True
        assert sb.run("import sys; print(sys.modules['rg_broken'].x)").stdout == "1\n"
        assert sb.container_ids == [after]
    monkeypatch.setattr(docker, "WARM_RETRY_S", 0.0)  # the back-off over at once
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="fork") as sb:
        assert sb.warm_module("rg_fatal", kills_the_runner) is False
        assert sb.run("pass").ok
        (after,) = sb.container_ids
        assert sb.warm_module("rg_fatal", kills_the_runner) is False  # tried again: replaced
        assert sb.run("pass").ok and sb.container_ids != [after]
        assert sb.warm_module("rg_broken", broken) is False
        assert sb.run("pass").ok
        (after,) = sb.container_ids
        assert sb.warm_module("rg_broken", broken) is False  # raised: never tried again
        assert sb.run("pass").ok and sb.container_ids == [after]


def test_the_spare_writes_the_runs_files_exactly_and_nothing_else():
    """The spare was forked before the request: it gets code and files over a pipe."""
    blob = bytes(range(256)) * (80 << 10)  # 20 MiB, every byte value
    files = {"data/blob.bin": blob, "empty.txt": "", "a/b/c.txt": "deep"}
    code = (
        "import hashlib, os\n"
        "print(hashlib.sha256(open('data/blob.bin', 'rb').read()).hexdigest())\n"
        "print(sorted(os.path.join(d, f) for d, _, fs in os.walk('.') for f in fs))\n"
        "print(repr(open('empty.txt').read()), open('a/b/c.txt').read())"
    )
    with DockerSandbox(image=IMAGE, pool_size=1, limits=HOSTILE_LIMITS, launch="fork") as sb:
        for _ in range(2):  # the second run is on the spare forked after the first
            r = sb.run(code, files=files, limits=Limits(timeout_s=20, memory_mb=256, disk_mb=64))
            assert r.ok, r
            digest, listing, rest = r.stdout.splitlines()
            assert digest == hashlib.sha256(blob).hexdigest()
            assert listing == str(
                sorted(["./a/b/c.txt", "./data/blob.bin", "./empty.txt", "./main.py"])
            )
            assert rest == "'' deep"
