"""Checks of what customers type into forms: names, e-mail addresses, phone numbers."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.business import BusinessSettingsError, business

logger = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
#: words that make an answer a refusal rather than a name
REFUSALS = {"no", "not", "nope", "nah", "never", "don't", "dont", "stop", "cancel", "nothing"}
NAME_WORD = re.compile(r"^[^\W\d_]+(?:['.-][^\W\d_]*)*$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,}[0-9]$")
#: how customers start saying their name, in the assistant's four languages
NAME_LEAD_IN = re.compile(
    r"^(?:my name is|my name's|name's|the name is|i am|i'm|im|it's|it is|this is|call me"
    r"|je m'appelle|je suis|c'est|moi c'est|mon nom est|ich heiße|ich heisse|mein name ist"
    r"|ich bin|hier ist|me llamo|mi nombre es|soy)\s+",
    re.IGNORECASE,
)
#: words that are not in a person's name: an answer with one is about something else
NOT_IN_A_NAME = {
    "actually", "instead", "change", "make", "appointment", "booking", "book", "please",
    "time", "date", "day", "today", "tomorrow", "morning", "afternoon", "evening", "tonight",
    "week", "month", "thanks", "thank", "hello", "hi", "hey", "yes", "yeah", "okay", "ok",
    "sorry", "the", "is", "are", "my", "you", "it", "for", "to", "at", "on", "in", "want",
    "need", "would", "like", "can", "could", "what", "when", "how", "why", "which", "haircut",
    "rather", "better", "later", "earlier", "next", "this", "that", "there",
}  # fmt: skip
#: intents a bare name is mistaken for ("Noah" for deny, "Owen Price" for ask_prices)
NAME_LOOKALIKES = {"deny", "ask_prices", "ask_hours"}
#: answers to one question that did not fill its slot before a person is offered
STUCK_AFTER = 3


def as_name(value: Any) -> str | None:
    """The name in an answer to "May I have your name?" ("I'm Ana Lima": "Ana Lima"), or
    None when the answer does not look like a name: digits, a question, a sentence."""
    text = " ".join(str(value or "").split()).strip(" .,!")
    text = NAME_LEAD_IN.sub("", text).strip(" .,!")
    words = text.replace(",", " ").split()
    if not 1 <= len(words) <= 5 or len(text) > 80 or len(text.replace(" ", "")) < 2:
        return None
    if any(not NAME_WORD.match(w) or w.lower() in NOT_IN_A_NAME for w in words):
        return None
    return text


#: an e-mail address as people say it on the phone, in the assistant's four languages:
#: "anna dot lima at example dot com", spelled "a n n a at ..."; the words for its signs
SAID_SIGNS = {
    "@": ("at sign", "at", "arobase", "arrobase", "ät", "arroba"),
    ".": ("dot", "point", "punkt", "punto"),
    "_": ("underscore", "tiret bas", "unterstrich", "guion bajo", "guión bajo"),
    "-": ("dash", "hyphen", "minus", "tiret", "bindestrich", "guion", "guión"),
}
SAID_EMAIL_LEAD_IN = re.compile(
    r"^(?:(?:my|the)\s+e-?mail(?:\s+address)?\s+is|it's|it is|mon (?:adresse )?e-?mail est"
    r"|c'est|meine e-?mail(?:-adresse)? ist|mi correo(?: electrónico)? es|es)\s+",
    re.IGNORECASE,
)


def said_email(value: Any) -> str | None:
    """An e-mail address said aloud ("anna dot lima at example dot com", or spelled
    "a n n a at example dot com"), as it is written; None if it is not one."""
    text = " ".join(str(value or "").lower().split()).strip(" .,!")
    text = SAID_EMAIL_LEAD_IN.sub("", text)
    for sign, words in SAID_SIGNS.items():
        for word in words:
            text = re.sub(rf"(?<![\w@.]){re.escape(word)}(?![\w@])", f" {sign} ", text)
    if text.count("@") != 1:
        return None
    email = "".join(text.split())
    return email if EMAIL.match(email) else None


def valid_email(value: Any) -> str | None:
    """The e-mail address a customer wrote, or said on the phone, in lower case; None if
    there is none."""
    email = str(value or "").strip().strip("<>.,")
    if EMAIL.match(email):
        return email.lower()
    return said_email(value)


def valid_phone(value: Any) -> str | None:
    """The phone number a customer wrote, keyed in, or said digit by digit ("oh seven
    seven double oh..."); None if there is none."""
    phone = " ".join(str(value or "").split())
    if _phone_shaped(phone):
        return phone
    said = said_phone(phone)
    return said if said is not None and _phone_shaped(said) else None


def _phone_shaped(phone: str) -> bool:
    return bool(PHONE.match(phone)) and 7 <= len(re.sub(r"\D", "", phone)) <= 15


#: digits as they are said, in the assistant's four languages
SAID_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "zéro": "0", "un": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "sept": "7",
    "huit": "8", "neuf": "9", "null": "0", "eins": "1", "zwei": "2", "drei": "3", "vier": "4",
    "fünf": "5", "sechs": "6", "sieben": "7", "acht": "8", "neun": "9", "cero": "0",
    "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9",
}  # fmt: skip
SAID_REPEATS = {"double": 2, "triple": 3}


def said_phone(value: Any) -> str | None:
    """A phone number said digit by digit ("plus four four seven seven double oh"), as
    digits; None when a word is not a digit."""
    words = re.findall(r"[^\W_]+|\+", str(value or "").lower())
    digits, repeat = "", 1
    for word in words:
        if word in ("plus", "+") and not digits:
            digits = "+"
        elif word in SAID_REPEATS:
            repeat = SAID_REPEATS[word]
        elif word in SAID_DIGITS or word.isdigit():
            digits += (SAID_DIGITS.get(word) or word) * repeat
            repeat = 1
        elif word not in ("my", "number", "is", "it's", "its", "phone"):
            return None
    return digits if len(digits.lstrip("+")) >= 7 else None


class CustomerDetails:
    """`validate_customer_name`, `validate_email` and `validate_phone` for any form whose
    `FormValidationAction` mixes this in."""

    def extract_customer_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A name the NLU took for something else, kept when the form asked for the name:
        for a "no" ("Noah Smith", "Nina Novak" sound like "no" to a character model) when
        no word refuses; for a question the form ignores ("Owen Price" for a question about
        prices) when every word is capitalised, as names are and questions are not."""
        if tracker.get_slot("requested_slot") != "customer_name":
            return {}
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        text = str(message.get("text") or "")
        words = text.split()
        if intent not in NAME_LOOKALIKES or not 1 <= len(words) <= 4:
            return {}
        if any(w.lower().strip(".,!?") in REFUSALS or not NAME_WORD.match(w) for w in words):
            return {}
        if intent != "deny" and ("?" in text or not all(w[:1].isupper() for w in words)):
            return {}
        return {"customer_name": " ".join(words)}

    def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        message = str(tracker.latest_message.get("text") or "")
        whole = None
        if tracker.get_slot("requested_slot") == "customer_name" and not message.startswith("/"):
            # The answer to "May I have your name?" is the name: the entity the NLU tagged
            # may be a part of it ("Park" of "Jo Park").
            whole = as_name(message)
        name = whole or as_name(value)
        if tracker.get_slot("requested_slot") != "customer_name":
            # Given unasked ("I'm looking for a barber" tags "barber"): a name people give
            # of their own accord starts with a capital, and is not what the business sells
            # (German capitalises nouns: "einen Termin zum Haare schneiden"); otherwise it
            # is asked for later.
            unasked = name and name[:1].isupper() and not names_an_offer(name)
            return {"customer_name": name if unasked else None}
        if name is None:
            dispatcher.utter_message(response="utter_name_again")
        return {"customer_name": name}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        email = valid_email(value)
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
        return {"email": email}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        phone = valid_phone(value)
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
        return {"phone": phone}


def names_an_offer(text: str) -> bool:
    """Whether `text` names one of the business's services or products ("Haare schneiden");
    False while business.yml cannot be read."""
    try:
        return business().offer(text, close=False) is not None
    except BusinessSettingsError:
        return False


def answers_to(tracker: Tracker, slot: str) -> int:
    """How many messages in a row the customer has sent while the form asked for `slot`
    (the latest included), since the form started."""
    events = tracker.events
    started = max(
        (
            i
            for i, e in enumerate(events)
            if e.get("event") == "active_loop" and e.get("name") == tracker.active_loop_name
        ),
        default=0,
    )
    asked, count = None, 0
    for event in events[started:]:
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            if event.get("value") != asked:
                asked, count = event.get("value"), 0
        elif event.get("event") == "user" and asked == slot:
            count += 1
    return count


class OffersAPersonWhenStuck:
    """A form that has asked the same question `STUCK_AFTER` times without an answer it
    can use stops and offers a person (`utter_offer_handoff_stuck`) rather than asking
    forever."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        slot = tracker.get_slot("requested_slot")
        if not slot or answers_to(tracker, slot) < STUCK_AFTER:
            return events
        if any(e.get("name") == slot and e.get("value") is not None for e in events):
            return events
        logger.info("%s: no usable '%s' after %d answers", tracker.sender_id, slot, STUCK_AFTER)
        return [
            *events,
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            FollowupAction("utter_offer_handoff_stuck"),
        ]
