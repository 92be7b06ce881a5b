"""Prices and services come from the catalogue of business.yml, in the customer's language
and the business's currency: a price changed there is the next one quoted, and the
knowledge base's price entry hands over to the catalogue instead of keeping its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge
from actions.business import Business, BusinessSettingsError, business, currency_code
from actions.catalogue import money
from actions.knowledge import ActionAnswerFromKnowledgeBase
from parlez.agent import Agent
from parlez.io.yaml_edit import set_value
from parlez.knowledge import KnowledgeAnswerer, KnowledgeIndex
from parlez.knowledge.documents import read_kb
from tests.assistant.conftest import read_as, say, texts
from tests.assistant.test_language import said
from tests.conftest import write


@pytest.mark.parametrize(
    ("language", "amount", "written"),
    [("en", 35, "€35"), ("fr", 35, "35\xa0€"), ("de", 35.5, "35,50\xa0€"), ("es", 60, "60\xa0€")],
)
def test_a_price_is_written_as_the_customers_language_writes_it(
    language: str, amount: float, written: str
) -> None:
    assert money(amount, "EUR", language) == written


def test_the_currency_is_an_iso_code_or_its_symbol() -> None:
    assert [currency_code(c) for c in ("€", "£", "$", "eur", "CHF")] == [
        "EUR",
        "GBP",
        "USD",
        "EUR",
        "CHF",
    ]
    with pytest.raises(ValueError, match="unknown currency 'euros'"):
        Business(name="x", currency="euros")


@pytest.mark.usefixtures("knowledge_base")
def test_a_named_service_gets_its_own_price_and_duration(bot: Agent) -> None:
    (answer,) = read_as(bot, "how much is a beard trim?", "ask_prices")
    assert answer["text"] == "Beard trim: €15 (20 minutes)."
    # cited like the knowledge base's entry about prices, from the file the price is in
    assert answer["custom"]["sources"] == [
        {
            "id": "prices",
            "title": "How much do your services cost?",
            "source": "business.yml",
            "url": None,
        }
    ]
    # a price that depends on the work says where it starts
    assert texts(read_as(bot, "how much does colouring cost?", "ask_prices", "b")) == [
        "Colouring: from €60 (120 minutes)."
    ]
    assert texts(read_as(bot, "how much is the argan oil shampoo?", "ask_prices", "c")) == [
        "Argan oil shampoo: €18."
    ]


@pytest.mark.usefixtures("knowledge_base")
def test_after_which_did_you_mean_the_price_is_of_what_the_customer_named(bot: Agent) -> None:
    """ "What do you charge for highlights" is as close to the services entry as to the
    prices one: the customer clicks the prices, and gets the price of the highlights they
    asked about, not the whole list."""
    (choice,) = read_as(bot, "what do you charge for highlights", "ask_prices")
    assert choice["text"].startswith("I want to be sure I answer the right question")
    prices = next(b["payload"] for b in choice["buttons"] if '"prices"' in b["payload"])
    assert texts(say(bot, prices)) == ["Colouring: from €60 (120 minutes)."]


@pytest.mark.usefixtures("knowledge_base")
def test_no_service_named_gets_the_price_list_in_the_customers_language(bot: Agent) -> None:
    (answer,) = texts(read_as(bot, "what are your prices?", "ask_prices"))
    assert answer.splitlines() == [
        "Our prices:",
        "- Haircut: €35, 45 min",
        "- Colouring: from €60, 120 min",
        "- Blow-dry: €25, 30 min",
        "- Beard trim: €15, 20 min",
        "- Argan oil shampoo: €18",
    ]
    said(bot, "/greet", "claire", "fr-FR")
    (french,) = said(bot, "/ask_prices", "claire")
    assert french.splitlines()[:3] == [
        "Nos tarifs :",
        "- Coupe: 35\xa0€, 45 min",
        "- Coloration: à partir de 60\xa0€, 120 min",
    ]


def test_the_services_are_listed_with_their_descriptions_a_button_to_book_and_a_person(
    bot: Agent,
) -> None:
    services, products = say(bot, "/ask_services")
    assert services["text"].splitlines()[:2] == [
        "We offer:",
        "- Haircut: €35, 45 min. For women, men and children, with a wash and a finish.",
    ]
    # "do you do keratin treatments?" gets this list too: what is not on it is the team's
    assert "If you're looking for something else" in services["text"]
    assert [b["payload"] for b in services["buttons"]] == ["/book_appointment", "/request_human"]
    assert products["text"] == "We also sell:\n- Argan oil shampoo: €18"


def test_a_service_asked_about_by_name_is_answered_with_a_button_to_book_it(
    bot: Agent,
) -> None:
    """ "do you do highlights?" is answered with that service (highlights are colouring),
    not the whole list; its button starts the booking of it."""
    (offered,) = read_as(bot, "do you do highlights?", "ask_services", "hl")
    assert offered["text"] == (
        "Yes, we do: Colouring: from €60, 120 min. Full colour or highlights; the price "
        "depends on the length of your hair.\nWould you like to book it?"
    )
    book_it, person = (b["payload"] for b in offered["buttons"])
    assert (book_it, person) == ('/inform{"service": "colouring"}', "/request_human")
    assert texts(say(bot, book_it, "hl")) == [
        "When would you like to come in? For example “Friday at 3pm”."
    ]


def test_a_yes_to_the_service_offered_books_it_and_to_the_list_asks_which(bot: Agent) -> None:
    read_as(bot, "do you do beard trims?", "ask_services", "yes-one")
    assert texts(say(bot, "/affirm", "yes-one")) == [
        "When would you like to come in? For example “Friday at 3pm”."
    ]
    say(bot, "/ask_services", "yes-list")
    assert texts(say(bot, "/affirm", "yes-list")) == ["Which service would you like to book?"]


@pytest.mark.usefixtures("knowledge_base")
def test_a_price_changed_in_business_yml_is_the_next_price_quoted(bot: Agent, studio: Path) -> None:
    """The console writes business.yml while the assistant runs: no restart, no FAQ text to
    change as well."""
    settings = studio / "business.yml"
    before = settings.read_text(encoding="utf-8")
    settings.write_text(set_value(before, ["services", 0, "price"], 38), encoding="utf-8")
    assert texts(read_as(bot, "how much is a haircut", "ask_prices")) == [
        "Haircut: €38 (45 minutes)."
    ]


def test_the_booking_form_offers_the_catalogues_services_as_buttons(
    bot: Agent, studio: Path
) -> None:
    (asked,) = say(bot, "/book_appointment")
    assert [(b["title"], b["payload"]) for b in asked["buttons"]] == [
        ("Haircut", '/inform{"service": "haircut"}'),
        ("Colouring", '/inform{"service": "colouring"}'),
        ("Blow-dry", '/inform{"service": "blow-dry"}'),
        ("Beard trim", '/inform{"service": "beard trim"}'),
    ]
    said(bot, "/greet", "jonas", "de-DE")
    (german,) = say(bot, "/book_appointment", "jonas")
    assert german["text"] == "Welche Leistung möchten Sie buchen?"
    assert german["buttons"][0]["title"] == "Haarschnitt"


@pytest.mark.usefixtures("knowledge_base")
def test_a_broken_business_yml_offers_a_person_instead_of_a_price(bot: Agent, studio: Path) -> None:
    (studio / "business.yml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(BusinessSettingsError):
        business()
    answer = texts(read_as(bot, "how much is a haircut", "ask_prices"))
    assert answer[0].startswith("I'm sorry, I don't know the answer to that.")


FAQ_WITH_ACTION = """
faq:
  - id: prices
    question: How much do your services cost?
    action: action_tell_price
    answer: The price of each of our services, from our price list.
  - id: parking
    question: Is there parking nearby?
    answer: Two free spaces in front of the shop.
"""


@pytest.mark.anyio
async def test_a_knowledge_base_entry_that_names_an_action_is_answered_by_it(
    studio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "kb" / "faq.yml", FAQ_WITH_ACTION)
    index = KnowledgeIndex.build(read_kb(tmp_path / "kb"))
    monkeypatch.setattr(
        actions.knowledge, "_answerer", KnowledgeAnswerer(index, None, min_confidence=0.5)
    )
    message = {
        "text": "how much do your services cost?",
        "intent": {"name": "ask_question", "confidence": 0.9},
        "entities": [],
    }
    asked = Tracker("anna", {}, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFromKnowledgeBase().run(
        dispatcher, asked, {"actions": ["action_tell_price"]}
    )
    assert [(e["event"], e["name"]) for e in events] == [("followup", "action_tell_price")]
    assert not dispatcher.messages
    # a domain without the action: the entry's text, and the mistake in the log
    dispatcher = CollectingDispatcher()
    assert await ActionAnswerFromKnowledgeBase().run(dispatcher, asked, {"actions": []}) == []
    assert dispatcher.messages[0]["text"].startswith("The price of each of our services")


@pytest.mark.usefixtures("knowledge_base")
def test_how_long_a_service_takes_is_the_catalogues_duration(bot: Agent) -> None:
    assert texts(read_as(bot, "how long is a haircut?", "ask_question")) == [
        "Haircut: about 45 minutes."
    ]
    (every,) = texts(read_as(bot, "how long does an appointment take?", "ask_question", "b"))
    assert every.splitlines()[:3] == [
        "How long each service takes:",
        "- Haircut: 45 min",
        "- Colouring: 120 min",
    ]
