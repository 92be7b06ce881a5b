"""Work that could not be done now (a calendar or CRM down), kept in the project's database
to be retried.

Nothing a customer gave is lost: the request is written here before the customer is told
it will be confirmed later. Whoever retries it `claim`s what waits: a claimed item is held
for `LEASE` seconds, so two processes retrying at once (two replicas, two cron runs) never
do the same work twice, and one that dies holding it gives it back when the lease ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update

from actions.integrations.database import now, write_lock
from actions.integrations.tables import outbox

#: how long (seconds) a claimed item is held by the process retrying it
LEASE = 300.0


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, kind: str, payload: dict[str, Any], reason: str = "") -> int:
        with self.engine.begin() as db:
            item = db.scalar(
                insert(outbox)
                .values(
                    kind=kind,
                    payload=json.dumps(payload, default=str),
                    reason=reason,
                    created_at=now(),
                )
                .returning(outbox.c.id)
            )
            return int(item)

    def forget(self, emails: list[str], sender_id: str) -> int:
        """Drop the work waiting for or done for a customer (a booking, an e-mail to them):
        payloads naming one of their addresses or their conversation; how many."""
        wanted = {email.lower() for email in emails if email}
        with self.engine.begin() as db:
            write_lock(db, "assistant_outbox")
            gone = [
                row.id
                for row in db.execute(select(outbox.c.id, outbox.c.payload))
                if _names(json.loads(row.payload), wanted, sender_id)
            ]
            if gone:
                db.execute(delete(outbox).where(outbox.c.id.in_(gone)))
            return len(gone)

    def claim(self, kind: str, lease: float = LEASE) -> list[tuple[int, dict[str, Any]]]:
        """What waits of `kind`, oldest first, held for this process for `lease` seconds:
        mark each `done`, or `release` it for a later try."""
        at = now()
        with self.engine.begin() as db:
            write_lock(db, "assistant_outbox")
            rows = db.execute(
                select(outbox.c.id, outbox.c.payload)
                .where(
                    outbox.c.kind == kind,
                    outbox.c.done.is_(False),
                    or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < at),
                )
                .order_by(outbox.c.id)
            ).all()
            if rows:
                db.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(claimed_until=at + lease, attempts=outbox.c.attempts + 1)
                )
        return [(int(row.id), json.loads(row.payload)) for row in rows]

    def pending(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        """What waits of `kind`, claimed or not (for reading, not for doing)."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(outbox.c.id, outbox.c.payload)
                .where(outbox.c.kind == kind, outbox.c.done.is_(False))
                .order_by(outbox.c.id)
            ).all()
        return [(int(row.id), json.loads(row.payload)) for row in rows]

    def done(self, item_id: int) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(outbox).where(outbox.c.id == item_id).values(done=True, claimed_until=None)
            )

    @contextmanager
    def claimed(self, kind: str) -> Iterator[Claim]:
        """`claim(kind)` for a `with` block: what it does not mark done is released at its
        end, also when it fails."""
        claim = Claim(self, self.claim(kind))
        try:
            yield claim
        finally:
            self.release([item for item, _ in claim.items if item not in claim.finished])

    def release(self, item_ids: list[int]) -> None:
        """Give claimed items back (their service is still down): the next retry takes them."""
        if item_ids:
            with self.engine.begin() as db:
                db.execute(
                    update(outbox).where(outbox.c.id.in_(item_ids)).values(claimed_until=None)
                )


@dataclass
class Claim:
    """Items claimed from the outbox: `done(id)` for each one handled."""

    outbox: Outbox
    items: list[tuple[int, dict[str, Any]]]
    finished: set[int] = field(default_factory=set)

    def done(self, item_id: int) -> None:
        self.outbox.done(item_id)
        self.finished.add(item_id)


def _names(payload: Any, emails: set[str], sender_id: str) -> bool:
    """Whether an outbox payload is about this customer."""
    if not isinstance(payload, dict):
        return False
    values = {str(value).lower() for value in payload.values() if isinstance(value, str)}
    return bool(values & emails) or payload.get("sender") == sender_id
