"""Generators make solvable instances with the right optimal length; solvers and rewards agree."""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasongym.envs.puzzles.lights_out import LightsOutEnv, min_presses, press_masks
from reasongym.envs.puzzles.maze import MazeEnv
from reasongym.envs.puzzles.sliding import SlidingPuzzleEnv, gap_moves, solve_sliding
from reasongym.envs.puzzles.sokoban import SokobanEnv
from reasongym.envs.puzzles.sudoku import SudokuEnv, count_solutions

# (class, kwargs): small instances of every procedural puzzle, with exact solvers.
PUZZLES = [
    (MazeEnv, {"size": 5}),
    (MazeEnv, {"size": 11}),
    (SlidingPuzzleEnv, {"size": 3, "scramble": 15}),
    (SlidingPuzzleEnv, {"size": 4, "scramble": 12}),
    (SokobanEnv, {"size": 7, "boxes": 1, "depth": 8}),
    (SokobanEnv, {"size": 7, "boxes": 2, "depth": 12}),
    (LightsOutEnv, {"size": 3, "presses": 3}),
    (LightsOutEnv, {"size": 5, "presses": 6}),
    (SudokuEnv, {"size": 4, "empty_cells": 8}),
    (SudokuEnv, {"size": 9, "empty_cells": 30}),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}{v}' for k, v in kw.items())}" for cls, kw in PUZZLES]


def discrete(cls, **kwargs):
    return cls(observation_mode="grid", action_mode="discrete", **kwargs)


@pytest.mark.parametrize(("cls", "kwargs"), PUZZLES, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plan_has_optimal_length_and_solves(cls, kwargs, seed):
    env = discrete(cls, **kwargs)
    _, info = env.reset(seed=seed)
    plan = env.solve()
    assert len(plan) == info["optimal_steps"] > 0
    for k, action in enumerate(plan):
        _, reward, terminated, truncated, info = env.step(action)
        last = k == len(plan) - 1
        assert terminated is last and info["is_success"] is last and not truncated
        assert reward == pytest.approx(1.0 if last else 0.0)
    assert env.solve() == []


@pytest.mark.parametrize(("cls", "kwargs"), PUZZLES, ids=IDS)
def test_oracle_solves_in_text_mode(cls, kwargs):
    env = cls(observation_mode="text", action_mode="text", **kwargs)
    _, info = env.reset(seed=3)
    for _ in range(info["optimal_steps"]):
        action = env.oracle_action()
        assert isinstance(action, str)
        obs, reward, terminated, _, info = env.step(action)
        assert "Format error" not in obs
    assert terminated and info["is_success"] and reward == pytest.approx(1.0)


@pytest.mark.parametrize(("cls", "kwargs"), PUZZLES, ids=IDS)
def test_seed_determines_the_instance(cls, kwargs):
    a, b = discrete(cls, **kwargs), discrete(cls, **kwargs)
    assert np.array_equal(a.reset(seed=11)[0], b.reset(seed=11)[0])
    boards = {a.reset(seed=s)[0].tobytes() for s in range(12)}
    assert len(boards) > 1


@pytest.mark.parametrize(("cls", "kwargs"), PUZZLES, ids=IDS)
def test_shaping_is_potential_based(cls, kwargs):
    """Along any path the shaped return telescopes to 1 + w * (initial distance)."""
    env = discrete(cls, reward={"shaping": True, "shaping_weight": 0.1}, **kwargs)
    env.reset(seed=4)
    start = env._distance()
    total = sum(env.step(a)[1] for a in env.solve())
    assert total == pytest.approx(1.0 + 0.1 * start)


@pytest.mark.parametrize(
    ("cls", "knob", "easy", "hard"),
    [
        (MazeEnv, "size", 5, 15),
        (SlidingPuzzleEnv, "scramble", 4, 30),
        (SokobanEnv, "depth", 4, 16),
        (LightsOutEnv, "presses", 2, 10),
        (SudokuEnv, "empty_cells", 10, 40),
    ],
)
def test_difficulty_knob_lengthens_solutions(cls, knob, easy, hard):
    def mean_optimal(value):
        env = discrete(cls, **{knob: value})
        return np.mean([env.reset(seed=s)[1]["optimal_steps"] for s in range(8)])

    assert mean_optimal(easy) < mean_optimal(hard)


def test_illegal_move_is_a_penalised_no_op():
    env = MazeEnv(
        size=7, observation_mode="grid", action_mode="discrete", reward={"illegal_move": -0.05}
    )
    board, _ = env.reset(seed=0)
    up = 0  # the agent starts in the top-left room: up is a wall
    after, reward, terminated, _, info = env.step(up)
    assert np.array_equal(board, after)
    assert info["illegal"] and not terminated and reward == pytest.approx(-0.05)


def test_per_step_reward_applies_every_step():
    env = MazeEnv(
        size=7, observation_mode="grid", action_mode="discrete", reward={"per_step": -0.01}
    )
    env.reset(seed=0)
    rewards = [env.step(a)[1] for a in env.solve()]
    assert rewards[:-1] == pytest.approx([-0.01] * (len(rewards) - 1))
    assert rewards[-1] == pytest.approx(0.99)


# -- maze ----------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**31), size=st.sampled_from([5, 7, 9, 15]))
@settings(max_examples=30, deadline=None)
def test_maze_is_a_perfect_maze(seed, size):
    env = discrete(MazeEnv, size=size)
    board, _ = env.reset(seed=seed)
    rooms = ((size - 1) // 2) ** 2
    floor = {(r, c) for r in range(size) for c in range(size) if board[r, c] != 1}
    assert len(floor) == 2 * rooms - 1  # rooms plus the rooms-1 openings of a spanning tree
    seen, queue = {(1, 1)}, deque([(1, 1)])
    while queue:
        r, c = queue.popleft()
        for nb in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if nb in floor and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    assert seen == floor  # connected (and with that count of cells, acyclic)


# -- sliding puzzle --------------------------------------------------------------------------
def _bfs_length(tiles: tuple[int, ...], n: int) -> int:
    goal = tuple(range(1, n * n)) + (0,)
    table = gap_moves(n)
    seen, frontier, depth = {tiles}, [tiles], 0
    while goal not in frontier:
        nxt = []
        for state in frontier:
            gap = state.index(0)
            for move in range(4):
                new_gap = table[gap][move]
                if new_gap >= 0:
                    s = list(state)
                    s[gap], s[new_gap] = s[new_gap], 0
                    t = tuple(s)
                    if t not in seen:
                        seen.add(t)
                        nxt.append(t)
        frontier, depth = nxt, depth + 1
    return depth


@pytest.mark.parametrize("seed", range(5))
def test_sliding_astar_is_optimal(seed):
    env = discrete(SlidingPuzzleEnv, size=3, scramble=14)
    _, info = env.reset(seed=seed)
    assert info["optimal_steps"] == _bfs_length(tuple(env._tiles), 3)


def test_sliding_solver_falls_back_past_its_budget():
    env = discrete(SlidingPuzzleEnv, size=4, scramble=60, solver_budget=1000)
    _, info = env.reset(seed=0)
    moves, optimal = solve_sliding(tuple(env._tiles), 4, 1000)
    assert not optimal and len(moves) == info["optimal_steps"]
    for move in moves:
        env.step(move)
    assert env._solved()


def test_sliding_move_n_names_a_tile():
    env = SlidingPuzzleEnv(size=3, observation_mode="text")
    env.reset(seed=0)
    gap = env._gap
    neighbour = next(env._tiles[p] for p in gap_moves(3)[gap][:4] if p >= 0)
    env.step(f"move {neighbour}")
    assert env._tiles[gap] == neighbour


# -- lights out ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [3, 4])
def test_lights_out_min_presses_matches_brute_force(n):
    masks = press_masks(n)
    env = discrete(LightsOutEnv, size=n, presses=min(5, n * n))
    for seed in range(4):
        env.reset(seed=seed)
        lights = env._as_int()
        best = min(
            bin(subset).count("1")
            for subset in range(1 << (n * n))
            if _apply(masks, subset) == lights
        )
        assert min_presses(lights, n).bit_count() == best


def _apply(masks: list[int], subset: int) -> int:
    lights = 0
    for cell, mask in enumerate(masks):
        if subset >> cell & 1:
            lights ^= mask
    return lights


def test_lights_out_unsolvable_board_has_no_plan():
    # On 4x4 some boards cannot be switched off: a single lit corner is one of them.
    assert min_presses(1, 4) is None


# -- sudoku ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "empty"), [(4, 10), (9, 45)])
@pytest.mark.parametrize("seed", range(3))
def test_sudoku_has_a_unique_valid_solution(size, empty, seed):
    env = discrete(SudokuEnv, size=size, empty_cells=empty)
    env.reset(seed=seed)
    puzzle, solution = env._board, env._solution
    assert count_solutions(puzzle, size) == 1
    grid = np.array(solution).reshape(size, size)
    b = math.isqrt(size)
    digits = set(range(1, size + 1))
    assert all(set(row) == digits for row in grid.tolist())
    assert all(set(col) == digits for col in grid.T.tolist())
    for br, bc in itertools.product(range(0, size, b), repeat=2):
        assert set(grid[br : br + b, bc : bc + b].ravel().tolist()) == digits
    assert all(p in (0, s) for p, s in zip(puzzle, solution, strict=True))
    assert sum(p == 0 for p in puzzle) <= empty


def test_sudoku_given_cells_are_fixed():
    env = discrete(SudokuEnv, size=4, empty_cells=6)
    env.reset(seed=0)
    cell = int(np.flatnonzero(env._given)[0])
    before = list(env._board)
    _, reward, _, _, info = env.step(cell * 5 + 1)
    assert info["illegal"] and env._board == before and reward < 0


def test_sudoku_solver_counts_multiple_solutions():
    assert count_solutions([0] * 16, 4) == 2
    assert count_solutions([1, 1] + [0] * 14, 4) == 0


# -- sokoban ---------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**31))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sokoban_levels_are_solvable_at_their_depth(seed):
    env = discrete(SokobanEnv, size=7, boxes=2, depth=10)
    _, info = env.reset(seed=seed)
    plan = env.solve()
    assert plan is not None and len(plan) == info["optimal_steps"] <= 10


def _with_board(state: dict, board: dict) -> dict:
    return {**state, "data": {**state["data"], "board": board}}


def test_sokoban_dead_end_has_no_plan_and_oracle_still_moves():
    env = discrete(SokobanEnv, size=5, boxes=1, inner_walls=0.0)
    env.reset(seed=0)
    walls = ["#####", "#---#", "#---#", "#---#", "#####"]
    env.set_state(
        _with_board(
            env.get_state(),
            {"walls": walls, "goals": [(3, 3)], "boxes": [(1, 1)], "player": (2, 2)},
        )
    )
    assert env.solve() is None  # the box is stuck in a corner
    assert env.action_space.contains(env.oracle_action())


def test_sokoban_push_moves_the_box():
    env = SokobanEnv(size=5, boxes=1, inner_walls=0.0, observation_mode="text")
    env.reset(seed=0)
    walls = ["#####", "#---#", "#---#", "#---#", "#####"]
    env.set_state(
        _with_board(
            env.get_state(),
            {"walls": walls, "goals": [(1, 3)], "boxes": [(2, 2)], "player": (3, 2)},
        )
    )
    env.step("up")
    obs, reward, terminated, _, _ = env.step("up")  # the box is against the wall now
    assert "not a legal move" in obs and not terminated
    assert env._board_state()["boxes"] == [(1, 2)]
