"""Follow-up e-mails after chats: due a set time after what the customer did, sent once, only
to customers who said yes, in their language, with a working unsubscribe link; a mail server
away is tried again later. Against a real SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parlez.console.analytics.config import AnalyticsConfig, Outcome
from parlez.console.audience import MarketingFileError
from parlez.console.contacts import ContactBook
from parlez.console.database import ConsoleDatabase
from parlez.console.follow_ups import FollowUps
from parlez.console.index import ConversationIndex
from parlez.console.marketing import MarketingConfig
from parlez.console.roles import Role
from parlez.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from parlez.jobs import SqlJobs
from parlez.stores.sql import SQLTrackerStore
from tests.conftest import write
from tests.console.conftest import add, make_console
from tests.jobs.conftest import Clock
from tests.services import SMTPServer, start_smtp

pytestmark = pytest.mark.anyio

T = 1772443800.0
DAY = 86400.0
QUESTION = "Would you like to hear about our offers and news by e-mail now and then?"
OUTCOMES = (
    Outcome("lead", "action_save_lead"),
    Outcome("booked", "action_book_appointment"),
    Outcome("cancelled", "action_cancel_appointment"),
)

RULES = """\
public_url: https://chat.maplestreet.example/
follow_ups:
  still-need-help: {after: unresolved, wait_days: 1, template: still-need-help}
  book-now: {after: lead, unless: booked, wait_days: 7, template: book-now}
"""

TEXT = """\
Subject: Did you find what you needed, {{ customer.name }}?

Hello {{ customer.name }},

You asked {{ business.name }} something on {{ conversation.started.strftime('%d %B') }}.
Stop these e-mails: {{ unsubscribe_url }}
"""
HTML = '<p>Hello {{ customer.name }},</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>\n'
FRENCH = "Subject: Avez-vous trouvé, {{ customer.name }} ?\n\nBonjour {{ customer.name }}.\n"
BOOK = "Subject: Book your visit\n\nStill thinking about it, {{ customer.name }}?\n"


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    yield from start_smtp()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "marketing.yml", RULES)
    write(root / "follow_ups" / "still-need-help.en.txt", TEXT)
    write(root / "follow_ups" / "still-need-help.en.html", HTML)
    write(root / "follow_ups" / "still-need-help.fr.txt", FRENCH)
    write(root / "follow_ups" / "book-now.en.txt", BOOK)
    return root


def asked(at: float, email: str, name: str, yes: bool, channel: str = "webchat") -> list[Event]:
    """A question the assistant could not answer, after the customer gave their address and
    answered the marketing question."""
    return [
        UserUttered(
            "hi", {"name": "greet", "confidence": 0.9}, timestamp=at, input_channel=channel
        ),
        SlotSet("customer_name", name, timestamp=at + 1),
        SlotSet("email", email, timestamp=at + 2),
        BotUttered(QUESTION, timestamp=at + 3),
        SlotSet("marketing_consent", yes, timestamp=at + 4),
        UserUttered(
            "do you do hair extensions?",
            {"name": "nlu_fallback", "confidence": 0.3},
            timestamp=at + 5,
        ),
        ActionExecuted("action_default_fallback", timestamp=at + 6),
    ]


def lead(at: float, email: str, name: str) -> list[Event]:
    return [
        UserUttered("call me", {"name": "request_contact", "confidence": 0.9}, timestamp=at),
        SlotSet("customer_name", name, timestamp=at + 1),
        SlotSet("email", email, timestamp=at + 2),
        BotUttered(QUESTION, timestamp=at + 3),
        SlotSet("marketing_consent", True, timestamp=at + 4),
        ActionExecuted("action_save_lead", timestamp=at + 5),
        BotUttered("Thanks, we will call you.", timestamp=at + 6),
    ]


def following(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer, clock: Clock
) -> tuple[FollowUps, SqlJobs]:
    index = ConversationIndex(
        store, ConsoleDatabase(store.engine), AnalyticsConfig(outcomes=OUTCOMES)
    )
    config = MarketingConfig.load(project, index.analytics.outcome_names)
    business = {
        "name": "Maple Street Studio",
        "languages": ["en", "fr"],
        "email": {"type": "smtp", "host": "127.0.0.1", "port": smtp.port, "from": "hi@ms.example"},
    }
    follow_ups = FollowUps(index, config, project, lambda: business, clock=clock)
    jobs = SqlJobs(store.engine, clock=clock)
    follow_ups.schedule_on(jobs)
    return follow_ups, jobs


async def run(follow_ups: FollowUps, jobs: SqlJobs) -> int:
    """A scan, then every job it made due. How many follow-ups the scan found."""
    await ConsoleDatabase(follow_ups.index.database.engine).upgrade()
    found = await follow_ups.scan()
    while await jobs.run_due():
        pass
    return found


async def test_an_unresolved_chat_is_followed_up_a_day_later_once(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    await add(store, "v1", *asked(T, "Ana@Example.com", "Ana <b>Lima</b>", yes=True))
    clock = Clock(T + DAY)
    follow_ups, jobs = following(store, project, smtp, clock)
    assert await run(follow_ups, jobs) == 0  # a day after the customer's last message, not before
    clock.now = T + 6 + DAY
    assert await run(follow_ups, jobs) == 1
    [mail] = smtp.received
    assert mail["To"] == "ana@example.com"
    assert mail["Subject"] == "Did you find what you needed, Ana <b>Lima</b>?"
    [token] = [f.id for f in await follow_ups.of_contact(1)]
    link = mail["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://chat.maplestreet.example/console/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    assert "You asked Maple Street Studio something on 02 March." in text
    assert link in text
    html = mail.get_body(("html",)).get_content()
    assert "Ana &lt;b&gt;Lima&lt;/b&gt;" in html and "<b>" not in html
    # Scanned again, later: nothing more.
    clock.now += 600
    assert await run(follow_ups, jobs) == 0
    assert len(smtp.received) == 1
    [sent] = await follow_ups.of_contact(1)
    assert (sent.id, sent.state, sent.sent_at) == (token, "sent", clock.now - 600)


async def test_no_follow_up_without_a_yes_and_none_once_the_customer_came_back(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    await add(store, "no", *asked(T, "bo@example.com", "Bo", yes=False))
    await add(store, "back", *asked(T, "cy@example.com", "Cy", yes=True))
    clock = Clock(T + 6 + DAY)
    follow_ups, jobs = following(store, project, smtp, clock)
    await ConsoleDatabase(store.engine).upgrade()
    assert await follow_ups.scan() == 1  # Cy's; Bo said no
    # Cy writes again before the e-mail goes (on another channel, the same address).
    await add(
        store,
        "cy-sms",
        UserUttered("it's Cy again", timestamp=T + DAY, input_channel="twilio"),
        SlotSet("email", "cy@example.com", timestamp=T + DAY + 1),
    )
    while await jobs.run_due():
        pass
    assert smtp.received == []
    [skipped] = await follow_ups.of_contact(2)
    assert (skipped.state, skipped.reason) == ("skipped", "the customer came back since")


async def test_a_lead_is_nudged_after_a_week_unless_they_booked_since(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    await add(store, "ana", *lead(T, "ana@example.com", "Ana"))
    await add(store, "bo", *lead(T, "bo@example.com", "Bo"))
    await add(
        store,
        "bo",
        UserUttered("book me in", timestamp=T + 2 * DAY),
        ActionExecuted("action_book_appointment", timestamp=T + 2 * DAY + 1),
        SlotSet("booking_id", "b-1", timestamp=T + 2 * DAY + 2),
    )
    clock = Clock(T + 6 + 7 * DAY)
    follow_ups, jobs = following(store, project, smtp, clock)
    await run(follow_ups, jobs)
    assert [m["To"] for m in smtp.received] == ["ana@example.com"]
    assert smtp.received[0]["Subject"] == "Book your visit"


async def test_the_follow_up_is_written_in_the_customers_language(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    events = asked(T, "eli@example.fr", "Éli", yes=True)
    await add(store, "eli", events[0], SlotSet("language", "fr", timestamp=T), *events[1:])
    follow_ups, jobs = following(store, project, smtp, Clock(T + 6 + DAY))
    await run(follow_ups, jobs)
    [mail] = smtp.received
    assert mail["Subject"] == "Avez-vous trouvé, Éli ?"
    assert not mail.is_multipart()  # no French HTML: the text alone, not the English page
    assert mail.get_content().strip() == "Bonjour Éli."


async def test_a_mail_server_away_is_tried_again_and_the_follow_up_sent_once(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    await add(store, "v1", *asked(T, "ana@example.com", "Ana", yes=True))
    clock = Clock(T + 6 + DAY)
    follow_ups, jobs = following(store, project, smtp, clock)
    smtp.stop()
    await run(follow_ups, jobs)
    [waiting] = await follow_ups.of_contact(1)
    assert waiting.state == "queued" and "did not take the message" in waiting.reason
    smtp.start()
    clock.now += 300  # the job's first retry
    await run(follow_ups, jobs)
    clock.now += 3600
    await run(follow_ups, jobs)
    assert len(smtp.received) == 1
    assert (await follow_ups.of_contact(1))[0].state == "sent"


async def test_a_follow_up_its_process_died_sending_is_not_sent_again(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    await add(store, "v1", *asked(T, "ana@example.com", "Ana", yes=True))
    follow_ups, _ = following(store, project, smtp, Clock(T + 6 + DAY))
    await ConsoleDatabase(store.engine).upgrade()
    await follow_ups.scan()
    [queued] = await follow_ups.of_contact(1)
    await follow_ups._end(queued.id, "sending", "")  # as a process killed mid-send leaves it
    assert await follow_ups.send(queued.id) == "sending"
    assert smtp.received == []


async def test_the_unsubscribe_link_stops_the_emails(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    await add(store, "v1", *asked(T, "ana@example.com", "Ana", yes=True))
    clock = Clock(T + 6 + DAY)
    follow_ups, jobs = following(store, project, smtp, clock)
    await run(follow_ups, jobs)
    [sent] = await follow_ups.of_contact(1)
    token = str(smtp.received[0]["List-Unsubscribe"]).strip("<>").rsplit("/", 1)[1]
    assert await follow_ups.unsubscribe(token) == sent
    contact, _ = await ContactBook(store.engine).find(1)
    assert contact is not None and contact.consent is False
    assert "unsubscribed with the link in 'still-need-help'" in contact.consent_wording
    assert await follow_ups.unsubscribe("not-a-token") is None
    # A later unresolved chat gets no e-mail.
    await add(store, "v1-again", *asked(T + 3 * DAY, "ana@example.com", "Ana", yes=True)[5:])
    await add(store, "v1-again", SlotSet("email", "ana@example.com", timestamp=T + 3 * DAY + 7))
    clock.now = T + 4 * DAY + 10
    assert await run(follow_ups, jobs) == 0
    assert len(smtp.received) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("follow_ups:\n  x: {after: unresolved, wait_days: 1, template: x}\n", "public_url"),
        (
            "public_url: https://a.example\nfollow_ups:\n  x: {after: paid, wait_days: 1, template: x}\n",
            "comes after 'paid', which is not an outcome",
        ),
        (
            "public_url: https://a.example\nfollow_ups:\n  x: {after: lead, wait_days: soon, template: x}\n",
            "'wait_days' of the follow-up 'x' is a number of days",
        ),
        (
            "public_url: https://a.example\nfollow_ups:\n  x: {after: lead, wait_days: 1, unless: [paid], template: x}\n",
            "'unless' lists outcomes",
        ),
        (
            "public_url: https://a.example\nfollow_ups:\n  x: {after: lead, wait_days: 1, templates: x}\n",
            "templates",
        ),
    ],
)
def test_a_broken_rule_names_its_line(text: str, message: str) -> None:
    with pytest.raises(MarketingFileError, match=message) as raised:
        MarketingConfig.from_text(text, ("lead", "booked"))
    assert raised.value.where is not None and raised.value.where.line


def test_a_broken_template_names_its_file_and_line(tmp_path: Path) -> None:
    from parlez.console.follow_up_rules import FollowUpTemplates
    from parlez.exceptions import Location

    templates = FollowUpTemplates(tmp_path)
    with pytest.raises(MarketingFileError, match="has no file"):
        templates.check("thanks", Location("marketing.yml", 3))
    write(tmp_path / "follow_ups" / "thanks.en.txt", "Subject: Thanks\n\n{% if x %}\nno end\n")
    with pytest.raises(MarketingFileError) as raised:
        templates.check("thanks", Location("marketing.yml", 3))
    assert raised.value.where is not None
    assert raised.value.where.path == "follow_ups/thanks.en.txt"
    assert raised.value.where.line == 3  # the `if` left open
    write(tmp_path / "follow_ups" / "thanks.en.txt", "Thanks!\n")
    with pytest.raises(MarketingFileError, match="starts with its subject"):
        templates.check("thanks", Location("marketing.yml", 3))


def test_a_rule_whose_template_is_missing_is_reported_at_its_line(project: Path) -> None:
    write(
        project / "marketing.yml",
        RULES + "  thanks:\n    after: lead\n    wait_days: 0\n    template: thank-you\n",
    )
    with pytest.raises(MarketingFileError, match="the template 'thank-you' has no file") as raised:
        MarketingConfig.load(project, ("lead", "booked"))
    assert raised.value.where is not None and raised.value.where.line == 8


async def test_a_running_server_sends_the_follow_up_and_its_unsubscribe_page_works(
    small_model: Path, project: Path, tmp_path: Path, smtp: SMTPServer
) -> None:
    """`parlez run`'s app: its jobs scan and send with the project's files; the link's page
    asks, then stops the e-mails (a mail scanner following the link changes nothing)."""
    write(
        project / "business.yml",
        f"name: Maple <Street> Studio\nlanguages: [en]\nemail:\n  type: smtp\n"
        f"  host: 127.0.0.1\n  port: {smtp.port}\n",
    )
    write(
        project / "analytics.yml",
        "outcomes:\n  lead: {action: action_save_lead}\n"
        "  booked: {action: action_book_appointment}\n",
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}"
    store = SQLTrackerStore(url)
    await add(store, "v1", *asked(time.time() - DAY - 60, "ana@example.com", "Ana", yes=True))
    await store.close()
    console = await make_console(small_model, url, project=project)
    try:
        await console.app.asgi_client.get("/")  # the app starts (and stops: no worker stays)
        follow_ups: FollowUps = console.app.ctx.follow_ups
        jobs: SqlJobs = console.app.ctx.jobs
        await jobs.begin()  # as its worker does
        while await jobs.run_due():
            pass
        assert len(smtp.received) == 1
        viewer = await console.sign_in(Role.VIEWER)
        page = (await viewer.get("/console/customers/1")).text
        assert (
            "Follow-up e-mails" in page
            and "<strong>still-need-help</strong> to ana@example.com" in page
        )
        link = str(smtp.received[0]["List-Unsubscribe"]).strip("<>")
        path = link.removeprefix("https://chat.maplestreet.example")
        _, page = await console.app.asgi_client.get(path)
        assert page.status == 200
        assert "Stop the e-mails to <strong>ana@example.com</strong>?" in page.text
        assert "Maple &lt;Street&gt; Studio" in page.text
        contact, _ = await ContactBook(follow_ups.index.database.engine).find(1)
        assert contact is not None and contact.consent is True  # reading the page changes nothing
        # A mail program's one-click unsubscribe (RFC 8058) posts to the same address.
        _, done = await console.app.asgi_client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200 and "will get no more e-mails" in done.text
        contact, _ = await ContactBook(follow_ups.index.database.engine).find(1)
        assert contact is not None and contact.consent is False
        _, unknown = await console.app.asgi_client.get("/console/unsubscribe/made-up")
        assert unknown.status == 404 and "not one of ours" in unknown.text
    finally:
        await console.close()


async def test_a_customer_gets_one_follow_up_a_day_at_most(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    await add(store, "lead", *lead(T - 6 * DAY, "ana@example.com", "Ana"))
    await add(store, "asked", *asked(T, "ana@example.com", "Ana", yes=True))
    follow_ups, jobs = following(store, project, smtp, Clock(T + 6 + DAY))
    await run(follow_ups, jobs)  # the nudge and the unanswered question are due together
    assert len(smtp.received) == 1
    states = sorted((f.state, f.reason) for f in await follow_ups.of_contact(1))
    assert states == [
        ("sent", ""),
        ("skipped", "another follow-up went to the customer less than a day ago"),
    ]


REMINDER = """\
public_url: https://chat.maplestreet.example
follow_ups:
  reminder:
    after: booked
    from_slot: appointment_time
    wait_days: -1
    unless: [cancelled]
    template: reminder
"""


def booked(at: float, email: str, appointment: str) -> list[Event]:
    return [
        UserUttered("book me in", {"name": "book", "confidence": 0.9}, timestamp=at),
        SlotSet("email", email, timestamp=at + 1),
        BotUttered(QUESTION, timestamp=at + 2),
        SlotSet("marketing_consent", True, timestamp=at + 3),
        SlotSet("appointment_time", appointment, timestamp=at + 4),
        ActionExecuted("action_book_appointment", timestamp=at + 5),
    ]


@pytest.fixture
def reminders(project: Path) -> Path:
    write(project / "marketing.yml", REMINDER)
    write(
        project / "follow_ups" / "reminder.en.txt",
        "Subject: See you tomorrow\n\nYour appointment: {{ when.strftime('%A %d %B at %H:%M') }}.\n",
    )
    return project


async def test_a_reminder_goes_the_day_before_the_appointment_and_follows_it_when_moved(
    store: SQLTrackerStore, reminders: Path, smtp: SMTPServer
) -> None:
    # Booked on Monday 2 March 2026 for Saturday 7 March at 10:00 (UTC).
    await add(store, "v1", *booked(T, "ana@example.com", "2026-03-07T10:00:00+00:00"))
    clock = Clock(T + 60)
    follow_ups, jobs = following(store, reminders, smtp, clock)
    assert await run(follow_ups, jobs) == 1  # written at once, due on Friday at 10:00
    [waiting] = await follow_ups.of_contact(1)
    assert waiting.state == "queued" and waiting.due_at == 1772791200.0
    assert smtp.received == []
    # She moves it to Monday 9 March at 15:00 before the reminder goes.
    await add(
        store, "v1", SlotSet("appointment_time", "2026-03-09T15:00:00+00:00", timestamp=T + 3600)
    )
    clock.now = 1772791200.0
    await run(follow_ups, jobs)
    assert smtp.received == []
    [moved] = await follow_ups.of_contact(1)
    assert (moved.state, moved.due_at) == ("queued", 1772982000.0)  # Sunday 15:00
    clock.now = 1772982000.0
    await run(follow_ups, jobs)
    [mail] = smtp.received
    assert mail["Subject"] == "See you tomorrow"
    assert "Your appointment: Monday 09 March at 15:00." in mail.get_content()
    clock.now += DAY
    await run(follow_ups, jobs)
    assert len(smtp.received) == 1


async def test_no_reminder_for_a_cancelled_appointment_or_one_without_a_time(
    store: SQLTrackerStore, reminders: Path, smtp: SMTPServer
) -> None:
    await add(store, "v1", *booked(T, "ana@example.com", "2026-03-07T10:00:00+00:00"))
    await add(
        store,
        "v1",
        ActionExecuted("action_cancel_appointment", timestamp=T + 600),
    )
    await add(store, "v2", *booked(T, "bo@example.com", "sometime soon"))
    clock = Clock(T + 700)
    follow_ups, jobs = following(store, reminders, smtp, clock)
    await run(follow_ups, jobs)
    clock.now = 1772791200.0
    await run(follow_ups, jobs)
    assert smtp.received == []
    states = {f.email: (f.state, f.reason) for f in await follow_ups.of_contact(1)}
    assert states["ana@example.com"] == ("skipped", "the customer reached 'cancelled' since")
    [bo] = await follow_ups.of_contact(2)
    assert (bo.state, bo.reason) == ("skipped", "no time in the slot 'appointment_time'")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{after: lead, wait_days: -1, template: x}", "'wait_days' of the follow-up 'x'"),
        ("{after: unresolved, from_slot: t, wait_days: 1, template: x}", "'from_slot'"),
    ],
)
def test_only_a_time_in_a_slot_may_be_counted_back_from(rule: str, message: str) -> None:
    text = f"public_url: https://a.example\nfollow_ups:\n  x: {rule}\n"
    with pytest.raises(MarketingFileError, match=message):
        MarketingConfig.from_text(text, ("lead", "booked"))


async def test_a_reminder_goes_even_after_another_follow_up_that_day(
    store: SQLTrackerStore, reminders: Path, smtp: SMTPServer
) -> None:
    from sqlalchemy import insert

    from parlez.console.models import follow_ups as table

    await add(store, "v1", *booked(T, "ana@example.com", "2026-03-07T10:00:00+00:00"))
    clock = Clock(T + 60)
    follow_ups, jobs = following(store, reminders, smtp, clock)
    await run(follow_ups, jobs)
    async with store.engine.begin() as connection:  # a nudge went an hour before
        await connection.execute(
            insert(table).values(
                rule="book-now",
                sender_id="other",
                session=0,
                contact_id=1,
                email="ana@example.com",
                language="en",
                due_at=1772787600.0,
                state="sent",
                reason="",
                sent_at=1772787600.0,
                token="t" * 32,
            )
        )
    clock.now = 1772791200.0
    await run(follow_ups, jobs)
    assert [m["Subject"] for m in smtp.received] == ["See you tomorrow"]


async def test_a_forgotten_customers_follow_ups_and_purchases_go_with_them(
    store: SQLTrackerStore, project: Path, smtp: SMTPServer
) -> None:
    from sqlalchemy import func, select

    from parlez.console.forget import forget_customer
    from parlez.console.models import follow_ups as table
    from parlez.console.models import tracked
    from parlez.console.tracking import record

    await add(store, "v1", *asked(T, "ana@example.com", "Ana", yes=True))
    follow_ups, jobs = following(store, project, smtp, Clock(T + 6 + DAY))
    await ConsoleDatabase(store.engine).upgrade()
    await follow_ups.scan()
    await record(store.engine, "v1", "purchase", 40.0, "EUR", "A-9", at=T + 10)
    forgotten = await forget_customer(follow_ups.index, 1, store.replace)
    assert forgotten is not None
    while await jobs.run_due():  # the job of the follow-up written before finds nothing
        pass
    assert smtp.received == []
    async with store.engine.connect() as connection:
        for kept in (table, tracked):
            assert await connection.scalar(select(func.count()).select_from(kept)) == 0
