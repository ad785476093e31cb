"""The ReasonEnv contract, checked on every registered id (generated from the registry)."""

from __future__ import annotations

import warnings
from pathlib import Path

import gymnasium as gym
import pytest

import reasongym
from reasongym.envs.base import COMMON_RENAMES
from reasongym.envs.contract import ContractViolation, check_contract

BUILTIN_IDS = sorted(reasongym.list_envs())
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "yaml"


def _register_examples() -> tuple[list[str], str]:
    """The ids of the example YAML files (registered here), or the error that stopped them."""
    if not EXAMPLES.is_dir():
        return [], ""
    try:
        return sorted(reasongym.register_yaml(EXAMPLES, replace=True)), ""
    except Exception as exc:  # noqa: BLE001 - reported by test_example_files_register
        return [], f"{type(exc).__name__}: {exc}"


EXAMPLE_IDS, EXAMPLE_ERROR = _register_examples()
ENV_IDS = BUILTIN_IDS + EXAMPLE_IDS


def test_example_files_register():
    assert not EXAMPLE_ERROR, EXAMPLE_ERROR


CODE_IDS = {"reasongym/HumanEval-v0", "reasongym/CodeProcedural-v0"}


def _text_ids() -> list[str]:
    out = []
    for env_id in BUILTIN_IDS:
        kwargs = gym.spec(env_id).kwargs
        if kwargs.get("action_mode", "text") == "text":
            out.append(env_id)
    return out


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_id_keeps_the_contract(env_id):
    env = gym.make(env_id)  # with Gymnasium's passive checker on, as users get it
    try:
        check_contract(env, seed=3)
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_passive_checker_is_on_and_quiet(env_id):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make(env_id)
        env.reset(seed=0)
        env.step(env.action_space.sample())
        env.close()
    assert "PassiveEnvChecker" in str(env)
    loud = [str(w.message) for w in caught if "gymnasium" in w.filename]
    assert not loud, loud


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_max_turns_at_make_is_the_step_limit(env_id):
    env = gym.make(env_id, max_turns=3)
    try:
        assert env.unwrapped.max_turns == 3
        env.reset(seed=0)
        filler = 0 if isinstance(env.action_space, gym.spaces.Discrete) else "hmm"
        ends = []
        for _ in range(5):
            _, _, terminated, truncated, _ = env.step(filler)
            ends.append((terminated, truncated))
        if not any(t for t, _ in ends[:3]):  # not solved by chance on the way
            assert ends[:3] == [(False, False), (False, False), (False, True)]
            assert ends[3:] == [(False, True)] * 2  # after the end: the same flags
    finally:
        env.close()


@pytest.mark.parametrize(
    "old", sorted(set(COMMON_RENAMES) - {"max_episode_steps"})
)  # gym.make's own
@pytest.mark.parametrize(
    "env_id", ["reasongym/Arithmetic-v0", "reasongym/Maze-v0", "reasongym/ARC-v0"]
)
def test_retired_config_names_say_the_new_name(env_id, old):
    with pytest.raises(reasongym.ConfigError) as err:
        gym.make(env_id, **{old: 1})
    assert old in str(err.value) and COMMON_RENAMES[old].split()[1] in str(err.value)


@pytest.mark.parametrize(
    ("env_id", "reward"),
    [
        ("reasongym/Arithmetic-v0", {"step_cost": 0.01}),
        ("reasongym/Maze-v0", {"illegal_penalty": 0.01}),
        ("reasongym/ARC-v0", {"format_penalty": 0.01}),
        ("reasongym/Maze-v0", {"per_step": 0.5}),  # a "cost" that pays: the sign is wrong
        ("reasongym/Arithmetic-v0", {"format_error": 0.1}),
    ],
)
def test_reward_blocks_share_one_sign_convention(env_id, reward):
    with pytest.raises(reasongym.ConfigError, match="reward"):
        gym.make(env_id, reward=reward)


def test_penalties_are_signed_rewards_added_in_every_family():
    env = gym.make("reasongym/Arithmetic-v0", reward={"format_error": -0.2, "per_step": -0.01})
    env.reset(seed=0)
    assert env.step("no answer here")[1] == pytest.approx(-0.21)
    maze = gym.make("reasongym/Maze-v0", reward={"format_error": -0.2, "per_step": -0.01})
    maze.reset(seed=0)
    assert maze.step("no answer here")[1] == pytest.approx(-0.21)
    arc = gym.make("reasongym/ARC-v0", reward={"format_error": -0.2, "per_step": -0.01})
    arc.reset(seed=0)
    assert arc.step("no answer here")[1] == pytest.approx(-0.21)


def test_solved_maze_pays_once():
    env = gym.make("reasongym/MazeDiscrete-v0")
    env.reset(seed=0)
    rewards = []
    for _ in range(60):
        action = env.unwrapped.oracle_action() if not env.unwrapped._status.terminated else 0
        _, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
    assert sum(r > 0 for r in rewards) == 1 and terminated and not truncated


@pytest.mark.parametrize("env_id", _text_ids())
def test_is_final_is_grammar_free_for_search(env_id):
    if env_id in CODE_IDS:
        pytest.skip("code ids: covered by the contract check (answers need a sandbox)")
    env = gym.make(env_id)
    env.reset(seed=1)
    inner = env.unwrapped
    # the same text is an answer to a text env but a move to a puzzle: each env knows which
    probe = "<answer>up</answer>"
    state = inner.get_state()
    predicted = inner.is_final(probe)
    assert inner.get_state() == state  # asking changed nothing
    _, _, terminated, truncated, info = env.step(probe)
    if info["verdict"] is not None:  # judged as an answer: it may end the episode
        assert predicted is True
    else:  # a move (or unreadable): exact
        assert predicted is bool(terminated or truncated)
    inner.set_state(state)
    oracle = inner.oracle_action()
    state = inner.get_state()
    final = inner.is_final(oracle)
    _, _, terminated, truncated, _ = env.step(oracle)
    assert final or not (terminated or truncated)
    inner.set_state(state)
    assert inner.is_final("hmm, no action here") is False


def test_contract_checker_reports_a_broken_env():
    class PaysAfterTheEnd(type(gym.make("reasongym/MazeDiscrete-v0").unwrapped)):
        def step(self, action):
            obs, reward, terminated, truncated, info = super().step(action)
            return obs, (1.0 if info.get("episode_over") else reward), terminated, truncated, info

    env = PaysAfterTheEnd(size=5, observation_mode="onehot", action_mode="discrete", max_turns=3)
    with pytest.raises(ContractViolation, match="after the end paid"):
        check_contract(env)


def test_revising_never_pays_the_same_credit_twice():
    from reasongym.envs.puzzles.arc import ARCEnv, grid_text

    env = ARCEnv(observation_mode="text", max_attempts=3, reward={"partial_credit": True})
    env.reset(seed=1)
    expected = [list(row) for row in env.task[2]]
    wrong = [row[:] for row in expected]
    wrong[0][0] = (wrong[0][0] + 1) % 10
    rewards = [env.step(grid_text(wrong))[1] for _ in range(2)]  # the same partial answer twice
    rewards.append(env.step(grid_text(expected))[1])
    assert rewards[1] == 0.0 and sum(rewards) == pytest.approx(1.0)


def test_a_rejected_reset_changes_nothing():
    env = gym.make("reasongym/MazeDiscrete-v0")
    env.reset(seed=0)
    env.step(0)
    before = env.unwrapped.get_state()
    with pytest.raises(TypeError):
        env.reset(seed=123, options={"task_index": 2.0})
    assert env.unwrapped.get_state() == before


@pytest.mark.parametrize("env_id", [i for i in _text_ids() if i not in CODE_IDS])
def test_native_action_format_in_every_text_family(env_id):
    env = gym.make(env_id, action_format="native")
    env.reset(seed=0)
    inner = env.unwrapped
    assert inner.tools and all(spec.to_openai()["type"] == "function" for spec in inner.tools)
    _, reward, _, _, info = env.step("plain words, no tool call")
    assert "format_error" in info and reward <= 0
    ended = False
    for _ in range(inner.max_turns - 1):
        obs, reward, terminated, truncated, info = env.step(inner.oracle_action())
        assert "format_error" not in info, info["format_error"]
        if terminated or truncated:
            ended = True
            break
    # the answer was read and judged (CHAMP's prose golds do not always verify as themselves)
    assert ended and (info["is_success"] or info["verdict"] is not None)


def test_a_yaml_time_limit_beside_max_turns_is_refused(tmp_path):
    path = tmp_path / "Frac-v0.yaml"
    path.write_text(
        "id: mine/Frac-v0\ndescription: x\nmax_episode_steps: 6\n"
        "kwargs: {task: {source: procedural, generator: fractions}, step_cost: 0.1}\n"
    )
    with pytest.raises(reasongym.ConfigError) as err:
        reasongym.register_yaml(path)
    message = str(err.value)
    assert "kwargs.max_turns" in message and "per_step" in message  # both, at once
    assert "mine/Frac-v0" not in reasongym.list_envs()


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [(i, {"action_format": "native"}) for i in _text_ids() if i not in CODE_IDS]
    + [("reasongym/Arithmetic-v0", {"answer_mode": "free_text"})],
)
def test_variants_keep_the_contract(env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    try:
        check_contract(env, seed=5)
    finally:
        env.close()
