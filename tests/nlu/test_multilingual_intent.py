"""MultilingualIntentClassifier: a message in another of the business's languages gets the
intent its English examples teach, through the multilingual encoder; a message in the
pipeline's own language keeps the intent of the classifier before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.nlu.pipeline import Pipeline
from tests.nlu.helpers import data, run

DATA = """
- intent: book
  examples: |
    - I would like to book an appointment
    - can I make a booking for tomorrow
    - book me in for a haircut please
    - I want to come in on friday
- intent: hours
  examples: |
    - what are your opening hours
    - when do you open
    - are you open on sunday
    - what time do you close today
- intent: cancel
  examples: |
    - I need to cancel my appointment
    - please cancel my booking
    - I can't make it, cancel it
"""
BEFORE = [
    ComponentConfig("WhitespaceTokenizer"),
    ComponentConfig("CountVectorsFeaturizer"),
    ComponentConfig("LogisticRegressionClassifier", {"random_state": 1}),
]


def pipeline(languages: list[str]) -> Pipeline:
    steps = [*BEFORE, ComponentConfig("MultilingualIntentClassifier", {"languages": languages})]
    with collect():
        return Pipeline.from_config(steps, "en").train(data(DATA))


def test_a_french_or_german_message_gets_the_intent_its_english_examples_teach() -> None:
    both = pipeline(["fr", "de"])
    french = run(both, "je voudrais annuler mon rendez-vous de demain")
    assert french.intent is not None and french.intent["name"] == "cancel"
    assert french.intent_ranking[0]["name"] == "cancel"
    assert french.data["language"] == "fr"  # for the components after it
    assert sum(r["confidence"] for r in french.intent_ranking) == pytest.approx(1.0, abs=1e-3)
    german = run(both, "wann habt ihr am Sonntag offen")
    assert german.intent is not None and german.intent["name"] == "hours"


def test_english_and_messages_too_short_to_tell_keep_the_classifier_before_it() -> None:
    with collect():
        alone = Pipeline.from_config(BEFORE, "en").train(data(DATA))
    both = pipeline(["fr"])
    for text in ("can I book for saturday", "ok", "14h"):
        kept = run(both, text)
        assert kept.intent_ranking == run(alone, text).intent_ranking, text
        assert "language" not in kept.data


def test_the_model_is_kept_with_the_pipeline(tmp_path: Path) -> None:
    both = pipeline(["es"])
    before = run(both, "quiero cancelar mi cita por favor").intent_ranking
    both.persist(tmp_path / "nlu")
    loaded = Pipeline.load(tmp_path / "nlu")
    assert run(loaded, "quiero cancelar mi cita por favor").intent_ranking == before
    assert before[0]["name"] == "cancel"


def test_without_the_languages_extra_it_warns_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("parlez.knowledge.multilingual.multilingual_embedder", lambda: None)
    steps = [*BEFORE, ComponentConfig("MultilingualIntentClassifier", {"languages": ["fr"]})]
    with collect() as warnings:
        trained = Pipeline.from_config(steps, "en").train(data(DATA))
        alone = Pipeline.from_config(BEFORE, "en").train(data(DATA))
    assert [w.code for w in warnings] == ["P177"]
    text = "je voudrais annuler mon rendez-vous"
    assert run(trained, text).intent_ranking == run(alone, text).intent_ranking
