"""What every console page shares: the blueprint its routes hang on, the templates (all
escaped), and the request's server, agent and conversation id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from jinja2 import Environment, PackageLoader, select_autoescape
from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.agent import Agent
from parlez.channels.channel import sender_id_problem
from parlez.console.auth import CSRF_FIELD, database_of
from parlez.console.database import Session
from parlez.console.index import ConversationIndex
from parlez.console.roles import Capability, may
from parlez.console.teamwork import count_waiting_mentions
from parlez.http.blueprint import Blueprint
from parlez.http.errors import ApiError
from parlez.server.state import ServerState

pages = Environment(
    loader=PackageLoader("parlez.console", "templates"),
    # Everything a customer wrote is escaped: autoescape everywhere, no `|safe` in templates.
    autoescape=select_autoescape(default=True, default_for_string=True),
)
pages.filters["when"] = lambda at: datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")

#: what a business calls each channel, for the pages that speak to it (the inbox keeps the
#: channel's own name, which its filters use)
CHANNEL_NAMES = {
    "webchat": "web chat",
    "socketio": "web chat",
    "twilio": "SMS or WhatsApp",
    "twilio_voice": "phone call",
    "facebook": "Messenger",
    "instagram": "Instagram",
    "telegram": "Telegram",
    "slack": "Slack",
    "rest": "REST API",
    "rasa": "REST API",
}


def channel_name(name: str | None, sender_id: str = "") -> str:
    """`twilio` is WhatsApp when the customer's id says so (`whatsapp:+44...`)."""
    if name == "twilio" and sender_id.startswith("whatsapp:"):
        return "WhatsApp"
    if name == "twilio" and sender_id.startswith("+"):
        return "SMS"
    return CHANNEL_NAMES.get(name or "", name or "no channel")


pages.filters["channel"] = channel_name

console = Blueprint("console", url_prefix="/console")


T = TypeVar("T")


def owned(request: Request, name: str, make: Callable[[], T]) -> T:
    """What the app keeps for the console under `name` (made on first use): one per server,
    never one per module, since tests and workers run several apps in a process."""
    context = request.app.ctx
    if getattr(context, name, None) is None:
        setattr(context, name, make())
    found: T = getattr(context, name)
    return found


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.ctx.state
    return state


def console_index(request: Request) -> ConversationIndex:
    """The inbox's read model of the conversations (parlez/console/index.py)."""
    index: ConversationIndex = request.app.ctx.console_index
    return index


def agent_of(request: Request) -> Agent:
    return state_of(request).require_agent()


def in_project(request: Request, path: Path) -> str:
    """`path` as a page names it: relative to the project (its name when outside)."""
    root = state_of(request).project.resolve()
    path = path.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


async def render(name: str, request: Request, status: int = 200, **values: Any) -> HTTPResponse:
    """A page for the signed-in user (or the sign-in page): what their role may do decides
    what it shows."""
    session: Session | None = getattr(request.ctx, "session", None)
    waiting = (
        await count_waiting_mentions(database_of(request), session.user.email) if session else 0
    )
    html = pages.get_template(name).render(
        session=session,
        waiting_mentions=waiting,
        csrf_field=CSRF_FIELD,
        may=lambda capability: session is not None and may(session.user.role, capability),
        Capability=Capability,
        **values,
    )
    return response.html(html, status=status)


def decoded(conversation_id: str) -> str:
    """The id in a console URL (percent-encoded there), checked as the stores check ids."""
    conversation_id = unquote(conversation_id)
    problem = sender_id_problem(conversation_id)
    if problem is not None:
        raise ApiError(400, "BadRequest", problem)
    return conversation_id
