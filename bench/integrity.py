"""Reward integrity (issue 12): every reported attack x env, held or broken, and what the
code harness costs.

    .venv/bin/python bench/integrity.py                # everything (Docker + process+bwrap)
    .venv/bin/python bench/integrity.py --only code    # one section: code | other | cost
    .venv/bin/python bench/integrity.py --json out.json

Part 1 drives every attack through the public API an agent or an env author would use
(``gym.make`` + ``step``, ``reasongym.verify_math``, ``reasongym.register_yaml``), each in a
forked child with a wall-clock bound and a memory cap, so a hang or a blow-up is reported as
*broken* instead of stopping the bench. An attack is **held** when nothing raised out of the
public call, it returned in time, and it was not scored above what it earned. The code
attacks also run against the pre-issue-12 runner (``bench/_legacy_code_runner.py``, the
insecure baseline) to show that each one is real.

Part 2 measures the HumanEval check (canonical solutions, the same tasks in the same order,
interleaved) with the new harness and with the old runner on the same warm sandbox pool:
p50 latency of one check and checks per second with ``pool_size`` checks at once.
Target: every attack held; new p50 within 2x of the old one.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests" / "integrity")]

from code_attacks import ATTACKS, TARGET, answer  # noqa: E402

CHILD_TIMEOUT_S = 30.0
CHILD_MEMORY = 3 << 30  # address space of one attack's child


# --- running one attack in a child ------------------------------------------------------------


def _in_child(fn, args, conn) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    except (ValueError, OSError):
        pass
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - reported, not raised
        conn.send(("raised", f"{type(exc).__name__}: {str(exc)[:200]}"))
    conn.close()


def isolated(fn, *args, timeout_s: float = CHILD_TIMEOUT_S) -> tuple[str, object, float]:
    """``(status, value, seconds)``: status "ok" | "raised" | "hung" | "died"."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    start = time.monotonic()
    proc = ctx.Process(target=_in_child, args=(fn, args, child), daemon=True)
    proc.start()
    child.close()
    if not parent.poll(timeout_s):
        proc.kill()
        proc.join()
        return "hung", f"no answer in {timeout_s:.0f} s", time.monotonic() - start
    try:
        status, value = parent.recv()
    except EOFError:
        status, value = "died", f"exit code {proc.exitcode}"
    proc.join(5)
    if proc.is_alive():
        proc.kill()
    return status, value, time.monotonic() - start


def guarded(fn, *args) -> tuple[str, object, float]:
    """Like ``isolated`` but in this process (the code envs bound their own time), so that one
    env and its warm sandbox serve every attack."""
    start = time.monotonic()
    try:
        return "ok", fn(*args), time.monotonic() - start
    except BaseException as exc:  # noqa: BLE001 - reported, not raised
        return "raised", f"{type(exc).__name__}: {str(exc)[:200]}", time.monotonic() - start


# --- code attacks ---------------------------------------------------------------------------------

_ENVS: dict[str, object] = {}


def _code_env(env_id: str, backend: str):
    import gymnasium as gym

    import reasongym  # noqa: F401

    key = f"{env_id}|{backend}"
    if key not in _ENVS:
        _ENVS[key] = gym.make(env_id, sandbox={"backend": backend, "timeout_s": 3})
    return _ENVS[key]


def code_attack(env_id: str, backend: str, action: str, task_index: int) -> dict:
    env = _code_env(env_id, backend)
    env.reset(options={"task_index": task_index})
    _, reward, _, _, info = env.step(action)
    return {"reward": float(reward), "success": bool(info.get("is_success"))}


def legacy_attack(backend: str, code: str) -> dict:
    from _legacy_code_runner import legacy_verify

    from reasongym.envs.tasks.humaneval import load_humaneval

    sandbox = _sandbox(backend)
    score, _ = legacy_verify(
        sandbox, load_humaneval()[TARGET], f"```python\n{code}```", timeout_s=3
    )
    return {"reward": score, "success": score >= 1.0}


_SANDBOXES: dict[str, object] = {}


def _sandbox(backend: str):
    from reasongym.sandboxes import get_sandbox

    if backend not in _SANDBOXES:
        _SANDBOXES[backend] = get_sandbox(backend)
    return _SANDBOXES[backend]


def code_rows(backends: list[str]) -> list[dict]:
    rows = []
    procedural = {
        "ISSUE returns an object whose __eq__ is always True": "class _Same:\n"
        "    def __eq__(self, other): return True\n"
        "def {entry}(*args):\n    return _Same()\n",
        "ISSUE builtins.exec replaced by a no-op": "import builtins\nbuiltins.exec = lambda *a, **k: None\n"
        "def {entry}(*args):\n    return None\n",
    }
    for name, code in ATTACKS.items():
        row = {"attack": name, "results": {}}
        for backend in backends:
            status, value, secs = guarded(
                code_attack, "reasongym/HumanEval-v0", backend, answer(code), TARGET
            )
            row["results"][f"HumanEval-v0 ({backend})"] = _judge(status, value, secs)
        if "surrogate" not in name:  # the old runner raised before running it
            status, value, secs = guarded(legacy_attack, backends[0], code)
            row["results"][f"old runner ({backends[0]})"] = _judge(status, value, secs)
        rows.append(row)
    from reasongym.envs.tasks.code_procedural import CodeProceduralSource

    entry = CodeProceduralSource(difficulty=2)[0].meta["entry_point"]
    for name, template in procedural.items():
        row = {"attack": name + " (procedural task)", "results": {}}
        for backend in backends:
            code = template.replace("{entry}", entry)
            status, value, secs = guarded(
                code_attack, "reasongym/CodeProcedural-v0", backend, answer(code), 0
            )
            row["results"][f"CodeProcedural-v0 ({backend})"] = _judge(status, value, secs)
        rows.append(row)
    return rows


def _judge(status: str, value: object, secs: float) -> str:
    if status != "ok":
        return f"BROKEN ({status}: {value})"[:90]
    reward = value["reward"]
    if value["success"] or not 0.0 <= reward < 1.0:
        return f"BROKEN (reward {reward:.3g})"
    return f"held ({reward:.2f}, {secs:.1f} s)"


# --- the other reported attacks ----------------------------------------------------------------------

SIN = r"\sin(10^{300})"
CANCEL = r"x+10^{300}-10^{300}"
GOLDS = ["17", "3/4", "-2", r"\sqrt{2}", r"\pi", "x+1", "2x^2-3"]
CALCULATOR = [
    "2**2000/3",
    "10**600/7",
    "0.0**-1",
    "(10**1000)%0.0",
    "comb(10**6,5*10**5)",
    "perm(10**6,10**6)",
    "comb(10**9,5*10**8)",
    "round(1/3, 10**9)",
]
JSON_CALLS = [
    '{"type":"function","function":"x"}',
    '{"name": "calculator", "arguments": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"name": "calculator", "arguments": {"expression": ' + "7" * 5000 + "}}",
]


def verify_math_case(pred: str, gold: str) -> dict:
    import reasongym

    verdict = reasongym.verify_math(rf"\boxed{{{pred}}}", gold)
    return {"reward": float(verdict.correct), "success": bool(verdict.correct)}


def env_step(env_id: str, action: str, kwargs: dict | None = None) -> dict:
    import gymnasium as gym

    import reasongym  # noqa: F401

    env = gym.make(env_id, **(kwargs or {}))
    try:
        env.reset(seed=0)
        _, reward, _, _, info = env.step(action)
        return {"reward": float(reward), "success": bool(info.get("is_success"))}
    finally:
        env.close()


def step_never_raises(env_id: str, action: str, kwargs: dict | None = None) -> dict:
    """Here only raising or hanging counts (the action is nonsense, not a wrong answer)."""
    result = env_step(env_id, action, kwargs)
    return {"reward": 0.0, "success": False, "observed_reward": result["reward"]}


def _yaml_case(text: str, marker: Path | None = None, expect_error: bool = True) -> dict:
    import gymnasium as gym

    import reasongym
    from reasongym.errors import ConfigError

    folder = Path(tempfile.mkdtemp(prefix="integrity-yaml-"))
    path = folder / "Attack-v0.yaml"
    path.write_text(text, encoding="utf-8")
    registered = []
    try:
        registered = reasongym.register_yaml(path)
        for env_id in registered:
            try:
                gym.make(env_id).close()
            except Exception:  # noqa: BLE001 - failing at make is fine
                pass
        accepted = True
    except ConfigError:
        accepted = False
    ran = marker is not None and marker.exists()
    bad = ran or (expect_error and accepted)
    return {"reward": 1.0 if bad else 0.0, "success": bad, "registered": registered}


def yaml_popen() -> dict:
    marker = Path(tempfile.mkdtemp()) / "ran"
    text = f"id: attacker/Popen-v0\nentry_point: subprocess:Popen\nkwargs: {{args: 'touch {marker}', shell: true}}\n"
    return _yaml_case(text, marker)


def yaml_import_module() -> dict:
    folder = Path(tempfile.mkdtemp())
    marker = folder / "imported"
    (folder / "integrity_side_effect.py").write_text(f"open({str(marker)!r}, 'w').close()\nX = 1\n")
    sys.path.insert(0, str(folder))
    text = "id: attacker/Import-v0\nentry_point: integrity_side_effect:X\n"
    result = _yaml_case(text)  # importing is documented; accepting a non-env is not
    result["note"] = f"module imported: {marker.exists()}"
    return result


def yaml_laughs() -> dict:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    text = "id: attacker/Laughs-v0\nkwargs:\n  instructions: *a8\n" + "\n".join(lines) + "\n"
    return _yaml_case(text)


def yaml_huge() -> dict:
    text = "id: attacker/Huge-v0\ndescription: '" + "x" * (50 << 20) + "'\n"
    return _yaml_case(text)


def yaml_lookalike() -> dict:
    return _yaml_case("id: reasongym/\u041cath-v0\n")


def yaml_reserved() -> dict:
    return _yaml_case("id: reasongym/Mine-v0\n")


def other_rows() -> list[dict]:
    cases: list[tuple[str, str, object, tuple]] = []
    for gold in GOLDS:
        cases.append(
            (rf"math: \boxed{{{SIN}}} vs gold {gold}", "verify_math", verify_math_case, (SIN, gold))
        )
        cases.append(
            (
                rf"math: \boxed{{{CANCEL}}} vs gold {gold}",
                "verify_math",
                verify_math_case,
                (CANCEL, gold),
            )
        )
    cases.append(
        (
            rf"math: \boxed{{{SIN}}} as an answer",
            "Math-v0",
            env_step,
            ("reasongym/Math-v0", rf"<answer>\boxed{{{SIN}}}</answer>"),
        )
    )
    for expr in CALCULATOR:
        action = f'<tool name="calculator">{expr}</tool>'
        cases.append(
            (f"calculator: {expr}", "Math-v0", step_never_raises, ("reasongym/Math-v0", action))
        )
    for call in JSON_CALLS:
        label = call if len(call) < 60 else call[:40] + f"... ({len(call)} chars)"
        cases.append(
            (f"JSON tool call: {label}", "Math-v0", step_never_raises, ("reasongym/Math-v0", call))
        )
    cases.append(
        (
            "lone surrogate in a python tool call",
            "HumanEval-v0",
            step_never_raises,
            (
                "reasongym/HumanEval-v0",
                '<tool name="python">print("\ud800")</tool>',
                {"sandbox": {"backend": "process"}},
            ),
        )
    )
    cases.append(
        (
            "lone surrogate in an answer",
            "Math-v0",
            step_never_raises,
            ("reasongym/Math-v0", "<answer>\ud800</answer>"),
        )
    )
    cases.append(
        (
            "Sudoku: \\boxed{111...1} of 1 MB",
            "Sudoku-v0",
            step_never_raises,
            ("reasongym/Sudoku-v0", "\\boxed{" + "1" * (1 << 20) + "}"),
        )
    )
    cases.append(
        ("YAML: entry_point subprocess:Popen, shell: true", "register_yaml", yaml_popen, ())
    )
    cases.append(
        (
            "YAML: entry_point naming a non-env module attribute",
            "register_yaml",
            yaml_import_module,
            (),
        )
    )
    cases.append(("YAML: 1 KB billion laughs", "register_yaml", yaml_laughs, ()))
    cases.append(("YAML: 50 MB file", "register_yaml", yaml_huge, ()))
    cases.append(
        (
            "YAML: look-alike id reasongym/\u041cath-v0 (Cyrillic)",
            "register_yaml",
            yaml_lookalike,
            (),
        )
    )
    cases.append(
        ("YAML: a user file in the reasongym/ namespace", "register_yaml", yaml_reserved, ())
    )
    rows = []
    for label, where, fn, args in cases:
        status, value, secs = isolated(fn, *args, timeout_s=20.0)
        rows.append({"attack": label, "results": {where: _judge(status, value, secs)}})
    return rows


# --- cost ---------------------------------------------------------------------------------------


def cost(backend: str, n_tasks: int, pool_size: int) -> dict:
    from _legacy_code_runner import legacy_verify

    from reasongym.envs.tasks.humaneval import load_humaneval
    from reasongym.envs.verifiers.code import CodeTestsVerifier
    from reasongym.sandboxes import get_sandbox

    tasks = load_humaneval().tasks
    step = max(1, len(tasks) // n_tasks)
    sample = tasks[::step][:n_tasks]
    sandbox = (
        get_sandbox(backend, pool_size=pool_size) if backend == "docker" else get_sandbox(backend)
    )
    verifier = CodeTestsVerifier(sandbox=sandbox)
    runners = {
        "old runner (insecure baseline)": lambda t: legacy_verify(sandbox, t, t.answer)[0],
        "new harness": lambda t: verifier(t, t.answer).score,
    }
    try:
        for fn in runners.values():  # warm the pool and the caches
            for t in sample[:4]:
                fn(t)
        latency = {name: [] for name in runners}
        wrong = {name: 0 for name in runners}
        for t in sample:  # interleaved, so both see the same load
            for name, fn in runners.items():
                start = time.perf_counter()
                score = fn(t)
                latency[name].append(time.perf_counter() - start)
                wrong[name] += score != 1.0
        throughput = {}
        for name, fn in runners.items():
            start = time.perf_counter()
            with ThreadPoolExecutor(pool_size) as ex:
                list(ex.map(fn, sample))
            throughput[name] = len(sample) / (time.perf_counter() - start)
    finally:
        sandbox.close()
    return {
        name: {
            "p50_ms": 1000 * statistics.median(latency[name]),
            "p90_ms": 1000 * statistics.quantiles(latency[name], n=10)[-1],
            "checks_per_s": throughput[name],
            "not_full_score": wrong[name],
            "n": len(sample),
        }
        for name in runners
    }


# --- output -----------------------------------------------------------------------------------


def print_table(title: str, rows: list[dict]) -> None:
    columns = []
    for row in rows:
        for col in row["results"]:
            if col not in columns:
                columns.append(col)
    width = max(len(r["attack"]) for r in rows)
    print(f"\n## {title}\n")
    for col in columns:
        print(f"{'attack':{width}s} | {col}")
        print("-" * (width + 3 + 40))
        for row in rows:
            if col in row["results"]:
                print(f"{row['attack']:{width}s} | {row['results'][col]}")
        print()
    broken = sum(
        1
        for r in rows
        for c, v in r["results"].items()
        if v.startswith("BROKEN") and not c.startswith("old")
    )
    total = sum(1 for r in rows for c in r["results"] if not c.startswith("old"))
    print(f"held: {total - broken}/{total} (old-runner column excluded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["code", "other", "cost"], default=None)
    parser.add_argument(
        "--backends", default="docker,process", help="code sandboxes, comma-separated"
    )
    parser.add_argument("--tasks", type=int, default=60, help="HumanEval tasks in the cost section")
    parser.add_argument("--pool-size", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    out: dict[str, object] = {}
    if args.only in (None, "code"):
        out["code"] = code_rows(backends)
        print_table("code attacks (gym.make + step)", out["code"])
    if args.only in (None, "other"):
        out["other"] = other_rows()
        print_table("math, tools, parsing and YAML attacks", out["other"])
    if args.only in (None, "cost"):
        out["cost"] = {}
        for backend in backends:
            res = cost(backend, args.tasks, args.pool_size)
            out["cost"][backend] = res
            print(
                f"\n## cost of a HumanEval check ({backend}, {args.tasks} canonical solutions, pool {args.pool_size})\n"
            )
            print(f"{'runner':32s} | {'p50 ms':>8s} | {'p90 ms':>8s} | {'checks/s':>8s} | not 1.0")
            for name, r in res.items():
                print(
                    f"{name:32s} | {r['p50_ms']:8.1f} | {r['p90_ms']:8.1f} | {r['checks_per_s']:8.2f} | {r['not_full_score']}"
                )
            old, new = res["old runner (insecure baseline)"], res["new harness"]
            print(f"p50 ratio new/old: {new['p50_ms'] / old['p50_ms']:.2f}x (target <= 2x)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
