"""The right to be forgotten: every conversation of a customer, on every channel, and all
the console keeps about them, gone; the e-mail platform's member deleted; one line in the
audit log that says so without saying who. From the console and from the command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from parlez.console.analytics.config import AnalyticsConfig
from parlez.console.audience import MailchimpAudience, Member, subscriber_hash
from parlez.console.database import ConsoleDatabase
from parlez.console.forget import ForgetError, assistant_forgetting, forget_customer
from parlez.console.index import ConversationIndex
from parlez.console.models import SEARCH_TABLE, contacts, metadata
from parlez.console.roles import Role
from parlez.core.actions.custom import CustomActionExecutor, InProcessExecutor
from parlez.domain import Domain
from parlez.events import (
    BotUttered,
    ReminderScheduled,
    SlotSet,
)
from parlez.stores.sql import SQLTrackerStore
from tests.conftest import write
from tests.console.conftest import Console, add, make_console, said
from tests.fakes.mailchimp import API_KEY, LIST_ID, FakeMailchimp, fake_mailchimp

pytestmark = pytest.mark.anyio

T = 1772443800.0


@pytest.fixture
def mailchimp() -> Iterator[FakeMailchimp]:
    with fake_mailchimp() as fake:
        yield fake


async def ana_and_bo(store: SQLTrackerStore) -> None:
    """Ana on the web chat and on Messenger (the same address), with a reminder to come;
    Bo on SMS."""
    later = datetime.now() + timedelta(days=1)
    await add(
        store,
        "web-ana",
        said("hi, I'm Ana", T, "webchat", visitor={"email": "ana@example.com"}),
        SlotSet("marketing_consent", True, timestamp=T + 1),
        BotUttered("Hello Ana", timestamp=T + 2),
    )
    await add(
        store,
        "2411",
        said("my parking question", T + 60, "facebook", psid="2411"),
        SlotSet("email", "ana@example.com", timestamp=T + 61),
        ReminderScheduled("call_back", later, name="follow_up", timestamp=T + 62),
    )
    await add(store, "+15550001111", said("hello from Bo", T + 120, "twilio", phone="+15550001111"))


async def rows_about(index: ConversationIndex, senders: list[str]) -> int:
    found = 0
    async with index.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if "sender_id" in table.c:
                found += int(
                    await connection.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(table.c.sender_id.in_(senders))
                    )
                    or 0
                )
        for sender in senders:
            found += int(
                await connection.scalar(
                    text(f"SELECT count(*) FROM {SEARCH_TABLE} WHERE sender_id = :s"), {"s": sender}
                )
                or 0
            )
    return found


async def test_a_forgotten_customer_leaves_nothing_behind_and_no_one_else_is_touched(
    store: SQLTrackerStore, mailchimp: FakeMailchimp
) -> None:
    database = ConsoleDatabase(store.engine)
    index = ConversationIndex(store, database, AnalyticsConfig())
    await ana_and_bo(store)
    await database.upgrade()
    await database.add_label("2411", "vip")
    await index.catch_up_reports(None)
    audience = MailchimpAudience(API_KEY, LIST_ID, mailchimp.url)
    await audience.upsert(Member("ana@example.com", True), frozenset())
    async with index.engine.connect() as connection:
        ana = await connection.scalar(select(contacts.c.id).where(contacts.c.consent.is_(True)))
    assert await rows_about(index, ["web-ana", "2411"]) > 0
    done = await forget_customer(index, ana, store.replace, audience)
    assert done is not None and done.conversations == 2 and not done.platform_problem
    assert sorted(await store.keys()) == ["+15550001111"]
    assert await store.next_reminder_at() is None  # Ana's reminder will not call her back
    assert await rows_about(index, ["web-ana", "2411"]) == 0
    assert subscriber_hash("ana@example.com") in mailchimp.forgotten
    assert await index.catch_up_reports(None)  # and nothing brings her back
    assert await rows_about(index, ["web-ana", "2411"]) == 0
    assert await rows_about(index, ["+15550001111"]) > 0  # Bo stays
    assert await forget_customer(index, ana, store.replace, audience) is None
    await audience.aclose()


ACTIONS = """
from pathlib import Path

from rasa_sdk import Action


class ActionForgetCustomer(Action):
    def name(self):
        return "action_forget_customer"

    def run(self, dispatcher, tracker, domain):
        if tracker.sender_id == "{fail}":
            raise ConnectionError("the shop's CRM did not answer")
        emails = [e["value"] for e in tracker.events if e.get("name") == "email"]
        with open({log!r}, "a") as log:
            log.write(f"{{tracker.sender_id}} {{emails}}\\n")
        return []
"""


def tmp_name(root: Path) -> str:
    return "".join(c for c in root.name if c.isalnum())


def actions_package(root: Path, name: str, fail: str = "") -> InProcessExecutor:
    """A business's own actions package with an `action_forget_customer` that notes what it
    was given (and fails on the conversation `fail`). Named after the test's folder: a
    module imported once stays imported."""
    name = f"{name}_{tmp_name(root)}"
    write(root / name / "__init__.py", ACTIONS.format(fail=fail, log=str(root / f"{name}.log")))
    sys.path.insert(0, str(root))
    return InProcessExecutor(name)


async def indexed_ana_and_bo(store: SQLTrackerStore) -> tuple[ConversationIndex, int]:
    """Ana and Bo's conversations in the index; Ana's customer number."""
    database = ConsoleDatabase(store.engine)
    index = ConversationIndex(store, database, AnalyticsConfig())
    await ana_and_bo(store)
    await database.upgrade()
    await index.catch_up_reports(None)
    async with index.engine.connect() as connection:
        ana = await connection.scalar(select(contacts.c.id).where(contacts.c.consent.is_(True)))
    return index, int(ana)


async def test_the_assistants_own_forgetting_runs_first_on_each_conversation(
    store: SQLTrackerStore, tmp_path: Path
) -> None:
    index, ana = await indexed_ana_and_bo(store)
    executor = actions_package(tmp_path, "shop_forgets")
    before = assistant_forgetting(store, executor, Domain.from_yaml("version: '3.1'"))
    done = await forget_customer(index, ana, store.replace, None, before)
    assert done is not None and done.conversations == 2
    log = sorted((tmp_path / f"shop_forgets_{tmp_name(tmp_path)}.log").read_text().splitlines())
    assert log == ["2411 ['ana@example.com']", "web-ana []"]  # each, with its whole conversation


async def test_when_the_assistants_forgetting_fails_nothing_is_forgotten(
    store: SQLTrackerStore, tmp_path: Path
) -> None:
    index, ana = await indexed_ana_and_bo(store)
    executor = actions_package(tmp_path, "shop_fails", fail="2411")
    before = assistant_forgetting(store, executor, Domain.from_yaml("version: '3.1'"))
    with pytest.raises(ForgetError) as stopped:
        await forget_customer(index, ana, store.replace, None, before)
    assert stopped.value.code == "P558" and "CRM did not answer" in stopped.value.message
    assert sorted(await store.keys()) == ["+15550001111", "2411", "web-ana"]
    assert await rows_about(index, ["web-ana", "2411"]) > 0


class NoForgetting(CustomActionExecutor):
    async def run(self, name: str, tracker: Any, domain: Domain) -> dict[str, Any]:
        raise AssertionError("not to be run")

    def names(self) -> list[str] | None:
        return ["action_greet_back"]


def test_without_the_action_nothing_extra_runs() -> None:
    # (rasa_sdk registers every Action class imported in the process, so this executor
    # stands for an assistant without the action rather than a package on disk)
    domain = Domain.from_yaml("version: '3.1'")
    assert assistant_forgetting(None, NoForgetting(), domain) is None  # type: ignore[arg-type]
    assert assistant_forgetting(None, None, domain) is None  # type: ignore[arg-type]


async def test_owners_forget_from_the_console_with_a_confirmation(
    small_model: Path, tmp_path: Path
) -> None:
    console: Console = await make_console(small_model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    try:
        store = console.app.ctx.state.agent.tracker_store
        await ana_and_bo(store)
        owner = await console.sign_in(Role.OWNER)
        page = await owner.get("/console/customers?q=ana@")
        assert "ana@example.com" in page.text
        ana = int(page.text.split('href="/console/customers/')[1].split('"')[0])
        customer = await owner.get(f"/console/customers/{ana}")
        assert "Forget this customer" in customer.text
        agent = await console.sign_in(Role.AGENT)
        assert "Forget this customer" not in (await agent.get(f"/console/customers/{ana}")).text
        assert (
            await agent.post(f"/console/customers/{ana}/forget", {"confirm": "yes"})
        ).status == 403
        unconfirmed = await owner.post(f"/console/customers/{ana}/forget", {})
        assert unconfirmed.status == 400 and await store.retrieve("2411") is not None
        done = await owner.post(f"/console/customers/{ana}/forget", {"confirm": "yes"})
        assert done.status == 303
        assert "2 conversations forgotten" in (await owner.get(done.headers["location"])).text
        assert (await owner.get(f"/console/customers/{ana}")).status == 404
        assert (await owner.get("/console/conversations/2411")).status == 404
        audit = await console.database.audit()
        entry = next(e for e in audit if e["action"] == "forget_customer")
        assert entry["detail"] == "2 conversations" and "ana" not in str(entry).lower()
    finally:
        await console.close()


def test_the_command_line_forgets_a_customer_by_address(tmp_path: Path) -> None:
    import asyncio

    db = tmp_path / "conversations.db"
    endpoints = write(
        tmp_path / "endpoints.yml", f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n"
    )

    async def fill() -> None:
        store = SQLTrackerStore(f"sqlite+aiosqlite:///{db}")
        await ana_and_bo(store)
        await store.close()

    asyncio.run(fill())
    command = [sys.executable, "-m", "parlez", "console", "forget-customer"]
    where = ["--project", str(tmp_path), "--endpoints", str(endpoints)]
    refused = subprocess.run(
        [*command, "ana@example.com", *where],
        input="no\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 1 and "Nothing was forgotten" in refused.stdout
    done = subprocess.run(
        [*command, "ANA@example.com", "--yes", *where], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "and 2 conversations" in done.stdout

    async def left() -> list[str]:
        store = SQLTrackerStore(f"sqlite+aiosqlite:///{db}")
        try:
            return sorted(await store.keys())
        finally:
            await store.close()

    assert asyncio.run(left()) == ["+15550001111"]
    unknown = subprocess.run(
        [*command, "nobody@example.com", "--yes", *where],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert unknown.returncode == 1 and "No customer is known" in unknown.stdout
