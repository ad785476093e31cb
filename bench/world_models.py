"""World models: fidelity, planning, sample efficiency and the outcome pre-filter, with targets.

Every figure of the world-model issue, each against the best reference measured in the same
run (no peer suite ships a learned world model, so the references are the real env, PPO
without a model, a bare MLP world model, and best-of-N without a pre-filter):

1. **Fidelity** (target: one-step exact accuracy >= 99% on held-out transitions for Maze and
   SlidingPuzzle 3x3; 20-step rollout accuracy reported). ``GridDynamicsModel`` (conv) and the
   bare MLP baseline are trained on the same 20,000 transitions of ``oracle:0.5`` (the oracle
   with half of the moves random) and measured on 3,000 held-out transitions of that policy,
   and on 3,000 of a *different* policy: ``random`` (distribution shift), plus ``oracle``.
2. **Planning** (target: success within 5 points). MCTS (64 simulations, 4 children per node,
   PUCT with uniform priors from ``UniformActionLM``, the env reward plus a Manhattan-distance
   closeness as node value, depth 10) on 100 fixed ``SlidingPuzzleDiscrete-v0`` instances
   (grid observations): branching on the real env via get_state/set_state, vs branching inside
   the conv world model of (1). The agent always acts in the real env; success is its verdict.
3. **Sample efficiency** (target: >= 5x fewer real steps). Real env steps until the greedy
   policy solves 90% of 50 held-out easiest mazes (size 5, 20-step limit; the setting of
   ``bench/puzzles.py``): PPO (``reasongym.train.sb3`` defaults, evaluated every 256 steps) vs
   Dyna (``reasongym.train.dyna`` defaults), 3 seeds each. Evaluation episodes are not counted
   for either.
4. **Outcome model on code** (AUROC on held-out candidates; sandbox runs saved by the
   pre-filter at equal best-of-N success). Candidates for ``CodeProcedural`` (difficulty 2)
   tasks are gold solutions, rewritten, 60% with one planted bug
   (:mod:`reasongym.world_models.code_candidates`); labels come from running the hidden tests
   in the process sandbox. Train: 100 tasks x 6 candidates; test: 40 other tasks x 8. Encoders
   n-gram vs MiniLM; a leave-3-families-out model for shift. Pre-filter: candidates run in the
   model's order until one passes, vs all N (plain best-of-N) and vs a random order.

5. **Any observation mode** (target: one-step exact *observation* accuracy >= 0.99 in the
   ``multimodal`` (text + image) and ``text`` modes an LLM agent sees). A conv grid model is
   trained on the latent boards that ``wm collect`` records from the default multimodal
   ``Maze-v0`` and ``SlidingPuzzle-v0`` (text actions, ``oracle:0.5``); ``WorldModelEnv``
   renders its predicted board through the env's own ``observation_from_latent``. Measured in
   lock step with the real env on held-out episodes: one-step (from the real state) and
   open-loop k-step exact match of the whole observation (every character of the text and every
   pixel of the image), against the copy baseline (the board predicted unchanged) in the same
   run. Measured 2026-12-01 (``--sections modes``, 14 min on a shared machine): Maze-v0 and
   SlidingPuzzle-v0, multimodal and text, one-step 1.0000 and k=20 open-loop 1.0000 (about 1,900
   held-out steps each) vs the copy baseline's 0.26 (maze) and 0.15 (8-puzzle).

Usage:
    python bench/world_models.py [--json OUT] [--out DIR] [--sections fidelity planning dyna outcome modes]
        [--seeds 3] [--no-minilm] [--quick]

Runtime: 9-12 minutes on 2 shared cores (one torch thread; the first run verifies 920
candidates in the sandbox, about 2 minutes, cached in ``--out``); ``--quick`` is a smoke run.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

import reasongym  # noqa: F401 - registers the ids

MAZE = "reasongym/MazeDiscrete-v0"
SLIDING = "reasongym/SlidingPuzzleDiscrete-v0"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# -- 1. fidelity ---------------------------------------------------------------------------------
def bench_fidelity(out: Path, quick: bool) -> dict[str, Any]:
    from reasongym.world_models.collect import collect
    from reasongym.world_models.data import TransitionDataset
    from reasongym.world_models.fidelity import dynamics_fidelity, plot_rollout_accuracy
    from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig

    n_train, n_eval = (3000, 600) if quick else (20_000, 3000)
    results: dict[str, Any] = {}
    for env_id in (MAZE, SLIDING):
        name = env_id.split("/")[1]
        folder = out / "data" / name
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        collect(env_id, "oracle:0.5", n_train, folder / "train", seed=0)
        collect(env_id, "oracle:0.5", n_eval, folder / "heldout", seed=10**6)
        collect(env_id, "random", n_eval, folder / "random", seed=2 * 10**6)
        collect(env_id, "oracle", n_eval, folder / "oracle", seed=3 * 10**6)
        data = TransitionDataset.load(folder / "train")
        train, val = data.split(0.1, seed=0)
        evals = {
            "held-out (oracle:0.5)": TransitionDataset.load(folder / "heldout"),
            "shift: random": TransitionDataset.load(folder / "random"),
            "shift: oracle": TransitionDataset.load(folder / "oracle"),
        }
        log(f"{name}: collected in {time.perf_counter() - t0:.1f}s")
        per_arch: dict[str, Any] = {}
        for arch, config in (
            ("conv", GridModelConfig(arch="conv", epochs=4 if quick else 20)),
            ("mlp", GridModelConfig(arch="mlp", channels=512, epochs=4 if quick else 20)),
        ):
            model = GridDynamicsModel.for_dataset(data, config)
            fit = model.fit(train, val)
            fit.pop("history")
            reports = {label: dynamics_fidelity(model, d) for label, d in evals.items()}
            per_arch[arch] = {"fit": fit, "reports": reports}
            model.save(out / "models" / f"{name}-{arch}")
            plot_rollout_accuracy(
                reports, out / f"fidelity_{name}_{arch}.png", title=f"{arch} model of {env_id}"
            )
            held = reports["held-out (oracle:0.5)"]
            log(
                f"{name} {arch}: fit {fit['seconds']:.0f}s ({fit['epochs']} epochs), held-out "
                f"one-step {held['obs_exact']:.4f}, k=20 {held['rollout']['20']['accuracy']}"
            )
        results[env_id] = per_arch
    return results


# -- 5. any observation mode --------------------------------------------------------------------
MODE_ENVS = (("reasongym/Maze-v0", {}), ("reasongym/SlidingPuzzle-v0", {"scramble": 10}))


def _same_obs(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a["text"] == b["text"] and np.array_equal(a["image"], b["image"])
    return a == b


def _lockstep(env_id: str, kwargs: dict[str, Any], model: Any, episodes: int, ks: tuple[int, ...]):
    """One-step and open-loop k-step exact observation match of ``WorldModelEnv`` vs the real
    env, and of the copy baseline (board predicted unchanged), on held-out ``oracle:0.5``
    episodes."""
    import gymnasium as gym

    from reasongym.world_models.env import WorldModelEnv
    from reasongym.world_models.policies import make_policy

    real = gym.make(env_id, **kwargs)
    wm = WorldModelEnv(model, env_id, env_kwargs=kwargs)
    inner = real.unwrapped
    act = make_policy("oracle:0.5", real, seed=10**6)
    one = copy_ok = steps = 0
    rollout_ok = {k: 0 for k in ks}
    rollout_n = {k: 0 for k in ks}
    for episode in range(episodes):
        obs, info = real.reset(seed=5 * 10**6 + episode)
        start = inner.get_state()
        actions, real_obs = [], []
        for t in range(max(ks)):
            before = inner.latent_state()
            action = act(obs, info)
            wm.set_state(inner.get_state())  # one step from the real state
            obs, _, terminated, truncated, info = real.step(action)
            wm_obs = wm.step(action)[0]
            moves = inner.latent_moves(action)
            baseline = inner.observation_from_latent(before, action=action, legal=False, turn=t + 1)
            one += _same_obs(wm_obs, obs)
            copy_ok += _same_obs(baseline, obs) if not isinstance(moves, str) else True
            steps += 1
            actions.append(action)
            real_obs.append(obs)
            if terminated or truncated:
                break
        wm.reset(seed=0)
        wm.set_state(start)  # open loop: the model's own predictions all along
        ok = True
        for t, action in enumerate(actions):
            ok = ok and _same_obs(wm.step(action)[0], real_obs[t])
            for k in ks:
                if t + 1 == k:
                    rollout_ok[k] += ok
                    rollout_n[k] += 1
    real.close()
    wm.close()
    rollout = {str(k): rollout_ok[k] / rollout_n[k] if rollout_n[k] else None for k in ks}
    return {
        "one_step": one / steps,
        "copy_baseline": copy_ok / steps,
        "steps": steps,
        "rollout": rollout,
    }


def bench_modes(out: Path, quick: bool) -> dict[str, Any]:
    from reasongym.world_models.collect import collect
    from reasongym.world_models.data import TransitionDataset
    from reasongym.world_models.grid import GridDynamicsModel, GridModelConfig

    n_train, episodes = (3000, 20) if quick else (20_000, 100)
    results: dict[str, Any] = {}
    for env_id, kw in MODE_ENVS:
        name = env_id.split("/")[1]
        folder = out / "data" / f"{name}-latent"
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        meta = collect(env_id, "oracle:0.5", n_train, folder, seed=0, env_kwargs=kw)
        data = TransitionDataset.load(folder)
        train, val = data.split(0.1, seed=0)
        model = GridDynamicsModel.for_dataset(data, GridModelConfig(epochs=4 if quick else 20))
        fit = model.fit(train, val)
        log(
            f"{name} latent: {meta.transitions} boards from the multimodal env, fit {fit['seconds']:.0f}s"
        )
        per_mode = {}
        for mode in ("multimodal", "text"):
            per_mode[mode] = _lockstep(
                env_id, {**kw, "observation_mode": mode}, model, episodes, (1, 5, 20)
            )
            log(
                f"{name} {mode}: one-step {per_mode[mode]['one_step']:.4f} (copy {per_mode[mode]['copy_baseline']:.4f})"
            )
        results[env_id] = {
            "collect_s": time.perf_counter() - t0 - fit["seconds"],
            "transitions": meta.transitions,
            "fit_s": fit["seconds"],
            "modes": per_mode,
        }
    return results


# -- 2. planning ---------------------------------------------------------------------------------
def closeness(messages: list[dict]) -> float:
    """Node value for the 8-puzzle search: 1 / (1 + Manhattan distance) of the board in the
    chat's last message (a grid observation printed by numpy)."""
    tiles = [int(x) for x in re.findall(r"\d+", messages[-1]["content"])]
    if len(tiles) != 9:
        return 0.0
    distance = sum(
        abs(p // 3 - (t - 1) // 3) + abs(p % 3 - (t - 1) % 3) for p, t in enumerate(tiles) if t
    )
    return 1.0 / (1.0 + distance)


def bench_planning(out: Path, quick: bool, simulations: int = 64) -> dict[str, Any]:
    from reasongym.agents.search import MCTS, EnvReward, ProcessRewardModel, Weighted
    from reasongym.evaluation import run_episodes
    from reasongym.world_models.base import load_world_model
    from reasongym.world_models.env import WorldModelEnv
    from reasongym.world_models.planning import UniformActionLM

    instances = 10 if quick else 100
    kwargs = {"observation_mode": "grid"}
    model = load_world_model(out / "models" / "SlidingPuzzleDiscrete-v0-conv")
    rows = {}
    for label in ("real env", "world model"):
        search_env = (
            WorldModelEnv(model, SLIDING, env_kwargs=kwargs) if label == "world model" else None
        )
        guidance = Weighted(
            [(EnvReward(), 1.0), (ProcessRewardModel(closeness, name="closeness"), 1.0)]
        )
        agent = MCTS(
            UniformActionLM(4, seed=0),
            simulations=simulations,
            expand=4,
            widen=None,
            c_puct=0.5,
            evaluation="value",
            mode="train",
            guidance=guidance,
            max_depth=10,
            search_env=search_env,
            seed=0,
        )
        t0 = time.perf_counter()
        summary = run_episodes(SLIDING, agent, instances, seed=10_000, env_kwargs=kwargs)
        rows[label] = {
            "instances": instances,
            "success_rate": summary.success_rate,
            "mean_turns": summary.mean_turns,
            "searches": agent.totals.searches,
            "search_steps": agent.totals.env_steps,
            "wall_s": time.perf_counter() - t0,
        }
        if search_env is not None:
            rows[label]["model_predictions"] = search_env.model_steps
        log(
            f"planning with {label}: success {summary.success_rate:.2f} in {rows[label]['wall_s']:.0f}s"
        )
    rows["simulations"] = simulations
    return rows


# -- 3. sample efficiency ------------------------------------------------------------------------
def bench_dyna(out: Path, seeds: int, quick: bool) -> dict[str, Any]:
    from reasongym.train.dyna import DynaConfig, train_dyna
    from reasongym.train.sb3 import SB3Config, train

    size, limit = 5, 20
    ppo, dyna = [], []
    for seed in range(seeds):
        result = train(
            SB3Config(
                env_id=MAZE,
                env_kwargs={"size": size},
                max_episode_steps=limit,
                steps=20_000 if quick else 200_000,
                seed=seed,
                out=out / f"ppo_seed{seed}",
                eval_every=256,
                eval_episodes=50,
                target_success=0.9,
                progress_bar=False,
            )
        )
        ppo.append({"steps_to_90": result.steps_to_target, "wall_s": result.wall_time_s})
        log(f"PPO seed {seed}: {result.steps_to_target} real steps to 90%")
        run = out / f"dyna_seed{seed}"
        shutil.rmtree(run, ignore_errors=True)
        dyna_result = train_dyna(
            DynaConfig(
                MAZE,
                out=run,
                env_kwargs={"size": size},
                max_episode_steps=limit,
                seed=seed,
                max_real_steps=5000 if quick else 20_000,
                progress=False,
            )
        )
        dyna.append(
            {
                "steps_to_90": dyna_result.real_steps_to_target,
                "model_steps": dyna_result.model_steps,
                "start_resets": dyna_result.start_resets,
                "iterations": len(dyna_result.iterations),
                "wall_s": dyna_result.wall_time_s,
            }
        )
        log(f"Dyna seed {seed}: {dyna_result.real_steps_to_target} real steps to 90%")
    ppo_ok = [r["steps_to_90"] for r in ppo if r["steps_to_90"] is not None]
    dyna_ok = [r["steps_to_90"] for r in dyna if r["steps_to_90"] is not None]
    ppo_mean = statistics.mean(ppo_ok) if len(ppo_ok) == seeds else None
    dyna_mean = statistics.mean(dyna_ok) if len(dyna_ok) == seeds else None
    return {
        "maze_size": size,
        "time_limit": limit,
        "ppo": ppo,
        "dyna": dyna,
        "ppo_mean": ppo_mean,
        "dyna_mean": dyna_mean,
        "ratio": ppo_mean / dyna_mean if ppo_mean and dyna_mean else None,
    }


# -- 4. outcome model ----------------------------------------------------------------------------
def _code_pairs(out: Path, quick: bool) -> list[dict[str, Any]]:
    """Generated candidates with their real verdicts (cached in ``out``)."""
    from reasongym.envs.tasks.code_procedural import CodeProceduralSource
    from reasongym.envs.verifiers.code import CodeTestsVerifier
    from reasongym.world_models.code_candidates import candidate_answer

    cache = out / ("code_pairs_quick.json" if quick else "code_pairs.json")
    if cache.exists():
        return json.loads(cache.read_text())
    source = CodeProceduralSource(difficulty=2)
    plan = {"train": (0, 20 if quick else 100, 6), "test": (5000, 5010 if quick else 5040, 8)}
    jobs = []
    for split, (lo, hi, per_task) in plan.items():
        for index in range(lo, hi):
            rng = np.random.default_rng(index)
            for _ in range(per_task):
                jobs.append(
                    {"split": split, "task": index, "answer": candidate_answer(source[index], rng)}
                )
    local = threading.local()

    def verify(job: dict[str, Any]) -> dict[str, Any]:
        if not hasattr(local, "verifier"):
            local.verifier = CodeTestsVerifier(backend="process", timeout_s=10, memory_mb=256)
        verdict = local.verifier(source[job["task"]], job["answer"])
        return {**job, "correct": verdict.correct, "score": verdict.score}

    t0 = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        pairs = list(pool.map(verify, jobs))
    log(
        f"outcome: {len(pairs)} candidates verified in the sandbox in {time.perf_counter() - t0:.0f}s"
    )
    cache.write_text(json.dumps(pairs))
    return pairs


def bench_outcome(out: Path, quick: bool, minilm: bool) -> dict[str, Any]:
    from reasongym.envs.tasks.code_procedural import CodeProceduralSource
    from reasongym.world_models.fidelity import outcome_fidelity, plot_calibration
    from reasongym.world_models.outcome import (
        OutcomeExamples,
        OutcomeModel,
        OutcomeModelConfig,
        candidate_text,
        task_text,
    )

    source = CodeProceduralSource(difficulty=2)
    pairs = _code_pairs(out, quick)

    def examples(rows: list[dict[str, Any]]) -> OutcomeExamples:
        return OutcomeExamples(
            [task_text(source[r["task"]].question) for r in rows],
            [candidate_text(r["answer"]) for r in rows],
            np.array([r["correct"] for r in rows], bool),
            np.array([r["score"] for r in rows], float),
            np.array([r["task"] for r in rows]),
        )

    def family(task: int) -> str:
        return source[task].id.split("/")[1]

    train_rows = [r for r in pairs if r["split"] == "train"]
    test_rows = [r for r in pairs if r["split"] == "test"]
    train, test = examples(train_rows), examples(test_rows)
    fit_part, val_part = train.split(0.2, seed=0)
    results: dict[str, Any] = {"train_pairs": len(train), "test_pairs": len(test)}
    reports = {}
    models = {}
    for encoder in ("ngram", "minilm") if minilm else ("ngram",):
        t0 = time.perf_counter()
        model = OutcomeModel(OutcomeModelConfig(encoder=encoder, seed=0))
        fit = model.fit(fit_part, val_part)
        probs = model.score(test.tasks, test.candidates)
        report = outcome_fidelity(probs, test.correct)
        report["fit"] = fit
        report["seconds"] = time.perf_counter() - t0
        reports[f"{encoder} (held-out tasks)"] = report
        models[encoder] = (model, probs)
        log(f"outcome {encoder}: AUROC {report['auroc']:.3f} ({report['seconds']:.0f}s)")
    # distribution shift: families never seen in training
    held_families = sorted({family(r["task"]) for r in test_rows})[:3]
    shift_train = examples([r for r in train_rows if family(r["task"]) not in held_families])
    shift_test_rows = [r for r in test_rows if family(r["task"]) in held_families]
    if shift_test_rows and len(shift_train):
        a, b = shift_train.split(0.2, seed=0)
        shift_model = OutcomeModel(OutcomeModelConfig(encoder="ngram", seed=0))
        shift_model.fit(a, b)
        shift_test = examples(shift_test_rows)
        report = outcome_fidelity(
            shift_model.score(shift_test.tasks, shift_test.candidates), shift_test.correct
        )
        report["held_out_families"] = held_families
        reports["ngram (unseen families)"] = report
        log(f"outcome shift (families {held_families}): AUROC {report['auroc']}")
    plot_calibration(
        {k: v for k, v in reports.items()},
        out / "outcome_calibration.png",
        title="OutcomeModel on CodeProcedural",
    )
    results["reports"] = reports
    best = max((k for k in models), key=lambda k: reports[f"{k} (held-out tasks)"]["auroc"] or 0)
    results["prefilter"] = _prefilter_stats(test, models[best][1], best)
    return results


def _prefilter_stats(test: Any, probs: np.ndarray, encoder: str) -> dict[str, Any]:
    """Sandbox runs per task for best-of-N with and without the model's ranking."""
    rng = np.random.default_rng(0)
    tasks = np.unique(test.groups)
    n_per = [int((test.groups == t).sum()) for t in tasks]
    solved = ranked_runs = random_runs = 0.0
    topk_hits: dict[int, int] = {k: 0 for k in range(1, max(n_per) + 1)}
    for t in tasks:
        rows = np.flatnonzero(test.groups == t)
        ok = test.correct[rows]
        order = rows[np.argsort(-probs[rows], kind="stable")]
        any_ok = bool(ok.any())
        solved += any_ok
        ranked_ok = test.correct[order]
        ranked_runs += (int(np.argmax(ranked_ok)) + 1) if any_ok else len(rows)
        draws = [rng.permutation(ok) for _ in range(50)]
        random_runs += float(
            np.mean([(int(np.argmax(d)) + 1) if any_ok else len(rows) for d in draws])
        )
        for k in topk_hits:
            topk_hits[k] += bool(ranked_ok[:k].any())
    n = len(tasks)
    all_runs = float(np.mean(n_per))
    equal_k = next((k for k, hits in topk_hits.items() if hits == solved), None)
    return {
        "encoder": encoder,
        "tasks": n,
        "candidates_per_task": all_runs,
        "best_of_n_success": solved / n,
        "runs_all_n": all_runs,
        "runs_random_order_until_pass": random_runs / n,
        "runs_ranked_until_pass": ranked_runs / n,
        "saved_vs_all_n": 1 - (ranked_runs / n) / all_runs,
        "saved_vs_random_order": 1 - (ranked_runs / n) / (random_runs / n),
        "top_k_success": {str(k): hits / n for k, hits in topk_hits.items()},
        "top_k_for_equal_success": equal_k,
    }


# -- table ---------------------------------------------------------------------------------------
def _f(x: Any, digits: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def print_table(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str, str]] = []  # figure, measured, target/reference, met
    fid = results.get("fidelity")
    if fid:
        for env_id, per_arch in fid.items():
            name = env_id.split("/")[1]
            for arch, r in per_arch.items():
                for label, rep in r["reports"].items():
                    roll = rep["rollout"]
                    measured = (
                        f"1-step {_f(rep['obs_exact'])} (obs+r+done {_f(rep['all_exact'])}); "
                        f"k=5 {_f(roll['5']['accuracy'])}, k=20 {_f(roll['20']['accuracy'])}; "
                        f"term P/R {_f(rep['termination_precision'], 3)}/{_f(rep['termination_recall'], 3)}"
                    )
                    target, met = "", ""
                    if arch == "conv" and label.startswith("held-out"):
                        target, met = (
                            ">= 0.99 one-step",
                            "yes" if rep["obs_exact"] >= 0.99 else "NO",
                        )
                    rows.append((f"fidelity {name} {arch} [{label}]", measured, target, met))
                rows.append(
                    (
                        f"fidelity {name} {arch} training",
                        f"{r['fit']['seconds']:.0f}s, {r['fit']['epochs']} epochs, {r['fit']['transitions']} transitions",
                        "",
                        "",
                    )
                )
    plan = results.get("planning")
    if plan:
        real, model = plan["real env"], plan["world model"]
        gap = abs(real["success_rate"] - model["success_rate"]) * 100
        rows.append(
            (
                f"planning MCTS({plan['simulations']} sims), {real['instances']} 8-puzzles",
                f"world model {_f(model['success_rate'], 2)} vs real env {_f(real['success_rate'], 2)} "
                f"(gap {gap:.1f} pts); wall {model['wall_s']:.0f}s vs {real['wall_s']:.0f}s",
                "gap <= 5 pts",
                "yes" if gap <= 5 else "NO",
            )
        )
    dyna = results.get("dyna")
    if dyna:
        ppo_steps = [r["steps_to_90"] for r in dyna["ppo"]]
        dyna_steps = [r["steps_to_90"] for r in dyna["dyna"]]
        ratio = dyna["ratio"]
        rows.append(
            (
                f"real steps to 90% on Maze size {dyna['maze_size']} ({len(ppo_steps)} seeds)",
                f"Dyna {dyna_steps} (mean {_f(dyna['dyna_mean'], 0)}) vs PPO {ppo_steps} "
                f"(mean {_f(dyna['ppo_mean'], 0)}): {_f(ratio, 1)}x fewer",
                ">= 5x fewer",
                "-" if ratio is None else ("yes" if ratio >= 5 else "NO"),
            )
        )
    outcome = results.get("outcome")
    if outcome:
        for label, rep in outcome["reports"].items():
            rows.append(
                (
                    f"outcome model AUROC [{label}]",
                    f"{_f(rep['auroc'], 3)} (acc {_f(rep['accuracy'], 3)}, Brier {_f(rep['brier'], 3)}, "
                    f"ECE {_f(rep['ece'], 3)}, {rep['pairs']} pairs)",
                    "reported",
                    "",
                )
            )
        pf = outcome["prefilter"]
        rows.append(
            (
                f"pre-filter best-of-{pf['candidates_per_task']:.0f}, {pf['tasks']} tasks ({pf['encoder']})",
                f"success {_f(pf['best_of_n_success'], 3)} with {_f(pf['runs_ranked_until_pass'], 2)} runs/task "
                f"(all-N {_f(pf['runs_all_n'], 1)}, random order {_f(pf['runs_random_order_until_pass'], 2)}): "
                f"{pf['saved_vs_all_n']:.0%} saved vs all-N, {pf['saved_vs_random_order']:.0%} vs random order; "
                f"top-k equal success at k={pf['top_k_for_equal_success']}",
                "runs saved at equal success",
                "",
            )
        )
    modes = results.get("modes")
    if modes:
        for env_id, r in modes.items():
            name = env_id.split("/")[1]
            for mode, rep in r["modes"].items():
                roll = rep["rollout"]
                rows.append(
                    (
                        f"fidelity {name} [{mode} observations, latent model]",
                        f"1-step exact obs {_f(rep['one_step'])} vs copy baseline {_f(rep['copy_baseline'])}; "
                        f"open-loop k=5 {_f(roll['5'])}, k=20 {_f(roll['20'])} ({rep['steps']} steps)",
                        ">= 0.99 one-step",
                        "yes" if rep["one_step"] >= 0.99 else "NO",
                    )
                )
    width = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    width[1] = min(width[1], 110)
    header = ("figure", "measured", "target", "met")
    print("\nWorld models benchmark")
    print(" | ".join(h.ljust(w) for h, w in zip(header, width, strict=True)))
    print("-+-".join("-" * w for w in width))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, width, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", help="write all results as JSON")
    parser.add_argument(
        "--out", type=Path, default=Path("bench/results/world_models"), help="data, models, plots"
    )
    parser.add_argument(
        "--sections", nargs="+", default=["fidelity", "planning", "dyna", "outcome", "modes"],
        choices=["fidelity", "planning", "dyna", "outcome", "modes"],
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="seeds for PPO and Dyna")
    parser.add_argument("--simulations", type=int, default=64, help="MCTS simulations per move")
    parser.add_argument("--no-minilm", action="store_true", help="skip the MiniLM encoder")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for section in args.sections:
        t0 = time.perf_counter()
        if section == "fidelity":
            results["fidelity"] = bench_fidelity(args.out, args.quick)
        elif section == "planning":
            if not (args.out / "models" / "SlidingPuzzleDiscrete-v0-conv").exists():
                raise SystemExit(
                    "planning uses the fidelity section's 8-puzzle model: run fidelity first"
                )
            results["planning"] = bench_planning(args.out, args.quick, args.simulations)
        elif section == "dyna":
            results["dyna"] = bench_dyna(args.out, args.seeds, args.quick)
        elif section == "outcome":
            results["outcome"] = bench_outcome(args.out, args.quick, not args.no_minilm)
        elif section == "modes":
            results["modes"] = bench_modes(args.out, args.quick)
        timings[section] = time.perf_counter() - t0
        log(f"{section} done in {timings[section]:.0f}s")
    results["timings_s"] = {**timings, "total": time.perf_counter() - start}
    print_table(results)
    print(f"\ntotal {results['timings_s']['total'] / 60:.1f} min; plots in {args.out}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
