"""The right to be forgotten: a customer's conversations, and everything the console keeps
about them, removed for good.

Each of the customer's conversations is emptied in the tracker store (its events and its
pending reminders go, through the same `replace` as Rasa's `PUT .../tracker`); every
console table keyed by conversation loses its rows (the inbox, search, the reports, labels,
notes, mentions, the review queue), and so do the customer's identifiers, merges and the
e-mail platform's member, deleted there for good. What stays is one line of the audit log
saying that a customer and how many conversations were forgotten, and by whom: never who.

What the assistant's own code keeps (its leads, bookings, a CRM's contact) is its own to
forget: when its actions have an `action_forget_customer`, it runs once on each of the
customer's conversations first, with the whole conversation (so with every e-mail address
and number the customer gave). If it fails, nothing is forgotten, and the error says why.
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
from parlez.core.actions.custom import CustomActionExecutor
from parlez.domain import Domain
from parlez.exceptions import ParlezError
from parlez.stores.tracker_store import TrackerStore
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

#: the assistant's action that forgets what its own code keeps about a conversation's customer
FORGET_ACTION = "action_forget_customer"

#: before a conversation is emptied: the assistant's own forgetting (raises ForgetError)
BeforeForgetting = Callable[[str], Awaitable[None]]


class ForgetError(ParlezError):
    code = "P558"


def assistant_forgetting(
    store: TrackerStore, executor: CustomActionExecutor | None, domain: Domain
) -> BeforeForgetting | None:
    """`action_forget_customer` run on a conversation, when the assistant has one (in its
    domain, or among its in-process actions); None when it has not."""
    known = set(domain.action_names_or_texts) | set((executor and executor.names()) or [])
    if executor is None or FORGET_ACTION not in known:
        return None

    async def forget(sender_id: str) -> None:
        tracker = await store.retrieve(sender_id)
        if tracker is None:
            return
        try:
            await executor.run(FORGET_ACTION, tracker, domain)
        except Exception as error:  # the business's own code, whatever it raises
            raise ForgetError(
                f"{FORGET_ACTION} failed on conversation '{sender_id}': {error}",
                hint="nothing was forgotten; fix what the action needs (its CRM, its "
                "database) and forget the customer again",
            ) from error

    return forget


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
    before: BeforeForgetting | None = None,
) -> Forgotten | None:
    """Forget the customer `contact_id` (and the customers merged into it); None when there
    is no such customer. `replace` empties a conversation: the agent's, so that it waits
    for a message being answered, or the store's from the command line. `before` runs on
    each conversation first (`assistant_forgetting`); its ForgetError stops everything."""
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
    if before is not None:
        for sender in senders:
            await before(sender)
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
