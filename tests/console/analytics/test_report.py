"""The reports on a hand-built set of conversations whose every figure is known, on SQLite
and PostgreSQL: the page, its JSON, its CSV, its filters and who may read them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from parlez.console.analytics.config import AnalyticsConfig, Outcome
from parlez.console.analytics.report import ReportFilters, build_report
from parlez.console.index import ConversationIndex
from parlez.console.roles import Role
from parlez.events import (
    ActionExecuted,
    BotUttered,
    CallStep,
    ConversationPaused,
    ConversationResumed,
    Event,
    FeedbackGiven,
    KnowledgeMissed,
    SlotSet,
    UserUttered,
)
from parlez.io.edit import digest_of
from parlez.stores.tracker_store import TrackerStore
from tests.console.conftest import Console

pytestmark = pytest.mark.anyio

#: 2026-03-02 (a Monday) 10:00 UTC
MONDAY = 1772445600.0
DAY = 86400.0
RANGE = "since=2026-03-01&until=2026-03-31"
FILTERS = ReportFilters(date(2026, 3, 1), date(2026, 3, 31))


def said(text: str, at: float, intent: str, channel: str = "webchat", model: str = "m1") -> Event:
    return UserUttered(
        text,
        intent={"name": intent, "confidence": 0.9},
        input_channel=channel,
        timestamp=at,
        metadata={"model_id": model},
    )


async def save(store: TrackerStore, sender_id: str, *events: Event) -> None:
    tracker = await store.get_or_create(sender_id)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


async def six_conversations(console: Console) -> None:
    """What they add up to is written beside each: the tests below check the sums."""
    store = console.app.ctx.state.agent.tracker_store
    t = MONDAY
    # 1. a question answered from the knowledge base, rated 5: resolved
    await save(
        store,
        "c1",
        said("opening hours?", t, "ask_question"),
        ActionExecuted("action_answer_from_kb", timestamp=t + 1),
        BotUttered("9 to 6", timestamp=t + 1),
        FeedbackGiven(rating=5, timestamp=t + 30),
    )
    # 2. a booking, then a lead: resolved, converted, rated 4
    await save(
        store,
        "c2",
        said("book a haircut", t + 3600, "book"),
        ActionExecuted("action_book", timestamp=t + 3601),
        BotUttered("Booked", timestamp=t + 3601),
        SlotSet("booking_id", "b1", timestamp=t + 3601),
        said("and keep me posted", t + 3700, "subscribe"),
        ActionExecuted("action_save_lead", timestamp=t + 3701),
        BotUttered("Done", timestamp=t + 3701),
        FeedbackGiven(rating=4, timestamp=t + 3800),
    )
    # 3. a question the knowledge base missed, on Tuesday, in French: not resolved
    await save(
        store,
        "c3",
        said("vous vendez des bons cadeaux ?", t + DAY, "ask_question", channel="twilio"),
        SlotSet("language", "fr", timestamp=t + DAY),
        ActionExecuted("action_answer_from_kb", timestamp=t + DAY + 1),
        KnowledgeMissed(question="vous vendez des bons cadeaux ?", timestamp=t + DAY + 1),
        BotUttered("Je ne sais pas", timestamp=t + DAY + 1),
    )
    # 4. handed over; Ana answers after 2 minutes and resolves after 10; rated 2
    await save(
        store,
        "c4",
        said("I want a person", t + DAY + 600, "human", model="m2"),
        ActionExecuted("action_handoff", timestamp=t + DAY + 601),
        ConversationPaused(timestamp=t + DAY + 601),
        BotUttered("Ana here", metadata={"sent_by": "ana@shop.example"}, timestamp=t + DAY + 721),
        ConversationResumed(timestamp=t + DAY + 1201),
        FeedbackGiven(rating=2, timestamp=t + DAY + 1300),
    )
    # 5. not understood (a fallback), then a cancellation: resolved, not converted
    await save(
        store,
        "c5",
        said("blorp", t + 2 * DAY, "nlu_fallback"),
        ActionExecuted("action_default_fallback", timestamp=t + 2 * DAY + 1),
        said("cancel my booking", t + 2 * DAY + 60, "cancel"),
        ActionExecuted("action_cancel", timestamp=t + 2 * DAY + 61),
        SlotSet("booking_id", None, timestamp=t + 2 * DAY + 61),
        BotUttered("Cancelled", timestamp=t + 2 * DAY + 61),
    )
    # 6. in April: outside the range
    await save(store, "c6", said("hello", t + 40 * DAY, "greet"))


async def report(console: Console, query: str = RANGE) -> dict[str, Any]:
    browser = await console.sign_in(Role.VIEWER)
    reply = await browser.get(f"/console/reports.json?{query}")
    assert reply.status == 200, reply.text
    found: dict[str, Any] = reply.json
    return found


async def test_every_figure_of_a_known_set(reporting: Console) -> None:
    await six_conversations(reporting)
    found = await report(reporting)
    assert found["conversations"] == 5
    assert (found["incoming"], found["outgoing"], found["human_messages"]) == (7, 5, 1)
    assert found["resolved"] == 3 and found["resolution_rate"] == pytest.approx(3 / 5)
    assert found["handed_over"] == 1 and found["handoff_rate"] == pytest.approx(1 / 5)
    assert found["fallbacks"] == 1 and found["fallback_rate"] == pytest.approx(1 / 7)
    assert (found["knowledge_questions"], found["knowledge_misses"]) == (2, 1)
    assert found["knowledge_miss_rate"] == pytest.approx(1 / 2)
    assert found["first_response_seconds"] == pytest.approx(120.0)
    assert found["resolution_seconds"] == pytest.approx(600.0)
    assert found["rated"] == 3 and found["csat"] == pytest.approx(11 / 3)
    assert found["ratings"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert found["csat_response_rate"] == pytest.approx(3 / 5)
    assert found["outcomes"] == {"booked": 1, "cancelled": 1, "lead": 1}
    assert found["converted"] == 1 and found["conversion_rate"] == pytest.approx(1 / 5)
    assert found["top_intents"][0] == {"intent": "ask_question", "count": 2}
    assert found["unanswered"] == [{"question": "vous vendez des bons cadeaux ?", "count": 1}]
    assert found["agents"] == [
        {
            "agent": "ana@shop.example",
            "conversations": 1,
            "first_response_seconds": 120.0,
            "resolution_seconds": 600.0,
            "csat": 2.0,
            "rated": 1,
        }
    ]
    # Monday 10:00 and 11:00, Tuesday 10:00 and 10:10, Wednesday 10:00
    heat = found["heatmap"]
    assert (heat[0][10], heat[0][11], heat[1][10], heat[2][10]) == (1, 1, 2, 1)
    assert sum(map(sum, heat)) == 5


async def test_the_series_has_every_period_of_the_range(reporting: Console) -> None:
    await six_conversations(reporting)
    daily = (await report(reporting))["series"]
    assert len(daily) == 31 and daily[0]["start"] == "2026-03-01"
    by_day = {p["start"]: p for p in daily}
    assert by_day["2026-03-02"]["conversations"] == 2 and by_day["2026-03-02"]["csat"] == 4.5
    assert by_day["2026-03-03"]["handed_over"] == 1
    weekly = (await report(reporting, f"{RANGE}&grain=week"))["series"]
    assert [p["start"] for p in weekly][:2] == ["2026-02-23", "2026-03-02"]
    assert weekly[1]["conversations"] == 5
    monthly = await report(reporting, "since=2026-03-01&until=2026-04-30&grain=month")
    assert [(p["start"], p["conversations"]) for p in monthly["series"]] == [
        ("2026-03-01", 5),
        ("2026-04-01", 1),
    ]


async def test_filters_narrow_every_figure(reporting: Console) -> None:
    await six_conversations(reporting)
    french = await report(reporting, f"{RANGE}&language=fr")
    assert french["conversations"] == 1 and french["knowledge_misses"] == 1
    assert french["unanswered"][0]["count"] == 1
    sms = await report(reporting, f"{RANGE}&channel=twilio")
    assert sms["conversations"] == 1 and sms["outcomes"] == {}
    second = await report(reporting, f"{RANGE}&model=m2")
    assert second["conversations"] == 1 and second["handed_over"] == 1
    webchat = await report(reporting, f"{RANGE}&channel=webchat")
    assert webchat["unanswered"] == []  # the miss was on another channel
    await reporting.database.add_label("c2", "vip")
    labelled = await report(reporting, f"{RANGE}&label=vip")
    assert labelled["conversations"] == 1 and labelled["converted"] == 1


async def test_a_new_message_is_counted_at_the_next_report(reporting: Console) -> None:
    await six_conversations(reporting)
    assert (await report(reporting))["conversations"] == 5
    store = reporting.app.ctx.state.agent.tracker_store
    await save(store, "c7", said("hello", MONDAY + 5 * DAY, "greet"))
    await save(store, "c2", said("thanks!", MONDAY + 3900, "thank"))
    again = await report(reporting)
    assert again["conversations"] == 6 and again["incoming"] == 9


async def test_the_csv_is_the_series(reporting: Console) -> None:
    await six_conversations(reporting)
    browser = await reporting.sign_in(Role.OWNER)
    reply = await browser.get(f"/console/reports.csv?{RANGE}")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
    assert "parlez-report-2026-03-01-2026-03-31.csv" in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert len(rows) == 31
    monday = next(r for r in rows if r["period"] == "2026-03-02")
    assert monday["conversations"] == "2" and monday["resolution_rate"] == "1.0000"


async def test_the_page_shows_the_figures_and_escapes_what_customers_wrote(
    reporting: Console,
) -> None:
    await six_conversations(reporting)
    store = reporting.app.ctx.state.agent.tracker_store
    await save(
        store,
        "c8",
        said("<script>alert(1)</script>", MONDAY + 3 * DAY, "ask_question"),
        ActionExecuted("action_answer_from_kb", timestamp=MONDAY + 3 * DAY + 1),
        KnowledgeMissed(question="<script>alert(1)</script>", timestamp=MONDAY + 3 * DAY + 1),
    )
    browser = await reporting.sign_in(Role.ADMIN)
    page = await browser.get(f"/console/reports?{RANGE}")
    assert page.status == 200
    assert "resolved without a person" in page.text
    assert "ana@shop.example" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert "/console/static/uPlot.iife.min.js" in page.text


async def test_phone_calls_have_their_own_figures_when_there_are_any(
    reporting: Console,
) -> None:
    await six_conversations(reporting)
    found = await report(reporting)
    assert found["calls"] == 0 and found["containment_rate"] is None
    browser = await reporting.sign_in(Role.VIEWER)
    assert "Phone calls" not in (await browser.get(f"/console/reports?{RANGE}")).text

    store = reporting.app.ctx.state.agent.tracker_store
    t = MONDAY + 3 * DAY
    # a call the assistant handled alone (hung up while asked for an e-mail), and one put
    # through to a person
    await save(
        store,
        "+447700900001",
        CallStep("CA1", "started", timestamp=t),
        said("book a haircut", t + 1, "book", channel="twilio_voice"),
        CallStep("CA1", "no_input", timestamp=t + 20),
        CallStep("CA1", "ended", {"duration": 60, "requested_slot": "email"}, timestamp=t + 60),
    )
    await save(
        store,
        "+447700900002",
        CallStep("CA2", "started", timestamp=t + 100),
        said("a person please", t + 101, "request_human", channel="twilio_voice"),
        ConversationPaused(timestamp=t + 102),
        CallStep("CA2", "transfer", {"to": "+44"}, timestamp=t + 102),
        CallStep(
            "CA2", "ended", {"duration": 240, "last_action": "action_handoff"}, timestamp=t + 340
        ),
    )
    found = await report(reporting)
    assert (found["calls"], found["contained_calls"], found["transfers"]) == (2, 1, 1)
    assert found["containment_rate"] == pytest.approx(0.5)
    assert found["call_average_seconds"] == pytest.approx(150.0)
    assert found["no_inputs"] == 1
    assert found["hangups"] == [
        {"where": "action_handoff", "count": 1},
        {"where": "email", "count": 1},
    ]
    page = (await browser.get(f"/console/reports?{RANGE}")).text
    assert "Phone calls" in page and "Where callers hung up" in page
    calls_only = await report(reporting, f"{RANGE}&channel=twilio_voice")
    assert calls_only["conversations"] == 2 and calls_only["calls"] == 2


async def test_a_bad_range_is_a_400_that_says_why(reporting: Console) -> None:
    browser = await reporting.sign_in(Role.OWNER)
    reply = await browser.get("/console/reports.json?since=2026-03-10&until=2026-03-01")
    assert reply.status == 400 and "after" in reply.json["error"]
    reply = await browser.get("/console/reports.json?since=yesterday")
    assert reply.status == 400 and "2026-11-30" in reply.json["error"]
    reply = await browser.get("/console/reports.json?grain=hour")
    assert reply.status == 400


async def test_agents_may_not_read_the_reports(reporting: Console) -> None:
    agent = await reporting.sign_in(Role.AGENT)
    assert (await agent.get("/console/reports.json")).status == 403


async def test_a_new_analytics_file_has_every_conversation_counted_again(
    reporting: Console,
) -> None:
    await six_conversations(reporting)
    store = reporting.app.ctx.state.agent.tracker_store
    before = ConversationIndex(store, reporting.database, AnalyticsConfig())
    await before.catch_up_reports(None)
    async with before.engine.connect() as connection:
        counted = await build_report(connection, FILTERS, ZoneInfo("UTC"))
    assert counted.outcomes == {} and counted.conversations == 5
    leads = AnalyticsConfig(outcomes=(Outcome("lead", "action_save_lead"),))
    after = ConversationIndex(store, reporting.database, leads)
    await after.catch_up_reports(None)
    async with after.engine.connect() as connection:
        counted = await build_report(connection, FILTERS, ZoneInfo("UTC"))
    assert counted.outcomes == {"lead": 1} and counted.conversations == 5


async def test_rule_labels_are_given_as_conversations_happen_and_filter_everything(
    reporting: Console,
) -> None:
    await six_conversations(reporting)
    found = await report(reporting, f"{RANGE}&label=gift-cards")
    assert found["conversations"] == 1 and found["knowledge_misses"] == 1
    browser = await reporting.sign_in(Role.AGENT)
    inbox = await browser.get("/console/inbox?label=handed-over")
    assert (
        "/console/conversations/c4" in inbox.text and "/console/conversations/c1" not in inbox.text
    )
    assert 'value="gift-cards"' in inbox.text  # offered by the label filter
    page = await browser.get("/console/conversations/c3")
    assert 'class="label by-rule"' in page.text and "gift-cards" in page.text
    # A label set by hand stays apart: the index never removes it.
    await browser.post("/console/conversations/c1/labels", {"label": "gift-cards"})
    store = reporting.app.ctx.state.agent.tracker_store
    await save(store, "c1", said("thanks", MONDAY + 100, "thank"))
    assert (await report(reporting, f"{RANGE}&label=gift-cards"))["conversations"] == 2


async def test_the_rules_are_edited_in_the_console_and_every_conversation_recounted(
    reporting: Console,
) -> None:
    await six_conversations(reporting)
    owner = await reporting.sign_in(Role.OWNER)
    page = await owner.get("/console/reports/rules")
    assert page.status == 200 and "gift-cards" in page.text
    text = (reporting.app.ctx.state.project / "analytics.yml").read_text()
    changed = text + "  big-spender: {outcome: booked}\n"
    saved = await owner.post("/console/reports/rules", {"text": changed, "digest": digest_of(text)})
    assert saved.status == 303
    shown = await owner.get(saved.headers["location"])
    assert "Every conversation is being counted again" in shown.text
    assert (reporting.app.ctx.state.project / "analytics.yml").read_text() == changed
    found = await report(reporting, f"{RANGE}&label=big-spender")
    assert found["conversations"] == 1  # c2 booked
    # A mistake is shown with its line, and nothing is written.
    broken = await owner.post(
        "/console/reports/rules",
        {"text": changed + "  angry: {sentiment: furious}\n", "digest": digest_of(changed)},
    )
    assert (
        broken.status == 400
        and "analytics.yml:" in broken.text
        and "furious" not in (reporting.app.ctx.state.project / "analytics.yml").read_text()
    )
    # A colleague's change since the page was opened is not overwritten.
    stale = await owner.post("/console/reports/rules", {"text": text, "digest": digest_of(text)})
    assert stale.status == 409


async def test_asking_for_a_rating_after_the_goodbye_applies_once_saved(
    reporting: Console,
) -> None:
    """`ask_rating_after` saved in the rules editor reaches the running assistant: its
    goodbye is followed by the rating question on the REST channel, and the rating given
    with the button is counted in the report."""
    assert [m["text"] for m in await reporting.customer_says("r1", "bye")] == ["Bye"]
    owner = await reporting.sign_in(Role.OWNER)
    text = (reporting.app.ctx.state.project / "analytics.yml").read_text()
    changed = text + "ask_rating_after: [utter_goodbye]\n"
    saved = await owner.post("/console/reports/rules", {"text": changed, "digest": digest_of(text)})
    assert saved.status == 303
    answered = await reporting.customer_says("r2", "bye")
    assert [m["text"] for m in answered] == ["Bye", "How would you rate this conversation?"]
    await reporting.customer_says("r2", answered[1]["buttons"][0]["payload"])
    today = datetime.now(UTC).date()
    found = await report(reporting, f"since={today - timedelta(days=1)}&until={today}")
    assert (found["rated"], found["csat"]) == (1, 5.0)
