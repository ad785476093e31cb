"""The env contract as the puzzles and ARC keep it (instances by index, tools, native calls)."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import reasongym
from reasongym.envs.puzzles.arc import ARCEnv, grid_text
from reasongym.envs.puzzles.maze import MazeEnv


def test_task_index_builds_the_same_instance_whatever_the_seed():
    env = MazeEnv(size=7, observation_mode="grid", action_mode="discrete")
    a, info_a = env.reset(seed=1, options={"task_index": 42})
    b, info_b = env.reset(seed=99, options={"task_index": 42})
    c, _ = env.reset(seed=1, options={"task_index": 43})
    assert np.array_equal(a, b) and info_a["task_id"] == info_b["task_id"] == "maze-42"
    assert not np.array_equal(a, c)
    with pytest.raises(TypeError):
        env.reset(options={"task_index": 1.5})


def test_seeded_resets_draw_an_instance_and_name_it():
    env = gym.make("reasongym/Maze-v0")
    _, info = env.reset(seed=5)
    index = int(info["task_id"].rsplit("-", 1)[1])
    obs_seeded = env.unwrapped.observe()
    obs_indexed, _ = env.reset(options={"task_index": index})
    assert obs_indexed["text"] == obs_seeded["text"]


def test_out_of_range_discrete_action_is_a_penalised_no_op():
    env = gym.make("reasongym/MazeDiscrete-v0")
    obs, _ = env.reset(seed=0)
    for bad in (7, -1, 1.5, "up", None):
        after, reward, terminated, truncated, info = env.unwrapped.step(bad)
        assert "format_error" in info and reward < 0 and not terminated
        assert np.array_equal(after, obs)


def test_native_move_calls_and_the_move_tool():
    env = gym.make("reasongym/Maze-v0", action_format="native", max_turns=200)
    env.reset(seed=0)
    inner = env.unwrapped
    assert [t.name for t in inner.tools] == ["move"]
    _, reward, _, _, info = env.step("up")  # words alone are not a tool call in native mode
    assert "format_error" in info and "move" in info["format_error"]
    action = inner.oracle_action()
    assert json.loads(action)["name"] == "move"
    _, _, _, _, info = env.step(action)
    assert "format_error" not in info and info["turn"] == 2
    plan = inner.solve()
    result = inner.tools[0].fn(move=json.loads(plan[0])["arguments"]["move"])
    assert "You played" in result.output
    for action in inner.solve():
        _, reward, terminated, truncated, info = env.step(json.loads(action))  # dicts too
    assert terminated and info["is_success"] and reward > 0
    assert env.step(action)[1:4] == (0.0, True, False)


def test_discrete_puzzles_offer_no_tools_and_text_puzzles_rows_carry_the_plan():
    assert gym.make("reasongym/SokobanDiscrete-v0").unwrapped.tools == []
    rows = reasongym.tasks("reasongym/Maze-v0", indices=[3, 4])
    assert [r["task_id"] for r in rows] == ["maze-3", "maze-4"]
    assert rows[0]["answer"] and rows[0]["tools"][0]["function"]["name"] == "move"
    with pytest.raises(ValueError, match="indices"):
        reasongym.tasks("reasongym/Maze-v0")


def test_arc_task_index_submit_tool_and_native_answers():
    env = ARCEnv(observation_mode="text", action_format="native")
    n = env.num_tasks
    obs, info = env.reset(options={"task_index": n - 1})
    assert "submit_answer" in obs and "<answer>" not in obs
    answer = grid_text(env.task[2])
    _, reward, terminated, _, info = env.step(answer)  # plain text is not a tool call here
    assert "format_error" in info and not terminated
    call = {"name": "submit_answer", "arguments": {"answer": answer}}
    _, reward, terminated, _, info = env.step(call)
    assert reward == 1.0 and terminated and info["verdict"]["correct"]
    with pytest.raises(ValueError, match="out of range"):
        env.reset(options={"task_index": n})
    rows = reasongym.tasks("reasongym/ARC-v0", indices=[0], split="evaluation")
    assert rows[0]["answer"] and rows[0]["task_index"] == 0
    with pytest.raises(ValueError, match="split"):
        reasongym.tasks("reasongym/Maze-v0", indices=[0], split="training")
