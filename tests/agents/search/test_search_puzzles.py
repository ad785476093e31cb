"""Beam search and MCTS on the text-mode puzzles and ARC: search asks the env, not a grammar,
which actions end the episode, so moves written as ``<answer>up</answer>`` are explored."""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import pytest
from scripted_lm import ScriptedLM, play

import reasongym  # noqa: F401 - registers the ids
from reasongym.agents.models.base import GenerationConfig
from reasongym.agents.search import MCTS, BeamSearch, BestOfN
from reasongym.agents.search.tree import observation_text

MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def best_move(board_text: str) -> str:
    """The first move of a shortest path on the ASCII maze at the end of the chat (BFS)."""
    lines = board_text.split("Current board")[-1].splitlines()[1:]
    rows = [line for line in lines if line and set(line) <= set("#.AG")]
    cells = {(r, c): ch for r, row in enumerate(rows) for c, ch in enumerate(row)}
    start = next(p for p, ch in cells.items() if ch == "A")
    goal = next(p for p, ch in cells.items() if ch == "G")
    first = {start: None}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        if p == goal:
            break
        for name, (dr, dc) in MOVES.items():
            q = (p[0] + dr, p[1] + dc)
            if cells.get(q, "#") != "#" and q not in first:
                first[q] = first[p] or name
                queue.append(q)
    return first[goal]


def maze_policy(chat):
    """All four moves as ``<answer>MOVE</answer>``, the shortest-path move the most likely."""
    good = best_move(chat[-1]["content"] if isinstance(chat[-1]["content"], str) else "")
    return [(f"<answer>{m}</answer>", -0.1 if m == good else -2.0) for m in MOVES]


@pytest.fixture
def maze():
    env = gym.make("reasongym/Maze-v0", size=5, observation_mode="text")
    yield env
    env.close()


def test_beam_on_text_maze_executes_moves_and_solves_in_eval_mode(maze):
    agent = BeamSearch(ScriptedLM(maze_policy), beam_width=2, expand=4, guidance="logprob")
    agent.bind(maze)
    success, steps = play(maze, agent, seed=0)
    assert success and steps == 4  # the 5x5 maze's path is 4 moves
    tree = agent.last_tree
    moves = [n for n in tree.nodes[1:] if not n.final]
    assert moves and all(n.executed for n in moves)  # non-solving moves ran on the env
    assert all(not n.executed for n in tree.finals())  # the solving move is withheld in eval
    assert agent.stats()["verifier_calls"] == 0


def test_mcts_on_text_maze_solves(maze):
    agent = MCTS(ScriptedLM(maze_policy), simulations=12, expand=4, guidance="logprob")
    agent.bind(maze)
    success, _ = play(maze, agent, seed=1)
    assert success
    assert any(n.executed and not n.final for n in agent.last_tree.nodes[1:])


def test_beam_with_env_reward_on_multimodal_maze_uses_the_text_part():
    env = gym.make("reasongym/Maze-v0", size=5, reward={"shaping": True})  # multimodal obs

    def policy(chat):
        content = chat[-1]["content"]
        text = content if isinstance(content, str) else observation_text(content)
        return [(f"Move {m}.", -1.0) for m in MOVES] if "Current board" in text else [("up", -1)]

    agent = BeamSearch(
        ScriptedLM(policy), beam_width=4, expand=4, guidance="verifier", mode="train"
    )
    agent.bind(env)
    assert play(env, agent, seed=2)[0]  # shaping rewards lead the beam to the goal
    env.close()


@pytest.fixture
def arc():
    env = gym.make("reasongym/ARC-v0", observation_mode="text")
    yield env
    env.close()


def arc_policy(gold: str):
    wrong = gold.replace("1", "3")
    return lambda chat: [
        (f"<answer>\n{wrong}\n</answer>", -0.1),
        (f"<answer>\n{gold}\n</answer>", -3.0),
    ]


@pytest.mark.parametrize("method", ["beam", "mcts"])
def test_search_on_arc_finds_the_verified_grid_in_train_mode(arc, method):
    arc.reset(seed=0)
    [gold] = arc.unwrapped.solve()  # test-only: the scripted policy is told the answer
    lm = ScriptedLM(arc_policy(gold))
    if method == "beam":
        agent = BeamSearch(lm, beam_width=1, expand=2, guidance="verifier", mode="train")
    else:
        agent = MCTS(lm, simulations=4, expand=2, guidance="verifier", mode="train")
    agent.bind(arc)
    success, steps = play(arc, agent, seed=0)
    assert success and steps == 1


def test_search_on_arc_in_eval_mode_grades_nothing_while_choosing(arc):
    arc.reset(seed=0)
    [gold] = arc.unwrapped.solve()
    agent = BeamSearch(ScriptedLM(arc_policy(gold)), beam_width=2, expand=2, guidance="logprob")
    agent.bind(arc)
    play(arc, agent, seed=0)
    tree = agent.last_tree
    assert tree.finals() and all(not n.executed for n in tree.finals())  # grids are answers
    assert agent.stats()["verifier_calls"] == 0


def test_greedy_on_text_maze_is_counted_like_search(maze):
    agent = BestOfN(ScriptedLM(maze_policy), n=1, generation=GenerationConfig(temperature=0.0))
    agent.bind(maze)
    assert play(maze, agent, seed=3)[0]
    assert agent.stats()["env_steps"] > 0  # moves were stepped on snapshots, not withheld
