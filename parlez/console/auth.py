"""Signing in to the console: a session cookie (HttpOnly, SameSite, Secure over HTTPS), a
CSRF token on every change, sign-in attempts limited, and a role check on every route."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.database import ConsoleDatabase, Session
from parlez.console.roles import Capability, may
from parlez.console.tokens import user_of_token

COOKIE = "parlez_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
#: failed sign-ins allowed per address and per client within the window
ATTEMPTS = 5
WINDOW_SECONDS = 300.0

Handler = Callable[..., Awaitable[HTTPResponse | None]]


class SignInLimiter:
    """Failed sign-ins per key (an address, a client), forgotten after the window. In one
    process's memory: several processes each count their own (Redis comes with scale-out)."""

    def __init__(self, attempts: int = ATTEMPTS, window: float = WINDOW_SECONDS) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, list[float]] = {}

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        for key in keys:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window]
            self._failures[key] = recent
            if len(recent) >= self.attempts:
                return True
        return False

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._failures.setdefault(key, []).append(time.monotonic())

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def database_of(request: Request) -> ConsoleDatabase:
    database: ConsoleDatabase = request.app.ctx.console
    return database


def bearer(request: Request) -> str | None:
    """The API token of `Authorization: Bearer ...`, when the request carries one."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def wants_json(request: Request) -> bool:
    """A script (an API token, or `Accept: application/json`), not a browser's page."""
    return bearer(request) is not None or "application/json" in (
        request.headers.get("accept") or ""
    )


async def current_session(request: Request) -> Session | None:
    """Who makes the request: a script's API token, else the browser's session cookie."""
    plain = bearer(request)
    if plain is not None:
        user = await user_of_token(database_of(request), plain)
        return Session(user, csrf="", by_token=True) if user is not None else None
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return await database_of(request).session(token)


def set_session_cookie(request: Request, reply: HTTPResponse, token: str) -> None:
    reply.add_cookie(
        COOKIE,
        token,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=request.scheme == "https",
        max_age=12 * 3600,
    )


def form_field(request: Request, name: str) -> str:
    """A field of a posted form ("" when absent)."""
    form: Any = request.form
    value = form.get(name) if form is not None else None
    return str(value) if value is not None else ""


def posted_file(request: Request) -> tuple[str, str]:
    """A whole file posted from an editor page (`text`, lines ended by a newline as saved
    files are), and the digest of the file the page showed (`digest`)."""
    form: Any = request.get_form(keep_blank_values=True) or {}
    text = str(form.get("text") or "").replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text, str(form.get("digest") or "")


def csrf_matches(request: Request, session: Session) -> bool:
    given = request.headers.get(CSRF_HEADER) or form_field(request, CSRF_FIELD)
    return secrets.compare_digest(given.encode("utf-8"), session.csrf.encode("utf-8"))


def requires(capability: Capability) -> Callable[[Handler], Handler]:
    """The route runs for a signed-in user whose role has `capability`; a change (anything
    but GET/HEAD) also needs the session's CSRF token."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
            session = await current_session(request)
            if session is None:
                if request.method in ("GET", "HEAD") and not wants_json(request):
                    return response.redirect(f"/console/login?next={request.path}")
                error = "unknown or revoked token" if bearer(request) else "sign in first"
                return response.json({"error": error}, status=401)
            if not may(session.user.role, capability):
                refusal = f"Your role ({session.user.role}) may not do this."
                if wants_json(request):
                    return response.json({"error": refusal}, status=403)
                return response.html(f"<p>{refusal}</p>", status=403)
            changes = request.method not in ("GET", "HEAD")
            if changes and not session.by_token and not csrf_matches(request, session):
                return response.json({"error": "the form is stale: reload the page"}, status=403)
            request.ctx.session = session
            return await handler(request, *args, **kwargs)

        return checked

    return decorate
