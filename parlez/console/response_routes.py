"""The responses editor: every `utter_*` of the domain with its variations per language and
channel (each can be added), previewed as the web chat shows them, and changed in the
domain file that holds each one (`parlez.training_data.response_edit`: the other bytes of the file stay).

The responses are part of the trained model: a change is said after the next retraining
(the Models page), which reuses the trained policies when only responses changed.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, requires, wants_json
from parlez.console.pages import agent_of, console, in_project, render, state_of
from parlez.console.roles import Capability
from parlez.console.settings import LANGUAGES
from parlez.exceptions import ParlezError
from parlez.io.edit import digest, replace_if_unchanged
from parlez.project import Project
from parlez.registry import channels
from parlez.training_data.response_edit import (
    Button,
    NewVariation,
    Response,
    ResponseEditError,
    VariationChange,
    read_responses,
)
from parlez.training_data.response_edit import (
    change_response as changed_file,
)

#: how many variations and buttons a form may name (more is not a person's form)
MOST_VARIATIONS = 50
MOST_BUTTONS = 20


def responses_of(request: Request) -> dict[str, Response]:
    return read_responses(Project(state_of(request).project).domain_path)


def _matches(found: Response, words: list[str]) -> bool:
    text = " ".join([found.name, *(v.text for v in found.variations)]).lower()
    return all(word in text for word in words)


@console.get("/responses")
@requires(Capability.TEACH)
async def responses_page(request: Request) -> HTTPResponse:
    try:
        every = responses_of(request)
    except ResponseEditError as error:
        return await render("responses.html", request, status=409, broken=str(error))
    search = (request.args.get("search") or "").strip()
    shown = [r for r in every.values() if _matches(r, search.lower().split())]
    if wants_json(request):
        return response.json({"responses": [_as_json(request, r) for r in shown]})
    return await render(
        "responses.html",
        request,
        responses=shown,
        total=len(every),
        search=search,
        languages=sorted({code for r in every.values() for code in r.languages}),
    )


def _as_json(request: Request, found: Response) -> dict[str, Any]:
    return {
        "name": found.name,
        "file": in_project(request, found.path),
        "variations": [asdict(v) for v in found.variations],
    }


async def _form(
    request: Request,
    found: Response,
    every: dict[str, Response],
    status: int = 200,
    error: str | None = None,
) -> HTTPResponse:
    # the assistant's own languages are offered before any response has them
    known = sorted({code for r in every.values() for code in r.languages} | set(LANGUAGES))
    served = {c.name() for c in state_of(request).channels}
    written = {name for r in every.values() for name in r.channels}
    return await render(
        "response.html",
        request,
        status=status,
        found=found,
        file=in_project(request, found.path),
        digest=digest(found.path),
        languages=known,
        missing=[code for code in known if code not in found.languages],
        channels=sorted((served | written | set(channels.names())) - {"callback"}),
        webchat="webchat" in served,
        intents=_intents(request),
        error=error,
        saved=request.args.get("saved"),
    )


def _named(request: Request, name: str) -> tuple[dict[str, Response], Response | None]:
    """Every response of the domain (the form offers their languages), and `name`'s."""
    every = responses_of(request)
    return every, every.get(name)


@console.get("/responses/<name:str>")
@requires(Capability.TEACH)
async def response_page(request: Request, name: str) -> HTTPResponse:
    every, found = _named(request, name)
    if found is None:
        return await render("missing.html", request, status=404, what="response", missing=name)
    if wants_json(request):
        return response.json(
            {"response": {**_as_json(request, found), "digest": digest(found.path)}}
        )
    return await _form(request, found, every)


def _changes(form: Any, found: Response) -> list[VariationChange]:
    changes = []
    for variation in found.variations[:MOST_VARIATIONS]:
        at = variation.position
        if all(form.get(f"{name}_{at}") is None for name in ("text", "remove", "custom")):
            continue  # not on the form that was sent
        titles = [
            str(form.get(f"title_{at}_{number}") or "")
            for number in range(min(len(variation.buttons), MOST_BUTTONS))
        ]
        changes.append(
            VariationChange(
                at,
                str(form.get(f"text_{at}") or "").replace("\r\n", "\n"),
                titles,
                remove=bool(form.get(f"remove_{at}")),
                image=_field(form, f"image_{at}"),
                custom=_field(form, f"custom_{at}"),
                removed_buttons=[
                    number
                    for number in range(min(len(variation.buttons), MOST_BUTTONS))
                    if form.get(f"remove_button_{at}_{number}")
                ],
                new_button=_new_button(form, at),
            )
        )
    return changes


def _intents(request: Request) -> list[str]:
    """The intents of the domain as its files say now (a button may send one that the next
    training adds), or of the model that answers when the files do not read."""
    try:
        return sorted(Project(state_of(request).project).domain.intents)
    except ParlezError:
        return sorted(agent_of(request).domain.intents)


def _new_button(form: Any, at: int) -> Button | None:
    title = str(form.get(f"new_title_{at}") or "")
    payload = str(form.get(f"new_payload_{at}") or "")
    return Button(title, payload) if title.strip() or payload.strip() else None


def _unknown_intent(request: Request, changes: list[VariationChange]) -> str | None:
    """A new button's `/intent` payload naming an intent the domain lacks, said as such."""
    intents = _intents(request)
    for change in changes:
        payload = change.new_button.payload.strip() if change.new_button else ""
        if payload.startswith("/"):
            intent = re.split(r"[{@]", payload[1:], maxsplit=1)[0]
            if intent not in intents:
                return f"'{intent}' is not an intent of the domain (a button sends /intent)"
    return None


def _field(form: Any, name: str) -> str | None:
    """A field's text, or None when the form did not have it."""
    value = form.get(name)
    return None if value is None else str(value).replace("\r\n", "\n")


@console.post("/responses/<name:str>")
@requires(Capability.TEACH)
async def save_response(request: Request, name: str) -> HTTPResponse:
    every, found = _named(request, name)
    if found is None:
        return response.json({"error": f"there is no response '{name}'"}, status=404)
    # an emptied text is refused, not skipped: it must reach `change_response`
    form: Any = request.get_form(keep_blank_values=True) or {}
    language = str(form.get("new_language") or "").strip() or None
    channel = str(form.get("new_channel") or "").strip() or None
    said = str(form.get("new_text") or "").replace("\r\n", "\n")
    added = [NewVariation(said, language, channel)] if language or channel or said.strip() else []
    changes = _changes(form, found)
    unknown = _unknown_intent(request, changes)
    try:
        if unknown:
            raise ResponseEditError(unknown)
        change = changed_file(found, changes, added)
    except ResponseEditError as error:
        stale = "since it was opened" in error.message
        if wants_json(request):
            return response.json({"error": error.message}, status=409 if stale else 400)
        return await _form(request, found, every, 409 if stale else 400, error.message)
    expected = str(form.get("digest")) if "digest" in form else None
    if not change.diff:
        return _saved(request, name, 0)
    if not replace_if_unchanged(change.path, change.text, expected):
        message = f"{found.path.name} changed since this page was opened: look at it again"
        if wants_json(request):
            return response.json({"error": message}, status=409)
        return await _form(request, found, every, 409, message)
    await database_of(request).record(
        request.ctx.session.user, "response_save", name, in_project(request, found.path)
    )
    return _saved(request, name, 1)


def _saved(request: Request, name: str, count: int) -> HTTPResponse:
    if wants_json(request):
        return response.json({"changed": count})
    return response.redirect(f"/console/responses/{name}?saved={count}", status=303)
