"""Math answer verification: reasongym's ``verify_math`` vs HuggingFace math-verify, same run.

Two labelled sets, one table each:

- *generated* (bench/data/math_pairs.jsonl, bench/data/make_math_pairs.py): clean golds, each
  re-expressed in forms known equal and perturbed into forms known different;
- *real-world* (bench/data/math_realworld.jsonl, bench/data/make_math_realworld.py): the
  shapes real golds and model outputs take: decimal commas, LaTeX thousands separators,
  several boxes, hedges, labelled golds, solution sets, inequalities vs intervals,
  approximations after exact values, units and percent words, long traces.

Both verifiers see every pair of a set, one after the other in this process, each starting
cold on that set (caches cleared; imports done before timing). Reported per verifier:
accuracy, per category and per output format, false positives/negatives, pairs/s (wall time
of the verification calls only), p50/p99 latency; then the speed ratio and the targets
(>= 0.99 accuracy on each set and at least math-verify's, >= 20x its pairs/s, p99 < 20 ms).

math-verify is called as its README shows: ``verify(parse(gold), parse(prediction))`` with
its default extraction configs and timeouts. Gold strings that are bare LaTeX are wrapped in
``$...$`` first, as math-verify's docs do for LaTeX golds (it extracts LaTeX only from math
delimiters or ``\\boxed``; without them most bare golds do not parse at all).

Usage:
    python bench/math_verify.py [--data PATH ...] [--json OUT] [--limit N] [--errors N]
        [--allow-computations]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

# This file's name shadows the math_verify package when run as a script: drop its folder.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

DEFAULT_DATA = [_HERE / "data" / "math_pairs.jsonl", _HERE / "data" / "math_realworld.jsonl"]


def load_pairs(path: Path, limit: int | None) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[:limit] if limit else rows


def reasongym_verifier(
    require_number: bool = True,
) -> tuple[Callable[[str, str], bool], Callable[[], Counter]]:
    try:
        from reasongym import verify_math  # the public entry point (lazy attribute)
    except ImportError:  # the package root is being edited: use the module directly
        from reasongym.envs.verifiers.math import verify_math

    methods: Counter = Counter()

    def run(prediction: str, gold: str) -> bool:
        if prediction is None:  # a new set: start cold
            _clear_caches()
            return False
        verdict = verify_math(prediction, gold, require_number_for_numeric_gold=require_number)
        methods[verdict.details["method"]] += 1
        return verdict.correct

    return run, lambda: methods


def _clear_caches() -> None:
    from reasongym.envs.verifiers.math import clear_caches

    clear_caches()


def math_verify_verifier() -> Callable[[str, str], bool]:
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)

    def run(prediction: str, gold: str) -> bool:
        gold_text = gold if ("$" in gold or "\\boxed" in gold) else f"${gold}$"
        try:
            return bool(verify(parse(gold_text), parse(prediction)))
        except Exception:  # noqa: BLE001 - count a crash as "not correct", like a timeout
            return False

    return run


def measure(name: str, run: Callable[[str, str], bool], pairs: list[dict]) -> dict:
    latencies: list[float] = []
    by_cat: dict[str, list[bool]] = defaultdict(list)
    by_template: dict[str, list[bool]] = defaultdict(list)
    errors: list[dict] = []
    false_pos = false_neg = 0
    for pair in pairs:
        start = time.perf_counter()
        got = run(pair["prediction"], pair["gold"])
        latencies.append(time.perf_counter() - start)
        ok = got == pair["label"]
        by_cat[pair["category"]].append(ok)
        by_template[pair.get("template", "")].append(ok)
        if not ok:
            false_pos += got and not pair["label"]
            false_neg += pair["label"] and not got
            errors.append(pair)
    total = sum(latencies)
    latencies.sort()
    return {
        "name": name,
        "pairs": len(pairs),
        "accuracy": sum(ok for oks in by_cat.values() for ok in oks) / len(pairs),
        "false_positives": false_pos,
        "false_negatives": false_neg,
        "per_category": {c: sum(oks) / len(oks) for c, oks in sorted(by_cat.items())},
        "per_template": {t: sum(oks) / len(oks) for t, oks in sorted(by_template.items())},
        "seconds": total,
        "pairs_per_s": len(pairs) / total,
        "p50_ms": 1e3 * statistics.median(latencies),
        "p99_ms": 1e3 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max_ms": 1e3 * latencies[-1],
        "errors": errors,
    }


def print_table(results: list[dict], counts: Counter, template_counts: Counter) -> None:
    names = [r["name"] for r in results]
    width = 14
    print(f"{'':22}" + "".join(f"{n:>{width}}" for n in names))
    rows = [
        ("accuracy", lambda r: f"{r['accuracy']:.4f}"),
        ("false positives", lambda r: str(r["false_positives"])),
        ("false negatives", lambda r: str(r["false_negatives"])),
        ("pairs/s", lambda r: f"{r['pairs_per_s']:.0f}"),
        ("p50 latency (ms)", lambda r: f"{r['p50_ms']:.3f}"),
        ("p99 latency (ms)", lambda r: f"{r['p99_ms']:.3f}"),
        ("max latency (ms)", lambda r: f"{r['max_ms']:.1f}"),
    ]
    for label, fmt in rows:
        print(f"{label:22}" + "".join(f"{fmt(r):>{width}}" for r in results))
    print("accuracy per category")
    for cat in results[0]["per_category"]:
        print(
            f"  {cat + f' ({counts[cat]})':20}"
            + "".join(f"{r['per_category'][cat]:>{width}.3f}" for r in results)
        )
    print("accuracy per output format")
    for template in results[0]["per_template"]:
        print(
            f"  {template + f' ({template_counts[template]})':20}"
            + "".join(f"{r['per_template'][template]:>{width}.3f}" for r in results)
        )


TARGETS = {"accuracy": 0.99, "speed_ratio": 20.0, "p99_ms": 20.0}


def run_set(path: Path, limit: int | None, ours, theirs, methods, n_errors: int) -> dict:
    pairs = load_pairs(path, limit)
    counts = Counter(p["category"] for p in pairs)
    template_counts = Counter(p.get("template", "") for p in pairs)
    ours(None, "")  # cold start for this set
    results = [measure("reasongym", ours, pairs), measure("math-verify", theirs, pairs)]
    positives = sum(p["label"] for p in pairs)
    print(f"\n== {path.name}: {len(pairs)} pairs ({positives} positive) ==\n")
    print_table(results, counts, template_counts)
    ratio = results[0]["pairs_per_s"] / results[1]["pairs_per_s"]
    print(f"\nspeed ratio reasongym / math-verify: {ratio:.1f}x")
    for r in results:
        for pair in r["errors"][:n_errors]:
            print(f"\n[{r['name']} wrong] {pair['category']} label={pair['label']}")
            print(f"  gold: {pair['gold']!r}\n  pred: {pair['prediction'][-160:]!r}")
    ours_r, theirs_r = results
    checks = {
        f"accuracy >= {TARGETS['accuracy']}": ours_r["accuracy"] >= TARGETS["accuracy"],
        "accuracy >= math-verify's": ours_r["accuracy"] >= theirs_r["accuracy"],
        f"pairs/s >= {TARGETS['speed_ratio']:.0f}x math-verify's": ratio >= TARGETS["speed_ratio"],
        f"p99 < {TARGETS['p99_ms']:.0f} ms": ours_r["p99_ms"] < TARGETS["p99_ms"],
    }
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in checks.items()))
    return {
        "data": str(path),
        "pairs": len(pairs),
        "speed_ratio": ratio,
        "targets": checks,
        "results": [
            {
                **{k: v for k, v in r.items() if k != "errors"},
                "error_ids": [e["id"] for e in r["errors"]],
            }
            for r in results
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, action="append", help="a JSONL set (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument("--limit", type=int, help="use only the first N pairs of each set")
    parser.add_argument("--errors", type=int, default=0, help="print N misjudged pairs each")
    parser.add_argument(
        "--allow-computations",
        action="store_true",
        help="require_number_for_numeric_gold=False: a computation of a numeric gold counts "
        "(the labels of both sets predate that rule)",
    )
    args = parser.parse_args()

    ours, methods = reasongym_verifier(require_number=not args.allow_computations)
    theirs = math_verify_verifier()  # imports sympy + latex2sympy2_extended before timing
    from reasongym.envs.verifiers.math_sympy import warm_up

    warm_up()  # our slow path's one-time sympy import, also outside the timing
    sets = [
        run_set(path, args.limit, ours, theirs, methods, args.errors)
        for path in args.data or DEFAULT_DATA
    ]
    print("\nreasongym methods:", dict(methods().most_common()))
    if args.json:
        out = {"sets": sets, "reasongym_methods": dict(methods())}
        args.json.write_text(json.dumps(out, indent=2))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
