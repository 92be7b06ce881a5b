"""The follow-up e-mails after chats (docs/follow-ups.md): found every minute by a repeated
job over the reports' rows, then each sent by a job of its own.

A follow-up is written down (`console_follow_ups`, one per rule and conversation) before its
job is deferred, so a scan that runs again finds nothing new. Its job checks again, when it
runs, what could have changed since: the customer's consent, a later conversation, an
outcome that makes the e-mail pointless. It is sent to customers who said yes to e-mails
only, with an unsubscribe link (and RFC 8058's one-click header) of its own.

A job runs at least once; a follow-up is sent at most once: its row says `sending` while
the mail server has it, and a job that finds `sending` (its process died mid-send) leaves
it, instead of risking a second e-mail.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from parlez.console.contacts import ContactBook, with_merged
from parlez.console.follow_up_rules import UNRESOLVED, FollowUpRule, FollowUpTemplates
from parlez.console.index import ConversationIndex
from parlez.console.mail import MailError, email_settings, send_mail, sender_of
from parlez.console.marketing import MarketingConfig
from parlez.console.models import (
    analytics_conversations,
    analytics_counts,
    contact_conversations,
    contact_identifiers,
    contacts,
    follow_ups,
)
from parlez.jobs.runner import JobRunner, Task

logger = logging.getLogger(__name__)

SCAN = "follow_ups.scan"
SEND = "follow_ups.send"
#: seconds between two scans for due follow-ups
SCAN_SECONDS = 60.0
#: a customer gets at most one follow-up in this many seconds (others due meanwhile are skipped)
GAP_SECONDS = 86400.0
#: how far back a rule counted from a slot's time (an appointment's) looks for conversations
SLOT_HORIZON = 120 * 86400.0
#: trackers a scan reads at most for those rules
SLOT_BATCH = 200
#: the unsubscribe page's path (the token follows)
UNSUBSCRIBE = "/console/unsubscribe/"

ac = analytics_conversations


@dataclass(frozen=True)
class FollowUp:
    id: int
    rule: str
    sender_id: str
    session: int
    contact_id: int
    email: str
    language: str
    due_at: float
    state: str
    reason: str
    sent_at: float | None


def _follow_up(row: Any) -> FollowUp:
    return FollowUp(
        row.id,
        row.rule,
        row.sender_id,
        row.session,
        row.contact_id,
        row.email,
        row.language,
        row.due_at,
        row.state,
        row.reason,
        row.sent_at,
    )


class FollowUps:
    def __init__(
        self,
        index: ConversationIndex,
        config: MarketingConfig,
        project: Path,
        business: Callable[[], dict[str, Any]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.config = config
        self.project = project
        #: reads business.yml (the name, the languages, the `email:` settings)
        self.business = business
        self.clock = clock
        self.jobs: JobRunner | None = None

    @property
    def rules(self) -> dict[str, FollowUpRule]:
        return {rule.name: rule for rule in self.config.follow_ups}

    def schedule_on(self, jobs: JobRunner) -> None:
        """Scan and send on `jobs`."""
        self.jobs = jobs
        jobs.add(Task(SCAN, self._scan_job, retries=0), every=SCAN_SECONDS)
        jobs.add(Task(SEND, self._send_job, retries=6, backoff=300.0))

    async def _scan_job(self, arguments: dict[str, Any]) -> None:
        await self.scan()

    async def _send_job(self, arguments: dict[str, Any]) -> None:
        await self.send(int(arguments["id"]))

    # ---- finding what is due --------------------------------------------------------------

    async def scan(self) -> int:
        """Write down the follow-ups due now (and those counted from a slot's time, due
        later) and defer their jobs. How many were new."""
        if not self.config.follow_ups:
            return 0
        await self.index.catch_up_reports(None)
        now = self.clock()
        new: list[tuple[int, float]] = []
        engine = self.index.database.engine
        for rule in self.config.follow_ups:
            query = _due(rule, now)
            if rule.from_slot:  # each is a tracker to read: the rest wait for the next scan
                query = query.limit(SLOT_BATCH)
            async with engine.connect() as connection:
                due = (await connection.execute(query)).all()
            for row in due:
                at, state, reason = row.last_at + rule.wait, "queued", ""
                if rule.from_slot:
                    at, state, reason = await self._from_slot(rule, row.sender_id, now)
                written = await self._write(rule, row, at, state, reason)
                if written is not None and state == "queued":
                    new.append((written, at))
        for follow_up, at in new:
            await self._defer(follow_up, max(at, now))
        return len(new)

    async def _from_slot(
        self, rule: FollowUpRule, sender_id: str, now: float
    ) -> tuple[float, str, str]:
        """(when it is due, its state, why not) for a rule counted from a slot's time."""
        at = await self._slot_time(sender_id, rule.from_slot)
        if at is None:
            return now, "skipped", f"no time in the slot '{rule.from_slot}'"
        if at + rule.wait < now - rule.late:
            return at + rule.wait, "skipped", "its time had passed when it was found"
        return at + rule.wait, "queued", ""

    async def _slot_time(self, sender_id: str, slot: str) -> float | None:
        """The time the conversation's `slot` holds (ISO 8601, in the reports' zone when it
        names none), as seconds since the epoch."""
        tracker = await self.index.store.retrieve(sender_id)
        value = tracker.get_slot(slot) if tracker is not None else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, str):
            return None
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.index.analytics.zone)
        return when.timestamp()

    async def _write(
        self, rule: FollowUpRule, row: Any, due_at: float, state: str, reason: str
    ) -> int | None:
        """The follow-up's row; None when a scan in another process wrote it meanwhile."""
        try:
            async with self.index.database.engine.begin() as connection:
                created = await connection.execute(
                    insert(follow_ups).values(
                        rule=rule.name,
                        sender_id=row.sender_id,
                        session=row.session,
                        contact_id=row.contact_id,
                        email=row.email,
                        language=row.language,
                        due_at=due_at,
                        state=state,
                        reason=reason,
                        token=secrets.token_urlsafe(24),
                    )
                )
        except IntegrityError:
            return None
        key = created.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def _defer(self, follow_up: int, at: float | None = None, again: bool = False) -> None:
        if self.jobs is None:
            raise RuntimeError("the follow-ups have no job runner")
        # A follow-up moved with its appointment gets a job of its own (the first one is
        # still running as it moves it).
        key = f"follow-up:{follow_up}" + (f":{int(at or 0)}" if again else "")
        await self.jobs.defer(SEND, {"id": follow_up}, at=at, key=key)

    # ---- sending one ----------------------------------------------------------------------

    async def send(self, follow_up_id: int) -> str:
        """Send the follow-up if it still should go; its state afterwards."""
        engine = self.index.database.engine
        async with engine.begin() as connection:
            claimed = await connection.execute(
                update(follow_ups)
                .where(follow_ups.c.id == follow_up_id, follow_ups.c.state == "queued")
                .values(state="sending")
            )
            if not claimed.rowcount:
                return await self._state(follow_up_id)
            row = (
                await connection.execute(select(follow_ups).where(follow_ups.c.id == follow_up_id))
            ).one()
        follow_up = _follow_up(row)
        moved = await self._moved(follow_up)
        if moved is not None:
            return moved
        why_not = await self._why_not(follow_up)
        if why_not is not None:
            await self._end(follow_up_id, "skipped", why_not)
            logger.info("The follow-up %s is not sent: %s", follow_up_id, why_not)
            return "skipped"
        try:
            message = await self._message(follow_up, row.token)
            await asyncio.to_thread(
                send_mail, email_settings(self.business()), self.project / "mail", message
            )
        except MailError as error:
            # given back: the job tries again later
            await self._end(follow_up_id, "queued", str(error))
            raise
        except Exception as error:  # a template that no longer renders: not retried
            await self._end(follow_up_id, "failed", f"{type(error).__name__}: {error}")
            logger.error("The follow-up %s could not be written: %s", follow_up_id, error)
            return "failed"
        await self._end(follow_up_id, "sent", "", sent_at=self.clock())
        return "sent"

    async def _moved(self, follow_up: FollowUp) -> str | None:
        """For a rule counted from a slot's time: the time may have moved since the scan (a
        booking moved to another day). Later: the follow-up waits for its new time; its
        state then. None when it goes now."""
        rule = self.rules.get(follow_up.rule)
        if rule is None or not rule.from_slot:
            return None
        now = self.clock()
        at = await self._slot_time(follow_up.sender_id, rule.from_slot)
        if at is None:
            await self._end(follow_up.id, "skipped", f"the slot '{rule.from_slot}' was emptied")
            return "skipped"
        due = at + rule.wait
        if due > now + 60:
            async with self.index.database.engine.begin() as connection:
                await connection.execute(
                    update(follow_ups)
                    .where(follow_ups.c.id == follow_up.id)
                    .values(state="queued", due_at=due, reason="")
                )
            await self._defer(follow_up.id, due, again=True)
            return "queued"
        if due < now - rule.late:
            await self._end(follow_up.id, "skipped", "its time had passed")
            return "skipped"
        return None

    async def _state(self, follow_up_id: int) -> str:
        async with self.index.database.engine.connect() as connection:
            state = await connection.scalar(
                select(follow_ups.c.state).where(follow_ups.c.id == follow_up_id)
            )
        return str(state or "gone")

    async def _end(
        self, follow_up_id: int, state: str, reason: str, sent_at: float | None = None
    ) -> None:
        async with self.index.database.engine.begin() as connection:
            await connection.execute(
                update(follow_ups)
                .where(follow_ups.c.id == follow_up_id)
                .values(state=state, reason=reason[:2000], sent_at=sent_at)
            )

    async def _why_not(self, follow_up: FollowUp) -> str | None:
        """Why the follow-up should no longer go; None when it should."""
        rule = self.rules.get(follow_up.rule)
        if rule is None:
            return "the rule was taken out of marketing.yml"
        await self.index.catch_up_reports(None)  # what the customer did since the scan
        async with self.index.database.engine.connect() as connection:
            person = await _surviving(connection, follow_up.contact_id)
            if person is None:
                return "the customer was forgotten"
            if person.consent is not True:
                return "the customer no longer wants e-mails"
            owns = await connection.scalar(
                select(func.count())
                .select_from(contact_identifiers)
                .where(
                    contact_identifiers.c.contact_id == person.id,
                    contact_identifiers.c.kind == "email",
                    contact_identifiers.c.value == follow_up.email,
                )
            )
            if not owns:
                return "the address is no longer the customer's"
            # A reminder of an appointment (from_slot) goes whatever went the day before.
            recent = not rule.from_slot and await connection.scalar(
                select(func.count())
                .select_from(follow_ups)
                .where(
                    follow_ups.c.email == follow_up.email,
                    follow_ups.c.state == "sent",
                    follow_ups.c.sent_at > self.clock() - GAP_SECONDS,
                )
            )
            if recent:
                return "another follow-up went to the customer less than a day ago"
            chat = (
                await connection.execute(
                    select(ac.c.started_at, ac.c.last_at).where(
                        ac.c.sender_id == follow_up.sender_id, ac.c.session == follow_up.session
                    )
                )
            ).first()
            if chat is None:
                return "the conversation was deleted"
            theirs = select(contact_conversations.c.sender_id).where(
                contact_conversations.c.contact_id == person.id
            )
            if rule.after == UNRESOLVED:
                later = await connection.scalar(
                    select(func.count())
                    .select_from(ac)
                    .where(ac.c.sender_id.in_(theirs), ac.c.started_at > chat.last_at)
                )
                if later:
                    return "the customer came back since"
            if rule.unless:
                reached = await connection.scalar(
                    select(analytics_counts.c.name)
                    .join(
                        ac,
                        and_(
                            ac.c.sender_id == analytics_counts.c.sender_id,
                            ac.c.session == analytics_counts.c.session,
                        ),
                    )
                    .where(
                        analytics_counts.c.kind == "outcome",
                        analytics_counts.c.name.in_(rule.unless),
                        analytics_counts.c.sender_id.in_(theirs),
                        ac.c.last_at >= chat.started_at,
                    )
                    .limit(1)
                )
                if reached:
                    return f"the customer reached '{reached}' since"
        return None

    async def _message(self, follow_up: FollowUp, token: str) -> EmailMessage:
        settings = self.business()
        languages = settings.get("languages")
        default = str(languages[0]) if isinstance(languages, list) and languages else "en"
        rule = self.rules[follow_up.rule]
        async with self.index.database.engine.connect() as connection:
            person = await _surviving(connection, follow_up.contact_id)
            chat = (
                await connection.execute(
                    select(ac.c.started_at, ac.c.channel).where(
                        ac.c.sender_id == follow_up.sender_id, ac.c.session == follow_up.session
                    )
                )
            ).one()
        zone = self.index.analytics.zone
        slot_time = (
            await self._slot_time(follow_up.sender_id, rule.from_slot) if rule.from_slot else None
        )
        unsubscribe = f"{self.config.public_url}{UNSUBSCRIBE}{token}"
        values = {
            "customer": {
                "name": person.name if person is not None else "",
                "email": follow_up.email,
            },
            "business": _business(settings),
            "conversation": {
                "started": datetime.fromtimestamp(chat.started_at, zone),
                "channel": chat.channel,
            },
            "unsubscribe_url": unsubscribe,
            # the time the rule counts from (`from_slot`: the appointment), else None
            "when": datetime.fromtimestamp(slot_time, zone) if slot_time is not None else None,
        }
        written = FollowUpTemplates(self.project, default).render(
            rule.template, follow_up.language, values
        )
        message = EmailMessage()
        message["From"] = sender_of(email_settings(settings))
        message["To"] = follow_up.email
        message["Date"] = formatdate(self.clock(), localtime=True)
        message["Message-ID"] = make_msgid(domain="parlez.local")
        message["Subject"] = written.subject
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(written.text)
        if written.html is not None:
            message.add_alternative(written.html, subtype="html")
        return message

    # ---- unsubscribing and reading --------------------------------------------------------

    async def by_token(self, token: str) -> FollowUp | None:
        async with self.index.database.engine.connect() as connection:
            row = (
                await connection.execute(select(follow_ups).where(follow_ups.c.token == token))
            ).first()
        return _follow_up(row) if row is not None else None

    async def unsubscribe(self, token: str) -> FollowUp | None:
        """The customer's unsubscribe link was followed: no more e-mails to them (the
        e-mail platform's audience hears it at its next sync). The follow-up it came from;
        None for a token that is not one."""
        follow_up = await self.by_token(token)
        if follow_up is None:
            return None
        await ContactBook(self.index.database.engine).unsubscribed(
            follow_up.email, self.clock(), f"unsubscribed with the link in '{follow_up.rule}'"
        )
        return follow_up

    async def of_contact(self, contact_id: int) -> list[FollowUp]:
        """The customer's follow-ups, newest first, those of customers merged into them too."""
        async with self.index.database.engine.connect() as connection:
            people = await with_merged(connection, contact_id)
            rows = await connection.execute(
                select(follow_ups)
                .where(follow_ups.c.contact_id.in_(people))
                .order_by(follow_ups.c.due_at.desc(), follow_ups.c.id.desc())
            )
            return [_follow_up(r) for r in rows]


def _due(rule: FollowUpRule, now: float) -> Any:
    """The conversations `rule` is due for at `now`, with their customer's address."""
    email = (
        select(func.min(contact_identifiers.c.value))
        .where(
            contact_identifiers.c.contact_id == contact_conversations.c.contact_id,
            contact_identifiers.c.kind == "email",
        )
        .scalar_subquery()
    )
    written = exists().where(
        follow_ups.c.rule == rule.name,
        follow_ups.c.sender_id == ac.c.sender_id,
        follow_ups.c.session == ac.c.session,
    )
    query = (
        select(
            ac.c.sender_id,
            ac.c.session,
            ac.c.language,
            ac.c.last_at,
            contact_conversations.c.contact_id,
            email.label("email"),
        )
        .join(contact_conversations, contact_conversations.c.sender_id == ac.c.sender_id)
        .join(contacts, contacts.c.id == contact_conversations.c.contact_id)
        .where(
            *_window(rule, now),
            contacts.c.consent.is_(True),
            contacts.c.merged_into.is_(None),
            email.is_not(None),
            ~written,
        )
    )
    if rule.after == UNRESOLVED:
        return query.where(ac.c.resolved.is_(False), ac.c.human.is_(False))
    reached = exists().where(
        analytics_counts.c.kind == "outcome",
        analytics_counts.c.name == rule.after,
        analytics_counts.c.sender_id == ac.c.sender_id,
        analytics_counts.c.session == ac.c.session,
    )
    return query.where(reached)


def _window(rule: FollowUpRule, now: float) -> tuple[Any, ...]:
    """The conversations whose last message makes them candidates now: due now and not too
    late, or, for a rule counted from a slot's time, any recent one not yet looked at."""
    if rule.from_slot:
        return (ac.c.last_at <= now, ac.c.last_at > now - SLOT_HORIZON)
    return (ac.c.last_at <= now - rule.wait, ac.c.last_at > now - rule.wait - rule.late)


async def _surviving(connection: Any, contact_id: int) -> Any:
    """The customer `contact_id` is now (merged ones lead to the one that stayed)."""
    for _ in range(20):
        row = (
            await connection.execute(select(contacts).where(contacts.c.id == contact_id))
        ).first()
        if row is None or row.merged_into is None:
            return row
        contact_id = row.merged_into
    return None


def _business(settings: dict[str, Any]) -> dict[str, str]:
    """What a template may say of the business (business.yml's name, address and contact)."""
    contact = settings.get("contact") if isinstance(settings.get("contact"), dict) else {}
    assert isinstance(contact, dict)
    return {
        "name": str(settings.get("name") or ""),
        "address": str(settings.get("address") or ""),
        "phone": str(contact.get("phone") or ""),
        "email": str(contact.get("email") or ""),
        "website": str(settings.get("website") or contact.get("website") or ""),
    }
