"""What the business's own pages report of a web chat visitor (`ParlezChat.track`): a visit,
once a day, and conversions such as a purchase with its value. They are kept by the chat's
session id, the visitor's conversation's sender id, so that the ROI report can tell the
purchases that followed a chat from the others (docs/analytics.md#conversions-and-roi)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parlez.console.models import tracked

VISIT = "visit"


async def record(
    engine: AsyncEngine,
    sender_id: str,
    name: str,
    value: float | None = None,
    currency: str = "",
    order_id: str = "",
    at: float | None = None,
) -> bool:
    """Keep what was reported; False when it was already (today's visit, the same order)."""
    at = time.time() if at is None else at
    once: str | None = None
    if name == VISIT:
        once = f"{VISIT}:{datetime.fromtimestamp(at, UTC):%Y-%m-%d}:{sender_id}"
    elif order_id:
        once = f"{name}:{order_id}"
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(tracked).values(
                    sender_id=sender_id,
                    name=name,
                    value=value,
                    currency=currency,
                    order_id=order_id,
                    at=at,
                    once=once[:255] if once else None,
                )
            )
    except IntegrityError:
        return False
    return True
