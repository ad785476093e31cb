"""Behaviour of the generic text env that a user notices."""

from __future__ import annotations

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reasongym  # noqa: F401


@pytest.fixture
def env():
    env = gym.make("reasongym/Arithmetic-v0")
    yield env
    env.close()


def test_issue_example_flow():
    env = gym.make("reasongym/Math-v0")
    obs, info = env.reset(seed=0)
    assert isinstance(obs, str) and "Problem:" in obs and "calculator" in obs
    assert info["task_id"] and info["messages"][0] == {"role": "user", "content": obs}
    obs, reward, terminated, truncated, info = env.step('<tool name="calculator">37*41</tool>')
    assert obs == "1517" and reward == 0.0 and not terminated and not truncated
    assert info["messages"][-1] == {"role": "tool", "content": "1517"}
    obs, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
    assert reward == 1.0 and terminated and info["is_success"] and info["verdict"]["correct"]


def test_wrong_answer_terminates_with_zero(env):
    env.reset(seed=1)
    _, reward, terminated, _, info = env.step("<answer>-123456789</answer>")
    assert reward == 0.0 and terminated and not info["is_success"]


def test_format_error_is_penalised_not_raised(env):
    env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step("hmm, not sure")
    assert obs.startswith("Format error:") and "<answer>" in obs
    assert (
        reward == pytest.approx(-0.1)
        and not terminated
        and info["action"]["kind"] == "format_error"
    )


def test_unknown_tool_is_a_format_error(env):
    env.reset(seed=1)
    obs, *_ = env.step('<tool name="python">print(1)</tool>')
    assert "unknown tool 'python'" in obs and "calculator" in obs


def test_truncated_at_max_turns(env):
    env.reset(seed=2)
    max_turns = env.unwrapped.config.max_turns
    for _ in range(max_turns):
        _, _, terminated, truncated, _ = env.step('<tool name="calculator">1+1</tool>')
        assert not terminated
    assert truncated


def test_max_attempts_allows_revision():
    env = gym.make("reasongym/Arithmetic-v0", max_attempts=2)
    env.reset(seed=3)
    obs, reward, terminated, _, _ = env.step("<answer>-1</answer>")
    assert not terminated and "Incorrect" in obs and "1 attempt(s) left" in obs
    _, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert terminated and reward == 1.0 and info["is_success"]


def test_same_seed_same_task_and_task_index(env):
    a = env.reset(seed=42)[1]["task_id"]
    b = env.reset(seed=42)[1]["task_id"]
    c = env.reset(options={"task_index": 7})[1]["task_id"]
    d = env.reset(seed=99, options={"task_index": 7})[1]["task_id"]
    assert a == b and c == d


def test_state_restore_is_exact_and_unaliased(env):
    env.reset(seed=4)
    env.step('<tool name="calculator">2+2</tool>')
    state = env.unwrapped.get_state()
    obs1 = env.step("<answer>0</answer>")
    env.unwrapped.set_state(state)
    obs2 = env.step("<answer>0</answer>")
    assert obs1[:4] == obs2[:4] and obs1[4]["messages"] == obs2[4]["messages"]
    assert len(state["data"]["messages"]) == 3  # the snapshot did not grow with the later steps


def test_step_after_end_does_not_raise(env):
    env.reset(seed=5)
    env.step(env.unwrapped.oracle_action())
    obs, reward, terminated, _, _ = env.unwrapped.step("<answer>1</answer>")
    assert "over" in obs and reward == 0.0 and terminated


def test_render_ansi():
    env = gym.make("reasongym/Arithmetic-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step('<tool name="calculator">1+2</tool>')
    text = env.render()
    assert "[user]" in text and "[tool]\n3" in text


def test_bad_kwargs_to_make_are_rejected():
    with pytest.raises(Exception, match="max_turnz"):
        gym.make("reasongym/Arithmetic-v0", max_turnz=3)


_ENV = gym.make("reasongym/Math-v0").unwrapped


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(min_size=1, max_size=40).map(lambda s: s * (20_000 // len(s) + 1)),
    )
)
def test_random_unicode_and_huge_actions_never_raise(action):
    _ENV.reset(seed=0)
    obs, reward, terminated, truncated, info = _ENV.step(action)
    assert isinstance(obs, str) and _ENV.observation_space.contains(obs)
    assert isinstance(reward, float)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_random_answers_and_tool_inputs_never_raise(payload):
    _ENV.reset(seed=0)
    _ENV.step(f'<tool name="calculator">{payload}</tool>')
    _, _, terminated, _, _ = _ENV.step(f"<answer>{payload}</answer>")
    assert terminated


def test_max_turns_at_make_is_the_limit_and_the_prompt_is_unchanged():
    env = gym.make("reasongym/Arithmetic-v0", max_turns=10)
    env.reset(seed=0)
    flags = [env.step("thinking...")[2:4] for _ in range(10)]
    assert flags[:9] == [(False, False)] * 9 and flags[9] == (False, True)
    assert gym.spec("reasongym/Arithmetic-v0").max_episode_steps is None  # no second limit


def test_retired_names_point_to_the_new_ones():
    with pytest.raises(reasongym.ConfigError, match="per_step"):
        gym.make("reasongym/Arithmetic-v0", reward={"step_cost": 0.1})
    with pytest.raises(reasongym.ConfigError, match="max_observation_chars"):
        gym.make("reasongym/Arithmetic-v0", max_text_length=1000)


def test_per_step_is_added_to_every_step_including_the_answer():
    env = gym.make("reasongym/Arithmetic-v0", reward={"per_step": -0.05})
    env.reset(seed=0)
    assert env.step('<tool name="calculator">1+1</tool>')[1] == pytest.approx(-0.05)
    assert env.step(env.unwrapped.oracle_action())[1] == pytest.approx(0.95)


def test_tools_are_typed_specs_and_render_the_prompt(env):
    obs, _ = env.reset(seed=0)
    tools = env.unwrapped.tools
    assert [t.name for t in tools] == ["calculator", "submit_answer"]
    assert tools[0].parameters["required"] == ["expression"]
    assert tools[0].to_openai()["function"]["parameters"] == tools[0].parameters
    assert tools[0].description in obs and '<tool name="calculator">' in obs
    assert tools[0].fn(expression="6*7").output == "42"  # the callable is the real tool


def test_submit_answer_tool_steps_the_episode(env):
    env.reset(seed=0)
    submit = env.unwrapped.tools[-1]
    result = submit.fn(answer=env.unwrapped.get_state()["data"]["task"]["answer"])
    assert result.output == "Correct."
    assert env.unwrapped.is_final("anything") is True  # the episode is over


def test_native_action_format_takes_tool_calls_and_leaves_the_tags_out():
    env = gym.make("reasongym/Arithmetic-v0", action_format="native")
    obs, _ = env.reset(seed=0)
    assert "<tool" not in obs and "submit_answer" in obs
    obs, *_ = env.step({"name": "calculator", "arguments": {"expression": "2+3"}})
    assert obs == "5"
    json_call = '{"name": "calculator", "arguments": "{\\"expression\\": \\"4*4\\"}"}'
    assert env.step(json_call)[0] == "16"
    _, reward, _, _, info = env.step("<answer>5</answer>")  # tags are not the grammar here
    assert info["action"]["kind"] == "format_error" and reward < 0
    answer = env.unwrapped.get_state()["data"]["task"]["answer"]
    _, reward, terminated, _, info = env.step(
        {
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "submit_answer", "arguments": f'{{"answer": "{answer}"}}'},
                }
            ]
        }
    )
    assert reward == 1.0 and terminated and info["is_success"]


def test_is_final_reads_the_grammar_without_running_anything(env):
    env.reset(seed=0)
    inner = env.unwrapped
    before = inner.get_state()
    assert inner.is_final("<answer>3</answer>") and inner.is_final("so \\boxed{3}")
    assert not inner.is_final('<tool name="calculator">1+1</tool>')
    assert not inner.is_final("no action")
    assert inner.get_state() == before


def test_task_index_is_strict():
    env = gym.make("reasongym/Competition-v0")
    n = env.unwrapped.num_tasks
    for options in ({"task_index": 1.5}, {"task_index": True}, "notadict", {"index": 0}):
        with pytest.raises((TypeError, ValueError)):
            env.reset(options=options)
    with pytest.raises(ValueError, match="out of range"):
        env.reset(options={"task_index": n})
    a = env.reset(seed=1, options={"task_index": n - 1})[1]["task_id"]
    b = env.reset(seed=2, options={"task_index": n - 1})[1]["task_id"]
    assert a == b == reasongym.tasks("reasongym/Competition-v0", indices=[n - 1])[0]["task_id"]


def test_answers_of_one_episode_earn_the_best_answer_once():
    env = gym.make("reasongym/Arithmetic-v0", max_attempts=3, reward={"incorrect": -0.5})
    env.reset(seed=2)
    rewards = [env.step("<answer>-987654</answer>")[1] for _ in range(2)]
    rewards.append(env.step(env.unwrapped.oracle_action())[1])
    assert rewards == [-0.5, 0.0, 1.5] and sum(rewards) == 1.0  # the total is the best answer's


def test_free_text_answer_mode_grades_prose_with_a_penalty():
    env = gym.make(
        "reasongym/Arithmetic-v0", answer_mode="free_text", reward={"free_text_answer": -0.2}
    )
    obs, _ = env.reset(seed=0)
    assert "The answer is" in obs
    gold = env.unwrapped.get_state()["data"]["task"]["answer"]
    assert env.unwrapped.is_final(f"Adding up, the answer is {gold}.")
    _, reward, terminated, _, info = env.step(f"Let me add. 3+4 is not it... the answer is {gold}.")
    assert terminated and info["is_success"] and reward == pytest.approx(0.8)
    assert info["action"]["free_text"] is True
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(f"<answer>{gold}</answer> (the answer is 0)")
    assert reward == 1.0 and info["action"]["free_text"] is False  # tags win, no penalty
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("I have no idea.")
    assert not terminated and info["action"]["kind"] == "format_error"


def test_strict_tags_mode_rejects_prose():
    env = gym.make("reasongym/Arithmetic-v0")
    env.reset(seed=0)
    gold = env.unwrapped.get_state()["data"]["task"]["answer"]
    _, reward, terminated, _, info = env.step(f"The answer is {gold}.")
    assert not terminated and reward < 0 and info["action"]["kind"] == "format_error"


def test_format_errors_and_attempts_use_the_names_of_every_family(env):
    env.reset(seed=0)
    _, _, _, _, info = env.step("nothing here")
    assert "no tool call or answer" in info["format_error"] and info["attempts_left"] == 1
    _, _, _, _, info = env.step("<answer>-1</answer>")
    assert "format_error" not in info and info["attempts_left"] == 0


def test_tool_success_is_paid_once_per_distinct_call():
    env = gym.make("reasongym/Arithmetic-v0", max_turns=6, reward={"tool_success": 0.1})
    env.reset(seed=0)
    rewards = [
        env.step(f'<tool name="calculator">{expr}</tool>')[1]
        for expr in ("1+1", "1+1", "2+2", "\ud800")
    ]
    assert rewards[:3] == [0.1, 0.0, 0.1] and rewards[3] <= 0.0  # repeating does not farm it


def test_tool_success_stops_at_correct_and_survives_snapshots():
    env = gym.make(
        "reasongym/Arithmetic-v0", max_turns=8, reward={"tool_success": 0.4, "correct": 1.0}
    )
    env.reset(seed=0)
    inner = env.unwrapped
    calls = [f'<tool name="calculator">{n}+{n}</tool>' for n in range(1, 5)]
    paid = [env.step(call)[1] for call in calls[:2]]
    snapshot = inner.get_state()
    paid += [env.step(call)[1] for call in calls[2:]]
    assert paid == pytest.approx([0.4, 0.4, 0.2, 0.0])  # distinct results, capped at correct
    inner.set_state(snapshot)
    assert env.step(calls[2])[1] == pytest.approx(0.2)  # the cap came back with the snapshot
    _, reward, terminated, _, _ = env.step(inner.oracle_action())
    assert terminated and reward == pytest.approx(1.0)  # the answer is still paid in full


def test_the_gold_is_shown_only_when_the_episode_ends():
    env = gym.make("reasongym/Math-v0", max_attempts=2)
    env.reset(options={"task_index": 0})
    gold = env.unwrapped._row_answer()
    _, _, terminated, _, info = env.step("<answer>-987654321</answer>")
    details = info["verdict"]["details"]
    assert not terminated and "gold" not in details and gold not in details.values()
    assert details["extracted"] == "-987654321" and not info["verdict"]["correct"]
    _, _, terminated, _, info = env.step("<answer>-987654320</answer>")
    assert terminated and "gold" in info["verdict"]["details"]  # the end may show it


def test_a_verifier_may_hide_more_detail_keys():
    env = gym.make("reasongym/Arithmetic-v0", max_attempts=2)
    env.reset(seed=0)
    inner = env.unwrapped
    inner._verifiers[inner.config.verifier].hidden_details = frozenset({"method"})
    details = env.step("<answer>-987654321</answer>")[4]["verdict"]["details"]
    assert "method" not in details and "gold" not in details
    assert "method" in env.step("<answer>-987654320</answer>")[4]["verdict"]["details"]


def test_a_time_limit_over_the_env_is_its_own_step_limit():
    from reasongym.envs.base import TimeLimitSync

    env = TimeLimitSync(gym.make("reasongym/Arithmetic-v0", max_episode_steps=2))
    inner = env.unwrapped
    env.reset(seed=0)
    assert inner.max_turns == 2 and inner.config.max_turns > 2
    env.step('<tool name="calculator">1+1</tool>')
    assert inner.is_final('<tool name="calculator">2+2</tool>')  # the last turn, as the env says
    _, _, terminated, truncated, _ = env.step('<tool name="calculator">2+2</tool>')
    assert truncated and not terminated
    _, reward, _, truncated, info = env.step(inner.oracle_action())
    assert reward == 0.0 and truncated and info["episode_over"]  # the after-end rule
    assert gym.make("reasongym/Arithmetic-v0").unwrapped.max_turns == inner.config.max_turns
