"""The console's pages: sign-in, the inbox, a conversation, and the changes a person makes
to one (take over, reply, hand back, resolve, assign, label, note), each through the agent
and logged; mentions and canned replies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from parlez.agent import Agent
from parlez.channels.channel import OutputChannel, sender_id_problem
from parlez.console.auth import (
    COOKIE,
    CSRF_FIELD,
    SignInLimiter,
    current_session,
    database_of,
    form_field,
    requires,
    set_session_cookie,
)
from parlez.console.customer import details
from parlez.console.database import ConsoleUserError, Session
from parlez.console.inbox import Status, summary, transcript
from parlez.console.index import ConversationIndex, Cursor, Filters
from parlez.console.live import LiveFeed
from parlez.console.roles import Capability, may
from parlez.console.teamwork import (
    add_note,
    canned,
    count_waiting_mentions,
    delete_canned,
    expanded,
    mentions_seen,
    notes_of,
    save_canned,
    waiting_mentions,
)
from parlez.events import BotUttered, ConversationPaused, ConversationResumed, Event
from parlez.http.errors import ApiError
from parlez.server.state import ServerState
from parlez.tracker import DialogueStateTracker

STATIC = Path(__file__).parent / "static"
#: the longest reply a person may send in one message
MAX_REPLY = 4000

pages = Environment(
    loader=PackageLoader("parlez.console", "templates"),
    # Everything a customer wrote is escaped: autoescape everywhere, no `|safe` in templates.
    autoescape=select_autoescape(default=True, default_for_string=True),
)
pages.filters["when"] = lambda at: datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")

console = Blueprint("console", url_prefix="/console")


def _limiter(request: Request) -> SignInLimiter:
    """The app's own count of failed sign-ins (one per server, not per module)."""
    context = request.app.ctx
    if getattr(context, "console_limiter", None) is None:
        context.console_limiter = SignInLimiter()
    limiter: SignInLimiter = context.console_limiter
    return limiter


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.ctx.state
    return state


def _agent(request: Request) -> Agent:
    return _state(request).require_agent()


async def _page(name: str, request: Request, status: int = 200, **values: Any) -> HTTPResponse:
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


def _decoded(conversation_id: str) -> str:
    """The id in a console URL (percent-encoded there), checked as the stores check ids."""
    conversation_id = unquote(conversation_id)
    problem = sender_id_problem(conversation_id)
    if problem is not None:
        raise ApiError(400, "BadRequest", problem)
    return conversation_id


@console.get("/")
async def home(request: Request) -> HTTPResponse:
    return response.redirect("/console/inbox")


@console.get("/login")
async def login_page(request: Request) -> HTTPResponse:
    if await current_session(request) is not None:
        return response.redirect("/console/inbox")
    return await _page("login.html", request, next=request.args.get("next", "/console/inbox"))


@console.post("/login")
async def login(request: Request) -> HTTPResponse:
    email = form_field(request, "email").strip().lower()
    password = form_field(request, "password")
    keys = (f"email:{email}", f"client:{request.remote_addr or request.ip}")
    limiter = _limiter(request)
    if limiter.blocked(*keys):
        return await _page(
            "login.html", request, 429, error="Too many attempts: wait a few minutes."
        )
    user = await database_of(request).check_password(email, password)
    if user is None:
        limiter.failed(*keys)
        return await _page("login.html", request, 401, error="Wrong e-mail address or password.")
    limiter.succeeded(*keys)
    token, _ = await database_of(request).open_session(user)
    await database_of(request).record(user, "sign_in")
    wanted = form_field(request, "next") or "/console/inbox"
    # Only the console's own pages: never an open redirect to another site.
    target = wanted if wanted.startswith("/console/") and "//" not in wanted else "/console/inbox"
    reply = response.redirect(target, status=303)
    set_session_cookie(request, reply, token)
    return reply


@console.post("/logout")
@requires(Capability.READ)
async def logout(request: Request) -> HTTPResponse:
    token = request.cookies.get(COOKIE) or ""
    await database_of(request).close_session(token)
    reply = response.redirect("/console/login", status=303)
    reply.delete_cookie(COOKIE, path="/console")
    return reply


def _index(request: Request) -> ConversationIndex:
    index: ConversationIndex = request.app.ctx.console_index
    return index


def filters_of(request: Request) -> Filters:
    """The inbox's filters from its query string; an empty field filters nothing."""
    values = {name: (request.args.get(name) or "").strip() or None for name in FILTERS}
    return Filters(**values)


#: the query-string names of the inbox's filters
FILTERS = ("status", "channel", "language", "assignee", "label", "since", "until", "search")


@console.get("/inbox")
@requires(Capability.READ)
async def inbox(request: Request) -> HTTPResponse:
    filters = filters_of(request)
    current = Cursor.parse(request.args.get("after"))
    found = await _index(request).page(filters, current)
    query = urlencode({k: v for k, v in vars(filters).items() if v})
    others = urlencode({k: v for k, v in vars(filters).items() if v and k != "status"})
    template = "_inbox_rows.html" if request.headers.get("hx-request") else "inbox.html"
    return await _page(
        template,
        request,
        page=found,
        rows=found.rows,
        filters=filters,
        query=query,
        others=others,
        current=str(current) if current is not None else "",
        channels=sorted({c.name() for c in _state(request).channels}),
        choices=await _index(request).choices(),
        Status=Status,
    )


@console.get("/inbox/live")
@requires(Capability.READ)
async def live(request: Request) -> HTTPResponse | None:
    """Server-sent events: `change` each time a conversation is saved."""
    feed: LiveFeed = request.app.ctx.console_feed
    stream: Any = await request.respond(
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    async for chunk in feed.stream():
        await stream.send(chunk)
    return None


@console.get("/conversations/<conversation_id:str>")
@requires(Capability.READ)
async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = _decoded(conversation_id)
    agent = _agent(request)
    tracker = await agent.retrieve(conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    database = database_of(request)
    held = await database.assignment(conversation_id)
    await mentions_seen(database, request.ctx.session.user.email, conversation_id)
    shown = transcript(tracker) + [
        {"who": "note", "text": n.text, "at": n.at, "sent_by": n.author}
        for n in await notes_of(database, conversation_id)
    ]
    answerers = [u for u in await database.users() if may(u.role, Capability.ANSWER)]
    return await _page(
        "conversation.html",
        request,
        row=summary(tracker, held),
        messages=sorted(shown, key=lambda m: m["at"]),
        details=details(tracker),
        labels=await database.labels(conversation_id),
        answerers=answerers,
        canned=await canned(database),
        Status=Status,
    )


def _back(conversation_id: str) -> HTTPResponse:
    target = f"/console/conversations/{quote(conversation_id, safe='')}"
    return response.redirect(target, status=303)


async def _change(
    request: Request,
    conversation_id: str,
    action: str,
    events: list[Event],
    status: str,
    assignee: str | None,
    output: OutputChannel | None = None,
) -> HTTPResponse:
    """Add `events` to the conversation through the agent, note who holds it now, log it."""
    session: Session = request.ctx.session
    if events:
        await _state(request).guarded(
            _agent(request).append_events(conversation_id, events, output)
        )
    await database_of(request).assign(conversation_id, status, assignee)
    await database_of(request).record(session.user, action, conversation_id)
    return _back(conversation_id)


async def _existing(request: Request, conversation_id: str) -> DialogueStateTracker | None:
    return await _agent(request).retrieve(conversation_id)


async def _missing(request: Request, conversation_id: str) -> HTTPResponse:
    return await _page("missing.html", request, 404, conversation_id=conversation_id)


@console.post("/conversations/<conversation_id:str>/take-over")
@requires(Capability.ANSWER)
async def take_over(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = _decoded(conversation_id)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    pause: list[Event] = [] if tracker.is_paused() else [ConversationPaused()]
    email = request.ctx.session.user.email
    return await _change(request, conversation_id, "take_over", pause, Status.HUMAN, email)


@console.post("/conversations/<conversation_id:str>/reply")
@requires(Capability.ANSWER)
async def reply(request: Request, conversation_id: str) -> HTTPResponse:
    """The person's message to the customer, through the channel they last wrote from; a
    conversation the bot had is taken over first."""
    conversation_id = _decoded(conversation_id)
    user = request.ctx.session.user
    text = (await expanded(database_of(request), form_field(request, "text"))).strip()
    if len(text) > MAX_REPLY:
        return response.json({"error": f"a reply has at most {MAX_REPLY} characters"}, 400)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    if not text:
        return _back(conversation_id)
    metadata: dict[str, Any] = {"sent_by": user.email, "sent_by_name": user.name}
    wrote = tracker.latest_input_time()
    if wrote is not None:  # platforms limit how long after it a person may answer
        metadata["customer_wrote_at"] = wrote
    said = BotUttered(text, metadata=metadata)
    events: list[Event] = [said] if tracker.is_paused() else [ConversationPaused(), said]
    output = _state(request).output_channel(
        tracker.latest_input_channel(), tracker.latest_input_metadata()
    )
    return await _change(
        request, conversation_id, "reply", events, Status.HUMAN, user.email, output
    )


#: what a label may be: short, and the same however it is typed
LABEL = re.compile(r"^[\w-]{1,64}$")


@console.post("/conversations/<conversation_id:str>/labels")
@requires(Capability.ANSWER)
async def add_label(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = _decoded(conversation_id)
    label = form_field(request, "label").strip().lower().replace(" ", "-")
    if not LABEL.match(label):
        return response.json(
            {"error": "a label is 1 to 64 letters, digits, '-' or '_'"}, status=400
        )
    if await _existing(request, conversation_id) is None:
        return await _missing(request, conversation_id)
    await database_of(request).add_label(conversation_id, label)
    await database_of(request).record(request.ctx.session.user, "label", conversation_id, label)
    return _back(conversation_id)


@console.post("/conversations/<conversation_id:str>/labels/<label:str>/remove")
@requires(Capability.ANSWER)
async def remove_label(request: Request, conversation_id: str, label: str) -> HTTPResponse:
    conversation_id = _decoded(conversation_id)
    label = unquote(label)
    await database_of(request).remove_label(conversation_id, label)
    await database_of(request).record(request.ctx.session.user, "unlabel", conversation_id, label)
    return _back(conversation_id)


@console.post("/conversations/<conversation_id:str>/hand-back")
@requires(Capability.ANSWER)
async def hand_back(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = _decoded(conversation_id)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    resume: list[Event] = [ConversationResumed()] if tracker.is_paused() else []
    return await _change(request, conversation_id, "hand_back", resume, Status.BOT, None)


@console.post("/conversations/<conversation_id:str>/resolve")
@requires(Capability.ANSWER)
async def resolve(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = _decoded(conversation_id)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    resume: list[Event] = [ConversationResumed()] if tracker.is_paused() else []
    return await _change(request, conversation_id, "resolve", resume, Status.RESOLVED, None)


@console.post("/conversations/<conversation_id:str>/notes")
@requires(Capability.ANSWER)
async def add_note_route(request: Request, conversation_id: str) -> HTTPResponse:
    """A note for the team, never sent to the customer; colleagues it names (`@ana`) find
    it under Mentions."""
    conversation_id = _decoded(conversation_id)
    if await _existing(request, conversation_id) is None:
        return await _missing(request, conversation_id)
    user = request.ctx.session.user
    try:
        note = await add_note(
            database_of(request), conversation_id, user, form_field(request, "note")
        )
    except ConsoleUserError as error:
        return response.json({"error": error.message}, status=400)
    await database_of(request).record(user, "note", conversation_id, str(note.id))
    return _back(conversation_id)


@console.post("/conversations/<conversation_id:str>/assign")
@requires(Capability.ANSWER)
async def assign(request: Request, conversation_id: str) -> HTTPResponse:
    """Give the conversation to a colleague who may answer: the bot stops, as when they
    take it over themselves."""
    conversation_id = _decoded(conversation_id)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    wanted = form_field(request, "assignee").strip().lower()
    team = {u.email: u for u in await database_of(request).users()}
    if wanted not in team or not may(team[wanted].role, Capability.ANSWER):
        return response.json({"error": f"'{wanted}' is not a colleague who answers"}, status=400)
    pause: list[Event] = [] if tracker.is_paused() else [ConversationPaused()]
    return await _change(request, conversation_id, "assign", pause, Status.HUMAN, wanted)


@console.get("/mentions")
@requires(Capability.READ)
async def mentions_page(request: Request) -> HTTPResponse:
    waiting = await waiting_mentions(database_of(request), request.ctx.session.user.email)
    return await _page("mentions.html", request, notes=waiting)


@console.get("/canned")
@requires(Capability.ANSWER)
async def canned_page(request: Request) -> HTTPResponse:
    return await _page("canned.html", request, replies=await canned(database_of(request)))


@console.post("/canned")
@requires(Capability.SETTINGS)
async def save_canned_route(request: Request) -> HTTPResponse:
    user = request.ctx.session.user
    try:
        saved = await save_canned(
            database_of(request), form_field(request, "shortcut"), form_field(request, "text"), user
        )
    except ConsoleUserError as error:
        return response.json({"error": error.message}, status=400)
    await database_of(request).record(user, "canned_reply", "/" + saved.shortcut)
    return response.redirect("/console/canned", status=303)


@console.post("/canned/<canned_id:int>/delete")
@requires(Capability.SETTINGS)
async def delete_canned_route(request: Request, canned_id: int) -> HTTPResponse:
    shortcut = await delete_canned(database_of(request), canned_id)
    if shortcut is not None:
        await database_of(request).record(
            request.ctx.session.user, "delete_canned_reply", "/" + shortcut
        )
    return response.redirect("/console/canned", status=303)


@console.get("/audit")
@requires(Capability.AUDIT)
async def audit(request: Request) -> HTTPResponse:
    return await _page("audit.html", request, entries=await database_of(request).audit())


@console.get("/static/<name:str>")
async def static(request: Request, name: str) -> HTTPResponse:
    """The console's own files and its npm libraries (vendor/), never from a CDN."""
    known = {p.name: p for p in (*STATIC.glob("*.*"), *(STATIC / "vendor").glob("*.js"))}
    if name not in known:
        return response.text("not found", status=404)
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return await response.file(known[name], mime_type=kind, headers={"Cache-Control": "no-cache"})
