"""KnowledgeBaseRouter: a question the knowledge base answers better than the intent it was
given goes to the knowledge base; a message close to its intent's examples keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.knowledge import index as knowledge_index
from parlez.nlu.classifiers.sentiment import INTENT_FROM_SENTIMENT
from parlez.nlu.message import Message
from parlez.nlu.pipeline import Pipeline
from tests.conftest import write
from tests.nlu.helpers import trained

DATA = """
- intent: book
  examples: |
    - I'd like to book an appointment
    - can I come in on Friday for a haircut
    - book me in please
    - I need an appointment next week
- intent: greet
  examples: |
    - hello
    - hi there
"""

FAQ = """
faq:
  - id: knocked-out
    question: What do I do if a tooth is knocked out?
    answer: Put it back in its socket or in milk and come in within an hour.
  - id: parking
    question: Is there parking at the practice?
    answer: Free parking behind the building.
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / "data" / "kb" / "faq.yml", FAQ)
    monkeypatch.setenv("PARLEZ_PROJECT", str(tmp_path))
    monkeypatch.setattr(knowledge_index, "_shared", {})
    return tmp_path


def pipeline(**params: object) -> Pipeline:
    return trained(
        [
            "WhitespaceTokenizer",
            "CountVectorsFeaturizer",
            "LogisticRegressionClassifier",
            ("KnowledgeBaseRouter", {"intent": "ask_question", "from_intents": ["book"], **params}),
        ],
        DATA,
    )


def parsed(
    pipe: Pipeline,
    text: str,
    entities: list[dict[str, object]] | None = None,
    data: dict[str, object] | None = None,
) -> Message:
    """`text` through the pipeline, classified as `book` whatever the tiny classifier says."""
    message = Message(text, data=dict(data or {}))
    for step in pipe.steps:
        step.process([message])
        if step.name == "LogisticRegressionClassifier":
            message.intent = {"name": "book", "confidence": 0.9}
            message.intent_ranking = [dict(message.intent)]
            message.entities = entities or []
    return message


def test_a_question_the_knowledge_base_answers_is_taken_from_the_intent(project: Path) -> None:
    pipe = pipeline()
    message = parsed(pipe, "my son knocked his front tooth out playing football, what now")
    assert message.intent is not None and message.intent["name"] == "ask_question"
    assert message.intent_ranking[1]["name"] == "book"  # the classifier's guess is kept


def test_a_message_like_its_intents_examples_keeps_it(project: Path) -> None:
    message = parsed(pipeline(), "I'd like to book an appointment on Friday")
    assert message.intent is not None and message.intent["name"] == "book"


def test_only_the_listed_intents_are_taken_from(project: Path) -> None:
    message = parsed(pipeline(from_intents=["greet"]), "what do I do if my tooth is knocked out")
    assert message.intent is not None and message.intent["name"] == "book"


def test_a_message_with_a_kept_entity_keeps_its_intent(project: Path) -> None:
    entity = {"entity": "service", "value": "check-up", "start": 0, "end": 1}
    message = parsed(
        pipeline(unless_entities=["service"]), "what do I do if my tooth is knocked out", [entity]
    )
    assert message.intent is not None and message.intent["name"] == "book"


def test_without_a_knowledge_base_nothing_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEZ_PROJECT", str(tmp_path))
    message = parsed(pipeline(), "what do I do if my tooth is knocked out")
    assert message.intent is not None and message.intent["name"] == "book"


def test_the_examples_survive_persist_and_load(project: Path, tmp_path: Path) -> None:
    pipe = pipeline()
    pipe.persist(tmp_path / "nlu")
    again = Pipeline.load(tmp_path / "nlu")
    message = parsed(again, "my son knocked his front tooth out playing football, what now")
    assert message.intent is not None and message.intent["name"] == "ask_question"


def test_an_intent_without_examples_gives_up_only_what_the_knowledge_base_would_answer(
    project: Path,
) -> None:
    pipe = pipeline(from_intents=["complain"])
    for text, routed in (
        ("what do I do if a tooth is knocked out", True),
        ("this is the worst service I have ever had", False),
    ):
        message = Message(text)
        for step in pipe.steps:
            step.process([message])
            if step.name == "LogisticRegressionClassifier":
                message.intent = {"name": "complain", "confidence": 0.8}
        assert message.intent is not None
        assert (message.intent["name"] == "ask_question") is routed, text


def test_an_entry_that_stands_out_needs_no_lead_over_the_intents_examples(project: Path) -> None:
    """The knowledge base's best entry is as close as the nearest booking example: with a lead
    required it stays a booking; when that entry clearly beats the next one, it is enough."""
    text = "can I come in on Friday if my tooth is knocked out"
    with_lead = parsed(pipeline(lead=0.3, clear_margin=1.0), text)
    assert with_lead.intent is not None and with_lead.intent["name"] == "book"
    clear = parsed(pipeline(lead=0.3, clear_margin=0.0), text)
    assert clear.intent is not None and clear.intent["name"] == "ask_question"


def test_a_message_unlike_every_example_of_its_intent_goes_to_the_knowledge_base(
    project: Path,
) -> None:
    """ "reset link not arriving" is no booking: with `min_example_similarity` it goes to the
    knowledge base even though nothing there fits (the answer action will decline it), while
    a message like the examples stays a booking."""
    text = "reset link not arriving"
    assert parsed(pipeline(), text).intent == {"name": "book", "confidence": 0.9}
    unlike = parsed(pipeline(min_example_similarity=0.35), text)
    assert unlike.intent is not None and unlike.intent["name"] == "ask_question"
    assert unlike.intent_ranking[1]["name"] == "book"
    booking = parsed(pipeline(min_example_similarity=0.35), "can I book an appointment on Friday")
    assert booking.intent is not None and booking.intent["name"] == "book"


def test_a_message_in_another_language_is_compared_in_the_multilingual_encoders_space(
    project: Path,
) -> None:
    """By the English encoder "passez-moi un humain svp" was unlike every example and went to
    the knowledge base although MultilingualIntentClassifier had read it right. A message that
    classifier marks as in another language is compared with its intent's examples and the
    knowledge base through the multilingual encoder: a French question the knowledge base
    answers goes there, a French booking stays one."""
    pipe = pipeline(min_example_similarity=0.35)
    question = parsed(
        pipe, "mon fils s'est cassé une dent en jouant au foot, que faire", data={"language": "fr"}
    )
    assert question.intent is not None and question.intent["name"] == "ask_question"
    booking = parsed(pipe, "je voudrais prendre rendez-vous vendredi", data={"language": "fr"})
    assert booking.intent == {"name": "book", "confidence": 0.9}


def test_a_model_trained_without_the_multilingual_examples_leaves_other_languages_alone(
    project: Path, tmp_path: Path
) -> None:
    pipe = pipeline(min_example_similarity=0.35)
    pipe.persist(tmp_path / "nlu")
    for kept in (tmp_path / "nlu").rglob("multilingual-examples.safetensors"):
        kept.unlink()  # as a model trained before they were kept
    again = Pipeline.load(tmp_path / "nlu")
    text = "mon fils s'est cassé une dent en jouant au foot, que faire"
    assert parsed(again, text, data={"language": "fr"}).intent == {
        "name": "book",
        "confidence": 0.9,
    }
    english = parsed(again, "my son knocked his front tooth out playing football, what now")
    assert english.intent is not None and english.intent["name"] == "ask_question"


@pytest.mark.parametrize(("anger", "routed"), [(0.55, True), (0.99, False)])
def test_an_intent_without_examples_keeps_a_message_it_is_surer_of_than_the_knowledge_base(
    project: Path, anger: float, routed: bool
) -> None:
    """A mildly negative question goes to the knowledge base; a message the sentiment is
    surer of than the knowledge base of its best row stays a complaint, and reaches a person."""
    pipe = pipeline(from_intents=["complain"])
    message = Message("my son knocked his front tooth out playing football, what now")
    for step in pipe.steps:
        step.process([message])
        if step.name == "LogisticRegressionClassifier":
            message.intent = {"name": "complain", "confidence": anger}
    assert message.intent is not None
    assert (message.intent["name"] == "ask_question") is routed


def test_an_intent_sentiment_gave_is_judged_by_its_confidence_not_its_examples(
    project: Path,
) -> None:
    """`complain` has examples of its own, but an angry message gets it from
    SentimentAnalyzer: "this is the worst service I have ever had" is unlike every example,
    and is still no question for the knowledge base."""
    pipe = pipeline(min_example_similarity=0.35)
    text = "this is the worst service I have ever had"
    unlike = parsed(pipe, text)
    assert unlike.intent is not None and unlike.intent["name"] == "ask_question"
    angry = parsed(pipe, text, data={INTENT_FROM_SENTIMENT: True})
    assert angry.intent == {"name": "book", "confidence": 0.9}
