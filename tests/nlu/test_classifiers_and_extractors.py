from __future__ import annotations

from pathlib import Path

import pytest

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.nlu.pipeline import Pipeline
from tests.nlu.helpers import data, run, trained

DATA = """
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
    - hey you
- intent: book
  examples: |
    - book a table in [Paris](city)
    - a table in [Rome](city) please
    - reserve in [NYC](city:New York) tonight
    - I want to book a table
- intent: hours
  examples: |
    - when are you open
    - opening hours please
    - are you open on sunday
- synonym: New York
  examples: |
    - new york city
- lookup: city
  examples: |
    - Paris
    - Rome
    - NYC
    - new york city
"""
BASE = [
    "WhitespaceTokenizer",
    "CountVectorsFeaturizer",
    ("CountVectorsFeaturizer", {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4}),
]


def test_logistic_regression_ranks_every_intent_by_confidence() -> None:
    pipeline = trained([*BASE, "LogisticRegressionClassifier"], DATA)
    message = run(pipeline, "can I book a table?")
    assert message.intent is not None and message.intent["name"] == "book"
    confidences = [r["confidence"] for r in message.intent_ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert abs(sum(confidences) - 1.0) < 1e-6
    assert {r["name"] for r in message.intent_ranking} == {"greet", "book", "hours"}


def test_ranking_length_limits_the_ranking() -> None:
    pipeline = trained([*BASE, ("LogisticRegressionClassifier", {"ranking_length": 2})], DATA)
    assert len(run(pipeline, "hello").intent_ranking) == 2


def test_fallback_replaces_an_unsure_intent_with_nlu_fallback() -> None:
    pipeline = trained(
        [*BASE, "LogisticRegressionClassifier", ("FallbackClassifier", {"threshold": 0.9999})], DATA
    )
    message = run(pipeline, "hello")
    assert message.intent == {"name": "nlu_fallback", "confidence": 0.9999}
    assert message.intent_ranking[0]["name"] == "nlu_fallback"
    assert message.intent_ranking[1]["name"] == "greet"


def test_a_message_without_words_falls_back() -> None:
    pipeline = trained([*BASE, "LogisticRegressionClassifier", "FallbackClassifier"], DATA)
    assert run(pipeline, "😀 !!").intent == {"name": "nlu_fallback", "confidence": 0.3}


def test_sentiment_is_scored_and_an_angry_message_gets_its_intent() -> None:
    pipeline = trained(
        [
            *BASE,
            "LogisticRegressionClassifier",
            ("SentimentAnalyzer", {"negative_intent": "complain"}),
        ],
        DATA,
    )
    angry = run(pipeline, "this is the worst service ever, I hate it")
    assert angry.sentiment is not None and angry.sentiment["label"] == "negative"
    assert angry.intent is not None and angry.intent["name"] == "complain"
    assert angry.intent_ranking[1]["name"] != "complain"  # the classifier's guess is kept
    assert angry.data["intent_from_sentiment"]  # for KnowledgeBaseRouter: no classifier's
    happy = run(pipeline, "hello, thanks so much, that's great")
    assert happy.sentiment is not None and happy.sentiment["label"] == "positive"
    assert happy.intent is not None and happy.intent["name"] != "complain"
    assert "intent_from_sentiment" not in happy.data
    # "not bad" is not negative: VADER reads negation.
    plain = run(pipeline, "not bad")
    assert plain.sentiment is not None and plain.sentiment["score"] > 0
    assert "sentiment" in pipeline.parse("no")


def test_a_negative_message_of_a_kept_intent_keeps_it() -> None:
    """ "my hair desperately needs a cut" is a booking, not a complaint."""
    pipeline = trained(
        [
            *BASE,
            "LogisticRegressionClassifier",
            (
                "SentimentAnalyzer",
                {"negative_intent": "complain", "keep_intents": ["greet", "book", "hours"]},
            ),
        ],
        DATA,
    )
    angry = run(pipeline, "this is the worst service ever, I hate it")
    assert angry.sentiment is not None and angry.sentiment["label"] == "negative"
    assert angry.intent is not None and angry.intent["name"] != "complain"


@pytest.mark.parametrize(("confidence", "kept"), [(0.97, True), (0.7, False)])
def test_an_angry_message_keeps_an_intent_only_when_the_classifier_is_sure_of_it(
    confidence: float, kept: bool
) -> None:
    """ "Third time you've messed up my booking, I'm furious" half reads as a booking (0.7):
    it is a complaint, and reaches a person; a sure booking stays one."""
    from parlez.nlu.message import Message

    items = [
        ComponentConfig("WhitespaceTokenizer"),
        ComponentConfig(
            "SentimentAnalyzer", {"negative_intent": "complain", "keep_intents": ["book"]}
        ),
    ]
    pipeline = Pipeline.from_config(items)
    message = Message("this is the third time you've messed up my booking, I'm furious")
    message.intent = {"name": "book", "confidence": confidence}
    message.intent_ranking = [dict(message.intent)]
    pipeline.steps[-1].process([message])
    assert message.intent["name"] == ("book" if kept else "complain")
    assert message.intent_ranking[-1] == {"name": "book", "confidence": confidence}


def test_sentiment_in_another_language_is_read_by_the_multilingual_model() -> None:
    items = [ComponentConfig("WhitespaceTokenizer"), ComponentConfig("SentimentAnalyzer")]
    with collect() as warnings:
        pipeline = Pipeline.from_config(items, "de").train(data(DATA))
    assert warnings == []
    angry = pipeline.parse("das ist eine Unverschämtheit, ich will mein Geld zurück")
    assert angry["sentiment"]["label"] == "negative"
    assert pipeline.parse("kann ich am Freitag einen Termin haben")["sentiment"]["label"] == (
        "neutral"
    )


def test_an_english_pipeline_reads_its_customers_other_languages_and_keeps_vader() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    config = {"negative_intent": "complain", "languages": ["en", "fr", "es"]}
    items = [ComponentConfig("WhitespaceTokenizer"), ComponentConfig("SentimentAnalyzer", config)]
    pipeline = Pipeline.from_config(items, "en").train(data(DATA))
    french = pipeline.parse("c'est inadmissible, personne ne m'a rappelée depuis une semaine")
    assert french["sentiment"]["label"] == "negative" and french["intent"]["name"] == "complain"
    spanish = pipeline.parse("¿podéis cambiar mi cita al jueves por la tarde?")
    assert spanish["sentiment"]["label"] == "neutral"
    english = "the service was terrible"
    vader = SentimentIntensityAnalyzer().polarity_scores(english)["compound"]
    assert pipeline.parse(english)["sentiment"]["score"] == round(vader, 4)


def test_the_multilingual_sentiment_is_kept_with_the_model(tmp_path: Path) -> None:
    from parlez.nlu.classifiers.sentiment import SentimentAnalyzer

    trained_analyzer = SentimentAnalyzer.create({"languages": ["en", "fr"]})
    trained_analyzer.train(data(DATA), [])
    trained_analyzer.persist(tmp_path)
    loaded = SentimentAnalyzer.load(tmp_path, trained_analyzer.config)
    text = "vous êtes des incompétents, je suis furieux"
    assert (
        loaded.score(text) == pytest.approx(trained_analyzer.score(text))
        and loaded.score(text) < -0.5
    )


def test_sentiment_in_another_language_without_the_extra_is_neutral_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("parlez.knowledge.multilingual.multilingual_embedder", lambda: None)
    items = [ComponentConfig("WhitespaceTokenizer"), ComponentConfig("SentimentAnalyzer")]
    with collect() as warnings:
        pipeline = Pipeline.from_config(items, "de").train(data(DATA))
    assert pipeline.parse("das ist schrecklich")["sentiment"] == {"label": "neutral", "score": 0.0}
    assert [w.code for w in warnings] == ["P178"]


def test_keywords_match_whole_words_of_an_example() -> None:
    pipeline = trained([("KeywordIntentClassifier", {"case_sensitive": False})], DATA)
    assert run(pipeline, "Well, HI!").intent == {"name": "greet", "confidence": 1.0}
    assert run(pipeline, "this is unrelated").intent == {"name": None, "confidence": 0.0}


def test_regex_extractor_finds_lookup_entries_and_synonyms_map_them() -> None:
    pipeline = trained(["WhitespaceTokenizer", "RegexEntityExtractor", "EntitySynonymMapper"], DATA)
    message = run(pipeline, "a table in new york city or paris")
    assert message.entities == [
        {
            "entity": "city",
            "start": 11,
            "end": 24,
            "value": "New York",
            "extractor": "RegexEntityExtractor",
            "processors": ["EntitySynonymMapper"],
        },
        {
            "entity": "city",
            "start": 28,
            "end": 33,
            "value": "paris",
            "extractor": "RegexEntityExtractor",
        },
    ]


def test_synonyms_annotated_in_examples_are_learned() -> None:
    pipeline = trained(["WhitespaceTokenizer", "RegexEntityExtractor", "EntitySynonymMapper"], DATA)
    assert run(pipeline, "NYC").entities[0]["value"] == "New York"


def test_crf_entity_extractor_learns_entities_from_token_features() -> None:
    pipeline = trained(
        ["WhitespaceTokenizer", "RegexFeaturizer", ("CRFEntityExtractor", {"max_iterations": 100})],
        DATA,
    )
    entities = run(pipeline, "book a table in Rome").entities
    assert [(e["entity"], e["value"], e["extractor"]) for e in entities] == [
        ("city", "Rome", "CRFEntityExtractor")
    ]
    assert 0 < entities[0]["confidence_entity"] <= 1


def test_sklearn_intent_classifier_ranks_intents_with_confidences() -> None:
    pipeline = trained([*BASE, ("SklearnIntentClassifier", {"C": [1, 10]})], DATA)
    message = run(pipeline, "are you open on monday")
    assert message.intent is not None and message.intent["name"] == "hours"
    assert abs(sum(r["confidence"] for r in message.intent_ranking) - 1.0) < 1e-6
