"""Review and correct: the turns worth a designer's look, each one opened with what the
assistant understood and did, and corrected into an NLU example of the right intent,
written to the project's own NLU file as one added line that the designer sees first.

The example is learnt at the next training; the turn leaves the queue once looked at.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.pages import agent_of, console, console_index, decoded, render, state_of
from parlez.console.review import REASONS, Turn, turn_of
from parlez.console.roles import Capability
from parlez.core.export import conversation_story
from parlez.http.errors import ApiError
from parlez.io.edit import FileChange, replace_if_unchanged
from parlez.project import Project, data_files
from parlez.training_data.nlu_edit import (
    Addition,
    NluEditError,
    add_example,
    parse_spans,
    write,
)
from parlez.training_data.story_file import TEST_STORIES, StoryFileError, add_stories

REVIEWED = "reviewed"
EXAMPLE = "example:"


def _at(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ApiError(400, "BadRequest", f"'{raw}' is not a message's time") from None


def _back(turn: Turn) -> str:
    return f"/console/review/{quote(turn.sender_id, safe='')}/{turn.at!r}"


@console.get("/review")
@requires(Capability.TEACH)
async def review_page(request: Request) -> HTTPResponse:
    reason = request.args.get("reason") or ""
    if reason and reason not in REASONS:
        raise ApiError(400, "BadRequest", f"'{reason}' is not a reason: {', '.join(REASONS)}")
    reviewed = request.args.get("reviewed") == "1"
    before = request.args.get("before")
    rows = await console_index(request).review_queue(
        reason, reviewed, _at(before) if before else None
    )
    if wants_json(request):
        return response.json({"turns": [asdict(r) for r in rows]})
    return await render(
        "review.html",
        request,
        rows=rows,
        reason=reason,
        reviewed=reviewed,
        reasons=REASONS,
        added=request.args.get("added"),
    )


async def _turn(request: Request, conversation_id: str, at: str) -> Turn:
    conversation_id = decoded(conversation_id)
    tracker = await agent_of(request).retrieve(conversation_id)
    found = turn_of(tracker, _at(at)) if tracker is not None else None
    if found is None:
        raise ApiError(404, "NotFound", "there is no such message in that conversation")
    return found


def _intents(request: Request, turn: Turn) -> list[str]:
    """The domain's intents, the one the NLU chose first."""
    names = sorted(agent_of(request).domain.intents)
    return sorted(names, key=lambda name: name != turn.intent)


@console.get("/review/<conversation_id:str>/<at:str>")
@requires(Capability.TEACH)
async def turn_page(request: Request, conversation_id: str, at: str) -> HTTPResponse:
    turn = await _turn(request, conversation_id, at)
    if wants_json(request):
        return response.json({"turn": asdict(turn)})
    return await render(
        "review_turn.html",
        request,
        turn=turn,
        intents=_intents(request, turn),
        entities=sorted(agent_of(request).domain.entities),
        reasons=REASONS,
    )


def _addition(request: Request, turn: Turn, intent: str, marks: str = "") -> Addition:
    """The example `turn` makes for `intent`, with the words `marks` names as entities."""
    domain = agent_of(request).domain
    if intent not in domain.intents:
        raise ApiError(400, "BadRequest", f"'{intent}' is not an intent of the domain")
    project = Project(state_of(request).project)
    try:
        spans = parse_spans(marks)
        unknown = [s.entity for s in spans if s.entity not in domain.entities]
        if unknown:
            raise ApiError(400, "BadRequest", f"'{unknown[0]}' is not an entity of the domain")
        return add_example(data_files(project.data_paths), intent, turn.text, spans)
    except NluEditError as error:
        raise ApiError(400 if error.where is None else 409, "Conflict", str(error)) from None


@console.get("/review/<conversation_id:str>/<at:str>/example")
@requires(Capability.TEACH)
async def example_preview(request: Request, conversation_id: str, at: str) -> HTTPResponse:
    """The correction as the change it makes to the NLU file, for the designer to accept."""
    turn = await _turn(request, conversation_id, at)
    addition = _addition(
        request, turn, request.args.get("intent") or "", request.args.get("marks") or ""
    )
    root = state_of(request).project.resolve()
    shown = addition.path.resolve()
    where = str(shown.relative_to(root)) if shown.is_relative_to(root) else shown.name
    if wants_json(request):
        return response.json(
            {
                "file": where,
                "diff": addition.diff,
                "digest": addition.digest,
                "known": addition.known,
            }
        )
    return await render(
        "review_example.html",
        request,
        turn=turn,
        addition=addition,
        file=where,
        back=_back(turn),
        marks=request.args.get("marks") or "",
    )


@console.post("/review/<conversation_id:str>/<at:str>/example")
@requires(Capability.TEACH)
async def add_example_route(request: Request, conversation_id: str, at: str) -> HTTPResponse:
    turn = await _turn(request, conversation_id, at)
    intent = form_field(request, "intent")
    addition = _addition(request, turn, intent, form_field(request, "marks"))
    form: Any = request.form
    expected = form_field(request, "digest") if form is not None and "digest" in form else None
    if not addition.known:
        try:
            write(addition, expected)
        except NluEditError as error:
            return response.json({"error": str(error)}, status=409)
    user = request.ctx.session.user
    await console_index(request).mark_reviewed(
        turn.sender_id, turn.at, user.email, EXAMPLE + intent
    )
    await database_of(request).record(user, "nlu_example", intent, turn.text[:200])
    if wants_json(request):
        return response.json({"added": not addition.known, "intent": intent})
    return response.redirect(f"/console/review?added={quote(intent)}", status=303)


@console.post("/review/<conversation_id:str>/<at:str>/reviewed")
@requires(Capability.TEACH)
async def mark_reviewed(request: Request, conversation_id: str, at: str) -> HTTPResponse:
    """Looked at, nothing to change: the turn leaves the queue."""
    turn = await _turn(request, conversation_id, at)
    user = request.ctx.session.user
    await console_index(request).mark_reviewed(turn.sender_id, turn.at, user.email, REVIEWED)
    if wants_json(request):
        return response.json({"reviewed": True})
    return response.redirect("/console/review", status=303)


async def _test_story(request: Request, conversation_id: str) -> tuple[str, FileChange, str]:
    """The conversation's latest session as a test story added to `tests/test_stories.yml`:
    its name, the addition, and the file as the page names it."""
    conversation_id = decoded(conversation_id)
    tracker = await agent_of(request).retrieve(conversation_id)
    if tracker is None or not tracker.events:
        raise ApiError(404, "NotFound", f"there is no conversation '{conversation_id}'")
    path = state_of(request).project / TEST_STORIES
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    name, number = f"{conversation_id} (from the console)", 1
    while f"story: {name}" in existing or f'story: "{name}"' in existing:
        number += 1
        name = f"{conversation_id} (from the console, {number})"
    try:
        addition = add_stories(path, conversation_story(tracker, name=name))
    except StoryFileError as error:
        raise ApiError(409, "Conflict", str(error)) from None
    return name, addition, str(TEST_STORIES)


@console.get("/conversations/<conversation_id:str>/test-story")
@requires(Capability.TEACH)
async def test_story_preview(request: Request, conversation_id: str) -> HTTPResponse:
    """ "Save as test story", as Rasa X had it: the conversation as the story it adds to the
    project's test stories, for the designer to accept."""
    name, addition, where = await _test_story(request, conversation_id)
    if wants_json(request):
        return response.json({"file": where, "diff": addition.diff, "digest": addition.digest})
    return await render(
        "test_story.html",
        request,
        story=name,
        addition=addition,
        file=where,
        conversation_id=decoded(conversation_id),
    )


@console.post("/conversations/<conversation_id:str>/test-story")
@requires(Capability.TEACH)
async def save_test_story(request: Request, conversation_id: str) -> HTTPResponse:
    name, addition, where = await _test_story(request, conversation_id)
    form: Any = request.form
    expected = form_field(request, "digest") if form is not None and "digest" in form else None
    if not replace_if_unchanged(addition.path, addition.text, expected):
        return response.json(
            {"error": f"'{where}' changed since the story was shown: look at it again"},
            status=409,
        )
    await database_of(request).record(request.ctx.session.user, "test_story", name, where)
    if wants_json(request):
        return response.json({"saved": name, "file": where})
    back = f"/console/conversations/{quote(decoded(conversation_id), safe='')}"
    return response.redirect(f"{back}?saved_story={quote(name)}", status=303)
