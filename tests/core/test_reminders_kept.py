"""Reminders kept with the conversations in SQL: every server process fires them, each one
once, and none is lost to a restart or a process that dies (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from parlez.channels.channel import CollectingOutputChannel, OutputChannel
from parlez.core.reminders import ReminderScheduler
from parlez.events import ActionExecuted, ReminderCancelled, ReminderScheduled, UserUttered
from parlez.stores.sql import SQLTrackerStore
from parlez.tracker import DialogueStateTracker
from tests.stores.test_tracker_stores import SLOTS, database

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database(request.param, request, tmp_path)


class Process:
    """One server process: its own store on the shared database, and its scheduler."""

    def __init__(self, url: str, poll_seconds: float = 30.0) -> None:
        self.store = SQLTrackerStore(url, SLOTS)
        self.fired: list[tuple[str, str]] = []
        self.scheduler = ReminderScheduler(self.handle)
        self.poll_seconds = poll_seconds

    async def handle(self, event: ReminderScheduled, sender_id: str, _: OutputChannel) -> None:
        self.fired.append((sender_id, str(event.name)))

    async def output_for(self, sender_id: str) -> OutputChannel:
        return CollectingOutputChannel()

    def start(self) -> None:
        assert self.scheduler.share(self.store, self.output_for, self.poll_seconds)

    async def stop(self) -> None:
        await self.scheduler.close()
        await self.store.close()


async def remind(store: SQLTrackerStore, sender: str, name: str, seconds: float) -> None:
    """A turn that set a reminder `seconds` from now, saved."""
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, SLOTS)
    tracker.update(UserUttered("remind me", {"name": "remind", "confidence": 1.0}))
    at = datetime.now() + timedelta(seconds=seconds)
    tracker.update(ReminderScheduled("call_back", at, name=name))
    await store.save(tracker)


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def test_two_processes_fire_each_due_reminder_once(url: str) -> None:
    one, two = Process(url), Process(url)
    try:
        for n in range(20):
            await remind(one.store, f"c{n}", "r", -1)
        one.start()
        two.start()
        await asyncio.gather(one.scheduler.fire_due(), two.scheduler.fire_due())
        await until(lambda: len(one.fired) + len(two.fired) == 20)
        fired = sorted(one.fired + two.fired)
        assert fired == sorted((f"c{n}", "r") for n in range(20))  # each once
        assert await one.store.next_reminder_at() is None
    finally:
        await one.stop()
        await two.stop()


async def test_a_reminder_set_before_a_restart_fires_after_it(url: str) -> None:
    before = Process(url)
    await remind(before.store, "ana", "tea", 0.5)
    await before.stop()  # the process stops before the reminder is due
    after = Process(url, poll_seconds=0.2)
    after.start()
    try:
        await until(lambda: after.fired == [("ana", "tea")])
    finally:
        await after.stop()


async def test_the_process_that_set_a_reminder_wakes_up_for_it(url: str) -> None:
    """Its watch sleeps for up to `poll_seconds`; a reminder kept by its own save wakes it."""
    process = Process(url, poll_seconds=3600)
    process.start()
    try:
        await asyncio.sleep(0.1)
        await remind(process.store, "ana", "soon", 0.2)
        await until(lambda: process.fired == [("ana", "soon")])
    finally:
        await process.stop()


async def test_a_cancelled_or_replaced_reminder_is_not_fired(url: str) -> None:
    process = Process(url)
    try:
        await remind(process.store, "ana", "tea", -1)
        await remind(process.store, "ana", "tea", -1)  # the same name: replaced
        await remind(process.store, "bob", "tea", -1)
        tracker = await process.store.retrieve("bob")
        assert tracker is not None
        tracker.update(ReminderCancelled(name="tea"))
        await process.store.save(tracker)
        process.start()
        await process.scheduler.fire_due()
        await until(lambda: bool(process.fired))
        assert await process.store.next_reminder_at() is None  # nothing else was kept
        assert process.fired == [("ana", "tea")]
    finally:
        await process.stop()


async def test_a_kept_reminder_is_answered_by_the_assistant_on_the_customers_channel(
    small_model: Path, tmp_path: Path
) -> None:
    from parlez.agent import Agent

    store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", SLOTS)
    agent = Agent.load(small_model, tracker_store=store)
    tracker = DialogueStateTracker("ana", SLOTS)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("bye", {"name": "goodbye", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_goodbye"))
    tracker.update(
        ReminderScheduled("greet", datetime.now(), name="hi", kill_on_user_message=False)
    )
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    output = CollectingOutputChannel()

    async def output_for(sender_id: str) -> OutputChannel:
        return output

    scheduler = ReminderScheduler()
    agent.use_reminders(scheduler)
    assert scheduler.share(store, output_for)
    try:
        await until(lambda: bool(output.messages))
        assert output.messages[0]["text"] == "Hello! Where are you?"
        answered = await store.retrieve("ana")
        assert answered is not None
        assert any(
            isinstance(e, UserUttered) and e.intent_name == "greet" and e.text == "EXTERNAL: greet"
            for e in answered.events
        )
    finally:
        await scheduler.close()
        await store.close()


async def test_a_replaced_conversation_keeps_only_the_reminders_it_still_sets(url: str) -> None:
    """`PUT .../tracker` (and forgetting a customer, which empties it) replaces the pending
    reminders with the new events' own, those still to come."""
    store = SQLTrackerStore(url, SLOTS)
    try:
        await remind(store, "ana", "tea", 3600)
        await remind(store, "bob", "tea", 3600)
        assert await store.next_reminder_at() is not None
        await store.replace(DialogueStateTracker("bob", SLOTS))  # emptied: none left
        kept = DialogueStateTracker("ana", SLOTS)
        later = datetime.now() + timedelta(hours=2)
        kept.update(ReminderScheduled("call_back", datetime.now() - timedelta(hours=1), name="old"))
        kept.update(ReminderScheduled("call_back", later, name="new"))
        await store.replace(kept)
        assert await store.next_reminder_at() == pytest.approx(later.timestamp(), abs=1)
        assert await store.claim_due_reminders(later.timestamp() + 1) == [
            ("ana", ReminderScheduled("call_back", later, name="new"))
        ]
    finally:
        await store.close()


async def collecting(sender_id: str) -> OutputChannel:
    return CollectingOutputChannel()


class SlowStore(SQLTrackerStore):
    """A store whose read of the due reminders takes `seconds` (None: never ends)."""

    def __init__(self, url: str, seconds: float | None) -> None:
        super().__init__(url, SLOTS)
        self.seconds = seconds
        self.reads_begun = asyncio.Event()
        self.reads_finished = 0

    async def claim_due_reminders(self, now: float) -> list[tuple[str, ReminderScheduled]]:
        self.reads_begun.set()
        await (asyncio.sleep(self.seconds) if self.seconds is not None else asyncio.Event().wait())
        found = await super().claim_due_reminders(now)
        self.reads_finished += 1
        return found


async def test_a_shutdown_lets_the_watch_finish_the_read_it_is_in(tmp_path: Path) -> None:
    """Cancelled in the middle of a read, the watch left aiosqlite's thread to answer an event
    loop that had closed, and its connection open."""
    store = SlowStore(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", seconds=0.3)
    scheduler = ReminderScheduler()
    assert scheduler.share(store, collecting, poll_seconds=30)
    await store.reads_begun.wait()
    await scheduler.close()
    assert store.reads_finished == 1
    await store.close()


async def test_a_shutdown_does_not_wait_for_a_read_that_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("parlez.core.reminders.STOP_SECONDS", 0.2)
    store = SlowStore(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", seconds=None)
    scheduler = ReminderScheduler()
    assert scheduler.share(store, collecting, poll_seconds=30)
    await store.reads_begun.wait()
    await scheduler.close()  # returns: the read is cancelled
    assert store.reads_finished == 0
    await store.close()
