"""Who may call the HTTP API: Rasa's `?token=` and JWT (`Authorization: Bearer ...`) rules.

With neither configured every route is open (use it on 127.0.0.1 only). A JWT whose payload
says `{"user": {"username": ..., "role": "admin"}}` may call everything; role `user` may only
reach the conversation whose id is its username.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from parlez.server.errors import ApiError

Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass(frozen=True)
class Auth:
    token: str | None = None
    jwt_secret: str | None = None
    jwt_method: str = "HS256"

    @property
    def enabled(self) -> bool:
        return bool(self.token or self.jwt_secret)

    def check(self, request: Request, sender_id: str | None) -> None:
        """Return if the request may go on; raise 401 (who are you) or 403 (not you)."""
        if not self.enabled:
            return
        given = request.args.get("token")
        # Bytes: compare_digest refuses a str with characters outside ASCII.
        if self.token and given and hmac.compare_digest(given.encode(), self.token.encode()):
            return
        payload = self._jwt_payload(request)
        if payload is not None:
            found = payload.get("user")
            user: dict[str, Any] = found if isinstance(found, dict) else {}
            role = user.get("role")
            if role == "admin":
                return
            if role == "user" and sender_id is not None and user.get("username") == sender_id:
                return
            raise ApiError(403, "NotAuthorized", "User has insufficient permissions.")
        raise ApiError(401, "NotAuthenticated", "User is not authenticated.")

    def _jwt_payload(self, request: Request) -> dict[str, Any] | None:
        if not self.jwt_secret:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        import jwt

        try:
            payload: dict[str, Any] = jwt.decode(
                token.strip(), self.jwt_secret, algorithms=[self.jwt_method]
            )
        except jwt.PyJWTError:
            return None
        return payload


def requires_auth(handler: Handler) -> Handler:
    """Check `request.app.ctx.auth` before the route runs (sender from `conversation_id`)."""

    @wraps(handler)
    async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        auth: Auth = request.app.ctx.auth
        auth.check(request, kwargs.get("conversation_id"))
        return await handler(request, *args, **kwargs)

    return checked
