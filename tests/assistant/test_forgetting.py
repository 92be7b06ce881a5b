"""A customer the business forgets is forgotten by the assistant too: their leads here and in
the CRM, their name and address on their appointments, the work waiting for them; or, if the
CRM does not answer, nothing at all, to be tried again."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from parlez.agent import Agent
from parlez.console.forget import ForgetError, assistant_forgetting
from tests.assistant.conftest import NOW, book, local_calendar, say, the_leads, the_outbox
from tests.assistant.test_leads import leave_details
from tests.fakes.hubspot import FakeHubSpot


def ana_books_and_leaves_details(bot: Agent) -> None:
    book(bot, "ana", "tomorrow at 3pm")
    say(bot, "Ana Lind", "ana")
    say(bot, "ana@example.com", "ana")
    say(bot, "/affirm", "ana")
    # then a lead: her name and address are known already, only the offers are asked about
    assert "offers" in say(bot, "/leave_contact", "ana")[0]["text"]
    say(bot, "/affirm", "ana")


def forget(bot: Agent, sender: str) -> None:
    before = assistant_forgetting(bot.tracker_store, bot.custom_actions, bot.domain)
    assert before is not None  # the assistant has the action, though not in its domain
    asyncio.run(before(sender))


def test_a_forgotten_customer_leaves_the_assistants_tables_and_the_crm(
    bot: Agent, studio: Path, hubspot: FakeHubSpot
) -> None:
    ana_books_and_leaves_details(bot)
    leave_details(bot, "bo", "Bo Berg", "bo@example.com")
    the_outbox(studio).put("email", {"to": "ana@example.com", "subject": "Your booking"})
    ana_id = next(i for i, c in hubspot.contacts.items() if c["email"] == "ana@example.com")
    forget(bot, "ana")
    assert [lead.email for lead in the_leads(studio).all()] == ["bo@example.com"]
    assert hubspot.gdpr_deleted == [ana_id]
    assert [c["email"] for c in hubspot.contacts.values()] == ["bo@example.com"]
    calendar = local_calendar(studio)
    assert not calendar.upcoming("ana@example.com", dt.datetime.fromisoformat(NOW))
    tomorrow = dt.datetime.fromisoformat(NOW) + dt.timedelta(days=1)
    assert calendar.busy(tomorrow.replace(hour=0), tomorrow.replace(hour=23))  # still taken
    assert the_outbox(studio).pending("email") == []


def test_a_crm_that_does_not_answer_forgets_nothing(
    bot: Agent, studio: Path, hubspot: FakeHubSpot
) -> None:
    ana_books_and_leaves_details(bot)
    hubspot.down = True
    with pytest.raises(ForgetError) as stopped:
        forget(bot, "ana")
    assert stopped.value.code == "P558" and "CRM" in stopped.value.message
    assert [lead.email for lead in the_leads(studio).all()] == ["ana@example.com"]
    hubspot.down = False
    forget(bot, "ana")  # tried again: done
    assert the_leads(studio).all() == [] and len(hubspot.gdpr_deleted) == 1
