"""The catalogue of `business.yml` (`services`, `products`) told to customers: what a
service or product costs, what the business offers, and the services a booking can be for.

The catalogue is the one place a price is kept: the console edits it and the next answer
quotes it. The knowledge base's entries about prices and services name these actions
(`action:` in data/kb/faq.yml), so a price is never written twice to drift apart.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency
from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, BusinessSettingsError, Offer, Service, business
from actions.knowledge import source_for
from actions.language import language_of

logger = logging.getLogger(__name__)

#: "from 60 €": a price that is where the work starts
FROM = {
    "en": "from {price}",
    "fr": "à partir de {price}",
    "de": "ab {price}",
    "es": "desde {price}",
}


def money(amount: float, currency: str, language: str) -> str:
    """`amount` of `currency` (an ISO code) as `language` writes it: "€35" in English,
    "35 €" in French, "35,50 €" in German. A whole amount has no cents."""
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    pattern = locale.currency_formats["standard"].pattern
    if float(amount).is_integer():
        pattern = pattern.replace(".00", "")
    return format_currency(amount, currency, pattern, locale=locale, currency_digits=False)


def price_of(offer: Offer, currency: str, language: str) -> str | None:
    """The offer's price as the customer reads it ("from €60"), or None without one."""
    if offer.price is None:
        return None
    price = money(offer.price, currency, language)
    return FROM.get(language, FROM["en"]).format(price=price) if offer.price_from else price


def line_of(offer: Offer, currency: str, language: str, describe: bool = True) -> str:
    """One line of the catalogue: "Haircut: €35, 45 min. Wash, cut and finish." """
    facts = [f for f in (price_of(offer, currency, language),) if f]
    if isinstance(offer, Service):
        facts.append(f"{offer.duration} min")
    line = capitalised(offer.called(language)) + (f": {', '.join(facts)}" if facts else "")
    description = offer.described(language).strip() if describe else ""
    return f"{line}. {description}" if description else line


def listed(offers: list[Offer], currency: str, language: str, describe: bool = True) -> str:
    """The offers as a Markdown list (the web chat shows it as one; other channels as text)."""
    return "\n".join(f"- {line_of(o, currency, language, describe)}" for o in offers)


def capitalised(name: str) -> str:
    """ "beard trim" as the start of a line or a button: "Beard trim"."""
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class Citation:
    """What an answer from the catalogue cites (see `source_for`): the knowledge-base entry
    that names the action, else this id and title."""

    action: str
    default_id: str
    title: str

    def cited(self) -> dict[str, Any]:
        return {"sources": [source_for(self.action, self.default_id, self.title)]}


PRICES = Citation("action_tell_price", "prices", "Prices")
DURATIONS = Citation("action_tell_duration", "duration", "How long an appointment takes")
SERVICES = Citation("action_list_services", "services", "Services")


def _settings() -> Business | None:
    try:
        return business()
    except BusinessSettingsError as error:
        logger.error("the catalogue cannot be read: %s", error)
        return None


def asked(tracker: Tracker) -> str:
    """What the customer wrote: the latest message, or, when that was a button's payload
    ("Which of these did you mean?" answered with a click), the words before it."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            text = str(event.get("text") or "")
            if text and not text.startswith("/"):
                return text
            if not text.startswith('/ask_question{"kb_entry"'):
                return ""  # a topic's button ("/ask_prices"): no words of the customer's
    return ""


def named_service(settings: Business, tracker: Tracker, close: bool = True) -> Service | None:
    """The service the customer's message names: the one the NLU tagged (a close spelling
    counts with `close`), else one the catalogue's own words find in it."""
    said = next(tracker.get_latest_entity_values("service"), None)
    service = settings.service(str(said), close) if said else None
    return service or settings.service(asked(tracker), close=False)


def _nothing_to_tell(tracker: Tracker) -> list[dict[str, Any]]:
    """The catalogue has nothing on this: the knowledge base answers, unless the question
    came from it (its entry names this action); then a person is offered."""
    if tracker.latest_action_name == "action_answer_from_kb":
        return [FollowupAction("utter_offer_handoff")]
    return [FollowupAction("action_answer_from_kb")]


class ActionTellPrice(Action):
    """ "How much is a haircut?": that service's (or product's) price from the catalogue;
    "what are your prices?": the price list. A project with no prices in its catalogue
    answers from its knowledge base instead."""

    def name(self) -> str:
        return "action_tell_price"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = _settings()
        if settings is None:
            return [FollowupAction("utter_offer_handoff")]
        language = language_of(tracker)
        offers = [*settings.services, *settings.products]
        if not any(offer.price is not None for offer in offers):
            return _nothing_to_tell(tracker)
        said = next(tracker.get_latest_entity_values("service"), None)
        offer = settings.offer(str(said), close=True) if said else None
        offer = offer or settings.offer(asked(tracker), close=False)
        if offer is None:
            dispatcher.utter_message(
                response="utter_price_list",
                prices=listed(offers, settings.currency, language, describe=False),
                json_message=PRICES.cited(),
            )
            return []
        price = price_of(offer, settings.currency, language)
        item = offer.called(language)
        if price is None:
            dispatcher.utter_message(
                response="utter_price_on_request", item=item, json_message=PRICES.cited()
            )
            return []
        item = capitalised(item)
        if isinstance(offer, Service):
            dispatcher.utter_message(
                response="utter_service_price",
                item=item,
                price=price,
                duration=offer.duration,
                json_message=PRICES.cited(),
            )
        else:
            dispatcher.utter_message(
                response="utter_product_price", item=item, price=price, json_message=PRICES.cited()
            )
        return []


class ActionTellDuration(Action):
    """ "How long does a colouring take?": that service's duration from the catalogue;
    "how long is an appointment?": each service's."""

    def name(self) -> str:
        return "action_tell_duration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = _settings()
        if settings is None or not settings.services:
            return [FollowupAction("utter_offer_handoff")]
        language = language_of(tracker)
        service = named_service(settings, tracker)
        if service is not None:
            dispatcher.utter_message(
                response="utter_service_duration",
                item=capitalised(service.called(language)),
                duration=service.duration,
                json_message=DURATIONS.cited(),
            )
            return []
        lines = [
            f"- {capitalised(s.called(language))}: {s.duration} min" for s in settings.services
        ]
        dispatcher.utter_message(
            response="utter_durations", durations="\n".join(lines), json_message=DURATIONS.cited()
        )
        return []


class ActionListServices(Action):
    """ "What do you offer?": the services (and products) of the catalogue, with their
    prices and descriptions, and a button to book; "do you do highlights?": that service,
    and a button to book it."""

    def name(self) -> str:
        return "action_list_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = _settings()
        if settings is None:
            return [FollowupAction("utter_offer_handoff")]
        language = language_of(tracker)
        if not settings.services and not settings.products:
            return _nothing_to_tell(tracker)
        cited = SERVICES.cited()
        named = named_service(settings, tracker, close=False)
        if named is not None:
            # "do you do highlights?": that service, and a button to book it; a "yes" books
            # it too (data/rules.yml), so the booking knows the service
            dispatcher.utter_message(
                response="utter_service_offered",
                service=line_of(named, settings.currency, language),
                name=named.name,
                json_message=cited,
            )
            return [SlotSet("service", named.name)]
        dispatcher.utter_message(
            response="utter_services",
            services=listed(list(settings.services), settings.currency, language),
            json_message=cited,
        )
        if settings.products:
            dispatcher.utter_message(
                response="utter_products",
                products=listed(list(settings.products), settings.currency, language),
                json_message=cited,
            )
        return []


class ActionAskService(Action):
    """The booking form's question for the service, with a button for each service of the
    catalogue (in the customer's language)."""

    def name(self) -> str:
        return "action_ask_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            services = business().services
        except BusinessSettingsError as error:
            logger.error("the services cannot be offered as buttons: %s", error)
            services = []
        language = language_of(tracker)
        buttons = [
            {
                "title": capitalised(service.called(language)),
                "payload": "/inform" + json.dumps({"service": service.name}),
            }
            for service in services
        ]
        dispatcher.utter_message(response="utter_ask_service", buttons=buttons)
        return []
