"""Review and correct: the turns worth a designer's look, each one opened with what the
assistant understood and did, and corrected into an NLU example of the right intent (one
added line of the project's own NLU file), or into the rule or story that teaches what the
assistant should have done next (added to the file that holds the project's rules or
stories). The designer sees the change before it is written.

A correction is learnt at the next training; the turn leaves the queue once looked at.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.pages import (
    agent_of,
    console,
    console_index,
    decoded,
    in_project,
    render,
    state_of,
)
from parlez.console.review import REASONS, Turn, turn_of
from parlez.console.roles import Capability
from parlez.core.export import conversation_story, corrected_rule, corrected_story
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
from parlez.training_data.story_file import (
    TEST_STORIES,
    StoryFileError,
    add_stories,
    file_with,
)
from parlez.training_data.story_writer import LISTS

REVIEWED = "reviewed"
EXAMPLE = "example:"
NEXT_ACTION = "action:"
#: how a next action is taught: whenever the intent comes (a rule), or after this
#: conversation's turns (a story)
KINDS = ("rule", "story")


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
        taught=request.args.get("taught"),
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


def _actions(request: Request) -> list[str]:
    """What the assistant can be taught to do next: the domain's own actions, forms and
    responses."""
    domain = agent_of(request).domain
    return sorted({*domain.user_actions, *domain.forms, *domain.response_actions})


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
        actions=_actions(request),
        kinds=KINDS,
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
    where = in_project(request, addition.path)
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


def _unused_name(existing: str, kind: str, stem: str) -> str:
    """A name for a story (or rule) that the file `existing` does not use yet: "`stem` (from
    the console)", numbered when saved again."""
    name, number = f"{stem} (from the console)", 1
    while f"{kind}: {name}" in existing or f'{kind}: "{name}"' in existing:
        number += 1
        name = f"{stem} (from the console, {number})"
    return name


async def _next_action(
    request: Request, conversation_id: str, at: str, form: Any
) -> tuple[Turn, str, str, FileChange]:
    """The correction "after this message, do `action`": the rule (whenever the intent
    comes) or the story (after this conversation's turns) as the change to the project file
    that holds its kind, with the turn, the action and the kind."""
    turn = await _turn(request, conversation_id, at)
    domain = agent_of(request).domain
    intent = str(form.get("intent") or turn.intent or "")
    action = str(form.get("action") or "")
    kind = str(form.get("kind") or "rule")
    if intent not in domain.intents:
        raise ApiError(400, "BadRequest", f"'{intent}' is not an intent of the domain")
    if action not in _actions(request):
        raise ApiError(400, "BadRequest", f"'{action}' is not an action of the domain")
    if kind not in KINDS:
        raise ApiError(400, "BadRequest", f"'{kind}' is not one of {', '.join(KINDS)}")
    project = Project(state_of(request).project)
    first = project.data_paths[0]
    folder = first if first.is_dir() or not first.suffix else first.parent
    files = data_files(project.data_paths)
    path = file_with(files, LISTS[kind], folder / f"{LISTS[kind]}.yml")
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    stem = f"{intent if kind == 'rule' else turn.sender_id} then {action}"
    name = _unused_name(existing, kind, stem)
    if kind == "rule":
        written = corrected_rule(intent, action, domain, name)
    else:
        tracker = await agent_of(request).retrieve(turn.sender_id)
        story = corrected_story(tracker, turn.at, intent, action, domain, name) if tracker else None
        if story is None:
            raise ApiError(404, "NotFound", "there is no such message in that conversation")
        written = story
    try:
        return turn, action, kind, add_stories(path, written, LISTS[kind])
    except StoryFileError as error:
        raise ApiError(409, "Conflict", str(error)) from None


@console.get("/review/<conversation_id:str>/<at:str>/action")
@requires(Capability.TEACH)
async def next_action_preview(request: Request, conversation_id: str, at: str) -> HTTPResponse:
    """What the assistant should have done next, as the rule or story it adds, for the
    designer to accept."""
    turn, action, kind, change = await _next_action(
        request, conversation_id, at, {k: request.args.get(k) for k in request.args}
    )
    where = in_project(request, change.path)
    if wants_json(request):
        return response.json({"file": where, "diff": change.diff, "digest": change.digest})
    return await render(
        "review_action.html",
        request,
        turn=turn,
        action=action,
        kind=kind,
        intent=str(request.args.get("intent") or turn.intent),
        change=change,
        file=where,
        back=_back(turn),
    )


@console.post("/review/<conversation_id:str>/<at:str>/action")
@requires(Capability.TEACH)
async def add_next_action(request: Request, conversation_id: str, at: str) -> HTTPResponse:
    form: Any = request.form or {}
    turn, action, kind, change = await _next_action(request, conversation_id, at, form)
    expected = form_field(request, "digest") if "digest" in form else None
    where = in_project(request, change.path)
    if not replace_if_unchanged(change.path, change.text, expected):
        return response.json(
            {"error": f"'{where}' changed since the correction was shown: look at it again"},
            status=409,
        )
    user = request.ctx.session.user
    await console_index(request).mark_reviewed(
        turn.sender_id, turn.at, user.email, NEXT_ACTION + action
    )
    await database_of(request).record(user, f"next_action_{kind}", action, where)
    if wants_json(request):
        return response.json({"added": kind, "action": action, "file": where})
    return response.redirect(f"/console/review?taught={quote(action)}", status=303)


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
    name = _unused_name(existing, "story", conversation_id)
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
