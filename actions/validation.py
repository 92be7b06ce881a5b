"""Checks of what customers type into forms: names, e-mail addresses, phone numbers."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
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
