"""The console's inbox and conversation pages, and the changes a person makes to a
conversation (take over, reply, hand back, resolve, assign, label, note), each through the
agent and logged; mentions and canned replies. A script with an API token gets JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import CollectingOutputChannel
from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.contacts import ContactBook
from parlez.console.customer import details, known
from parlez.console.database import KEEP, ConsoleUserError, Session
from parlez.console.delivery import Delivery
from parlez.console.inbox import Status, customer_of, summary, transcript
from parlez.console.index import Cursor, Filters
from parlez.console.live import LiveFeed
from parlez.console.pages import agent_of, console, console_index, decoded, render, state_of
from parlez.console.roles import Capability, may
from parlez.console.teams import all_teams
from parlez.console.teamwork import (
    add_note,
    canned,
    delete_canned,
    expanded,
    mentions_seen,
    notes_of,
    save_canned,
    waiting_mentions,
)
from parlez.core.survey import OWN_RATING, rating_question
from parlez.events import BotUttered, ConversationPaused, ConversationResumed, Event
from parlez.tracker import DialogueStateTracker

STATIC = Path(__file__).parent / "static"
#: the longest reply a person may send in one message
MAX_REPLY = 4000
#: `assignee=team:billing` gives a conversation to a team
TEAM_PREFIX = "team:"


def filters_of(request: Request) -> Filters:
    """The inbox's filters from its query string; an empty field filters nothing."""
    values = {name: (request.args.get(name) or "").strip() or None for name in FILTERS}
    return Filters(**values)


#: the query-string names of the inbox's filters
FILTERS = (
    "status",
    "channel",
    "language",
    "assignee",
    "team",
    "label",
    "customer",
    "since",
    "until",
    "search",
)


@console.get("/inbox")
@requires(Capability.READ)
async def inbox(request: Request) -> HTTPResponse:
    filters = filters_of(request)
    current = Cursor.parse(request.args.get("after"))
    found = await console_index(request).page(filters, current)
    query = urlencode({k: v for k, v in vars(filters).items() if v})
    others = urlencode({k: v for k, v in vars(filters).items() if v and k != "status"})
    if wants_json(request):
        return response.json({"conversations": [vars(r) for r in found.rows], "after": found.after})
    values: dict[str, Any] = {
        "page": found,
        "rows": found.rows,
        "filters": filters,
        "query": query,
        "others": others,
        "current": str(current) if current is not None else "",
        "Status": Status,
    }
    if request.headers.get("hx-request"):  # the rows again, after every message
        return await render("_inbox_rows.html", request, **values)
    channels = sorted({c.name() for c in state_of(request).channels})
    choices = await console_index(request).choices()
    return await render("inbox.html", request, channels=channels, choices=choices, **values)


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
    conversation_id = decoded(conversation_id)
    agent = agent_of(request)
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
    messages = sorted(shown, key=lambda m: m["at"])
    if not may(request.ctx.session.user.role, Capability.UNDERSTANDING):
        for message in messages:
            message.pop("intent", None)
            message.pop("confidence", None)
    labelled = await database.labels(conversation_id)
    others = await console_index(request).others(customer_of(tracker), conversation_id)
    by_rule = [
        label
        for label in await console_index(request).rule_labels(conversation_id)
        if label not in labelled
    ]
    contact = await ContactBook(console_index(request).engine).of_conversation(conversation_id)
    if wants_json(request):
        return response.json(
            {
                "conversation": vars(summary(tracker, held)),
                "labels": labelled,
                "rule_labels": by_rule,
                "customer": contact.id if contact is not None else None,
                "messages": messages,
            }
        )
    answerers = [u for u in await database.users() if may(u.role, Capability.ANSWER)]
    return await render(
        "conversation.html",
        request,
        row=summary(tracker, held),
        messages=messages,
        unreachable=_unreachable(request, tracker),
        details=details(tracker),
        known=known(tracker),
        others=others,
        labels=labelled,
        rule_labels=by_rule,
        contact=contact,
        answerers=answerers,
        teams=await all_teams(database),
        canned=await canned(database),
        Status=Status,
        saved_story=request.args.get("saved_story"),
    )


def _unreachable(request: Request, tracker: DialogueStateTracker) -> str | None:
    """The channel the customer wrote from, when nothing can be sent to them on it outside
    their own requests (REST, a shell): a person's reply is saved, but no one pushes it."""
    output = state_of(request).output_channel(
        tracker.latest_input_channel(), tracker.latest_input_metadata()
    )
    if isinstance(output, CollectingOutputChannel):
        return tracker.latest_input_channel() or "no channel"
    return None


async def _back(
    request: Request, conversation_id: str, delivered: bool | None = None
) -> HTTPResponse:
    """After a change: a browser goes back to the conversation, a script reads its row (and
    whether a reply reached the customer)."""
    if wants_json(request):
        tracker = await _existing(request, conversation_id)
        held = await database_of(request).assignment(conversation_id)
        shown = vars(summary(tracker, held)) if tracker is not None else None
        answer: dict[str, Any] = {"conversation": shown}
        if delivered is not None:
            answer["delivered"] = delivered
        return response.json(answer)
    target = f"/console/conversations/{quote(conversation_id, safe='')}"
    return response.redirect(target, status=303)


async def _change(
    request: Request,
    conversation_id: str,
    action: str,
    events: list[Event],
    status: str,
    assignee: str | None,
    output: Delivery | None = None,
    team: str | None = KEEP,
) -> HTTPResponse:
    """Add `events` to the conversation through the agent, note who holds it now (and its
    team, when it is given to one), log it; a reply the channel did not deliver gets a note
    for the team."""
    session: Session = request.ctx.session
    database = database_of(request)
    if events:
        await state_of(request).guarded(
            agent_of(request).append_events(conversation_id, events, output)
        )
    await database.assign(conversation_id, status, assignee, team)
    given_to = team if team is not None and team != KEEP else ""
    await database.record(session.user, action, conversation_id, given_to)
    if output is not None and output.failure is not None:
        await add_note(
            database,
            conversation_id,
            None,
            f"{session.user.name}'s reply was not delivered: the customer has not seen it "
            f"({output.channel.name()} said: {output.failure}).",
        )
        await database.record(session.user, "reply_undelivered", conversation_id)
    return await _back(request, conversation_id, output.delivered if output else None)


async def _existing(request: Request, conversation_id: str) -> DialogueStateTracker | None:
    return await agent_of(request).retrieve(conversation_id)


async def _missing(request: Request, conversation_id: str) -> HTTPResponse:
    if wants_json(request):
        return response.json({"error": f"no conversation '{conversation_id}'"}, status=404)
    return await render("missing.html", request, 404, conversation_id=conversation_id)


@console.post("/conversations/<conversation_id:str>/take-over")
@requires(Capability.ANSWER)
async def take_over(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = decoded(conversation_id)
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
    conversation_id = decoded(conversation_id)
    user = request.ctx.session.user
    text = (await expanded(database_of(request), form_field(request, "text"))).strip()
    if len(text) > MAX_REPLY:
        return response.json({"error": f"a reply has at most {MAX_REPLY} characters"}, 400)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    if not text:
        return await _back(request, conversation_id)
    metadata: dict[str, Any] = {"sent_by": user.email, "sent_by_name": user.name}
    wrote = tracker.latest_input_time()
    if wrote is not None:  # platforms limit how long after it a person may answer
        metadata["customer_wrote_at"] = wrote
    said = BotUttered(text, metadata=metadata)
    events: list[Event] = [said] if tracker.is_paused() else [ConversationPaused(), said]
    output = Delivery(
        state_of(request).output_channel(
            tracker.latest_input_channel(), tracker.latest_input_metadata()
        )
    )
    return await _change(
        request, conversation_id, "reply", events, Status.HUMAN, user.email, output
    )


#: what a label may be: short, and the same however it is typed
LABEL = re.compile(r"^[\w-]{1,64}$")


@console.post("/conversations/<conversation_id:str>/labels")
@requires(Capability.ANSWER)
async def add_label(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = decoded(conversation_id)
    label = form_field(request, "label").strip().lower().replace(" ", "-")
    if not LABEL.match(label):
        return response.json(
            {"error": "a label is 1 to 64 letters, digits, '-' or '_'"}, status=400
        )
    if await _existing(request, conversation_id) is None:
        return await _missing(request, conversation_id)
    await database_of(request).add_label(conversation_id, label)
    await database_of(request).record(request.ctx.session.user, "label", conversation_id, label)
    return await _back(request, conversation_id)


@console.post("/conversations/<conversation_id:str>/labels/<label:str>/remove")
@requires(Capability.ANSWER)
async def remove_label(request: Request, conversation_id: str, label: str) -> HTTPResponse:
    conversation_id = decoded(conversation_id)
    label = unquote(label)
    await database_of(request).remove_label(conversation_id, label)
    await database_of(request).record(request.ctx.session.user, "unlabel", conversation_id, label)
    return await _back(request, conversation_id)


@console.post("/conversations/<conversation_id:str>/hand-back")
@requires(Capability.ANSWER)
async def hand_back(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = decoded(conversation_id)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    resume: list[Event] = [ConversationResumed()] if tracker.is_paused() else []
    return await _change(request, conversation_id, "hand_back", resume, Status.BOT, None)


@console.post("/conversations/<conversation_id:str>/resolve")
@requires(Capability.ANSWER)
async def resolve(request: Request, conversation_id: str) -> HTTPResponse:
    conversation_id = decoded(conversation_id)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    resume: list[Event] = [ConversationResumed()] if tracker.is_paused() else []
    channel = tracker.latest_input_channel()
    output = None
    if console_index(request).analytics.ask_rating and channel not in OWN_RATING:
        # The customer is asked to rate the conversation a person just resolved.
        resume.append(await rating_question(tracker, agent_of(request).nlg, channel))
        output = Delivery(
            state_of(request).output_channel(channel, tracker.latest_input_metadata())
        )
    return await _change(request, conversation_id, "resolve", resume, Status.RESOLVED, None, output)


@console.post("/conversations/<conversation_id:str>/notes")
@requires(Capability.ANSWER)
async def add_note_route(request: Request, conversation_id: str) -> HTTPResponse:
    """A note for the team, never sent to the customer; colleagues it names (`@ana`) find
    it under Mentions."""
    conversation_id = decoded(conversation_id)
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
    return await _back(request, conversation_id)


@console.post("/conversations/<conversation_id:str>/assign")
@requires(Capability.ANSWER)
async def assign(request: Request, conversation_id: str) -> HTTPResponse:
    """Give the conversation to a colleague who may answer (`assignee=ana@...`), or to a
    team (`assignee=team:billing`) where it waits for one of its members: the bot stops
    either way, as when a person takes it over."""
    conversation_id = decoded(conversation_id)
    tracker = await _existing(request, conversation_id)
    if tracker is None:
        return await _missing(request, conversation_id)
    wanted = form_field(request, "assignee").strip()
    database = database_of(request)
    pause: list[Event] = [] if tracker.is_paused() else [ConversationPaused()]
    if wanted.startswith(TEAM_PREFIX):
        team = wanted.removeprefix(TEAM_PREFIX)
        if team not in {t.name for t in await all_teams(database)}:
            return response.json({"error": f"there is no team '{team}'"}, status=400)
        return await _change(
            request, conversation_id, "assign_team", pause, Status.OPEN, None, team=team
        )
    wanted = wanted.lower()
    colleagues = {u.email: u for u in await database.users()}
    if wanted not in colleagues or not may(colleagues[wanted].role, Capability.ANSWER):
        return response.json({"error": f"'{wanted}' is not a colleague who answers"}, status=400)
    return await _change(request, conversation_id, "assign", pause, Status.HUMAN, wanted)


@console.get("/mentions")
@requires(Capability.READ)
async def mentions_page(request: Request) -> HTTPResponse:
    waiting = await waiting_mentions(database_of(request), request.ctx.session.user.email)
    return await render("mentions.html", request, notes=waiting)


@console.get("/canned")
@requires(Capability.ANSWER)
async def canned_page(request: Request) -> HTTPResponse:
    return await render("canned.html", request, replies=await canned(database_of(request)))


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
    return await render("audit.html", request, entries=await database_of(request).audit())


@console.get("/static/<name:str>")
async def static(request: Request, name: str) -> HTTPResponse:
    """The console's own files and its npm libraries (vendor/), never from a CDN."""
    known = {p.name: p for p in (*STATIC.glob("*.*"), *(STATIC / "vendor").glob("*.*"))}
    if name not in known or name.startswith("."):
        return response.text("not found", status=404)
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return await response.file(known[name], mime_type=kind, headers={"Cache-Control": "no-cache"})
