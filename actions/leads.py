"""Leads: a customer's contact details, checked, stored, synced to the CRM, and announced
to the business by e-mail."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import EMAIL, mailer, project
from actions.business import Business, business
from actions.integrations.crm import Lead, LeadStore, crm_from_settings, sync_pending
from actions.integrations.email import compose, render

logger = logging.getLogger(__name__)

PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,}[0-9]$")


def valid_email(value: Any) -> str | None:
    email = str(value or "").strip().strip("<>.,")
    return email.lower() if EMAIL.match(email) else None


def valid_phone(value: Any) -> str | None:
    phone = " ".join(str(value or "").split())
    digits = re.sub(r"\D", "", phone)
    return phone if PHONE.match(phone) and 7 <= len(digits) <= 15 else None


class ValidateContactForm(FormValidationAction):
    def name(self) -> str:
        return "validate_contact_form"

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


def announce(settings: Business, lead: Lead) -> None:
    """The new-lead notice to the business's `contact.notify` address."""
    to = settings.contact.notify or settings.contact.email
    if not to:
        return
    text, page = render(
        "new_lead",
        {
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone or "-",
            "sender_id": lead.sender_id,
            "note": lead.message,
        },
    )
    sender = settings.email.get("from") or "assistant@localhost"
    mailer(settings).send(compose(sender, to, f"New lead: {lead.name or lead.email}", text, page))


def save_lead(settings: Business, lead: Lead) -> bool:
    """Store, announce if new, and sync everything pending to the CRM; whether it was new."""
    store = LeadStore(project() / "leads.db")
    new = store.save(lead)
    if new:
        announce(settings, lead)
    try:
        sync_pending(store, crm_from_settings(settings.crm))
    except Exception:  # a CRM misconfiguration must not lose the conversation
        logger.exception("the CRM sync failed; the lead is kept in leads.db")
    return new


class ActionSaveLead(Action):
    def name(self) -> str:
        return "action_save_lead"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = valid_email(tracker.get_slot("email"))
        if email is None:
            return []
        lead = Lead(
            email=email,
            name=str(tracker.get_slot("customer_name") or ""),
            phone=str(tracker.get_slot("phone") or ""),
            sender_id=tracker.sender_id,
        )
        await asyncio.to_thread(save_lead, business(), lead)
        return []
