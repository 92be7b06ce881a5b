"""The follow-up e-mails' unsubscribe link: a page that asks, and the POST that stops the
e-mails (also sent by a mail program's one-click unsubscribe, RFC 8058). No sign-in: the
link's token is the customer's own, one per e-mail sent."""

from __future__ import annotations

from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.business import read_business
from parlez.console.follow_ups import FollowUp, FollowUps
from parlez.console.pages import console, pages

#: a token is `secrets.token_urlsafe(24)`: longer ones are not looked up
MAX_TOKEN = 64


def _page(business: dict[str, Any], follow_up: FollowUp | None, state: str) -> HTTPResponse:
    html = pages.get_template("unsubscribe.html").render(
        business=str(business.get("name") or ""),
        email=follow_up.email if follow_up is not None else "",
        language=follow_up.language if follow_up is not None else "en",
        state=state,
    )
    return response.html(html, status=404 if state == "unknown" else 200)


def _follow_ups(request: Request) -> FollowUps:
    return request.app.ctx.follow_ups  # type: ignore[no-any-return]


@console.get("/unsubscribe/<token:str>")
@console.post("/unsubscribe/<token:str>", name="unsubscribe_post")
async def unsubscribe(request: Request, token: str) -> HTTPResponse:
    """GET asks (a mail scanner following links must not unsubscribe); POST, the page's
    button or a mail program's one-click, stops the e-mails."""
    follow_ups = _follow_ups(request)
    known = len(token) <= MAX_TOKEN
    if request.method == "POST":
        found = await follow_ups.unsubscribe(token) if known else None
        state = "done"
    else:
        found = await follow_ups.by_token(token) if known else None
        state = "ask"
    business = read_business(follow_ups.project)
    return _page(business, found, state if found is not None else "unknown")
