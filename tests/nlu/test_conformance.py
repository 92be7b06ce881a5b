"""Every registered component: train -> persist -> load -> the same output."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.io.yaml import read_yaml
from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.nlu.pipeline import Pipeline
from parlez.registry import components
from parlez.training_data.nlu_yaml import read_nlu_section
from parlez.training_data.training_data import TrainingData
from tests.conftest import nlu_file

# What a component is trained behind when it needs something from earlier components.
PROVIDERS = {
    "tokens": "WhitespaceTokenizer",
    "features": "CountVectorsFeaturizer",
    "intent": "LogisticRegressionClassifier",
    "entities": "RegexEntityExtractor",
    "spacy_doc": "SpacyNLP",
}

DATA = nlu_file(r"""
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
    - hey
- intent: book
  examples: |
    - book a table in [Paris](city)
    - a table for two in [Rome](city) please
    - reserve in [NYC](city:New York) tonight
    - I want to eat in [Berlin](city)
- intent: faq/ask_parking
  examples: |
    - where can I park
    - is there parking nearby
- intent: faq/ask_wifi
  examples: |
    - do you have wifi
    - what is the wifi password
- intent: hours
  examples: |
    - when are you open?
    - opening hours please
    - are you open on sunday
- synonym: New York
  examples: |
    - new york city
- regex: zipcode
  examples: |
    - \d{5}
- lookup: city
  examples: |
    - Paris
    - Rome
    - Berlin
    - NYC
""")
PROBES = [
    "where do I park?",
    "wifi please",
    "hi there",
    "a table in Paris",
    "open on sunday?",
    "NYC please",
    "",
    "   ",
    "😀 👋",
    "שלום مرحبا",
    "x" * 10_000,
    "line\x00break\x1b[31m",
    "12345 Rome",
]


def training_data() -> TrainingData:
    data = read_nlu_section(read_yaml(DATA)["nlu"])
    data.responses = {
        "utter_faq/ask_parking": [{"text": "Park behind the shop."}],
        "utter_faq/ask_wifi": [{"text": "Yes: 'maple'."}],
    }
    return data


def pipeline_for(name: str) -> list[str]:
    cls = components.get(name)
    chain: list[str] = []
    for need in cls.needs:
        provider = PROVIDERS[need]
        for upstream in [*pipeline_for(provider), provider]:
            if upstream not in chain:
                chain.append(upstream)
    return [*chain, name]


def outputs(pipeline: Pipeline) -> list[dict[str, object]]:
    messages = [Message(text) for text in PROBES]
    pipeline.process(messages)
    return [
        {
            "tokens": [(t.text, t.start, t.end) for t in m.tokens],
            "features": {
                k: (
                    f.sequence.toarray().tolist()
                    if hasattr(f.sequence, "toarray")
                    else f.sequence.tolist()
                )
                for k, f in m.features.items()
            },
            "result": m.parse_result(),
        }
        for m in messages
    ]


@pytest.mark.parametrize("name", sorted({cls.name for cls in components}))
def test_component_gives_the_same_output_after_persist_and_load(name: str, tmp_path: Path) -> None:
    with collect():
        pipeline = Pipeline.from_config([ComponentConfig(n) for n in pipeline_for(name)]).train(
            training_data()
        )
    before = outputs(pipeline)
    pipeline.persist(tmp_path / "nlu")
    loaded = Pipeline.load(tmp_path / "nlu")
    assert [type(c) for c in loaded.steps] == [type(c) for c in pipeline.steps]
    assert outputs(loaded) == before


@pytest.mark.parametrize("name", sorted({cls.name for cls in components}))
def test_component_init_only_stores_its_parameters(name: str) -> None:
    cls = components.get(name)
    component: Component = cls(copy.deepcopy(cls.defaults))
    assert component.config == cls.defaults
    assert not [attr for attr in vars(component) if attr.endswith("_")]
