"""The question about offers by e-mail after a booking: asked once, to a customer who has not
answered it (in this conversation or, for the lead form, before), and only when the business
asks it (`booking: ask_about_offers:` in business.yml).

The answer is an explicit yes or no, kept as the `marketing_consent` slot right after the
question, so the console stores it with its time and wording (docs/customers.md) as it does
the lead form's. Anything else than a yes or a no leaves it unanswered: the customer's
message is answered as usual and the question is not asked again in that conversation.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.business import business

QUESTION = "utter_ask_marketing_consent"


def asked_before(tracker: Tracker) -> bool:
    return any(
        event.get("event") == "action" and event.get("name") == QUESTION for event in tracker.events
    )


class ActionOfferNews(Action):
    """After a booking: the offers question, or "anything else?" (what the rules follow)."""

    def name(self) -> str:
        return "action_offer_news"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ask = (
            business().booking.ask_about_offers
            and tracker.get_slot("marketing_consent") is None
            and not asked_before(tracker)
        )
        return [FollowupAction(QUESTION if ask else "utter_anything_else")]


class ActionNoteOffers(Action):
    """The customer's yes or no to the offers question, as the consent slot."""

    def name(self) -> str:
        return "action_note_offers"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent not in ("affirm", "deny"):
            return []
        return [SlotSet("marketing_consent", intent == "affirm")]
