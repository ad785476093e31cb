"""Run a candidate against a task's tests in a sandbox, with a verdict the candidate cannot reach.

Design (the threat: the candidate is adversarial code written by the policy being trained):

- **Two processes.** The program sent to the sandbox is a trusted harness
  (:mod:`~reasongym.envs.verifiers.code_harness`). It makes itself non-dumpable, drops every
  import path the sandbox user can write, and forks the *worker* -- the process that loads the
  candidate (``solution.py``) -- before it reads anything from stdin. The worker's fd 0 is
  ``/dev/null``, its stdout/stderr go to an unlinked scratch file, and every other fd but its
  two pipe ends is closed before candidate code runs. So the candidate never shares an
  interpreter, writable memory or the reporting channel with the code that decides its
  verdict: it cannot patch ``exec``/``json``, walk the harness's frames, swap ``candidate``
  with ``sys.settrace``, print into the report, or read the tests (same uid, but
  non-dumpable means no ``ptrace`` and no ``/proc/<harness>/{fd,mem}``).
- **Tests never leave the harness.** The tests, their expected values and a per-run nonce
  arrive on the harness's stdin after the fork; nothing about them is in a file. The task's
  prompt (HumanEval helpers such as ``encode_cyclic``) is defined in the harness from the
  task's own text.
- **Only plain data crosses back.** In the tests, ``candidate`` and the entry-point name are
  a proxy: arguments are encoded, the call happens in the worker, and the result comes back
  in a bounded tagged format (tuple vs list, set, frozenset, dict, bytes, int of any size,
  float incl. nan/inf, complex, str, bool, None) that the harness decodes into exact
  built-in types only. A custom class, a subclass of ``list``/``str``/``int``, an
  ``__eq__`` that is always True, undecodable or oversized data, a crash or a timeout fails
  that test with a message. An exception the candidate raises is re-raised in the test as
  its built-in class (``StopIteration`` excepted: it would end a loop silently); harness
  failures are ``BaseException`` so that a test's ``except Exception`` cannot swallow them.
- **Per-call limits and restarts.** Every call has the step's deadline; a worker that hangs,
  dies or breaks the protocol is killed and replaced by a fresh interpreter (fork + exec,
  so none of the harness's memory survives) for the following tests while time remains.
- **Few round trips.** Calls with literal arguments that run exactly once per test step
  (``assert candidate([1, 2]) == 3``: most HumanEval asserts) are announced to the worker
  in one batch, up to the first step that is not like that; the worker answers them back
  to back and the harness takes each answer when the test makes that call. Arguments only,
  never the expected values, leave the harness. Everything else is one call, one answer.
- **The host trusts nothing either** (:func:`read_report`): the report must be exactly one
  nonce-tagged line, well-formed, naming the task's own tests in order with the right
  types; anything else (missing, extra, malformed, early exit, killed harness, sandbox
  error) fails every test with a message. The verifier scores the checked outcome
  (:class:`~reasongym.envs.verifiers.code.CodeTestsVerifier`: a partial pass counts only the
  tests no constant function passes), in [0, 1].

What tests can do, so: call ``candidate`` / the entry point with plain-data arguments and
check the plain data it returns (every HumanEval and CodeProcedural test does). A test that
needs the candidate's own objects (an instance of a class it defines, a generator, a
function passed in or returned) cannot pass, by design; such a task needs a different test.

Cost (a HumanEval check is a few milliseconds on Docker): ``main.py`` is a ~20-line loader.
On a fork-server sandbox the harness is a warm module (``Sandbox.warm_module``), imported once
per container, so a run ships only ``solution.py`` and compiles nothing of the harness; and
after a graded run the server forks the next run's worker ahead of time (held, see
``code_harness.__prepare_spare__``). Elsewhere the harness is compiled once per sandbox by the
sandbox's own interpreter and shipped as ``harness.bin`` (marshal, tagged with the interpreter
version; any mismatch falls back to compiling the source). The host works out, once per
task, the call plan and the steps' code objects (marshalled; used when the sandbox has the
same bytecode), and the stdlib modules the prompt imports are imported before the worker
starts, so it inherits them.

Backends: the same program runs on every ``Sandbox`` through ``Sandbox.run`` only. Under
Docker and bubblewrap the candidate also cannot see the host; the bare process backend is
not a security boundary (the candidate can read the host's files, e.g. the data set).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import logging
import secrets
import sys
import threading
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from reasongym.envs.verifiers.code_harness import SPARE_MARKER  # stdlib only: light

log = logging.getLogger("reasongym.envs")
MAX_NAME = 200  # characters of a test name in a report
MAX_ERROR = 2000  # characters of one error message kept from a report


@lru_cache(maxsize=4096)
def prompt_imports(prompt: str) -> list[str]:
    """Standard-library modules the prompt imports at top level (the harness preloads them)."""
    try:
        tree = ast.parse(prompt)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    return sorted({n for n in names if n in sys.stdlib_module_names})


@cache
def harness_source() -> str:
    """The source of the harness and the worker (``code_harness.py``)."""
    return Path(__file__).with_name("code_harness.py").read_text(encoding="utf-8")


@cache
def harness_module() -> str:
    """The name the harness is warmed under (``Sandbox.warm_module``): versioned by its text."""
    digest = hashlib.sha256(harness_source().encode("utf-8")).hexdigest()[:16]
    return f"reasongym_code_harness_{digest}"


# main.py of a run: takes the harness from the sandbox's warm module when there is one (the
# common case, a few lines to compile), else runs ``_COLD_LOADER``, which loads harness.bin
# (compiled once for the sandbox's own interpreter, see ``_bytecode``) or compiles harness.py
# and reads its own source before any candidate code runs; then starts it.
_COLD_LOADER = """def _harness():
    try:
        with open("harness.py", encoding="utf-8") as f:
            source = f.read()
    except FileNotFoundError:  # shipped without the harness, and no warm copy: say so
        sys.exit(@NOWARM@)
    code = None
    try:
        import marshal
        with open("harness.bin", "rb") as f:
            version, _, blob = f.read().partition(b"\\n")
        if version.decode() == "%s %x" % (sys.implementation.cache_tag, sys.hexversion):
            code = marshal.loads(blob)
    except Exception:
        pass
    ns = {"__name__": "reasongym_harness"}
    exec(code or compile(source, "harness.py", "exec"), ns)
    return ns["harness_main"], source
main, source = _harness()
main(source, @PRELOAD@)
"""
LOADER = (
    SPARE_MARKER.decode("ascii")
    + """import sys
warm = sys.modules.get(@WARM@)
if warm is not None:
    warm.harness_main(warm.__source__, @PRELOAD@)
else:
    exec(@COLD@)
"""
)


NO_WARM_HARNESS = 87  # the loader's exit code when it finds neither the warm harness nor files


def loader(preload: list[str]) -> str:
    """``main.py`` of a run that preloads the stdlib modules ``preload`` (see ``LOADER``)."""
    cold = _COLD_LOADER.replace("@PRELOAD@", repr(preload)).replace(
        "@NOWARM@", str(NO_WARM_HARNESS)
    )
    return (
        LOADER.replace("@WARM@", repr(harness_module()))
        .replace("@PRELOAD@", repr(preload))
        .replace("@COLD@", repr(cold))
    )


def _warm(sandbox: Any) -> bool:
    """True when every run of ``sandbox`` finds the harness already imported (a fork server);
    else each run ships ``harness.py`` (and ``harness.bin``)."""
    warm_module = getattr(sandbox, "warm_module", None)
    if warm_module is None:
        return False
    try:
        return warm_module(harness_module(), harness_source()) is True
    except Exception as exc:  # noqa: BLE001 - only an optimisation: ship the files instead
        log.warning("could not warm the code harness in the sandbox (%s); runs load it", exc)
        return False


_COMPILER = """import base64, marshal, sys
code = compile(open("harness.py", encoding="utf-8").read(), "harness.py", "exec")
sys.stdout.write("%s %x\\n" % (sys.implementation.cache_tag, sys.hexversion) + base64.b64encode(marshal.dumps(code)).decode())
"""
_bytecode_cache: dict[int, bytes | None] = {}
_bytecode_lock = threading.Lock()


def _bytecode(sandbox: Any) -> bytes | None:
    """``harness.bin`` for ``sandbox``: the harness compiled by the sandbox's interpreter once
    (compiling ~900 lines on every run would cost more than the rest of the harness), tagged
    with its version; None when that failed (every run then compiles the source)."""
    from reasongym.sandboxes import Limits

    key = id(sandbox)
    with _bytecode_lock:
        if key in _bytecode_cache:
            return _bytecode_cache[key]
    blob = None
    try:
        result = sandbox.run(
            _COMPILER,
            files={"harness.py": harness_source()},
            limits=Limits(timeout_s=60, memory_mb=256, output_bytes=8 << 20),
        )
        version, _, text = (result.stdout or "").partition("\n")
        if result.exit_code == 0 and version and text:
            blob = version.encode() + b"\n" + base64.b64decode(text)
    except Exception as exc:  # noqa: BLE001 - only an optimisation: compile per run instead
        log.warning(
            "could not precompile the code harness in the sandbox (%s); runs compile it", exc
        )
    with _bytecode_lock:
        _bytecode_cache[key] = blob
    return blob


def _steps_key(steps: list[dict[str, Any]]) -> tuple[tuple[str, Any, bool], ...]:
    return tuple((str(s["name"]), s["code"], bool(s["test"])) for s in steps)


def compiled_task(prompt: str, steps: list[dict[str, Any]]) -> dict[str, str]:
    """The task's prompt and steps compiled on the host once per task
    (``code_harness.compile_task``), marshalled; the harness uses them when its interpreter
    has the same bytecode (``tag``), else compiles them itself."""
    return _compiled(prompt, _steps_key(steps))


@lru_cache(maxsize=4096)
def _compiled(prompt: str, key: tuple[tuple[str, Any, bool], ...]) -> dict[str, str]:
    import marshal

    from reasongym.envs.verifiers import code_harness

    steps = [{"name": n, "code": c, "test": t} for n, c, t in key]
    blob = marshal.dumps(code_harness.compile_task(prompt, steps))
    return {"tag": code_harness.code_tag(), "code": base64.b64encode(blob).decode("ascii")}


def plan_for(entry: str | None, steps: list[dict[str, Any]]) -> list[list[Any]]:
    """The calls the harness announces to the worker ahead (``code_harness.plan_calls``),
    worked out on the host once per task instead of in every run."""
    return _plan(entry or "", _steps_key(steps))


@lru_cache(maxsize=4096)
def _plan(entry: str, key: tuple[tuple[str, Any, bool], ...]) -> list[list[Any]]:
    from reasongym.envs.verifiers import code_harness

    if not entry:
        return []
    steps = [{"name": n, "code": c, "test": t} for n, c, t in key]
    return code_harness.plan_calls(steps, entry)


def spec_json(
    *,
    nonce: str,
    entry_point: str | None,
    prompt: str,
    steps: list[dict[str, Any]],
    step_timeout_s: float,
    budget_s: float,
) -> str:
    """The harness's stdin: the run's nonce and budget, then what is the same for every run
    of the task (its steps, their call plan and bytecode: encoded once per task)."""
    task = _task_json(entry_point, prompt, _steps_key(steps), float(step_timeout_s))
    head = json.dumps({"nonce": nonce, "budget_s": float(budget_s)}, ensure_ascii=True)
    return head[:-1] + ", " + task[1:]


@lru_cache(maxsize=1024)
def _task_json(
    entry: str | None, prompt: str, key: tuple[tuple[str, Any, bool], ...], step_timeout_s: float
) -> str:
    steps = [{"name": n, "code": c, "test": t} for n, c, t in key]
    return json.dumps(
        {
            "entry_point": entry,
            "prompt": prompt,
            "steps": steps,
            "plan": _plan(entry or "", key),
            "compiled": _compiled(prompt, key),
            "step_timeout_s": step_timeout_s,
        },
        ensure_ascii=True,
    )


@dataclass
class TestsOutcome:
    """What a run established, checked against the task's own tests.

    Attributes:
        tests: one ``{"name", "passed", "error"}`` per test of the task, in order.
        error: a run-level problem (load failure, crash, bad report), or None.
        stdout: the tail of what the candidate printed.
    """

    tests: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    stdout: str = ""

    @property
    def passed(self) -> int:
        return sum(1 for t in self.tests if t["passed"] is True)


def clean_text(value: object, limit: int = MAX_ERROR) -> str:
    """A string safe to show and to serialise: lone surrogates replaced, length capped."""
    if not isinstance(value, str):
        return ""
    return value[:limit].encode("utf-8", "replace").decode("utf-8")


def all_failed(names: list[str], error: str, stdout: str = "") -> TestsOutcome:
    return TestsOutcome(
        tests=[{"name": n, "passed": False, "error": error} for n in names],
        error=error,
        stdout=stdout,
    )


def read_report(stdout: str, nonce: str, names: list[str]) -> TestsOutcome | str:
    """The outcome the harness reported, or why the report is not acceptable."""
    lines = [line for line in stdout.splitlines() if line.startswith(nonce)]
    if not lines:
        return "no report"
    if len(lines) > 1:
        return "more than one report"
    try:
        report = json.loads(lines[0][len(nonce) :])
    except (ValueError, RecursionError):
        return "the report is not valid JSON (was the harness cut off?)"
    if not isinstance(report, dict) or set(report) != {"error", "results", "stdout"}:
        return "the report does not have the fields error, results, stdout"
    error, results, out = report["error"], report["results"], report["stdout"]
    if not (error is None or isinstance(error, str)) or not isinstance(out, str):
        return "the report's error/stdout have the wrong types"
    if not isinstance(results, list) or len(results) != len(names):
        got = len(results) if isinstance(results, list) else "no"
        return f"the report has {got} results for the task's {len(names)} tests"
    tests = []
    for i, (name, item) in enumerate(zip(names, results, strict=True)):
        if not isinstance(item, dict) or set(item) != {"name", "passed", "error"}:
            return f"result {i} does not have the fields name, passed, error"
        if item["name"] != name:
            return f"result {i} is for {clean_text(item['name'], MAX_NAME)!r}, expected {name!r}"
        passed, why = item["passed"], item["error"]
        if type(passed) is not bool or not (why is None or isinstance(why, str)):
            return f"result {i} has the wrong types"
        if passed and why is not None:
            return f"result {i} passed with an error"
        tests.append(
            {
                "name": name,
                "passed": passed,
                "error": None if passed else clean_text(why) or "failed",
            }
        )
    return TestsOutcome(
        tests=tests,
        error=None if error is None else clean_text(error),
        stdout=clean_text(out),
    )


@dataclass(frozen=True)
class RunRequest:
    """The trusted inputs of a run (from the task), plus the candidate's program."""

    solution: bytes  # solution.py: the prompt (if any) and the candidate's code
    steps: list[dict[str, Any]]
    entry_point: str | None
    prompt: str
    timeout_s: float
    memory_mb: int
    step_timeout_s: float

    @property
    def test_names(self) -> list[str]:
        return [str(s["name"]) for s in self.steps if s["test"]]


def run_tests(sandbox: Any, request: RunRequest) -> tuple[TestsOutcome, Any]:
    """Run the harness in ``sandbox``; returns the checked outcome and the ``ExecResult``
    (None when the sandbox itself failed). Never raises for anything the candidate does."""
    from reasongym.sandboxes import Limits, SandboxError

    names = request.test_names
    nonce = f"@@REPORT-{secrets.token_hex(16)}@@"
    # The harness keeps a margin of the wall-clock limit for its start-up and its report.
    margin = min(1.0, 0.25 * request.timeout_s)
    try:
        spec = spec_json(
            nonce=nonce,
            entry_point=request.entry_point,
            prompt=request.prompt,
            steps=request.steps,
            step_timeout_s=request.step_timeout_s,
            budget_s=max(0.1, request.timeout_s - margin),
        )
        files = {"solution.py": request.solution}
        warm = _warm(sandbox)
        for _ in range(2):
            if not warm:
                files["harness.py"] = harness_source()
                blob = _bytecode(sandbox)
                if blob is not None:
                    files["harness.bin"] = blob
            result = sandbox.run(
                loader(prompt_imports(request.prompt)),
                stdin=spec,
                files=files,
                limits=Limits(timeout_s=request.timeout_s, memory_mb=request.memory_mb),
            )
            # Nothing ran: the sandbox said it holds the harness warm, and this run had none.
            if not (warm and result.exit_code == NO_WARM_HARNESS and nonce not in result.stdout):
                break
            log.warning("the sandbox lost its warm code harness; this run ships it")
            warm = False
    except Exception as exc:  # noqa: BLE001 - step() must not raise, whatever the code did
        # SandboxError is the documented failure; anything else is a sandbox bug, but it may
        # still have been provoked by the candidate, so it fails the tests instead of raising.
        if not isinstance(exc, SandboxError):
            log.warning(
                "the sandbox raised %s running a code check", type(exc).__name__, exc_info=True
            )
        why = f"{type(exc).__name__}: {clean_text(str(exc), 500)}"
        return all_failed(names, f"the sandbox failed: {why}"), None
    outcome = read_report(result.stdout or "", nonce, names)
    if isinstance(outcome, TestsOutcome):
        return outcome, result
    if result.timed_out:
        why = "timed out"
    elif getattr(result, "oom_killed", False):
        why = "ran out of memory"
    else:
        why = f"exited with code {result.exit_code}"
    tail = clean_text((result.stderr or "").strip()[-500:], 500)
    problem = f"the program {why} before the tests finished ({outcome})"
    return all_failed(names, problem + (f"\n{tail}" if tail else "")), result
