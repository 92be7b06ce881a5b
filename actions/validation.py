"""Checks of what customers type into forms: names, e-mail addresses, phone numbers."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
#: words that make an answer a refusal rather than a name
REFUSALS = {"no", "not", "nope", "nah", "never", "don't", "dont", "stop", "cancel", "nothing"}
NAME_WORD = re.compile(r"^[^\W\d_]+(?:['.-][^\W\d_]*)*$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,}[0-9]$")


def valid_email(value: Any) -> str | None:
    email = str(value or "").strip().strip("<>.,")
    return email.lower() if EMAIL.match(email) else None


def valid_phone(value: Any) -> str | None:
    phone = " ".join(str(value or "").split())
    digits = re.sub(r"\D", "", phone)
    return phone if PHONE.match(phone) and 7 <= len(digits) <= 15 else None


class CustomerDetails:
    """`validate_customer_name`, `validate_email` and `validate_phone` for any form whose
    `FormValidationAction` mixes this in."""

    def extract_customer_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A name the NLU took for a "no" ("Noah Smith", "Nina Novak" sound like "no" to a
        character model): kept when the form asked for the name and no word refuses."""
        if tracker.get_slot("requested_slot") != "customer_name":
            return {}
        message = tracker.latest_message or {}
        if (message.get("intent") or {}).get("name") != "deny":
            return {}
        words = str(message.get("text") or "").split()
        if not 1 <= len(words) <= 4:
            return {}
        if any(w.lower().strip(".,!?") in REFUSALS or not NAME_WORD.match(w) for w in words):
            return {}
        return {"customer_name": " ".join(words)}

    def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        name = " ".join(str(value or "").split())
        if not 1 <= len(name) <= 80:
            dispatcher.utter_message(text="Could you tell me your name?")
            return {"customer_name": None}
        return {"customer_name": name}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        email = valid_email(value)
        if email is None:
            dispatcher.utter_message(
                text="That doesn't look like an e-mail address. Could you check it?"
            )
        return {"email": email}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        phone = valid_phone(value)
        if phone is None:
            dispatcher.utter_message(
                text="That doesn't look like a phone number; I'll leave it out."
            )
        return {"phone": phone}
