"""PromptedWorldModel: a language model behind the WorldModel interface."""

from __future__ import annotations

import re

import numpy as np

from reasongym.agents.models.base import Completion, GenerationConfig, LanguageModel
from reasongym.world_models.prompted import PromptedWorldModel


class LookupLM(LanguageModel):
    """Answers a world-model prompt from a table of true transitions (keyed by the query's
    observation text and action); ``garbage`` answers something unparseable."""

    def __init__(self, table: dict, garbage: bool = False):
        super().__init__()
        self.table, self.garbage = table, garbage
        self.prompts = []

    def generate(self, prompts, config: GenerationConfig):
        out = []
        for prompt in prompts:
            text = prompt[-1]["content"]
            self.prompts.append(text)
            query = text.rsplit("Now predict.\nObservation:\n", 1)[1]
            obs_text, action = re.match(r"(.*)\nAction: (.*)$", query, re.S).groups()
            reply = "I think it moves." if self.garbage else self.table[(obs_text, action)]
            out.append([Completion(text=reply)])
        return out


def _table(model: PromptedWorldModel, data) -> dict:
    table = {}
    for i in range(len(data)):
        nxt = model._show(data.next_obs[i])
        done = "yes" if data.terminated[i] else "no"
        table[(model._show(data.obs[i]), str(data.action[i]))] = (
            f"<next_observation>\n{nxt}\n</next_observation>\n<reward>{data.reward[i]:g}</reward>\n"
            f"<terminated>{done}"  # the stop string is cut off, as backends do
        )
    return table


def test_parses_replies_into_the_observation_shape(sliding_val, tmp_path):
    model = PromptedWorldModel(LookupLM({}))
    model.fit(sliding_val)
    model.llm = LookupLM(_table(model, sliding_val))
    next_obs, reward, terminated = model.predict(sliding_val.obs[:20], sliding_val.action[:20])
    np.testing.assert_array_equal(next_obs, sliding_val.next_obs[:20])
    np.testing.assert_allclose(reward, sliding_val.reward[:20])
    np.testing.assert_array_equal(terminated, sliding_val.terminated[:20])
    assert model.parse_failures == 0
    assert "Example." in model.llm.prompts[0] and len(model.examples) == model.config.examples

    model.save(tmp_path / "p")
    loaded = PromptedWorldModel.load(tmp_path / "p", llm=model.llm)
    assert loaded.examples == model.examples and loaded.obs_shape == model.obs_shape


def test_unparseable_replies_predict_no_change_and_are_counted(sliding_val):
    model = PromptedWorldModel(LookupLM({}, garbage=True))
    model.fit(sliding_val)
    next_obs, reward, terminated = model.predict(sliding_val.obs[:3], sliding_val.action[:3])
    np.testing.assert_array_equal(next_obs, sliding_val.obs[:3])
    assert not terminated.any() and (reward == 0).all() and model.parse_failures == 3
