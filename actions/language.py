"""The language of the conversation: the `language` slot, set from what the customer writes
and from the web chat's browser language, among the languages the business speaks.

Responses in domain.yml have a variation per language (a condition on the slot); dates,
service names and the times customers type are read and said in it.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, business

#: the languages the assistant's responses, dates and NLU examples are written in
SUPPORTED = ("en", "fr", "de", "es")
#: Duckling's locale for reading times in each language
LOCALES = {"en": "en_GB", "fr": "fr_FR", "de": "de_DE", "es": "es_ES"}

#: short words that only (or mostly) one of the languages uses: a message with two or more
#: of one language's and fewer of any other's is taken to be in it
FUNCTION_WORDS = {
    "en": set(
        [
            "the",
            "is",
            "are",
            "you",
            "your",
            "i",
            "i'm",
            "my",
            "me",
            "we",
            "our",
            "can",
            "could",
            "would",
            "do",
            "does",
            "what",
            "when",
            "where",
            "how",
            "please",
            "thanks",
            "thank",
            "want",
            "like",
            "have",
            "has",
            "hi",
            "hello",
            "with",
            "for",
            "to",
            "and",
            "of",
            "it",
            "this",
        ]
    ),
    "fr": set(
        [
            "le",
            "la",
            "les",
            "un",
            "une",
            "des",
            "est",
            "êtes",
            "vous",
            "votre",
            "vos",
            "je",
            "suis",
            "mon",
            "ma",
            "mes",
            "nous",
            "pour",
            "avec",
            "et",
            "bonjour",
            "merci",
            "quand",
            "où",
            "comment",
            "voudrais",
            "veux",
            "pouvez",
            "peux",
            "rendez-vous",
            "demain",
            "c'est",
            "j'ai",
            "je",
            "voudrais",
            "s'il",
            "plaît",
            "oui",
            "non",
            "salut",
            "au",
            "du",
        ]
    ),
    "de": set(
        [
            "der",
            "die",
            "das",
            "ein",
            "eine",
            "ist",
            "sind",
            "sie",
            "ihr",
            "ich",
            "bin",
            "mein",
            "meine",
            "wir",
            "für",
            "mit",
            "und",
            "hallo",
            "danke",
            "wann",
            "wo",
            "wie",
            "möchte",
            "will",
            "können",
            "kann",
            "termin",
            "morgen",
            "bitte",
            "ja",
            "nein",
            "haben",
            "habe",
            "guten",
            "tag",
            "um",
            "zu",
        ]
    ),
    "es": set(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "es",
            "son",
            "usted",
            "su",
            "yo",
            "soy",
            "mi",
            "mis",
            "nosotros",
            "para",
            "con",
            "y",
            "hola",
            "gracias",
            "cuándo",
            "dónde",
            "cómo",
            "quiero",
            "quisiera",
            "puedo",
            "puede",
            "cita",
            "mañana",
            "por",
            "favor",
            "sí",
            "no",
            "tengo",
            "buenos",
            "días",
            "del",
            "al",
        ]
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


def language_of(tracker: Tracker) -> str:
    """The conversation's language (the slot), or the business's first."""
    spoken = spoken_languages(business())
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
        chosen = choose_language(
            text, message.get("metadata"), current, spoken_languages(business())
        )
        return [] if chosen == current else [SlotSet("language", chosen)]
