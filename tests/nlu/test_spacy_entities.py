"""SpacyEntityExtractor: spaCy's named entities, kept to `dimensions`; with no entity
recogniser in the pipeline (the model not installed) it extracts nothing and says so once."""

from __future__ import annotations

import spacy

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.nlu.message import Message
from parlez.nlu.pipeline import Pipeline
from parlez.nlu.spacy_components import SPACY_DOC, SpacyEntityExtractor
from tests.nlu.helpers import data

DATA = """
- intent: greet
  examples: |
    - hi
    - hello there
- intent: book
  examples: |
    - book for Anna in Paris
    - a table for two
"""


def test_without_an_entity_recogniser_nothing_is_extracted_and_it_is_said_once() -> None:
    items = [
        ComponentConfig("SpacyNLP", {"model": "en_core_web_md"}),
        ComponentConfig("SpacyTokenizer"),
        ComponentConfig("SpacyEntityExtractor"),
    ]
    with collect() as warnings:
        pipeline = Pipeline.from_config(items).train(data(DATA))
    assert [w.code for w in warnings].count("P179") == 1
    message = Message("book for Anna in Paris")
    pipeline.process([message])
    assert message.entities == []


def test_the_recognisers_entities_are_kept_to_the_dimensions_asked_for() -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [{"label": "PERSON", "pattern": "Anna"}, {"label": "GPE", "pattern": "Paris"}]
    )
    extractor = SpacyEntityExtractor.create({"dimensions": ["PERSON"]})
    message = Message("book for Anna in Paris")
    message.data[SPACY_DOC] = nlp(message.text)
    with collect() as warnings:
        extractor.train(data(DATA), [message])
    assert warnings == []
    extractor.process([message])
    assert message.entities == [
        {
            "entity": "PERSON",
            "start": 9,
            "end": 13,
            "value": "Anna",
            "confidence": None,
            "extractor": "SpacyEntityExtractor",
        }
    ]
