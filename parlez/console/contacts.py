"""One customer across channels: contacts, what identifies them, and their conversations.

A contact is found from its conversations' events: the e-mail address and phone number the
customer gave (the `email` and `phone` slots, the web chat's visitor form), the number they
text, call or WhatsApp from, their Messenger, Instagram, Telegram or Slack id, their web
chat visitor id, the sender id on any other channel (the REST API, a custom channel).
The index links each conversation it follows (`ContactBook.link`, in the
reports' batch): a conversation whose identifiers belong to no contact makes a new one;
one whose identifiers belong to several contacts merges them into the oldest. A person may
merge two contacts by hand, and undo it; every merge records what it moved.

Contacts are never deleted by the index, so merges made by hand survive a recount.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parlez.console.models import (
    analytics_conversations,
    analytics_counts,
    contact_conversations,
    contact_identifiers,
    contact_merges,
    contacts,
    conversation_index,
)
from parlez.events import BotUttered, SlotSet, UserUttered
from parlez.tracker import DialogueStateTracker

#: slots whose values identify the customer
EMAIL_SLOTS = ("email",)
PHONE_SLOTS = ("phone",)
NAME_SLOTS = ("customer_name", "name")
#: the slot the lead and booking forms keep the customer's answer to the marketing question in
CONSENT_SLOTS = ("marketing_consent",)
#: the channel a conversation is on -> the kind of identifier its sender id is
SENDER_KINDS = {
    "facebook": "messenger",
    "instagram": "instagram",
    "webchat": "webchat",
    "socketio": "webchat",
    "telegram": "telegram",
    "slack": "slack",
}
#: what the pages call each kind of identifier, in the order they show them
KINDS = {
    "email": "E-mail",
    "phone": "Phone",
    "whatsapp": "WhatsApp",
    "messenger": "Messenger",
    "instagram": "Instagram",
    "telegram": "Telegram",
    "slack": "Slack",
    "webchat": "Web chat visitor",
    "rest": "REST API",
}
#: contacts a page lists
PAGE = 50

Identifier = tuple[str, str]


def email_identifier(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    return address if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address) else None


def phone_identifier(value: Any) -> str | None:
    """A number as written in international form: `+` and its digits (`00` read as `+`);
    a number without its country code is kept as its digits, and meets only the same."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip().removeprefix("whatsapp:").removeprefix("tel:")
    digits = re.sub(r"\D", "", text)
    if len(digits) < 6:
        return None
    if text.startswith("+"):
        return f"+{digits}"
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    return digits


@dataclass
class Seen:
    """What one conversation says about who its customer is."""

    sender_id: str
    identifiers: list[Identifier] = field(default_factory=list)
    name: str = ""
    first_at: float = 0.0
    last_at: float = 0.0
    #: the latest explicit answer to the marketing question: (yes, when, what was asked)
    consent: tuple[bool, float, str] | None = None

    def add(self, kind: str, value: str | None) -> None:
        if value and (kind, value[:255]) not in self.identifiers:
            self.identifiers.append((kind, value[:255]))


def seen_in(tracker: DialogueStateTracker) -> Seen:
    """The identifiers of the conversation's customer, from all its events."""
    found = Seen(tracker.sender_id)
    times = [e.timestamp for e in tracker.events if isinstance(e, UserUttered)]
    found.first_at, found.last_at = (min(times), max(times)) if times else (0.0, 0.0)
    asked = ""
    for event in tracker.events:
        if isinstance(event, BotUttered):
            asked = event.text or ""
        elif isinstance(event, SlotSet):
            if event.key in CONSENT_SLOTS and isinstance(event.value, bool):
                found.consent = (event.value, event.timestamp, asked[:2000])
            elif event.key in EMAIL_SLOTS:
                found.add("email", email_identifier(event.value))
            elif event.key in PHONE_SLOTS:
                found.add("phone", phone_identifier(event.value))
            elif event.key in NAME_SLOTS and isinstance(event.value, str) and event.value.strip():
                found.name = event.value.strip()[:255]
        elif isinstance(event, UserUttered):
            _from_message(found, event)
    return found


def _from_message(found: Seen, event: UserUttered) -> None:
    metadata = event.metadata if isinstance(event.metadata, Mapping) else {}
    channel = event.input_channel or ""
    kind = SENDER_KINDS.get(channel)
    if kind == "telegram":
        found.add(kind, str(metadata.get("telegram_user_id") or found.sender_id))
    elif kind == "slack":
        found.add(kind, str(metadata.get("slack_user") or found.sender_id))
    elif kind is not None:
        found.add(kind, found.sender_id)
    elif channel not in ("twilio", "twilio_voice"):
        # the REST API, a custom channel: the sender id is the customer's id there
        found.add(channel[:32] or "api", found.sender_id)
    if channel in ("twilio", "twilio_voice"):
        number = phone_identifier(metadata.get("phone") or found.sender_id)
        if metadata.get("whatsapp"):
            found.add("whatsapp", number)
        found.add("phone", number)
    visitor = metadata.get("visitor")
    if isinstance(visitor, Mapping):
        found.add("email", email_identifier(visitor.get("email")))
        found.add("phone", phone_identifier(visitor.get("phone")))
        if isinstance(visitor.get("name"), str) and visitor["name"].strip() and not found.name:
            found.name = visitor["name"].strip()[:255]


# ---- keeping them --------------------------------------------------------------------------


async def link(connection: AsyncConnection, seen: Sequence[Seen]) -> None:
    """Link each conversation to its contact, in the index's transaction: a new contact
    for a customer never met, merges where one conversation names two."""
    if not seen:
        return
    values = sorted({value for s in seen for _, value in s.identifiers})
    owners: dict[Identifier, int] = {}
    for start in range(0, len(values), 500):
        found = await connection.execute(
            select(contact_identifiers).where(
                contact_identifiers.c.value.in_(values[start : start + 500])
            )
        )
        owners.update({(r.kind, r.value): r.contact_id for r in found})
    senders = [s.sender_id for s in seen]
    linked: dict[str, int] = {}
    for start in range(0, len(senders), 500):
        found = await connection.execute(
            select(contact_conversations).where(
                contact_conversations.c.sender_id.in_(senders[start : start + 500])
            )
        )
        linked.update({r.sender_id: r.contact_id for r in found})
    stored = dict(linked)  # as the table has them
    pending: dict[Identifier, int] = {}  # new identifiers, written together at the end
    for conversation in seen:
        known = {owners[i] for i in conversation.identifiers if i in owners}
        if conversation.sender_id in linked:
            known.add(linked[conversation.sender_id])
        if known:
            contact = min(known)  # the oldest stays
            for other in sorted(known - {contact}):
                await merge_contacts(connection, contact, other, by="")
                _moved(owners, other, contact)
                _moved(pending, other, contact)
                _moved(linked, other, contact)
                _moved(stored, other, contact)
        else:
            contact = await _new_contact(connection, conversation)
        for identifier in conversation.identifiers:
            if identifier not in owners:
                owners[identifier] = pending[identifier] = contact
        linked[conversation.sender_id] = contact
    if pending:
        await connection.execute(
            insert(contact_identifiers),
            [{"kind": k, "value": v, "contact_id": c} for (k, v), c in pending.items()],
        )
    new = [{"sender_id": s, "contact_id": c} for s, c in linked.items() if s not in stored]
    if new:
        await connection.execute(insert(contact_conversations), new)
    for sender, contact in linked.items():
        if sender in stored and stored[sender] != contact:
            await connection.execute(
                update(contact_conversations)
                .where(contact_conversations.c.sender_id == sender)
                .values(contact_id=contact)
            )
    await _seen_again(connection, [(linked[s.sender_id], s) for s in seen])


def _moved(held: dict[Any, int], other: int, contact: int) -> None:
    """What pointed at `other` points at `contact`: `other` was merged into it."""
    held.update({key: contact for key, owner in held.items() if owner == other})


async def _new_contact(connection: AsyncConnection, conversation: Seen) -> int:
    at = conversation.first_at or time.time()
    made = await connection.execute(
        insert(contacts)
        .values(name=conversation.name, first_seen=at, last_seen=conversation.last_at or at)
        .returning(contacts.c.id)
    )
    return int(made.scalar_one())


async def _seen_again(connection: AsyncConnection, seen: Sequence[tuple[int, Seen]]) -> None:
    """Each contact's latest time and name, from its conversations of the batch: one
    statement for the batch, rows that change only."""
    ids = sorted({contact for contact, _ in seen})
    columns = ("name", "last_seen", "consent", "consent_at", "consent_wording")
    rows = {
        r.id: {c: getattr(r, c) for c in columns}
        for r in await connection.execute(
            select(contacts.c.id, *(contacts.c[c] for c in columns)).where(contacts.c.id.in_(ids))
        )
    }
    changed: dict[int, dict[str, Any]] = {}
    for contact, conversation in seen:
        if contact not in rows:
            continue
        values = dict(changed.get(contact, rows[contact]))
        values["name"] = conversation.name or values["name"]
        values["last_seen"] = max(values["last_seen"], conversation.last_at)
        if conversation.consent is not None and conversation.consent[1] > (
            values["consent_at"] or 0.0
        ):
            values["consent"], values["consent_at"], values["consent_wording"] = (
                conversation.consent
            )
        if values != rows[contact]:
            changed[contact] = values
    if changed:
        await connection.execute(
            update(contacts)
            .where(contacts.c.id == bindparam("contact"))
            .values({c: bindparam(f"new_{c}") for c in columns}),
            [
                {"contact": c, **{f"new_{k}": v for k, v in values.items()}}
                for c, values in changed.items()
            ],
        )


async def merge_contacts(
    connection: AsyncConnection, kept: int, other: int, by: str
) -> list[Identifier]:
    """Move `other`'s identifiers and conversations to `kept`, and record what moved;
    the identifiers moved."""
    identifiers = [
        (r.kind, r.value)
        for r in await connection.execute(
            select(contact_identifiers).where(contact_identifiers.c.contact_id == other)
        )
    ]
    conversations = [
        r.sender_id
        for r in await connection.execute(
            select(contact_conversations.c.sender_id).where(
                contact_conversations.c.contact_id == other
            )
        )
    ]
    for table in (contact_identifiers, contact_conversations):
        await connection.execute(
            update(table).where(table.c.contact_id == other).values(contact_id=kept)
        )
    row = (await connection.execute(select(contacts).where(contacts.c.id.in_((kept, other))))).all()
    by_id = {r.id: r for r in row}
    if other in by_id and kept in by_id:
        first = min(by_id[kept].first_seen, by_id[other].first_seen)
        last = max(by_id[kept].last_seen, by_id[other].last_seen)
        name = by_id[kept].name or by_id[other].name
        # the latest answer to the marketing question stands, whichever contact it was on
        latest = max(by_id.values(), key=lambda r: r.consent_at or 0.0)
        await connection.execute(
            update(contacts)
            .where(contacts.c.id == kept)
            .values(
                first_seen=first,
                last_seen=last,
                name=name,
                consent=latest.consent,
                consent_at=latest.consent_at,
                consent_wording=latest.consent_wording,
            )
        )
    await connection.execute(
        update(contacts).where(contacts.c.id == other).values(merged_into=kept)
    )
    await connection.execute(
        insert(contact_merges).values(
            at=time.time(),
            by=by,
            kept=kept,
            merged=other,
            identifiers=json.dumps(identifiers),
            conversations=json.dumps(conversations),
        )
    )
    return identifiers


# ---- reading, and what a person does ----------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    id: int
    name: str
    first_seen: float
    last_seen: float
    identifiers: list[Identifier]
    conversations: int = 0
    #: the latest explicit answer to the marketing question (None: never asked), when, and
    #: the question as it was put
    consent: bool | None = None
    consent_at: float | None = None
    consent_wording: str = ""

    @property
    def title(self) -> str:
        """What a page calls them: their name, else an address or number, else their id."""
        if self.name:
            return self.name
        for kind in ("email", "phone", "whatsapp"):
            for k, value in self.identifiers:
                if k == kind:
                    return value
        return f"Customer {self.id}"

    def shown(self) -> list[tuple[str, str]]:
        """(what the page calls it, value) of each identifier, in KINDS' order."""
        order = list(KINDS)
        ranked = sorted(self.identifiers, key=lambda i: order.index(i[0]) if i[0] in order else 99)
        return [(KINDS.get(kind, kind), value) for kind, value in ranked]


@dataclass(frozen=True)
class Touch:
    """One session of one of the contact's conversations: a step of their journey."""

    sender_id: str
    session: int
    at: float
    channel: str
    language: str
    incoming: int
    resolved: bool
    handed_over: bool
    rating: int | None
    outcomes: list[str]


@dataclass(frozen=True)
class Merge:
    id: int
    at: float
    by: str
    kept: int
    merged: int
    undone_at: float | None


async def with_merged(connection: AsyncConnection, contact_id: int) -> set[int]:
    """`contact_id` and the customers merged into it, at any depth."""
    people = {contact_id}
    while True:
        found = set(
            (
                await connection.scalars(
                    select(contacts.c.id).where(contacts.c.merged_into.in_(people))
                )
            ).all()
        )
        if found <= people:
            return people
        people |= found


class ContactBook:
    """The contacts as the console reads and changes them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def find(self, contact_id: int) -> tuple[Contact | None, int | None]:
        """The contact, or (None, the contact it was merged into)."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(contacts).where(contacts.c.id == contact_id))
            ).first()
            if row is None:
                return None, None
            if row.merged_into is not None:
                return None, int(row.merged_into)
            return (await self._contacts(connection, [row]))[0], None

    async def of_conversation(self, sender_id: str) -> Contact | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(contacts).join(
                        contact_conversations,
                        and_(
                            contact_conversations.c.contact_id == contacts.c.id,
                            contact_conversations.c.sender_id == sender_id,
                        ),
                    )
                )
            ).first()
            return (await self._contacts(connection, [row]))[0] if row is not None else None

    async def search(
        self,
        words: str = "",
        before: float | None = None,
        within: Any = None,
        limit: int | None = PAGE,
    ) -> list[Contact]:
        """Contacts seen most recently first (a page of `limit`, seen before `before`), those
        whose name or an identifier holds `words` when given, among the ids `within` selects
        (a segment's query) when given."""
        query = select(contacts).where(contacts.c.merged_into.is_(None))
        if within is not None:
            query = query.where(contacts.c.id.in_(within))
        if words.strip():
            # a person's words, not a pattern: % and _ are found as themselves
            wanted = words.strip().lower()
            matching = select(contact_identifiers.c.contact_id).where(
                func.lower(contact_identifiers.c.value).contains(wanted, autoescape=True)
            )
            query = query.where(
                or_(
                    func.lower(contacts.c.name).contains(wanted, autoescape=True),
                    contacts.c.id.in_(matching),
                )
            )
        if before is not None:
            query = query.where(contacts.c.last_seen < before)
        query = query.order_by(contacts.c.last_seen.desc(), contacts.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        async with self.engine.connect() as connection:
            rows = list(await connection.execute(query))
            return await self._contacts(connection, rows)

    async def by_identifier(self, value: str) -> Contact | None:
        """The contact an e-mail address or phone number (as typed by a person) belongs to."""
        wanted = [v for v in (email_identifier(value), phone_identifier(value)) if v]
        if not wanted:
            return None
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(contacts)
                    .join(contact_identifiers, contact_identifiers.c.contact_id == contacts.c.id)
                    .where(contact_identifiers.c.value.in_(wanted))
                    .limit(1)
                )
            ).first()
            return (await self._contacts(connection, [row]))[0] if row is not None else None

    async def journey(self, contact_id: int) -> list[Touch]:
        """Every session of every conversation of the contact, on any channel, oldest
        first, with what came of it (as the reports count it)."""
        conversations = select(contact_conversations.c.sender_id).where(
            contact_conversations.c.contact_id == contact_id
        )
        counted = analytics_conversations.c
        outcomes = analytics_counts.c
        async with self.engine.connect() as connection:
            sessions = list(
                await connection.execute(
                    select(analytics_conversations)
                    .where(counted.sender_id.in_(conversations))
                    .order_by(counted.started_at)
                )
            )
            reached: dict[tuple[str, int], list[str]] = {}
            for row in await connection.execute(
                select(outcomes.sender_id, outcomes.session, outcomes.name).where(
                    outcomes.kind == "outcome", outcomes.sender_id.in_(conversations)
                )
            ):
                reached.setdefault((row.sender_id, row.session), []).append(row.name)
        return [
            Touch(
                r.sender_id,
                r.session,
                r.started_at,
                r.channel,
                r.language,
                r.incoming,
                r.resolved,
                r.handed_over,
                r.rating,
                sorted(reached.get((r.sender_id, r.session), [])),
            )
            for r in sessions
        ]

    async def conversations(self, contact_id: int) -> list[Any]:
        """The contact's conversations as the inbox shows them, newest first."""
        async with self.engine.connect() as connection:
            return list(
                await connection.execute(
                    select(conversation_index)
                    .join(
                        contact_conversations,
                        contact_conversations.c.sender_id == conversation_index.c.sender_id,
                    )
                    .where(contact_conversations.c.contact_id == contact_id)
                    .order_by(conversation_index.c.last_at.desc())
                )
            )

    async def merge(self, kept: int, other: int, by: str) -> int | None:
        """Merge `other` into `kept` by hand; the merge's id, or None when either is gone
        or merged already, or they are the same contact."""
        if kept == other:
            return None
        async with self.engine.begin() as connection:
            live = {
                r.id
                for r in await connection.execute(
                    select(contacts.c.id).where(
                        contacts.c.id.in_((kept, other)), contacts.c.merged_into.is_(None)
                    )
                )
            }
            if live != {kept, other}:
                return None
            await merge_contacts(connection, kept, other, by)
            found = await connection.execute(
                select(func.max(contact_merges.c.id)).where(
                    contact_merges.c.kept == kept, contact_merges.c.merged == other
                )
            )
            return int(found.scalar_one())

    async def unsubscribed(self, email: str, at: float, wording: str) -> bool:
        """The customer with `email` unsubscribed outside the chat (a link in an e-mail):
        their answer, unless they answered in a chat since. Whether a customer changed."""
        address = email_identifier(email)
        if address is None:
            return False
        async with self.engine.begin() as connection:
            owners = select(contact_identifiers.c.contact_id).where(
                contact_identifiers.c.kind == "email", contact_identifiers.c.value == address
            )
            changed = await connection.execute(
                update(contacts)
                .where(
                    contacts.c.id.in_(owners),
                    or_(contacts.c.consent_at.is_(None), contacts.c.consent_at < at),
                )
                .values(consent=False, consent_at=at, consent_wording=wording[:2000])
            )
            return bool(changed.rowcount)

    async def merges(self, contact_id: int) -> list[Merge]:
        """The merges into the contact, newest first."""
        async with self.engine.connect() as connection:
            found = await connection.execute(
                select(contact_merges)
                .where(contact_merges.c.kept == contact_id)
                .order_by(contact_merges.c.id.desc())
            )
            return [Merge(r.id, r.at, r.by, r.kept, r.merged, r.undone_at) for r in found]

    async def undo(self, merge_id: int) -> Merge | None:
        """Give the merged contact back what the merge moved (what is still with the kept
        one); None for an unknown merge, one undone already, or one an identifier made."""
        async with self.engine.begin() as connection:
            row = (
                await connection.execute(
                    select(contact_merges).where(contact_merges.c.id == merge_id)
                )
            ).first()
            if row is None or row.undone_at is not None or not row.by:
                return None
            for kind, value in json.loads(row.identifiers):
                await connection.execute(
                    update(contact_identifiers)
                    .where(
                        contact_identifiers.c.kind == kind,
                        contact_identifiers.c.value == value,
                        contact_identifiers.c.contact_id == row.kept,
                    )
                    .values(contact_id=row.merged)
                )
            senders = json.loads(row.conversations)
            if senders:
                await connection.execute(
                    update(contact_conversations)
                    .where(
                        contact_conversations.c.sender_id.in_(senders),
                        contact_conversations.c.contact_id == row.kept,
                    )
                    .values(contact_id=row.merged)
                )
            await connection.execute(
                update(contacts).where(contacts.c.id == row.merged).values(merged_into=None)
            )
            undone = time.time()
            await connection.execute(
                update(contact_merges)
                .where(contact_merges.c.id == merge_id)
                .values(undone_at=undone)
            )
            return Merge(row.id, row.at, row.by, row.kept, row.merged, undone)

    async def _contacts(self, connection: AsyncConnection, rows: Iterable[Any]) -> list[Contact]:
        rows = list(rows)
        ids = [r.id for r in rows]
        identifiers: dict[int, list[Identifier]] = {i: [] for i in ids}
        counts: dict[int, int] = {}
        if ids:
            for r in await connection.execute(
                select(contact_identifiers).where(contact_identifiers.c.contact_id.in_(ids))
            ):
                identifiers[r.contact_id].append((r.kind, r.value))
            for r in await connection.execute(
                select(contact_conversations.c.contact_id, func.count())
                .where(contact_conversations.c.contact_id.in_(ids))
                .group_by(contact_conversations.c.contact_id)
            ):
                counts[r[0]] = int(r[1])
        return [
            Contact(
                r.id,
                r.name,
                r.first_seen,
                r.last_seen,
                identifiers[r.id],
                counts.get(r.id, 0),
                r.consent,
                r.consent_at,
                r.consent_wording,
            )
            for r in rows
        ]
