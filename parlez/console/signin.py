"""Signing in and out: a password (limited attempts), or single sign-on at the business's
identity provider when endpoints.yml configures one."""

from __future__ import annotations

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import (
    COOKIE,
    SignInLimiter,
    current_session,
    database_of,
    form_field,
    requires,
    set_session_cookie,
)
from parlez.console.database import User
from parlez.console.pages import console, owned, render
from parlez.console.roles import Capability
from parlez.console.sso import PENDING_SECONDS, OpenIdProvider, Pending, SignOnError

#: the cookie that carries a sign-in started at the identity provider, until it comes back
PENDING_COOKIE = "parlez_console_sso"
HOME = "/console/inbox"


def _limiter(request: Request) -> SignInLimiter:
    return owned(request, "console_limiter", SignInLimiter)


def provider_of(request: Request) -> OpenIdProvider | None:
    provider: OpenIdProvider | None = getattr(request.app.ctx, "console_sso", None)
    return provider


def _console_page(wanted: str) -> str:
    """Only the console's own pages: never an open redirect to another site."""
    return wanted if wanted.startswith("/console/") and "//" not in wanted else HOME


async def _login_page(request: Request, status: int = 200, error: str = "") -> HTTPResponse:
    provider = provider_of(request)
    return await render(
        "login.html",
        request,
        status,
        error=error,
        next=_console_page(request.args.get("next") or form_field(request, "next") or HOME),
        sso_label=provider.settings.label if provider is not None else None,
    )


async def _signed_in(
    request: Request, user: User, action: str, target: str, from_provider: bool = False
) -> HTTPResponse:
    token, _ = await database_of(request).open_session(user)
    await database_of(request).record(user, action)
    if from_provider:
        # The browser came from the provider's site: a redirect would still be part of that
        # cross-site navigation, and the SameSite=Strict cookie would not go with it (the
        # inbox would ask to sign in again). A page of ours that moves on is same-site.
        reply = await render("signed_in.html", request, target=_console_page(target))
    else:
        reply = response.redirect(_console_page(target), status=303)
    set_session_cookie(request, reply, token)
    return reply


@console.get("/")
async def home(request: Request) -> HTTPResponse:
    return response.redirect(HOME)


@console.get("/login")
async def login_page(request: Request) -> HTTPResponse:
    if await current_session(request) is not None:
        return response.redirect(HOME)
    return await _login_page(request)


@console.post("/login")
async def login(request: Request) -> HTTPResponse:
    email = form_field(request, "email").strip().lower()
    password = form_field(request, "password")
    keys = (f"email:{email}", f"client:{request.remote_addr or request.ip}")
    limiter = _limiter(request)
    if limiter.blocked(*keys):
        return await _login_page(request, 429, "Too many attempts: wait a few minutes.")
    user = await database_of(request).check_password(email, password)
    if user is None:
        limiter.failed(*keys)
        return await _login_page(request, 401, "Wrong e-mail address or password.")
    limiter.succeeded(*keys)
    return await _signed_in(request, user, "sign_in", form_field(request, "next"))


@console.post("/logout")
@requires(Capability.READ)
async def logout(request: Request) -> HTTPResponse:
    token = request.cookies.get(COOKIE) or ""
    await database_of(request).close_session(token)
    reply = response.redirect("/console/login", status=303)
    reply.delete_cookie(COOKIE, path="/console")
    return reply


def _callback_url(request: Request, provider: OpenIdProvider) -> str:
    return provider.settings.redirect_uri or request.url_for("console.sso_callback")


@console.get("/sso/start")
async def sso_start(request: Request) -> HTTPResponse:
    """Send the browser to the identity provider to sign in."""
    provider = provider_of(request)
    if provider is None:
        return response.json({"error": "single sign-on is not configured"}, status=404)
    try:
        url, pending = await provider.start(
            _callback_url(request, provider), _console_page(request.args.get("next") or HOME)
        )
    except SignOnError as error:
        return await _login_page(request, 502, error.message)
    reply = response.redirect(url, status=303)
    reply.add_cookie(
        PENDING_COOKIE,
        pending.dumps(),
        path="/console/sso",
        httponly=True,
        # Lax, not Strict: the provider's redirect back is a navigation from its site.
        samesite="Lax",
        secure=request.scheme == "https",
        max_age=PENDING_SECONDS,
    )
    return reply


@console.get("/sso/callback")
async def sso_callback(request: Request) -> HTTPResponse:
    """The identity provider sends the browser back with a code: trade it for the person's
    ID token, check it, and sign them in with the role their claim maps to."""
    provider = provider_of(request)
    if provider is None:
        return response.json({"error": "single sign-on is not configured"}, status=404)
    pending = Pending.loads(request.cookies.get(PENDING_COOKIE))
    state, code = request.args.get("state"), request.args.get("code")
    if request.args.get("error"):
        described = request.args.get("error_description") or request.args.get("error")
        reply = await _login_page(request, 401, f"The identity provider said: {described}")
    elif pending is None or not state or state != pending.state or not code:
        # Another browser's sign-in, or one that took too long: never finish it here.
        reply = await _login_page(
            request, 400, "This sign-in was not started here or took too long: try again."
        )
    else:
        reply = await _finish(request, provider, code, pending)
    reply.delete_cookie(PENDING_COOKIE, path="/console/sso")
    return reply


async def _finish(
    request: Request, provider: OpenIdProvider, code: str, pending: Pending
) -> HTTPResponse:
    try:
        person = await provider.finish(_callback_url(request, provider), code, pending)
    except SignOnError as error:
        return await _login_page(request, 401, error.message)
    if person.role is None:
        return await _login_page(
            request,
            403,
            f"{person.email} has no role in this console: ask its owner to give you one "
            f"at the identity provider.",
        )
    user = await database_of(request).signed_on(person.email, person.name, person.role)
    if user is None:
        return await _login_page(request, 403, f"{person.email} may no longer sign in here.")
    return await _signed_in(request, user, "sign_in_sso", pending.next, from_provider=True)
