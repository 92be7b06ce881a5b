"""The language of the conversation: the `language` slot, set from what the customer writes
and from the web chat's browser language, among the languages the business speaks.

Responses in domain.yml have a variation per language (a condition on the slot); dates,
service names and the times customers type are read and said in it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, BusinessSettingsError, business

logger = logging.getLogger(__name__)

#: the languages the assistant's responses, dates and NLU examples are written in
SUPPORTED = ("en", "fr", "de", "es")
#: Duckling's locale for reading times in each language
LOCALES = {"en": "en_GB", "fr": "fr_FR", "de": "de_DE", "es": "es_ES"}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: short, common words of each language: a message with two or more of one language's and
#: fewer of any other's is taken to be in it (words two languages share count for both)
FUNCTION_WORDS = {
    "en": _words(
        """the a an is are was you your i i'm my me we our us can could would will do does
        what when where how which who much many please thanks thank want like have has hi
        hello with for to and or of it it's this that there is there any at on in from"""
    ),
    "fr": _words(
        """le la les un une des du au aux est sont êtes vous votre vos je j'ai suis mon ma mes
        nous notre pour avec et ou bonjour merci quand où comment combien quel quelle quels
        quelles que qui est-ce c'est il elle on pas ne sur dans en y a voudrais veux pouvez
        peux rendez-vous demain s'il plaît oui non salut"""
    ),
    "de": _words(
        """der die das den dem des ein eine einen einem ist sind sie ihr ihre ich bin mein
        meine wir unser für mit und oder hallo danke wann wo wie was wer welche viel kostet
        gibt es auch nicht kein keine auf an in im am zum zur um zu möchte möchten will
        können kann termin morgen bitte ja nein haben habe hätte gern guten tag"""
    ),
    "es": _words(
        """el la los las un una unos unas es son está están usted ustedes su sus yo soy mi mis
        nosotros para con y o hola gracias cuándo dónde cómo qué cuánto cuánta cuesta hay
        tienen pueden puedo puede quiero quisiera me le se lo de del al a en por favor sí no
        cita mañana buenos días"""
    ),
}
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def detect(text: str, among: tuple[str, ...] | list[str] = SUPPORTED) -> str | None:
    """The language `text` is written in, if its words say so clearly enough."""
    words = [w.lower() for w in WORD.findall(text)]
    scores = {lang: sum(w in FUNCTION_WORDS[lang] for w in words) for lang in among}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < 2:
        return None
    if len(ranked) > 1 and ranked[1][1] >= ranked[0][1]:
        return None
    return ranked[0][0]


def browser_language(metadata: dict[str, Any] | None) -> str | None:
    """`fr` of the web chat's `language: fr-FR` metadata."""
    value = str((metadata or {}).get("language") or "")
    return value.split("-")[0].split("_")[0].lower() or None


def spoken_languages(settings: Business) -> list[str]:
    """The business's languages (business.yml) that the assistant can speak, default first."""
    return [lang for lang in settings.languages if lang in SUPPORTED] or ["en"]


def spoken_now() -> list[str]:
    """`spoken_languages` of the business.yml in use; while that file cannot be read (saved
    half-way, broken by hand), every language parlez speaks, so a conversation keeps its
    own and the actions that need the file say what they can."""
    try:
        return spoken_languages(business())
    except BusinessSettingsError as error:
        logger.error("the business's languages cannot be read: %s", error)
        return list(SUPPORTED)


def language_of(tracker: Tracker) -> str:
    """The conversation's language (the slot), or the business's first."""
    spoken = spoken_now()
    current = tracker.get_slot("language")
    return current if current in spoken else spoken[0]


def choose_language(
    text: str, metadata: dict[str, Any] | None, current: str | None, spoken: list[str]
) -> str:
    """What the customer writes in wins; then the language already in use; then the
    browser's; then the business's first."""
    found = detect(text, spoken)
    if found:
        return found
    if current in spoken:
        return str(current)
    browser = browser_language(metadata)
    return browser if browser in spoken else spoken[0]


class ActionDetectLanguage(Action):
    """The `language` slot's custom mapping, run on every message."""

    def name(self) -> str:
        return "action_detect_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")
        if text.startswith("/"):
            text = ""  # a button's payload says nothing about the language
        current = tracker.get_slot("language")
        chosen = choose_language(text, message.get("metadata"), current, spoken_now())
        return [] if chosen == current else [SlotSet("language", chosen)]
