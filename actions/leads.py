"""Leads: a customer's contact details, checked, stored, synced to the CRM, and announced
to the business by e-mail."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, business
from actions.integrations.crm import Lead, crm_from_settings, sync_pending
from actions.services import lead_store, send_template
from actions.validation import CustomerDetails, OffersAPersonWhenStuck, valid_email

logger = logging.getLogger(__name__)


class ValidateContactForm(OffersAPersonWhenStuck, CustomerDetails, FormValidationAction):
    def name(self) -> str:
        return "validate_contact_form"


def lead_values(lead: Lead) -> dict[str, Any]:
    """What the new-lead notice's templates say (actions/templates/new_lead.*)."""
    return {
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone or "-",
        "sender_id": lead.sender_id,
        "note": lead.message,
    }


def announce(settings: Business, lead: Lead) -> None:
    """The new-lead notice to the business's `contact.notify` address."""
    to = settings.contact.notify or settings.contact.email
    if not to:
        return
    send_template(
        settings, to, f"New lead: {lead.name or lead.email}", "new_lead", lead_values(lead)
    )


def save_lead(settings: Business, lead: Lead) -> bool:
    """Store, announce if new, and sync everything pending to the CRM; whether it was new."""
    store = lead_store()
    new = store.save(lead)
    if new:
        announce(settings, lead)
    try:
        sync_pending(store, crm_from_settings(settings.crm))
    except Exception:  # a CRM misconfiguration must not lose the conversation
        logger.exception("the CRM sync failed; the lead is kept in the database")
    return new


def their_number(tracker: Tracker) -> str:
    """The number the customer calls or texts from (the voice and SMS channels give it)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return str(metadata.get("phone") or "")


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
            # A caller's or texter's own number, when they gave none.
            phone=str(tracker.get_slot("phone") or their_number(tracker)),
            sender_id=tracker.sender_id,
            marketing=tracker.get_slot("marketing_consent"),
        )
        await asyncio.to_thread(save_lead, business(), lead)
        return []
