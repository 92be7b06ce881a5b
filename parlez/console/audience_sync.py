"""Keeping the e-mail marketing platform's audience up to date with the customers.

Every customer who answered the marketing question and gave an e-mail address is a member:
subscribed after a yes, unsubscribed after a no (a withdrawal reaches the platform too),
with their name, phone, language and tags (the outcomes their conversations reached, their
labels). A customer never asked is never sent. Each sync sends only the members whose
fingerprint changed since the last one the platform took; a member the platform refused is
logged (P556) and sent again at the next sync.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select

from parlez.console.audience import (
    Audience,
    AudienceError,
    Member,
    split_name,
    tags_of,
)
from parlez.console.index import ConversationIndex
from parlez.console.marketing import MarketingConfig
from parlez.console.models import (
    analytics_counts,
    audience_members,
    contact_conversations,
    contact_identifiers,
    contacts,
    conversation_index,
    labels,
)
from parlez.console.segments import Segment
from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)

#: seconds between two syncs while the server runs
SYNC_SECONDS = 60


@dataclass
class SyncResult:
    sent: int = 0
    failed: int = 0
    unchanged: int = 0


class AudienceSync:
    def __init__(
        self,
        index: ConversationIndex,
        audience: Audience,
        tag_sources: tuple[str, ...],
        platform: str = "",
        webhook_secret: str = "",
        segments: tuple[Segment, ...] = (),
    ) -> None:
        self.index = index
        self.audience = audience
        self.tag_sources = tag_sources
        self.platform = platform
        self.webhook_secret = webhook_secret
        self.segments = segments
        self._lock = asyncio.Lock()
        #: the latest sync's result and when it ended (for the customers' page)
        self.last: tuple[float, SyncResult] | None = None

    async def members(self) -> dict[str, tuple[int, Member]]:
        """Every address the audience should hold: address -> (contact, member)."""
        await self.index.catch_up_reports(None)
        named = {o.name for o in self.index.analytics.outcomes}
        answered = (contacts.c.consent.is_not(None), contacts.c.merged_into.is_(None))
        async with self.index.engine.connect() as connection:
            people = {r.id: r for r in await connection.execute(select(contacts).where(*answered))}
            if not people:
                return {}
            # A subquery, not the ids: an audience of 40,000 is past a statement's values.
            ids = select(contacts.c.id).where(*answered)
            identifiers: dict[int, dict[str, list[str]]] = {}
            for r in await connection.execute(
                select(contact_identifiers).where(
                    contact_identifiers.c.contact_id.in_(ids),
                    contact_identifiers.c.kind.in_(("email", "phone")),
                )
            ):
                identifiers.setdefault(r.contact_id, {}).setdefault(r.kind, []).append(r.value)
            senders: dict[str, int] = {
                r.sender_id: r.contact_id
                for r in await connection.execute(
                    select(contact_conversations).where(contact_conversations.c.contact_id.in_(ids))
                )
            }
            conversations = select(contact_conversations.c.sender_id).where(
                contact_conversations.c.contact_id.in_(ids)
            )
            language: dict[int, tuple[float, str]] = {}
            for r in await connection.execute(
                select(
                    conversation_index.c.sender_id,
                    conversation_index.c.language,
                    conversation_index.c.last_at,
                ).where(conversation_index.c.sender_id.in_(conversations))
            ):
                contact = senders[r.sender_id]
                if r.language and r.last_at >= language.get(contact, (0.0, ""))[0]:
                    language[contact] = (r.last_at, r.language)
            outcomes: dict[int, set[str]] = {}
            topics: dict[int, set[str]] = {}
            for r in await connection.execute(
                select(
                    analytics_counts.c.sender_id, analytics_counts.c.kind, analytics_counts.c.name
                )
                .where(
                    analytics_counts.c.kind.in_(("outcome", "label")),
                    analytics_counts.c.sender_id.in_(conversations),
                )
                .distinct()
            ):
                contact = senders[r.sender_id]
                if r.kind == "label":
                    topics.setdefault(contact, set()).add(r.name)
                elif r.name in named:
                    outcomes.setdefault(contact, set()).add(r.name)
            for r in await connection.execute(
                select(labels).where(labels.c.sender_id.in_(conversations))
            ):
                topics.setdefault(senders[r.sender_id], set()).add(r.label)
            grouped: dict[int, set[str]] = {}
            if "segments" in self.tag_sources:
                for segment in self.segments:
                    for r in await connection.execute(segment.query()):
                        grouped.setdefault(r.id, set()).add(segment.name)
        wanted: dict[str, tuple[int, Member]] = {}
        for contact, person in people.items():
            first, last = split_name(person.name)
            phones = identifiers.get(contact, {}).get("phone", [])
            for email in sorted(identifiers.get(contact, {}).get("email", [])):
                wanted[email] = (
                    contact,
                    Member(
                        email=email,
                        subscribed=bool(person.consent),
                        consent_at=float(person.consent_at or 0.0),
                        first_name=first,
                        last_name=last,
                        phone=phones[0] if phones else "",
                        language=language.get(contact, (0.0, ""))[1],
                        tags=tags_of(
                            outcomes.get(contact, ()),
                            topics.get(contact, ()),
                            self.tag_sources,
                        )
                        | frozenset(grouped.get(contact, ())),
                    ),
                )
        return wanted

    async def sync(self) -> SyncResult:
        """Send what changed since the last sync; one sync at a time in this process."""
        async with self._lock:
            result = SyncResult()
            wanted = await self.members()
            async with self.index.engine.connect() as connection:
                sent = {r.email: r for r in await connection.execute(select(audience_members))}
            for email, (contact, member) in wanted.items():
                before = sent.get(email)
                if before is not None and before.fingerprint == member.fingerprint:
                    result.unchanged += 1
                    continue
                dropped = frozenset(json.loads(before.tags)) if before is not None else frozenset()
                answered = before is None or before.consent_at != member.consent_at
                try:
                    await self.audience.upsert(member, dropped, new_answer=answered)
                except AudienceError as error:
                    logger.error("%s %s; sent again at the next sync", error.code, error)
                    result.failed += 1
                    continue
                await self._sent(email, contact, member)
                result.sent += 1
            self.last = (time.time(), result)
            return result

    async def counts(self) -> int:
        """The addresses the platform has taken."""
        async with self.index.engine.connect() as connection:
            return int(
                (
                    await connection.execute(select(func.count()).select_from(audience_members))
                ).scalar_one()
            )

    async def _sent(self, email: str, contact: int, member: Member) -> None:
        values: dict[str, Any] = {
            "email": email,
            "contact_id": contact,
            "fingerprint": member.fingerprint,
            "tags": json.dumps(sorted(member.tags)),
            "consent_at": member.consent_at,
            "synced_at": time.time(),
        }
        async with self.index.engine.begin() as connection:
            await connection.execute(
                delete(audience_members).where(audience_members.c.email == email)
            )
            await connection.execute(insert(audience_members).values(**values))

    async def keep_syncing(self) -> None:
        """Sync every SYNC_SECONDS while the server runs."""
        while True:
            try:
                await self.sync()
            except Exception:  # the next sync tries again; the server goes on
                logger.exception("the e-mail marketing platform's audience could not be synced")
            await asyncio.sleep(SYNC_SECONDS)


def marketing_sync(
    index: ConversationIndex, project: Path
) -> tuple[MarketingConfig, AudienceSync | None, ParlezError | None]:
    """What marketing.yml asks for: its segments, and the audience's sync if it names one.
    A broken file is logged and shown on the customers' page; the assistant keeps answering
    meanwhile."""
    try:
        config = MarketingConfig.load(project, index.analytics.outcome_names)
    except ParlezError as error:
        logger.error("%s %s; no customer is sent to the e-mail platform", error.code, error)
        return MarketingConfig(), None, error
    if config.audience is None:
        return config, None, None
    sync = AudienceSync(
        index,
        config.audience,
        config.tags,
        config.platform,
        config.webhook_secret,
        config.segments,
    )
    return config, sync, None
