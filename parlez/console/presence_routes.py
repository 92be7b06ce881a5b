"""The console's colleagues in a conversation: each open page says who it is and whether
its person is typing; every page hears of a change on the live feed, and the customer sees
a person typing on channels that can show it."""

from __future__ import annotations

import logging

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import form_field, requires, wants_json
from parlez.console.live import LiveFeed
from parlez.console.pages import agent_of, console, decoded, owned, render, state_of
from parlez.console.presence import Doing, Presence
from parlez.console.roles import Capability, may

logger = logging.getLogger(__name__)


def presence_of(request: Request) -> Presence:
    return owned(request, "console_presence", Presence)


async def _shown(request: Request, conversation_id: str) -> HTTPResponse:
    me = request.ctx.session.user.email
    visitors = presence_of(request).visitors(conversation_id, besides=me)
    if wants_json(request):
        return response.json({"visitors": [vars(v) for v in visitors]})
    return await render("_presence.html", request, visitors=visitors)


@console.get("/conversations/<conversation_id:str>/presence")
@requires(Capability.READ)
async def presence(request: Request, conversation_id: str) -> HTTPResponse:
    """Who else has the conversation open, and who of them is typing."""
    return await _shown(request, decoded(conversation_id))


@console.post("/conversations/<conversation_id:str>/presence")
@requires(Capability.READ)
async def mark_presence(request: Request, conversation_id: str) -> HTTPResponse:
    """`doing`: viewing (every few seconds), typing (while the reply box changes), left."""
    conversation_id = decoded(conversation_id)
    try:
        doing = Doing(form_field(request, "doing") or Doing.VIEWING)
    except ValueError:
        return response.json({"error": "'doing' is viewing, typing or left"}, status=400)
    user = request.ctx.session.user
    if doing is Doing.TYPING and not may(user.role, Capability.ANSWER):
        doing = Doing.VIEWING  # who may not answer writes nothing to the customer
    seen = presence_of(request)
    if seen.mark(conversation_id, user.email, user.name, doing):
        feed: LiveFeed = request.app.ctx.console_feed
        feed.presence(conversation_id)
    typing = seen.typing(conversation_id)
    if seen.relay_due(conversation_id, typing):
        await _tell_customer(request, conversation_id, typing)
    return await _shown(request, conversation_id)


async def _tell_customer(request: Request, conversation_id: str, typing: bool) -> None:
    """Show the customer a person typing, only while a person has the conversation (the
    bot's own turns show their own)."""
    try:
        tracker = await agent_of(request).retrieve(conversation_id)
        if tracker is None or not tracker.is_paused():
            return
        output = state_of(request).output_channel(
            tracker.latest_input_channel(), tracker.latest_input_metadata()
        )
        await output.send_typing(conversation_id, typing)
    except Exception:  # a hint to the customer: never worth failing the page for
        logger.warning("Could not show %s that a person is typing", conversation_id, exc_info=True)
