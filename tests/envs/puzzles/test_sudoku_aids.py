"""Sudoku's learning aids: pencil marks in the observation and the cursor action layout.

Both are config knobs (``pencil_marks``, ``discrete_actions``) that the easiest setting turns on;
the registered ids keep their spaces.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import reasongym  # noqa: F401  (registers the ids)
from reasongym.envs.puzzles.sudoku import SudokuConfig, SudokuEnv

N = 4
CODES = 2 * N + 1  # empty, given 1..4, placed 1..4


def _brute_marks(board: list[int], given: list[bool], n: int) -> np.ndarray:
    """Candidates by the rules, cell by cell (independent of the env's matrix code)."""
    b = int(n**0.5)
    out = np.zeros((n * n, n), bool)
    for cell in range(n * n):
        if given[cell]:
            continue
        r, c = divmod(cell, n)
        seen = set()
        for k in range(n * n):
            kr, kc = divmod(k, n)
            same_box = kr // b == r // b and kc // b == c // b
            if k != cell and (kr == r or kc == c or same_box):
                seen.add(board[k])
        for d in range(1, n + 1):
            out[cell, d - 1] = d not in seen
    return out


def _marks_of(obs: np.ndarray, n: int = N, codes: int = CODES) -> np.ndarray:
    return obs[n * n * codes : n * n * codes + n * n * n].reshape(n * n, n).astype(bool)


# -- pencil marks ---------------------------------------------------------------------------
@pytest.mark.parametrize("size,empty", [(4, 6), (9, 40)])
def test_pencil_marks_are_the_candidates_and_follow_the_board(size, empty):
    env = SudokuEnv(
        size=size,
        empty_cells=empty,
        observation_mode="onehot",
        action_mode="discrete",
        pencil_marks=True,
    )
    codes = 2 * size + 1
    obs, _ = env.reset(seed=3)
    assert env.observation_space.shape == (size * size * (codes + size),)
    assert env.observation_space.contains(obs)
    u = env
    given = u._given.tolist()
    np.testing.assert_array_equal(_marks_of(obs, size, codes), _brute_marks(u._board, given, size))
    # the first part is still the plain one-hot board
    plain = SudokuEnv(
        size=size, empty_cells=empty, observation_mode="onehot", action_mode="discrete"
    )
    plain_obs, _ = plain.reset(seed=3)
    np.testing.assert_array_equal(obs[: plain_obs.size], plain_obs)
    # a wrong digit written next to an empty cell removes that digit from the cell's marks
    free = [c for c in range(size * size) if not given[c]]
    cell = free[0]
    wrong = next(d for d in range(1, size + 1) if d != u._solution[cell])
    obs, *_ = env.step(cell * (size + 1) + wrong)
    marks = _marks_of(obs, size, codes)
    np.testing.assert_array_equal(marks, _brute_marks(u._board, given, size))
    r = cell // size
    for other in free:
        if other != cell and other // size == r:
            assert not marks[other, wrong - 1]
    assert not marks[[c for c in range(size * size) if given[c]]].any()  # givens: no marks


def test_one_empty_cell_has_one_mark_and_it_is_the_answer():
    env = gym.make("reasongym/SudokuDiscrete-v0", empty_cells=1, pencil_marks=True)
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        marks = _marks_of(obs)
        ((cell, digit),) = np.argwhere(marks)
        assert env.unwrapped._solution[cell] == digit + 1
        *_, terminated, _, info = env.step(int(cell * (N + 1) + digit + 1))
        assert terminated and info["is_success"]


def test_pencil_marks_in_text_and_rejected_where_they_cannot_be_shown():
    env = SudokuEnv(size=4, empty_cells=2, observation_mode="text", pencil_marks=True)
    obs, _ = env.reset(seed=0)
    line = next(s for s in obs.splitlines() if s.startswith("Pencil marks"))
    for cell in np.flatnonzero(~env._given):
        r, c = divmod(int(cell), 4)
        assert f"{r + 1} {c + 1}: {env._solution[cell]}" in line
    for mode in ("grid", "image"):
        with pytest.raises(ValueError, match="pencil_marks"):
            SudokuConfig(observation_mode=mode, pencil_marks=True)


def test_a_curriculum_level_may_not_change_the_spaces():
    for key, value in (("pencil_marks", True), ("discrete_actions", "cursor")):
        with pytest.raises(ValueError, match=key):
            gym.make(
                "reasongym/SudokuDiscrete-v0",
                curriculum={"levels": [{"empty_cells": 1}, {key: value}]},
            )


# -- the cursor layout ----------------------------------------------------------------------
def _cursor_env(**kwargs) -> SudokuEnv:
    base = {"size": 4, "empty_cells": 6, "observation_mode": "grid", "action_mode": "discrete"}
    return SudokuEnv(discrete_actions="cursor", **{**base, **kwargs})


def _cursor_cell(env: SudokuEnv, obs: np.ndarray) -> int:
    under = np.flatnonzero(np.asarray(obs).ravel() >= CODES)
    assert under.size == 1, "exactly one cell is shown under the cursor"
    return int(under[0])


def test_cursor_selects_writes_and_moves_to_the_next_empty_cell():
    env = _cursor_env()
    assert env.action_space == gym.spaces.Discrete(N * N + N + 1)
    obs, _ = env.reset(seed=1)
    empty = [c for c in range(N * N) if env._board[c] == 0]
    assert _cursor_cell(env, obs) == empty[0]  # starts on the first empty cell
    # write the right digit: the cell fills and the cursor moves on to the next empty cell
    obs, *_ = env.step(N * N + env._solution[empty[0]])
    assert env._board[empty[0]] == env._solution[empty[0]]
    assert _cursor_cell(env, obs) == empty[1]
    # select a given cell and write there: illegal, nothing changes, the penalty is paid
    given = int(np.flatnonzero(env._given)[0])
    obs, reward, *_ = env.step(given)
    assert _cursor_cell(env, obs) == given
    before = list(env._board)
    obs, reward, terminated, _, info = env.step(N * N + 1)
    assert info["illegal"] and env._board == before and not terminated
    assert reward == pytest.approx(env.config.reward.per_step + env.config.reward.illegal_move)
    # clear (digit 0) a placed cell: it empties and the cursor stays
    env.step(empty[0])
    obs, *_ = env.step(N * N)
    assert env._board[empty[0]] == 0 and _cursor_cell(env, obs) == empty[0]


@pytest.mark.parametrize("seed", range(5))
def test_cursor_plan_solves_in_optimal_steps_and_state_round_trips(seed):
    env = _cursor_env(observation_mode="onehot", pencil_marks=True)
    _, info = env.reset(seed=seed)
    plan = env.solve()
    assert len(plan) == info["optimal_steps"]  # from the start: one write per empty cell
    env.step(plan[0])
    snapshot = env.get_state()
    obs_mid = env.observe()
    rest = env.solve()
    for action in rest:
        *_, terminated, _, step_info = env.step(action)
    assert terminated and step_info["is_success"]
    env.set_state(snapshot)
    np.testing.assert_array_equal(env.observe(), obs_mid)
    assert env.solve() == rest


def test_cursor_board_codes_round_trip_for_world_models():
    env = _cursor_env()
    env.reset(seed=2)
    env.step(5)  # select cell 5
    latent = env.latent_state()
    other = _cursor_env()
    other.reset(seed=7)
    np.testing.assert_array_equal(other.observation_from_latent(latent, action=5), latent)


def test_cursor_marks_of_the_cursor_cell_are_appended():
    env = _cursor_env(observation_mode="onehot", pencil_marks=True, empty_cells=1)
    codes = 2 * CODES
    obs, _ = env.reset(seed=4)
    assert obs.shape == env.observation_space.shape == (N * N * codes + N * N * N + N,)
    cell = int(np.flatnonzero(~env._given)[0])
    np.testing.assert_array_equal(obs[-N:], np.eye(N)[env._solution[cell] - 1])
    # a DQN-sized hint: writing the marked digit at the cursor solves it
    *_, terminated, _, info = env.step(N * N + int(np.argmax(obs[-N:])) + 1)
    assert terminated and info["is_success"]


@pytest.mark.parametrize("mode", ["onehot", "grid", "image", "multimodal"])
def test_cursor_env_passes_check_env(mode):
    env = _cursor_env(observation_mode=mode, pencil_marks=mode in ("onehot", "multimodal"))
    check_env(env, skip_render_check=True)
    if mode == "image":
        obs, _ = env.reset(seed=0)
        env.step(int(np.flatnonzero(env._given)[0]))  # move the cursor: the picture changes
        assert not np.array_equal(env.observe(), obs)


def test_text_actions_ignore_the_cursor_layout():
    env = SudokuEnv(size=4, empty_cells=3, observation_mode="text", discrete_actions="cursor")
    env.reset(seed=0)
    cell = int(np.flatnonzero(~env._given)[0])
    r, c = divmod(cell, 4)
    env.step(f"{r + 1} {c + 1} {env._solution[cell]}")
    assert env._board[cell] == env._solution[cell]


def test_registered_ids_keep_their_spaces():
    env = gym.make("reasongym/SudokuDiscrete-v0")
    assert env.action_space == gym.spaces.Discrete(80)
    assert env.observation_space.shape == (16 * CODES,)
    easiest = gym.make("reasongym/SudokuDiscrete-v0", **SudokuConfig.easiest)
    assert easiest.unwrapped.config.pencil_marks
    assert easiest.action_space == gym.spaces.Discrete(N * N + N + 1)


@pytest.mark.slow
def test_sb3_default_dqn_learns_the_easiest_sudoku():
    """The point of the aids: SB3's DQN with its defaults solves the easiest setting."""
    pytest.importorskip("stable_baselines3")
    import torch
    from stable_baselines3 import DQN

    env_id, easy = "reasongym/SudokuDiscrete-v0", SudokuConfig.easiest
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = DQN("MlpPolicy", gym.make(env_id, **easy), seed=0, device="cpu")
        model.learn(total_timesteps=6_000)
    finally:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(0)

    def success(act) -> float:
        env, wins = gym.make(env_id, **easy), 0
        for i in range(50):
            obs, _ = env.reset(seed=10_000 + i)
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(act(obs))
                done = terminated or truncated
            wins += info["is_success"]
        return wins / 50

    trained = success(lambda obs: int(model.predict(obs, deterministic=True)[0]))
    random = success(lambda obs: int(rng.integers(N * N + N + 1)))
    assert random < 0.3 and trained >= 0.8, (trained, random)


def test_cursor_env_survives_hostile_actions_and_pays_only_for_a_solved_grid():
    env = _cursor_env(observation_mode="onehot", pencil_marks=True, max_turns=10_000)
    env.reset(seed=0)
    hostile = [-1, N * N + N + 1, 2**70, 1.5, float("nan"), "write", None, [1, 2]]
    for action in hostile:
        obs, reward, terminated, _, info = env.step(action)
        assert "format_error" in info and not terminated and reward <= 0
        assert env.observation_space.contains(obs)
    rng = np.random.default_rng(0)
    for _ in range(2_000):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(N * N + N + 1)))
        assert env.observation_space.contains(obs)
        solved = env._board == env._solution
        assert info["is_success"] == solved == terminated
        assert (reward > 0) == solved
        if terminated:
            env.reset(seed=int(rng.integers(1000)))
