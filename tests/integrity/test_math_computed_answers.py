"""Through the envs: restating the question, or any computation of the gold, earns nothing.

The hole: on ``reasongym/Arithmetic-v0`` the answer ``<answer>70 * 12 * 52</answer>`` to
"Compute 70 * 12 * 52." *equals* the gold, and was paid 1.0. Every ``verifier: math`` env
whose gold is a number had it. The gold is read from the env's own snapshot.
"""

from __future__ import annotations

import re

import gymnasium as gym
import pytest

import reasongym  # noqa: F401 - registers the envs
from reasongym.errors import ConfigError

# env id -> how its prompt states the computation (the question's own expression)
QUESTIONS = {
    "reasongym/Arithmetic-v0": re.compile(r"Compute (.+)\.\s*$"),
    "reasongym/ChainSum-v0": re.compile(r"problem: (.+?) =\s*$"),
    "reasongym/Fractions-v0": re.compile(r"Compute \$(.+)\$ and give"),
    "reasongym/LinearEquations-v0": re.compile(r"Solve for x: (.+)\.\s*$"),
}
NUMERIC_GOLD_ENVS = [*QUESTIONS, "reasongym/GSMSymbolic-v0"]
SEEDS = range(4)


def _gold(env: gym.Env) -> str:
    return str(env.unwrapped.get_state()["data"]["task"]["answer"])


def _step(env: gym.Env, seed: int, action: str) -> tuple[float, dict]:
    env.reset(seed=seed)
    _, reward, terminated, _, info = env.step(action)
    assert terminated
    return float(reward), info


def _computations(gold: str) -> list[str]:
    """Expressions equal to the gold that a policy can write without computing anything."""
    return [
        f"{gold} + 0",
        f"({gold}) \\cdot 1",
        f"\\frac{{2 \\cdot ({gold})}}{{2}}",
        f"x = ({gold}) + 0",
        f"\\sqrt{{({gold})^2}}" if not gold.startswith("-") else f"-\\sqrt{{({gold})^2}}",
    ]


@pytest.fixture(params=NUMERIC_GOLD_ENVS)
def env(request):
    env = gym.make(request.param)
    yield env
    env.close()


@pytest.mark.parametrize("env_id", list(QUESTIONS))
def test_the_questions_own_expression_earns_nothing(env_id: str) -> None:
    env, pattern = gym.make(env_id), QUESTIONS[env_id]
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        question = pattern.search(obs)
        assert question, obs[-200:]
        for action in (
            f"<answer>{question.group(1)}</answer>",
            f"The answer is \\boxed{{{question.group(1)}}}.",
        ):
            reward, info = _step(env, seed, action)
            assert reward == 0.0 and not info["is_success"], (action, info["verdict"])
    env.close()


def test_computations_of_the_gold_earn_nothing_and_say_why(env: gym.Env) -> None:
    for seed in SEEDS:
        env.reset(seed=seed)
        gold = _gold(env)
        for expression in _computations(gold):
            reward, info = _step(env, seed, f"<answer>{expression}</answer>")
            assert reward == 0.0 and not info["is_success"], (expression, gold, info["verdict"])
            details = info["verdict"]["details"]
            assert details["method"] == "computation", (expression, gold, details)
            assert "must be a number" in details["feedback"]


def test_the_gold_as_a_number_still_earns_full_reward(env: gym.Env) -> None:
    for seed in SEEDS:
        env.reset(seed=seed)
        gold = _gold(env)
        for action in (f"<answer>{gold}</answer>", f"So the answer is \\boxed{{{gold}}}."):
            reward, info = _step(env, seed, action)
            assert reward == 1.0 and info["is_success"], (action, info["verdict"])


def test_the_agent_is_told_when_it_may_revise() -> None:
    env = gym.make("reasongym/Arithmetic-v0", max_attempts=2)
    try:
        obs, _ = env.reset(seed=0)
        question = QUESTIONS["reasongym/Arithmetic-v0"].search(obs).group(1)
        obs, reward, terminated, _, _ = env.step(f"<answer>{question}</answer>")
        assert reward == 0.0 and not terminated
        assert "must be a number" in obs
        obs, reward, terminated, _, _ = env.step(f"<answer>{_gold(env)}</answer>")
        assert reward == 1.0 and terminated
    finally:
        env.close()


def test_the_rule_is_an_option_that_yaml_can_turn_off() -> None:
    env = gym.make("reasongym/Arithmetic-v0", math={"require_number_for_numeric_gold": False})
    try:
        obs, _ = env.reset(seed=0)
        question = QUESTIONS["reasongym/Arithmetic-v0"].search(obs).group(1)
        _, reward, _, _, _ = env.step(f"<answer>{question}</answer>")
        assert reward == 1.0  # the documented opt-out: any expression equal to the gold
    finally:
        env.close()


def test_an_unknown_math_option_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="math.require_number"):
        gym.make("reasongym/Arithmetic-v0", math={"require_number": False})


def _yaml_env(tmp_path, name: str, math_block: str) -> str:
    (tmp_path / f"{name}.yaml").write_text(
        f"id: mathtest/{name}-v0\n"
        "description: Arithmetic with the math verifier's options set in YAML.\n"
        "kwargs:\n"
        "  task: {source: procedural, generator: arithmetic, difficulty: 2}\n"
        "  verifier: math\n"
        f"  math: {math_block}\n",
        encoding="utf-8",
    )
    return str(tmp_path)


def test_the_yaml_option_reaches_the_verifier(tmp_path) -> None:
    folder = _yaml_env(tmp_path, "ArithAnyExpression", "{require_number_for_numeric_gold: false}")
    (env_id,) = reasongym.register_yaml(folder)
    env = gym.make(env_id)
    try:
        obs, _ = env.reset(seed=1)
        question = QUESTIONS["reasongym/Arithmetic-v0"].search(obs).group(1)
        assert env.step(f"<answer>{question}</answer>")[1] == 1.0
    finally:
        env.close()


def test_a_bad_yaml_value_names_the_file_and_key(tmp_path) -> None:
    folder = _yaml_env(tmp_path, "ArithBadOption", "{require_number_for_numeric_gold: maybe}")
    with pytest.raises(
        ConfigError, match=r"(?s)ArithBadOption\.yaml.*require_number_for_numeric_gold"
    ):
        reasongym.register_yaml(folder)
