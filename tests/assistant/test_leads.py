"""Leads are stored first, synced to a HubSpot-compatible CRM by e-mail, announced to the
business; a CRM that is down loses none of them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from actions.integrations.crm import HubSpotClient, Lead, sync_pending
from actions.validation import valid_phone
from parlez.agent import Agent
from tests.assistant.conftest import say, texts, the_leads
from tests.fakes.hubspot import TOKEN, FakeHubSpot, fake_hubspot


def leave_details(
    bot: Agent, sender: str, name: str, email: str, marketing: str = "/deny"
) -> list[str]:
    assert texts(say(bot, "/leave_contact", sender)) == ["May I have your name?"]
    say(bot, name, sender)
    assert texts(say(bot, email, sender))[0].startswith("Would you like to hear about our offers")
    return texts(say(bot, marketing, sender))


def test_a_lead_is_stored_synced_and_announced(
    bot: Agent, studio: Path, hubspot: FakeHubSpot
) -> None:
    answer = leave_details(bot, "lead1", "Ana Lind", "Ana@Example.com")
    assert (
        answer[0]
        == "Thanks, Ana Lind. Someone from the team will get back to you at ana@example.com."
    )
    (lead,) = the_leads(studio).all()
    assert lead.email == "ana@example.com" and lead.synced and lead.crm_id == "1001"
    assert hubspot.contacts["1001"] == {
        "email": "ana@example.com",
        "firstname": "Ana",
        "lastname": "Lind",
        "hs_lead_status": "NEW",
        "lifecyclestage": "lead",
    }
    (notice,) = (studio / "mail").glob("*.eml")  # e-mail goes to files in this test
    content = notice.read_bytes().decode()
    assert "team@maplestreetstudio.example" in content and "New lead: Ana Lind" in content


def test_the_same_email_updates_the_contact_instead_of_a_duplicate(
    bot: Agent, studio: Path, hubspot: FakeHubSpot
) -> None:
    leave_details(bot, "first", "Ana", "ana@example.com")
    leave_details(bot, "second", "Ana Lind-Berg", "ANA@example.com")
    assert list(hubspot.contacts) == ["1001"]
    assert hubspot.contacts["1001"]["lastname"] == "Lind-Berg"
    assert len(the_leads(studio).all()) == 1
    assert len(list((studio / "mail").glob("*.eml"))) == 1  # announced once


def test_a_crm_that_is_down_keeps_leads_until_it_is_back(
    bot: Agent, studio: Path, hubspot: FakeHubSpot
) -> None:
    hubspot.down = True
    answer = leave_details(bot, "down1", "Bo", "bo@example.com")
    assert answer[0].startswith("Thanks, Bo.")  # the customer is not bothered
    leave_details(bot, "down2", "Cy", "cy@example.com")
    store = the_leads(studio)
    assert [lead.email for lead in store.unsynced()] == ["bo@example.com", "cy@example.com"]
    assert hubspot.contacts == {}
    hubspot.down = False
    leave_details(bot, "back", "Di", "di@example.com")  # the next lead syncs all three
    assert store.unsynced() == []
    assert sorted(c["email"] for c in hubspot.contacts.values()) == [
        "bo@example.com",
        "cy@example.com",
        "di@example.com",
    ]


def test_a_yes_to_offers_puts_the_contact_on_the_marketing_list_and_a_no_takes_it_off(
    bot: Agent, studio: Path, hubspot: FakeHubSpot
) -> None:
    settings = (studio / "business.yml").read_text()
    (studio / "business.yml").write_text(
        settings.replace(f"token: {TOKEN}", f"token: {TOKEN}\n  marketing_list: '42'")
    )
    leave_details(bot, "yes", "Eva", "eva@example.com", marketing="/affirm")
    leave_details(bot, "no", "Finn", "finn@example.com", marketing="/deny")
    store = the_leads(studio)
    assert [lead.email for lead in store.marketing_list()] == ["eva@example.com"]
    assert hubspot.lists == {"42": {"1001"}}
    leave_details(bot, "changed", "Eva", "eva@example.com", marketing="/deny")
    assert store.marketing_list() == [] and hubspot.lists == {"42": set()}


def test_a_leads_file_of_an_earlier_version_is_imported_once(tmp_path: Path) -> None:
    """Leads were kept in leads.db (without the opt-in at first): they move into the
    project's database the first time it is opened, and the file is put aside."""
    with sqlite3.connect(tmp_path / "leads.db") as db:
        db.execute(
            "CREATE TABLE leads (email TEXT PRIMARY KEY, name TEXT, phone TEXT, message TEXT, "
            "source TEXT, sender_id TEXT, crm_id TEXT, synced INTEGER NOT NULL DEFAULT 0, "
            "created TEXT NOT NULL, updated TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO leads VALUES ('Old@x.org', 'Old', '', '', 'chat', 's1', '77', 1, "
            "'2026-01-02T10:00:00+00:00', '2026-01-02T10:00:00+00:00')"
        )
    db.close()
    store = the_leads(tmp_path)
    (old,) = store.all()
    assert (old.email, old.name, old.crm_id, old.synced, old.marketing) == (
        "old@x.org",
        "Old",
        "77",
        True,
        None,
    )
    assert not (tmp_path / "leads.db").exists() and (tmp_path / "leads.db.imported").exists()
    store.save(Lead("old@x.org", marketing=True))
    assert [lead.email for lead in store.marketing_list()] == ["old@x.org"]


def test_a_refused_token_is_an_error_and_nothing_is_marked_synced(tmp_path: Path) -> None:
    with fake_hubspot() as fake:
        store = the_leads(tmp_path)
        store.save(Lead("ed@example.com", "Ed"))
        assert sync_pending(store, HubSpotClient(fake.url, "wrong-token")) == 0
        assert [lead.email for lead in store.unsynced()] == ["ed@example.com"]


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("+44 20 7946 0321", "+44 20 7946 0321"),
        ("0612-345678", "0612-345678"),
        ("call me", None),
        ("12", None),
        ("+1 234 567 890 123 456 789", None),
    ],
)
def test_phone_numbers_are_checked(said: str, kept: str | None) -> None:
    assert valid_phone(said) == kept


def test_waiting_leads_go_in_one_batch_upsert_and_a_customer_stays_a_customer(
    tmp_path: Path,
) -> None:
    """Upsert by e-mail: one call for every waiting lead, no search-then-create race. A
    new contact is marked a new lead; a contact HubSpot already has keeps its stage."""
    with fake_hubspot() as fake:
        fake.contacts["1001"] = {"email": "old@example.com", "lifecyclestage": "customer"}
        store = the_leads(tmp_path)
        for email in ("old@example.com", "new1@example.com", "new2@example.com"):
            store.save(Lead(email, "Some One"))
        assert sync_pending(store, HubSpotClient(fake.url, TOKEN)) == 3
        assert [path for _, path in fake.calls] == [
            "/crm/v3/objects/contacts/batch/upsert",
            "/crm/v3/objects/contacts/batch/update",
        ]
        assert fake.contacts["1001"]["lifecyclestage"] == "customer"
        assert [c.get("hs_lead_status") for c in fake.contacts.values()] == [None, "NEW", "NEW"]
        assert store.unsynced() == []


def test_too_many_requests_is_waited_out_or_left_for_the_next_sync(tmp_path: Path) -> None:
    """HubSpot's 429: a short `Retry-After` is waited and the call tried again; a long one
    leaves the leads for the next sync rather than holding the conversation."""
    with fake_hubspot() as fake:
        store = the_leads(tmp_path)
        store.save(Lead("ana@example.com", "Ana"))
        fake.too_many, fake.retry_after = 2, "0"
        assert sync_pending(store, HubSpotClient(fake.url, TOKEN)) == 1
        assert len(fake.calls) == 4  # two refused, the upsert, the new lead's status
        store.save(Lead("bo@example.com", "Bo"))
        fake.too_many, fake.retry_after = 1, "3600"
        assert sync_pending(store, HubSpotClient(fake.url, TOKEN)) == 0
        assert [lead.email for lead in store.unsynced()] == ["bo@example.com"]
