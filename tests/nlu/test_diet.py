from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.nlu.classifiers.diet import EXPORTED, DIETClassifier
from parlez.nlu.features import MessageFeatures, split_features
from parlez.nlu.message import Message
from parlez.nlu.pipeline import Pipeline
from tests.nlu.helpers import data, run, trained

DATA = """
- intent: travel
  examples: |
    - fly from [Berlin]{"entity": "city", "role": "from"} to [Rome]{"entity": "city", "role": "to"}
    - from [Paris]{"entity": "city", "role": "from"} to [Oslo]{"entity": "city", "role": "to"} please
    - a flight to [Madrid]{"entity": "city", "role": "to"} from [Lisbon]{"entity": "city", "role": "from"}
    - I want to go to [Vienna]{"entity": "city", "role": "to"}
    - get me from [Prague]{"entity": "city", "role": "from"} to [Athens]{"entity": "city", "role": "to"}
    - book a trip to [Dublin]{"entity": "city", "role": "to"}
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
    - hey
    - hi bot
- intent: weather
  examples: |
    - what's the weather in [Berlin](city)
    - is it raining in [Oslo](city)
    - weather in [New York](city) tomorrow
    - will it be sunny in [Rome](city)
"""
PIPELINE: list[str | tuple[str, dict[str, object]]] = [
    "WhitespaceTokenizer",
    "LexicalSyntacticFeaturizer",
    "CountVectorsFeaturizer",
    ("CountVectorsFeaturizer", {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4}),
]


def diet(**params: object) -> list[str | tuple[str, dict[str, object]]]:
    return [*PIPELINE, ("DIETClassifier", {"epochs": 60, "random_seed": 7, **params})]


def test_diet_learns_intents_entities_and_roles() -> None:
    pipeline = trained(diet(), DATA)
    message = run(pipeline, "fly from Berlin to Oslo")
    assert message.intent is not None and message.intent["name"] == "travel"
    found = {(e["value"], e["entity"], e.get("role")) for e in message.entities}
    assert found == {("Berlin", "city", "from"), ("Oslo", "city", "to")}
    entity = message.entities[0]
    assert list(entity) == [
        "entity",
        "start",
        "end",
        "confidence_entity",
        "role",
        "value",
        "extractor",
    ]
    assert entity["extractor"] == "DIETClassifier" and 0 < entity["confidence_entity"] <= 1
    assert run(pipeline, "hello").intent["name"] == "greet"  # type: ignore[index]


def test_multi_token_entities_come_back_whole() -> None:
    pipeline = trained(diet(), DATA)
    entities = run(pipeline, "weather in New York tomorrow").entities
    assert [(e["value"], e["start"], e["end"]) for e in entities] == [("New York", 11, 19)]


def test_the_same_random_seed_gives_the_same_model() -> None:
    first = trained(diet(), DATA).steps[-1]
    second = trained(diet(), DATA).steps[-1]
    assert isinstance(first, DIETClassifier) and isinstance(second, DIETClassifier)
    for (name, a), b in zip(
        first.model_.state_dict().items(), second.model_.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_entity_recognition_and_intent_classification_can_be_switched_off() -> None:
    intents_only = trained(diet(entity_recognition=False, epochs=5), DATA)
    message = run(intents_only, "fly from Berlin to Oslo")
    assert message.entities == [] and message.intent is not None
    entities_only = trained(diet(intent_classification=False, epochs=5), DATA)
    assert run(entities_only, "fly from Berlin to Oslo").intent is None


def test_an_annotation_inside_a_word_is_warned_about() -> None:
    items = [
        ComponentConfig(n) if isinstance(n, str) else ComponentConfig(n[0], dict(n[1]))
        for n in diet(epochs=1)
    ]
    with collect() as warnings:
        Pipeline.from_config(items).train(
            data(DATA + "- intent: other\n  examples: |\n    - [Berl](city)in is nice\n")
        )
    assert any(w.code == "P197" and "'Berl'" in w.message for w in warnings)


def test_training_data_helper_reads_roles() -> None:
    assert data(DATA).entity_roles == {"city": {"from", "to"}}


TEXTS = [
    "fly from Berlin to Oslo",
    "hi",
    "",
    "weather in New York tomorrow",
    "from a to b to c to d",
]


def _features(pipeline: Pipeline, texts: list[str]) -> list[MessageFeatures]:
    messages = [Message(text) for text in texts]
    for step in pipeline.steps[:-1]:
        step.process(messages)
    return [split_features(m) for m in messages]


def _parses(pipeline: Pipeline) -> list[tuple[object, object]]:
    return [
        (m.intent_ranking, [(e["value"], e.get("role")) for e in m.entities])
        for m in (run(pipeline, text) for text in TEXTS)
    ]


@pytest.fixture(scope="module")
def served() -> Pipeline:
    """A network with an intent head and two taggers, with dense features and without."""
    return trained(diet(linear_intent_weight=0.5), DATA)


def test_the_network_is_served_by_onnx_runtime_with_torchs_numbers(served: Pipeline) -> None:
    classifier = served.steps[-1]
    assert isinstance(classifier, DIETClassifier) and classifier.runtime_ is not None
    assert classifier.model_ is not None
    # one batch of messages of every length, an empty one (no tokens) among them
    features = _features(served, TEXTS)
    intents, tagged = classifier.runtime_.predict(features)
    want_intents, want_tagged = classifier.model_.predict(classifier._batch(features))
    assert intents is not None and want_intents is not None
    assert np.allclose(intents, want_intents.numpy(), atol=1e-5)
    assert set(tagged) == set(want_tagged) == {"entity", "role"}
    for name, (best, probabilities) in tagged.items():
        want_best, want_probabilities = want_tagged[name]
        assert best == want_best, name
        assert np.allclose(probabilities, want_probabilities.numpy(), atol=1e-5), name


def test_a_saved_network_serves_without_torch_and_parses_the_same(
    served: Pipeline, tmp_path: Path
) -> None:
    served.persist(tmp_path / "nlu")
    loaded = Pipeline.load(tmp_path / "nlu")
    classifier = loaded.steps[-1]
    assert isinstance(classifier, DIETClassifier)
    assert classifier.runtime_ is not None and classifier.model_ is None
    assert _same(_parses(loaded), _parses(served))


def test_a_damaged_export_is_warned_about_and_the_weights_serve_in_torch(
    served: Pipeline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    served.persist(tmp_path / "nlu")
    (exported,) = (tmp_path / "nlu").glob(f"*DIETClassifier/{EXPORTED}")
    exported.write_bytes(b"not a graph")
    with caplog.at_level(logging.WARNING):
        loaded = Pipeline.load(tmp_path / "nlu")
    classifier = loaded.steps[-1]
    assert isinstance(classifier, DIETClassifier)
    assert classifier.runtime_ is None and classifier.model_ is not None
    assert EXPORTED in caplog.text
    assert _same(_parses(loaded), _parses(served))


def test_a_network_that_cannot_be_exported_is_trained_and_served_in_torch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Unsupported: ONNX export of operator my_op")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    with caplog.at_level(logging.WARNING):
        pipeline = trained(diet(epochs=5), DATA)
    classifier = pipeline.steps[-1]
    assert isinstance(classifier, DIETClassifier) and classifier.runtime_ is None
    assert "runs in torch" in caplog.text
    assert run(pipeline, "fly from Berlin to Oslo").intent is not None
    pipeline.persist(tmp_path / "nlu")
    assert not list((tmp_path / "nlu").glob(f"*/{EXPORTED}"))
    loaded = Pipeline.load(tmp_path / "nlu")
    assert _same(_parses(loaded), _parses(pipeline))


def _same(ours: list[tuple[object, object]], theirs: list[tuple[object, object]]) -> bool:
    """The same intents, entities and roles, confidences to 1e-5."""
    for (ranking, entities), (want_ranking, want_entities) in zip(ours, theirs, strict=True):
        if entities != want_entities:
            return False
        names = [r["name"] for r in ranking]  # type: ignore[attr-defined]
        if names != [r["name"] for r in want_ranking]:  # type: ignore[attr-defined]
            return False
        confidences = [r["confidence"] for r in ranking]  # type: ignore[attr-defined]
        want = [r["confidence"] for r in want_ranking]  # type: ignore[attr-defined]
        if not np.allclose(confidences, want, atol=1e-5):
            return False
    return True
