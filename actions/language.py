"""The language of the conversation: the `language` slot, set from what the customer writes
and from the web chat's browser language, among the languages the business speaks.

Responses in domain.yml have a variation per language (a condition on the slot); dates,
service names and the times customers type are read and said in it.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, BusinessSettingsError, business
from parlez.extras import MissingExtraError, optional
from parlez.language_id import LINGUA_NAMES, WORD, counted, detector, told

logger = logging.getLogger(__name__)

#: the languages the assistant's responses, dates and NLU examples are written in
SUPPORTED = ("en", "fr", "de", "es")
#: Duckling's locale for reading times in each language
LOCALES = {"en": "en_GB", "fr": "fr_FR", "de": "de_DE", "es": "es_ES"}


EMAIL = re.compile(r"\S+@\S+")
#: how many of a customer's earlier messages may show the language they write in
MAX_EARLIER = 10


@functools.lru_cache(maxsize=8)
def _detector(among: tuple[str, ...]) -> Any:
    """lingua's detector for `among`; None, said once in the log, where lingua is not
    installed: each conversation then keeps the browser's or the business's language."""
    try:
        optional("lingua", "telling which language a customer writes in")
    except MissingExtraError as error:
        logger.error("%s (%s): answering in the browser's language", error, error.hint)
        return None
    return detector(among)


def _looks_like_a_name(words: list[str]) -> bool:
    """A name ("Lena Fischer") is no language's, though lingua would call it German."""
    return len(words) <= 3 and all(word[0].isupper() for word in words)


def detect(text: str, among: tuple[str, ...] | list[str] = SUPPORTED) -> str | None:
    """The language `text` is written in, among `among`, if it says so clearly enough;
    None for a name, an address, a number or a word that several languages share."""
    known = tuple(sorted({code for code in among if code in LINGUA_NAMES}))
    text = EMAIL.sub(" ", text)
    words = WORD.findall(text)
    if not known or not words or _looks_like_a_name(words):
        return None
    if len(known) == 1:
        return known[0]
    found = _detector(known)
    return None if found is None else told(found, words, counted(text, words))


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
    text: str,
    metadata: dict[str, Any] | None,
    current: str | None,
    spoken: list[str],
    earlier: Sequence[str] = (),
) -> str:
    """What the customer writes in wins; then the language already in use; then the
    browser's; then the business's first. A message of one or two words does not move a
    conversation out of a language the customer has written in (`earlier`: their messages
    before this one): "un brushing" answers "Quel service ?" in French, though lingua reads
    it as English."""
    found = detect(text, spoken)
    if found and not _short_answer(text, found, current, spoken, earlier):
        return found
    if current in spoken:
        return str(current)
    browser = browser_language(metadata)
    return browser if browser in spoken else spoken[0]


def _short_answer(
    text: str, found: str, current: str | None, spoken: list[str], earlier: Sequence[str]
) -> bool:
    """Whether `text`, told as `found`, is one or two words in a conversation whose
    customer has written in another language of the business's, `current`."""
    if found == current or current not in spoken or len(WORD.findall(text)) >= 3:
        return False
    return any(detect(before, spoken) == current for before in earlier)


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
        written = [
            str(event.get("text") or "")
            for event in tracker.events
            if event.get("event") == "user" and not str(event.get("text") or "").startswith("/")
        ]
        earlier = written[:-1] if text else written  # the latest message is `text`
        chosen = choose_language(
            text, message.get("metadata"), current, spoken_now(), earlier[-MAX_EARLIER:]
        )
        return [] if chosen == current else [SlotSet("language", chosen)]
