"""MultilingualSentenceFeaturizer: a message and its translation get close vectors, so an
intent learnt from English examples is recognised in the assistant's other languages."""

from __future__ import annotations

import numpy as np

from tests.nlu.helpers import run, trained

DATA = """
- intent: book
  examples: |
    - I would like to book an appointment
    - can I make a booking for tomorrow
    - book me in for a haircut please
- intent: hours
  examples: |
    - what are your opening hours
    - when do you open
    - are you open on sunday
"""


def test_a_translation_lies_closer_to_its_original_than_to_another_sentence() -> None:
    pipeline = trained(["WhitespaceTokenizer", "MultilingualSentenceFeaturizer"], DATA)
    key = pipeline.steps[1].key

    def vector(text: str) -> np.ndarray:
        features = run(pipeline, text).features[key]
        assert features.sentence is not None
        return np.asarray(features.sentence)[0]

    english = vector("I would like to book an appointment")
    assert float(english @ vector("je voudrais prendre un rendez-vous")) > float(
        english @ vector("quels sont vos horaires d'ouverture")
    )


def test_every_token_row_carries_the_sentence_vector() -> None:
    pipeline = trained(["WhitespaceTokenizer", "MultilingualSentenceFeaturizer"], DATA)
    features = run(pipeline, "wann habt ihr offen").features[pipeline.steps[1].key]
    assert features.sequence.shape == (4, 512)
    assert np.allclose(features.sequence[0], np.asarray(features.sentence)[0])


def test_an_intent_learnt_in_english_is_recognised_in_french_and_german() -> None:
    pipeline = trained(
        [
            "WhitespaceTokenizer",
            "MultilingualSentenceFeaturizer",
            ("LogisticRegressionClassifier", {"random_state": 1}),
        ],
        DATA,
    )
    assert run(pipeline, "je voudrais réserver une coupe").intent["name"] == "book"  # type: ignore[index]
    assert run(pipeline, "wann habt ihr am Sonntag offen").intent["name"] == "hours"  # type: ignore[index]
