"""A reasongym id as a verifiers taskset. Its end-to-end proof (verifiers' own ``vf-eval``
against a policy served on loopback by ``reasongym.agents.models.serve``, rewards equal to
``reasongym run``'s) is the README example's test, tests/integrations/test_examples.py."""

from __future__ import annotations

import pytest

pytest.importorskip("verifiers")

from reasongym.integrations.verifiers.taskset import _with_stop  # noqa: E402

ENV = "reasongym/Arithmetic-v0"


def test_taskset_loads_through_verifiers_own_loader():
    from verifiers.v1.utils.loaders import environment_class, load_taskset, taskset_config_type

    config = taskset_config_type("reasongym-env").model_validate(
        {"id": "reasongym-env", "env_id": ENV, "num_tasks": 3}
    )
    tasks = list(load_taskset(config))
    assert [t.data.task_index for t in tasks] == [0, 1, 2]
    assert all("Problem" in t.data.prompt for t in tasks)
    assert len({t.key for t in tasks}) == 3
    assert environment_class("reasongym-env").__name__ == "ReasonGymEnv"


def test_replies_get_back_the_stop_string_the_server_left_out():
    stops = ("</tool>", "</answer>")
    assert _with_stop("<answer>5", stops) == "<answer>5</answer>"
    assert _with_stop('<tool name="calculator">2+3', stops) == '<tool name="calculator">2+3</tool>'
    assert _with_stop("<answer>5</answer>", stops) == "<answer>5</answer>"
    # closed already, or never opened: nothing is added (the env judges the text as it is)
    assert _with_stop("<answer>5</answer> and more", stops) == "<answer>5</answer> and more"
    assert _with_stop("The answer is 5", stops) == "The answer is 5"
    assert _with_stop('<answer>1</answer><tool name="python">x', stops).endswith("x</tool>")
