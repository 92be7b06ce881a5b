"""`POST /webchat/track`: what the business's own pages report of a chat visitor through
`ParlezChat.track(name, {value, currency, order_id})`: a visit (the widget sends one a day
by itself) and conversions such as a purchase, kept for the ROI report.

The same checks as the chat's other routes (the page's origin, the chat's token when one is
configured), its own budget per visitor and per address, and a 400 that names what is wrong.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from connectors.webchat.limits import RateLimiter

if TYPE_CHECKING:
    from connectors.webchat.channel import WebChatInput

logger = logging.getLogger(__name__)

NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
MAX_ORDER_ID = 128
#: a value above this is a mistake on the page (cents sent as units a thousand times over)
MAX_VALUE = 1e9
#: reports a visitor's pages may send a minute, and at once
PER_MINUTE, BURST = 30.0, 10
#: and all visitors behind one address (an office, a shop's Wi-Fi, a carrier's NAT)
ADDRESS_PER_MINUTE, ADDRESS_BURST = 600.0, 200


class TrackingRefused(ValueError):
    pass


def reported(body: Any) -> tuple[str, str, float | None, str, str]:
    """(session id, name, value, currency, order id) from the request's JSON."""
    from connectors.webchat.channel import SESSION_ID

    if not isinstance(body, dict):
        raise TrackingRefused("send a JSON object: {session_id, event, value, currency}")
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise TrackingRefused("a session_id is needed")
    name = body.get("event")
    if not isinstance(name, str) or not NAME.match(name):
        raise TrackingRefused("'event' is a name such as purchase (a-z, 0-9, _)")
    value = body.get("value")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TrackingRefused("'value' is a number")
        if not math.isfinite(value) or not 0 <= value <= MAX_VALUE:
            raise TrackingRefused("'value' is a number from 0 to 1e9")
    currency = body.get("currency") or ""
    if not isinstance(currency, str) or (currency and not CURRENCY.match(currency)):
        raise TrackingRefused("'currency' is a three-letter code such as EUR")
    if value is not None and not currency:
        raise TrackingRefused("a 'value' needs its 'currency'")
    order_id = body.get("order_id") or ""
    if not isinstance(order_id, str | int) or len(str(order_id)) > MAX_ORDER_ID:
        raise TrackingRefused(f"'order_id' is a text of {MAX_ORDER_ID} characters at most")
    return (
        session_id,
        name,
        None if value is None else float(value),
        currency.upper(),
        str(order_id),
    )


class WebChatTracking:
    def __init__(self, channel: WebChatInput) -> None:
        self.channel = channel
        self.limiter: Any = RateLimiter(PER_MINUTE, BURST)
        self.address_limiter: Any = RateLimiter(ADDRESS_PER_MINUTE, ADDRESS_BURST)

    def routes(self, bp: Blueprint, error: Callable[..., HTTPResponse]) -> None:
        from connectors.webchat.channel import bearer_token

        channel = self.channel

        @bp.post("/webchat/track", name="webchat_track")
        async def track(request: Request) -> HTTPResponse:
            if not channel._request_origin_allowed(request):
                return error(request, 403, "OriginNotAllowed", "this page may not use the chat")
            if not channel._authorised({"token": bearer_token(request)}):
                return error(request, 401, "NotAuthorized", "a valid token is needed")
            try:
                body = json.loads(request.body or b"null")
                session_id, name, value, currency, order_id = reported(body)
            except (ValueError, UnicodeDecodeError) as bad:
                message = str(bad) if isinstance(bad, TrackingRefused) else "send JSON"
                return error(request, 400, "BadRequest", message)
            address = request.remote_addr or request.ip or "unknown"
            if await self.limiter.spend(
                f"session:{session_id}"
            ) or await self.address_limiter.spend(f"address:{address}"):
                return error(request, 429, "TooManyRequests", "too many reports; wait a moment")
            kept = await channel._conversations().track(session_id, name, value, currency, order_id)
            return channel._cors(
                request,
                HTTPResponse(
                    json.dumps({"kept": kept}), status=202, content_type="application/json"
                ),
            )

        @bp.options("/webchat/track", name="webchat_track_preflight")
        async def track_preflight(request: Request) -> HTTPResponse:
            return channel.preflight(request, error)
