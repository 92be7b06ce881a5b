"""`action_forget_customer`: what the assistant keeps about a customer, forgotten when the
business forgets them in the console (or `parlez console forget-customer`), which runs it on
each of their conversations before emptying them.

Their leads are deleted here and in the CRM (HubSpot's GDPR deletion), their appointments
in the local calendar keep their times but lose the name, address and number, and the
outbox's work for them (a booking or an e-mail waiting) is dropped. A CRM that does not
answer fails the action, so that nothing is forgotten by halves: the console says so and the
business tries again. Appointments in a CalDAV calendar are the calendar's to edit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.business import business
from actions.integrations.crm import crm_from_settings
from actions.services import calendar, lead_store, outbox

logger = logging.getLogger(__name__)

#: the slots that hold what identifies the customer
ADDRESS_SLOTS = ("email",)


def addresses(tracker: Tracker) -> list[str]:
    """Every e-mail address the customer gave in the conversation (a slot may have been
    set several times, and cleared since)."""
    found = {
        str(event["value"]).strip().lower()
        for event in tracker.events
        if event.get("event") == "slot"
        and event.get("name") in ADDRESS_SLOTS
        and isinstance(event.get("value"), str)
        and event["value"].strip()
    }
    return sorted(found)


def forget(sender_id: str, emails: list[str]) -> dict[str, int]:
    """Forget the customer everywhere the assistant keeps them; what was done, counted."""
    settings = business()
    leads = lead_store()
    crm = crm_from_settings(settings.crm)
    crm_ids = []
    if crm is not None:
        # first, and a CRMError fails the action: the leads stay, to be tried again
        crm_ids = leads.crm_ids(emails, sender_id)
        for contact in crm_ids:
            crm.gdpr_delete(contact)
    return {
        "CRM contacts": len(crm_ids),
        "leads": leads.forget(emails, sender_id),
        "appointments": calendar(settings).forget(emails),
        "waiting work": outbox().forget(emails, sender_id),
    }


class ActionForgetCustomer(Action):
    def name(self) -> str:
        return "action_forget_customer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        done = await asyncio.to_thread(forget, tracker.sender_id, addresses(tracker))
        # counts only: what was forgotten is not written anywhere, logs included
        logger.info("a customer was forgotten: %s", done)
        return []
