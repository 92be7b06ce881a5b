"""What the knowledge-base action searches for (the customer's words as typed, and a
button's topic question; a button's payload is never the question), and what it says when
no entry is sure enough."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge
from actions.knowledge import PERSON_BUTTON, ActionAnswerFromKnowledgeBase, question_of
from parlez.knowledge import KnowledgeAnswerer, KnowledgeIndex
from parlez.knowledge.documents import read_kb
from parlez.knowledge.faq_file import FaqEntry, FaqFile
from tests.conftest import write
from tests.fakes.llm import fake_llm
from tests.knowledge.test_answer import llm_for

pytestmark = pytest.mark.anyio


def tracker(
    text: str,
    intent: str,
    confidence: float,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    **metadata: Any,
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "metadata": metadata,
    }
    return Tracker("t", slots or {}, message, events or [], False, None, {}, "action_listen")


def test_typed_words_are_searched_as_they_are_even_for_a_sure_topic_intent() -> None:
    # a dental FAQ's "price of a cleaning" (ask_prices, 0.97) was answered with the studio's
    # price list when the topic's question was searched in its place
    assert question_of(tracker("price of a cleaning", "ask_prices", 0.97)) == (
        "price of a cleaning",
        None,
    )


def test_a_button_payload_asks_its_topic_or_its_title() -> None:
    assert question_of(tracker("/ask_hours", "ask_hours", 1.0)) == (
        "What are your opening hours?",
        None,
    )
    assert question_of(tracker("/ask_question", "ask_question", 1.0, display="Parking")) == (
        "Parking",
        None,
    )


def test_words_in_another_language_fall_back_on_their_topic_intents_question() -> None:
    """The English encoder scores "combien coûte une coupe ?" under the French bar; the NLU,
    trained in French, knows it asks about prices: that question is searched next. In the
    knowledge base's own language the words alone are searched."""
    french = tracker("combien coûte une coupe ?", "ask_prices", 0.9)
    assert question_of(french, "fr") == (
        "combien coûte une coupe ?",
        "How much do your services cost?",
    )
    assert question_of(tracker("price of a cleaning", "ask_prices", 0.97), "en") == (
        "price of a cleaning",
        None,
    )
    assert question_of(tracker("c'est où ?", "ask_question", 0.9), "fr") == ("c'est où ?", None)


DELIVERY_FAQ = """
faq:
  - id: delivery-standard
    question: How long does standard delivery take?
    answer: Standard delivery takes 3 to 5 working days.
  - id: delivery-express
    question: How long does express delivery take?
    answer: Express delivery arrives the next working day.
  - id: parking
    question: Is there parking near the shop?
    answer: Two free spaces in front of the shop.
"""


@pytest.mark.parametrize("language", ["en", "de"])
async def test_entries_close_to_the_bar_are_suggested_with_a_person_as_the_way_out(
    studio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """No entry is sure enough for "how fast do you ship" (bar 0.68, best 0.65): the close
    ones are buttons that name their entry, and the last button asks for a person, in the
    conversation's language (here the knowledge base's too: across languages nothing is
    suggested)."""
    write(tmp_path / "kb" / "faq.yml", DELIVERY_FAQ)
    index = KnowledgeIndex.build(read_kb(tmp_path / "kb"))
    monkeypatch.setattr(
        actions.knowledge,
        "_answerer",
        KnowledgeAnswerer(index, None, min_confidence=0.68, language=language),
    )
    dispatcher = CollectingDispatcher()
    asked = tracker("how fast do you ship", "ask_question", 0.6, {"language": language})
    events = await ActionAnswerFromKnowledgeBase().run(dispatcher, asked, {})
    (message,) = dispatcher.messages
    assert message["response"] == "utter_suggest_questions"
    # ...counted as unanswered, for the console's "unanswered questions"
    assert events == [
        {
            "event": "knowledge_miss",
            "question": "how fast do you ship",
            "confidence": pytest.approx(0.65, abs=0.02),
            "suggested": ["delivery-standard", "delivery-express"],
        }
    ]
    assert [b["payload"] for b in message["buttons"]] == [
        '/ask_question{"kb_entry": "delivery-standard"}',
        '/ask_question{"kb_entry": "delivery-express"}',
        "/request_human",
    ]
    assert message["buttons"][-1]["title"] == PERSON_BUTTON[language]


async def test_two_close_entries_are_asked_about_with_a_person_as_the_way_out(
    studio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both delivery entries pass the bar for "how fast do you ship" and neither leads:
    the customer picks one, or neither and gets a person."""
    write(tmp_path / "kb" / "faq.yml", DELIVERY_FAQ)
    index = KnowledgeIndex.build(read_kb(tmp_path / "kb"))
    monkeypatch.setattr(
        actions.knowledge, "_answerer", KnowledgeAnswerer(index, None, min_confidence=0.3)
    )
    dispatcher = CollectingDispatcher()
    asked = tracker("how fast do you ship", "ask_question", 0.6, {"language": "en"})
    assert await ActionAnswerFromKnowledgeBase().run(dispatcher, asked, {}) == []
    (message,) = dispatcher.messages
    assert message["response"] == "utter_which_question"
    assert [b["payload"] for b in message["buttons"]] == [
        '/ask_question{"kb_entry": "delivery-standard"}',
        '/ask_question{"kb_entry": "delivery-express"}',
        "/request_human",
    ]


async def test_an_answer_changed_in_the_faq_file_is_the_next_answer_without_a_restart(
    studio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console (or a designer's editor) saves data/kb/faq.yml while the assistant runs:
    the answer action's index follows the file, so the next customer gets the new answer."""
    faq = write(studio / "data" / "kb" / "faq.yml", DELIVERY_FAQ)
    monkeypatch.setattr(actions.knowledge, "_answerer", None)  # loaded from the project

    async def answer() -> str:
        dispatcher = CollectingDispatcher()
        asked = tracker("how long does express delivery take", "ask_question", 0.6)
        await ActionAnswerFromKnowledgeBase().run(dispatcher, asked, {})
        return str(dispatcher.messages[0]["text"])

    assert await answer() == "Express delivery arrives the next working day."
    opened = FaqFile.read(faq)
    entry = FaqEntry("How long does express delivery take?", "Express arrives the same day.")
    opened.save(opened.put(entry, "delivery-express"), opened.digest)
    assert await answer() == "Express arrives the same day."


EXPERIMENTS = """\
experiments:
  kb_llm:
    arms: [llm, written]
    settings:
      written: {knowledge_llm: false}
  kb_bar:
    arms: [usual, strict]
    settings:
      strict: {knowledge_min_confidence: 0.99}
"""


async def test_an_ab_tests_arm_answers_without_the_llm_or_with_another_bar(
    studio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """experiments.yml's `settings:`: in the arm `written` the entry is given as written
    and the LLM is not asked; in `llm` the LLM phrases it; in `strict` (a bar no entry
    reaches) the question is counted unanswered. The arm comes from the conversation's
    `experiment` events, as the processor records them when the session starts."""
    write(studio / "experiments.yml", EXPERIMENTS)
    write(tmp_path / "kb" / "faq.yml", DELIVERY_FAQ)
    index = KnowledgeIndex.build(read_kb(tmp_path / "kb"))

    async def answered(*arms: tuple[str, str]) -> tuple[list[dict[str, Any]], list[Any]]:
        events = [{"event": "session_started"}] + [
            {"event": "experiment", "experiment": e, "arm": a} for e, a in arms
        ]
        dispatcher = CollectingDispatcher()
        asked = tracker("how long does express delivery take", "ask_question", 0.6, None, events)
        found = await ActionAnswerFromKnowledgeBase().run(dispatcher, asked, {})
        return dispatcher.messages, found

    with fake_llm(reply="[1] Next working day, express.") as api:
        llm = llm_for("openai", api.openai_url)
        answerer = KnowledgeAnswerer(index, llm, min_confidence=0.6)  # type: ignore[arg-type]
        monkeypatch.setattr(actions.knowledge, "_answerer", answerer)
        (phrased,), _ = await answered(("kb_llm", "llm"), ("kb_bar", "usual"))
        assert phrased["text"] == "Next working day, express." and len(api.requests) == 1
        (written,), _ = await answered(("kb_llm", "written"), ("kb_bar", "usual"))
        assert written["text"] == "Express delivery arrives the next working day."
        assert len(api.requests) == 1  # the LLM was not asked
        _, events = await answered(("kb_llm", "written"), ("kb_bar", "strict"))
        assert events[0]["event"] == "knowledge_miss"
    assert answerer.llm is llm and answerer.min_confidence == 0.6  # the project's own


def test_the_assistant_loads_its_knowledge_base_when_it_starts(
    studio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An action server started after an outage answered its first knowledge-base questions
    after more than 30 s, loading the index and encoders while customers waited: the
    package's `warm_up()`, which `parlez run` and `parlez run actions` call, loads them."""
    import actions

    monkeypatch.setattr(actions.knowledge, "_answerer", None)
    actions.warm_up()  # no data/kb/: nothing to load, and nothing fails
    assert actions.knowledge._answerer is None
    write(studio / "data" / "kb" / "faq.yml", DELIVERY_FAQ)
    actions.warm_up()
    assert actions.knowledge._answerer is not None
    assert "delivery-express" in {p.id for p in actions.knowledge._answerer.index.passages}
