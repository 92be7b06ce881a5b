"""Reminders: an action's `ReminderScheduled` fires its intent later, as Rasa's scheduler does.

When the time comes the reminder's intent enters the conversation as an external user message
(`EXTERNAL: <intent>`) and the bot answers over the channel the reminder was set on. A
reminder is dropped instead when the user spoke after it was set (`kill_on_user_msg`), when
the conversation restarted since, or when a `ReminderCancelled` matched it.

Where the conversations are in SQL, the reminders are too: the store writes each one with
the events that set it (`reminders_pending`), and every server process watches that table,
each due reminder taken by one process alone. A restart, or a process that dies, loses none;
the next due one is fired within `POLL_SECONDS` by any process left. With the in-memory
store, reminders live in the server's memory, as in Rasa: a restart forgets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from parlez.channels.channel import OutputChannel
from parlez.events import ReminderCancelled, ReminderScheduled, UserUttered
from parlez.stores.tracker_store import TrackerStore
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

#: what runs a due reminder: (the reminder, the conversation, the channel it was set on)
ReminderHandler = Callable[[ReminderScheduled, str, OutputChannel], Awaitable[None]]
#: where a conversation's reminder is answered when another process set it
OutputFor = Callable[[str], Awaitable[OutputChannel]]
#: how often the kept reminders are looked at, at the most: when another process set the
#: next one, or died before firing it
POLL_SECONDS = 30.0
#: how long a shutdown waits for the watch's read of the kept reminders to finish
STOP_SECONDS = 5.0


def seconds_until(moment: datetime, now: float | None = None) -> float:
    """Seconds from `now` to `moment`; a naive time is local time (what `datetime.now()`
    gives an action), an aware one is compared in its own zone."""
    return moment.timestamp() - (time.time() if now is None else now)


@dataclass
class Reminder:
    event: ReminderScheduled
    sender_id: str
    output_channel: OutputChannel
    task: asyncio.Task[None] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.sender_id, str(self.event.name)


def cancels(cancel: ReminderCancelled, reminder: Reminder, sender_id: str) -> bool:
    """Whether `cancel`, logged in `sender_id`'s conversation, cancels `reminder`."""
    return reminder.sender_id == sender_id and cancel.cancels(reminder.event)


class ReminderScheduler:
    """Pending reminders, one timer task each, keyed by conversation and reminder name.

    A reminder with the name of a pending one in the same conversation replaces it. The
    `handler` is set by the agent that is loaded now, so a reminder set before a model swap
    is answered by the new model.
    """

    def __init__(self, handler: ReminderHandler | None = None) -> None:
        self.handler = handler
        self._pending: dict[tuple[str, str], Reminder] = {}
        #: the store that keeps the reminders for every process (None: this one's memory)
        self._store: TrackerStore | None = None
        self._output_for: OutputFor | None = None
        self._wake: asyncio.Event | None = None
        self._watching: asyncio.Task[None] | None = None
        self._stopping = False
        self.poll_seconds = POLL_SECONDS

    def share(
        self, store: TrackerStore, output_for: OutputFor, poll_seconds: float = POLL_SECONDS
    ) -> bool:
        """Fire the reminders `store` keeps, as every process sharing it does, if it keeps
        them (a SQL store); `output_for(sender_id)` is where a conversation's reminder is
        answered. Call it in the running event loop; False if the store keeps none."""
        if not store.keeps_reminders:
            return False
        self._store, self._output_for, self.poll_seconds = store, output_for, poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        store.on_reminder_kept = self._wake.set
        self._watching = asyncio.get_running_loop().create_task(self._watch())
        return True

    async def _watch(self) -> None:
        """Take and fire the due reminders, then sleep until the next is due (or a save in
        this process kept one, or `poll_seconds` passed)."""
        assert self._store is not None and self._wake is not None
        while not self._stopping:
            self._wake.clear()
            try:
                await self._fire_kept(time.time())
                next_at = await self._store.next_reminder_at()
            except Exception:  # the database away for a moment: look again later
                logger.exception("the kept reminders could not be read; trying again")
                next_at = None
            wait = self.poll_seconds
            if next_at is not None:
                wait = min(wait, max(0.0, next_at - time.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _fire_kept(self, now: float) -> int:
        assert self._store is not None and self._output_for is not None
        due = await self._store.claim_due_reminders(now)
        for sender_id, event in due:
            await self._fire(Reminder(event, sender_id, await self._output_for(sender_id)))
        return len(due)

    def schedule(
        self, event: ReminderScheduled, sender_id: str, output_channel: OutputChannel
    ) -> None:
        if self._store is not None:
            return  # the store keeps it as the turn is saved, and wakes the watch
        reminder = Reminder(event, sender_id, output_channel)
        self._drop(reminder.key)
        delay = max(0.0, seconds_until(event.trigger_date_time))
        reminder.task = asyncio.get_running_loop().create_task(self._wait_and_fire(reminder, delay))
        self._pending[reminder.key] = reminder
        logger.debug(
            "reminder '%s' for '%s' fires in %.1f s (intent %s)",
            event.name,
            sender_id,
            delay,
            event.intent,
        )

    def cancel(self, event: ReminderCancelled, sender_id: str) -> int:
        """Drop the pending reminders `event` cancels; how many (a store that keeps the
        reminders drops them itself as the turn is saved: 0 here)."""
        matched = [key for key, r in self._pending.items() if cancels(event, r, sender_id)]
        for key in matched:
            self._drop(key)
        return len(matched)

    def pending(self, sender_id: str | None = None) -> list[ReminderScheduled]:
        return [
            r.event for r in self._pending.values() if sender_id is None or r.sender_id == sender_id
        ]

    async def fire_due(self, now: datetime | None = None) -> int:
        """Run at once every reminder due by `now` (default: any pending one's time as
        of now); how many ran. Lets tests and tools move the clock instead of waiting."""
        at = now.timestamp() if now is not None else time.time()
        if self._store is not None:
            return await self._fire_kept(at)
        due = [
            r for r in self._pending.values() if seconds_until(r.event.trigger_date_time, at) <= 0
        ]
        for reminder in due:
            self._drop(reminder.key)
            await self._fire(reminder)
        return len(due)

    async def close(self) -> None:
        """Stop every timer (server shutdown); pending reminders are forgotten, unless a
        store keeps them (they stay there for the next start, or another process)."""
        await self._stop_watching()
        tasks = [r.task for r in self._pending.values() if r.task is not None]
        self._pending.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _stop_watching(self) -> None:
        """Let the store's watch finish the read it is in, then stop: cancelled in the
        middle of opening a SQLite connection, it left aiosqlite's thread to answer a closed
        event loop, and the connection open. A read that hangs (the database away) is
        cancelled after STOP_SECONDS."""
        watching, self._watching = self._watching, None
        if watching is None:
            return
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        done, _ = await asyncio.wait({watching}, timeout=STOP_SECONDS)
        if not done:
            watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)

    def _drop(self, key: tuple[str, str]) -> None:
        old = self._pending.pop(key, None)
        if old is not None and old.task is not None and old.task is not asyncio.current_task():
            old.task.cancel()

    async def _wait_and_fire(self, reminder: Reminder, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._pending.get(reminder.key) is reminder:
            self._drop(reminder.key)
            await self._fire(reminder)

    async def _fire(self, reminder: Reminder) -> None:
        if self.handler is None:
            logger.warning("reminder '%s' is due but no assistant is loaded", reminder.event.name)
            return
        try:
            await self.handler(reminder.event, reminder.sender_id, reminder.output_channel)
        except Exception:  # one failing reminder must not stop the others
            logger.exception(
                "the reminder '%s' for '%s' failed", reminder.event.name, reminder.sender_id
            )


def still_wanted(tracker: DialogueStateTracker, reminder: ReminderScheduled) -> bool:
    """Whether a due reminder should still fire: it is in the conversation's current part
    (no restart or new session since), and, if `kill_on_user_msg`, the user has not written
    since it was set."""
    if not any(
        isinstance(e, ReminderScheduled) and e.name == reminder.name
        for e in tracker.applied_events()
    ):
        return False
    if reminder.kill_on_user_message:
        for event in reversed(tracker.events):
            if isinstance(event, ReminderScheduled) and event.name == reminder.name:
                break
            if isinstance(event, UserUttered) and event.text:
                return False
    return True
