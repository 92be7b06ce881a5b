"""The assistant answers in the customer's language: what they write, else the web chat's
browser language, among the business's languages; dates and services are said in it too."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import sys
from pathlib import Path
from typing import Any

import pytest

from actions.business import business
from actions.language import _detector, choose_language, detect
from actions.scheduling import spoken
from parlez.agent import Agent
from parlez.channels.channel import UserMessage
from parlez.project import Project
from tests.assistant.conftest import NOW, texts
from tests.conftest import REPO


def said(bot: Agent, text: str, sender: str, language: str | None = None) -> list[str]:
    metadata = {"language": language} if language else {}
    message = UserMessage(text, None, sender, metadata=metadata)
    replies: list[dict[str, Any]] = asyncio.run(bot.handle_message(message))
    return texts(replies)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("je voudrais prendre rendez-vous pour une coupe", "fr"),
        ("ich möchte einen Termin für morgen buchen", "de"),
        ("quiero reservar una cita para mañana", "es"),
        ("I would like to book an appointment", "en"),
        ("¿a qué hora abren el sábado?", "es"),
        ("wie viel kostet eine Färbung?", "de"),
        ("can I come in at 5 on friday", "en"),
        ("demain à 14h", "fr"),
        ("Samstag um 11 Uhr", "de"),
        ("el viernes por la tarde", "es"),
        ("a beard trim", "en"),  # English leads Spanish by 2 to 1
        # six words or more: French 0.47 against English 0.38 is enough
        ("est-ce qu'on peut changer l'heure de mon brushing ?", "fr"),
        ("um 15 Uhr", "de"),  # two words, German far ahead
        # two words and a number: a time, judged as three words
        ("quarter past 10", "en"),
        ("a las 12", "es"),
        ("at 9 then", None),  # German and English about as likely
        ("a las 4 de la tarde", "es"),
        ("yes, cancel it", None),  # English and Spanish about as likely
        ("ok", None),  # too short to tell
        ("brushing", None),  # an English word that French uses too
        ("Anna Lind", None),  # a name is no language's
        ("Lena Fischer", None),
        ("lukas.fischer@example.de", None),
        ("14:30", None),
    ],
)
def test_the_language_of_a_message_is_told_when_it_is_clear(
    text: str, language: str | None
) -> None:
    assert detect(text) == language


def test_only_the_businesss_languages_are_candidates() -> None:
    assert detect("ich möchte einen Termin", ["en", "fr"]) != "de"
    assert detect("quiero reservar una cita", ["es"]) == "es"


def test_without_lingua_the_conversation_keeps_its_language(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "lingua", None)
    _detector.cache_clear()
    try:
        assert detect("je voudrais prendre rendez-vous pour une coupe") is None
        assert choose_language("je voudrais un rendez-vous", {}, "fr", ["en", "fr"]) == "fr"
    finally:
        _detector.cache_clear()
    assert "pip install 'parlez[languages]'" in caplog.text


def test_what_the_customer_writes_wins_then_the_language_in_use_then_the_browser() -> None:
    spoken_here = ["en", "fr", "de"]
    assert (
        choose_language(
            "bonjour, je voudrais un rendez-vous", {"language": "de-DE"}, "en", spoken_here
        )
        == "fr"
    )
    assert choose_language("/greet", {"language": "de-DE"}, None, spoken_here) == "de"
    assert choose_language("Anna Lind", {"language": "de-DE"}, "fr", spoken_here) == "fr"
    # A language the business does not speak is never chosen.
    assert (
        choose_language("quiero reservar una cita", {"language": "es"}, None, spoken_here) == "en"
    )


def test_two_words_do_not_move_a_conversation_out_of_the_language_its_customer_writes() -> None:
    """ "un brushing", in answer to "Quel service ?", reads as English to lingua: the
    conversation stays French once the customer has written French; a new conversation, or
    three words, still switch."""
    spoken_here = ["en", "fr", "de", "es"]
    french = ["je voudrais un rendez-vous demain"]
    assert choose_language("un brushing", None, "fr", spoken_here, french) == "fr"
    assert choose_language("un brushing", None, "fr", spoken_here) == "en"
    assert choose_language("un brushing", None, "fr", spoken_here, ["Claire Martin"]) == "en"
    assert choose_language("sorry, I prefer English", None, "fr", spoken_here, french) == "en"


def test_the_language_action_reads_the_customers_earlier_messages(studio: object) -> None:
    """The `language` slot's action: "un brushing" after French keeps the conversation
    French; the same two words as a first message make it English."""
    from rasa_sdk import Tracker
    from rasa_sdk.events import SlotSet
    from rasa_sdk.executor import CollectingDispatcher

    from actions.language import ActionDetectLanguage

    def run(*messages: str, language: str | None) -> list[dict[str, Any]]:
        events = [{"event": "user", "text": text} for text in messages]
        tracker = Tracker(
            "lea", {"language": language}, {"text": messages[-1]}, events, False, None, None, None
        )
        return ActionDetectLanguage().run(CollectingDispatcher(), tracker, {})

    french = "je voudrais prendre rendez-vous demain"
    assert run(french, "/book_appointment", "un brushing", language="fr") == []
    assert run("un brushing", language="fr") == [SlotSet("language", "en")]


def test_times_are_said_in_the_conversations_language(studio: object) -> None:
    settings = business()
    now = dt.datetime.fromisoformat(NOW)
    friday = dt.datetime(2026, 11, 27, 10, 0, tzinfo=settings.zone)
    tomorrow = dt.datetime(2026, 11, 26, 15, 30, tzinfo=settings.zone)
    assert spoken(friday, settings, now, "fr") == "vendredi 27 novembre à 10:00"
    assert spoken(friday, settings, now, "de") == "Freitag, 27. November um 10:00"
    assert spoken(friday, settings, now, "es") == "viernes 27 de noviembre a las 10:00"
    assert spoken(tomorrow, settings, now, "fr") == "demain à 15:30"


def test_a_french_visitor_books_in_french(bot: Agent, studio: Path) -> None:
    assert said(bot, "/greet", "claire", "fr-FR")[0].startswith("Bonjour ! Je suis l'assistant")
    assert said(bot, "/book_appointment", "claire") == ["Quel service souhaitez-vous réserver ?"]
    asked = said(bot, '/inform{"service": "haircut"}', "claire")
    assert asked == ["Quand souhaitez-vous venir ? Par exemple « vendredi à 15h »."]
    assert said(bot, "demain à 15h", "claire") == ["Puis-je avoir votre nom ?"]
    said(bot, "Claire Martin", "claire")
    assert said(bot, "claire@example.com", "claire") == [
        "Je réserve : coupe demain, jeudi 26 novembre, à 15:00 (45 minutes) au nom de "
        "Claire Martin ? La confirmation sera envoyée à claire@example.com."
    ]
    done = said(bot, "/affirm", "claire")
    assert done[0] == (
        "C'est réservé, Claire Martin : coupe demain, jeudi 26 novembre, à 15:00 "
        "(45 minutes). Nous envoyons la confirmation à claire@example.com."
    )
    (written,) = (studio / "mail").glob("*.eml")
    mail = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert mail["Subject"] == "Votre rendez-vous (coupe) chez Maple Street Studio"
    body = mail.get_body(("plain",))
    assert body is not None and "jeudi 26 novembre 2026 à 15:00" in body.get_content()


def test_the_conversation_follows_the_customer_into_german(bot: Agent) -> None:
    assert said(bot, "/greet", "jonas", "en-GB")[0].startswith("Hello!")
    said(bot, "/book_appointment", "jonas")
    said(bot, '/inform{"service": "beard trim"}', "jonas")
    # Written in German although the browser is English: the answer is German.
    offer = said(bot, "ich möchte am Sonntag um 11 Uhr kommen", "jonas")
    assert offer[0].startswith("Am Sonntag, 29. November haben wir geschlossen.")


def test_every_translated_response_is_translated_into_every_language() -> None:
    """A response written in one other language must be written in all of them: a German
    customer would otherwise get a French sentence's English fallback mid-conversation."""
    domain = Project(REPO).domain
    missing = {}
    for name, variations in domain.responses.items():
        languages = {
            condition.get("value")
            for variation in variations
            for condition in variation.get("condition") or []
            if condition.get("name") == "language"
        }
        if languages and languages != {"fr", "de", "es"}:
            missing[name] = sorted({"fr", "de", "es"} - languages)
    assert missing == {}
