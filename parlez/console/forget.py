"""The right to be forgotten: a customer's conversations, and everything the console keeps
about them, removed for good.

Each of the customer's conversations is emptied in the tracker store (its events and its
pending reminders go, through the same `replace` as Rasa's `PUT .../tracker`); every
console table keyed by conversation loses its rows (the inbox, search, the reports, labels,
notes, mentions, the review queue), and so do the customer's identifiers, merges and the
e-mail platform's member, deleted there for good. What stays is one line of the audit log
saying that a customer and how many conversations were forgotten, and by whom: never who.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, text

from parlez.console.audience import Audience, AudienceError
from parlez.console.contacts import with_merged
from parlez.console.index import ConversationIndex
from parlez.console.models import (
    SEARCH_TABLE,
    audience_members,
    contact_conversations,
    contact_identifiers,
    contact_merges,
    contacts,
    metadata,
)
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Forgotten:
    contact_id: int
    conversations: int
    #: the e-mail platform could not delete the member: the reason, to be done by hand
    platform_problem: str = ""


async def forget_customer(
    index: ConversationIndex,
    contact_id: int,
    replace: Callable[[DialogueStateTracker], Awaitable[object]],
    audience: Audience | None = None,
) -> Forgotten | None:
    """Forget the customer `contact_id` (and the customers merged into it); None when there
    is no such customer. `replace` empties a conversation: the agent's, so that it waits
    for a message being answered, or the store's from the command line."""
    await index.catch_up_reports(None)
    async with index.engine.connect() as connection:
        row = (
            await connection.execute(select(contacts).where(contacts.c.id == contact_id))
        ).first()
        if row is None or row.merged_into is not None:
            return None
        people = await with_merged(connection, contact_id)
        senders = [
            r.sender_id
            for r in await connection.execute(
                select(contact_conversations.c.sender_id).where(
                    contact_conversations.c.contact_id.in_(people)
                )
            )
        ]
        emails = [
            r.value
            for r in await connection.execute(
                select(contact_identifiers.c.value).where(
                    contact_identifiers.c.contact_id.in_(people),
                    contact_identifiers.c.kind == "email",
                )
            )
        ]
    for sender in senders:
        await replace(DialogueStateTracker(sender, []))
    problem = ""
    if audience is not None:
        for email in emails:
            try:
                await audience.forget(email)
            except AudienceError as error:
                logger.error("%s %s; delete the member by hand", error.code, error)
                problem = str(error)
    async with index.engine.begin() as connection:
        for start in range(0, len(senders), 500):
            chunk = senders[start : start + 500]
            for table in metadata.sorted_tables:
                if "sender_id" in table.c:
                    await connection.execute(delete(table).where(table.c.sender_id.in_(chunk)))
            for sender in chunk:
                await connection.execute(
                    text(f"DELETE FROM {SEARCH_TABLE} WHERE sender_id = :sender"),
                    {"sender": sender},
                )
        await connection.execute(
            delete(contact_identifiers).where(contact_identifiers.c.contact_id.in_(people))
        )
        await connection.execute(
            delete(audience_members).where(audience_members.c.contact_id.in_(people))
        )
        await connection.execute(
            delete(contact_merges).where(
                or_(contact_merges.c.kept.in_(people), contact_merges.c.merged.in_(people))
            )
        )
        await connection.execute(delete(contacts).where(contacts.c.id.in_(people)))
    return Forgotten(contact_id, len(senders), problem)
