"""Every registered id in gymnasium's vector envs (generated from the registry).

What a user of ``SyncVectorEnv`` / ``AsyncVectorEnv`` / ``gym.make_vec`` relies on:

* each sub-env is seeded on its own (``reset(seed=s)`` seeds sub-env ``i`` with ``s + i``), so
  sub-envs pose different tasks and a seeded run is reproducible;
* ``AsyncVectorEnv`` returns exactly what ``SyncVectorEnv`` returns. Text spaces batch as a
  ``Tuple`` of ``UnicodeText`` (a tuple of ``str``, one per sub-env); through shared memory
  they travel as code points (see ``reasongym/spaces.py`` for the gymnasium bugs this avoids);
* code envs start their sandbox lazily in the process that steps them (one per worker), and
  nothing of it is left after ``close``;
* env factories pickle (``spawn``/``forkserver`` contexts), and envs themselves cloudpickle
  (what Ray and ``AsyncVectorEnv`` use) into an independent copy.
"""

from __future__ import annotations

import functools
import os
import time

import cloudpickle
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.spaces import Discrete, Tuple
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv

import reasongym
from reasongym.spaces import UnicodeText

ENV_IDS = sorted(reasongym.list_envs())
N_ENVS = 2
SEED = 11
PLAN = ("oracle", "sample", "sample")  # oracle first: code envs run code, text envs finish
IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE = "reasongym-sandbox:py3"
OWNER_PID = "org.reasongym.owner.pid"


def _runs_code(env_id: str) -> bool:
    kwargs = gym.spec(env_id).kwargs
    return kwargs.get("verifier") == "code_tests" or "python" in kwargs.get("tools", [])


CODE_IDS = [env_id for env_id in ENV_IDS if _runs_code(env_id)]


def _fns(env_id: str) -> list:
    return [functools.partial(gym.make, env_id)] * N_ENVS


def _oracle_actions(vec: gym.vector.VectorEnv):
    actions = vec.call("oracle_action")
    return np.asarray(actions) if isinstance(vec.single_action_space, Discrete) else actions


def _rollout(vec: gym.vector.VectorEnv, seed: int = SEED) -> list:
    obs, _ = vec.reset(seed=seed)
    vec.action_space.seed(seed)
    assert vec.observation_space.contains(obs), f"reset observation outside {vec.observation_space}"
    out = [obs]
    for kind in PLAN:
        actions = _oracle_actions(vec) if kind == "oracle" else vec.action_space.sample()
        obs, reward, terminated, truncated, _ = vec.step(actions)
        assert vec.observation_space.contains(obs)
        out.append((obs, reward, terminated, truncated))
    return out


def _first_obs(obs, i: int):
    if isinstance(obs, dict):
        return {key: _first_obs(value, i) for key, value in obs.items()}
    return obs[i]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sync_vector_env(env_id):
    vec = SyncVectorEnv(_fns(env_id))
    try:
        single = gym.make(env_id)
        assert vec.single_observation_space == single.observation_space
        assert vec.single_action_space == single.action_space
        if isinstance(single.observation_space, UnicodeText):
            assert isinstance(vec.observation_space, Tuple)
            assert len(vec.observation_space.spaces) == N_ENVS
        first = _rollout(vec)
    finally:
        vec.close()
    assert vec.closed

    # sub-env i is seeded SEED + i, exactly like a single env
    for i in range(N_ENVS):
        obs, _ = single.reset(seed=SEED + i)
        assert data_equivalence(_first_obs(first[0], i), obs), f"{env_id}: sub-env {i} seeding"
    single_task = len(getattr(single.unwrapped, "source", range(2))) < 2
    single.close()
    if not single_task:
        a, b = _first_obs(first[0], 0), _first_obs(first[0], 1)
        assert not data_equivalence(a, b), f"{env_id}: both sub-envs posed the same task"

    again = SyncVectorEnv(_fns(env_id))
    try:
        assert data_equivalence(first, _rollout(again)), (
            f"{env_id}: seeded rollout not reproducible"
        )
    finally:
        again.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_async_vector_env_matches_sync(env_id):
    sync = SyncVectorEnv(_fns(env_id))
    try:
        expected = _rollout(sync)
    finally:
        sync.close()
    vec = AsyncVectorEnv(_fns(env_id))
    processes = list(vec.processes)
    try:
        got = _rollout(vec)
    finally:
        vec.close()
    assert data_equivalence(expected, got), f"{env_id}: AsyncVectorEnv differs from SyncVectorEnv"
    assert vec.closed
    assert all(p.exitcode is not None for p in processes), "a worker process outlived close()"


def test_async_text_observations_are_live_and_unicode():
    """The two gymnasium ``Text`` bugs: observations frozen at the first one, and a
    ``KeyError`` on characters outside the charset (HumanEval has prompts with '➞')."""
    env = gym.make("reasongym/HumanEval-v0").unwrapped
    index = next(i for i in range(len(env.source)) if not env.source[i].question.isascii())
    prompt, _ = env.reset(seed=SEED, options={"task_index": index})
    env.close()
    vec = gym.make_vec("reasongym/HumanEval-v0", num_envs=N_ENVS, vectorization_mode="async")
    try:
        obs, _ = vec.reset(seed=SEED, options={"task_index": index})
        assert obs == (prompt,) * N_ENVS
        obs, *_ = vec.step(("no answer here",) * N_ENVS)
        assert isinstance(obs, tuple) and all(o.startswith("Format error") for o in obs), obs
    finally:
        vec.close()


def test_spawn_context():
    """``spawn``/``forkserver`` children start empty: ``"reasongym:ID"`` imports the package."""
    fns = [functools.partial(gym.make, "reasongym:reasongym/Arithmetic-v0")] * N_ENVS
    vec = AsyncVectorEnv(fns, context="spawn")
    try:
        obs, _ = vec.reset(seed=SEED)
        assert "Problem:" in obs[0] and obs[0] != obs[1]
    finally:
        vec.close()


# -- sandboxes ------------------------------------------------------------------------------
def _docker_client():
    """A docker client when the engine and image are there; else skip (fail in CI)."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
        client.images.get(IMAGE)
        return client
    except Exception as exc:  # noqa: BLE001 - any failure is the reason
        reason = f"Docker engine or image {IMAGE} unavailable ({exc}); run scripts/setup_docker.sh"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: this must work in CI)", pytrace=False)
        pytest.skip(reason)


def _containers_of(client, pids) -> list:
    found = client.containers.list(
        all=True, filters={"label": "org.reasongym.sandbox=1"}, ignore_removed=True
    )
    return [c for c in found if c.labels.get(OWNER_PID) in {str(p) for p in pids}]


def _wait_gone(client, pids, timeout: float = 20.0) -> list:
    deadline = time.monotonic() + timeout
    while (left := _containers_of(client, pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.mark.docker
@pytest.mark.parametrize("env_id", CODE_IDS)
def test_async_sandboxes_live_in_the_workers(env_id):
    client = _docker_client()
    # other tests in this session may keep a pool of their own in this process
    before = {c.id for c in _containers_of(client, [os.getpid()])}
    vec = AsyncVectorEnv(_fns(env_id))
    pids = [p.pid for p in vec.processes]
    try:
        vec.reset(seed=SEED)
        _, reward, *_ = vec.step(_oracle_actions(vec))  # the verifier runs the gold solution
        assert np.all(reward == 1.0), reward
        new = [c for c in _containers_of(client, [*pids, os.getpid()]) if c.id not in before]
        owners = {c.labels[OWNER_PID] for c in new}
        assert owners == {str(p) for p in pids}, "each worker process should own its sandbox"
    finally:
        vec.close()
    assert _wait_gone(client, pids) == [], "sandbox containers left after close()"
    client.close()


@pytest.mark.docker
def test_sync_sandboxes_removed_on_close():
    client = _docker_client()
    before = {c.id for c in _containers_of(client, [os.getpid()])}
    vec = SyncVectorEnv(_fns("reasongym/HumanEval-v0"))
    try:
        vec.reset(seed=SEED)
        vec.step(_oracle_actions(vec))
        mine = {c.id for c in _containers_of(client, [os.getpid()])} - before
        assert len(mine) == N_ENVS, "one sandbox per sub-env"
    finally:
        vec.close()
    deadline = time.monotonic() + 20
    while mine & {c.id for c in _containers_of(client, [os.getpid()])}:
        assert time.monotonic() < deadline, "sandbox containers left after close()"
        time.sleep(0.2)
    client.close()


# -- pickling -------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_env_factory_pickles(env_id):
    import pickle

    fn = pickle.loads(pickle.dumps(functools.partial(gym.make, env_id)))
    env = fn()
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_env_cloudpickles_mid_episode(env_id):
    """A copy (cloudpickle: what Ray uses) continues the episode on its own, same results."""
    env = gym.make(env_id)
    try:
        env.reset(seed=SEED)
        copy = cloudpickle.loads(cloudpickle.dumps(env))
        env.action_space.seed(SEED)
        actions = [env.action_space.sample() for _ in range(2)]
        try:
            actions.insert(0, env.unwrapped.oracle_action())
        except NotImplementedError:
            pass
        for action in actions:
            a, b = env.step(action), copy.step(action)
            assert data_equivalence(a[:4], b[:4]), f"{env_id}: the copy diverged"
            if a[2] or a[3]:
                break
        copy.close()
    finally:
        env.close()
