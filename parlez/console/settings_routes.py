"""The settings page: the business's profile, e-mail, CRM and calendar (`business.yml`) and
the LLM (`endpoints.yml`), changed by an owner or admin (parlez/console/settings.py).
Secrets are write-only; every save is audited with the settings it changed, never a
secret's value."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, requires, wants_json
from parlez.console.business import SettingsProblem, business_file
from parlez.console.pages import console, render, state_of
from parlez.console.roles import Capability
from parlez.console.settings import LANGUAGES, SECTIONS, changed, read, shown
from parlez.exceptions import ParlezError
from parlez.io.edit import digest_of, replace_if_unchanged
from parlez.io.env import expand_all
from parlez.io.secrets import can_seal
from parlez.io.yaml_edit import YamlEditError


def files_of(request: Request) -> dict[str, Path]:
    """The files the settings live in: the assistant's business.yml, and the endpoints.yml
    the server was started with."""
    project = state_of(request).project
    endpoints = os.environ.get("PARLEZ_ENDPOINTS") or project / "endpoints.yml"
    return {"business": business_file(project), "endpoints": Path(endpoints)}


def _texts(files: dict[str, Path]) -> dict[str, str]:
    return {n: p.read_text(encoding="utf-8") if p.is_file() else "" for n, p in files.items()}


async def _page(
    request: Request,
    texts: dict[str, str],
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTTPResponse:
    values = shown(read(texts))
    return await render(
        "settings.html",
        request,
        status=status,
        sections=SECTIONS,
        values=values,
        form=form or {},
        languages=LANGUAGES,
        digests={name: digest_of(text) for name, text in texts.items()},
        sealing=can_seal(),
        error=error,
        saved=request.args.get("saved"),
    )


@console.get("/settings")
@requires(Capability.SETTINGS)
async def settings_page(request: Request) -> HTTPResponse:
    texts = _texts(files_of(request))
    if wants_json(request):
        return response.json({"settings": shown(read(texts))})
    return await _page(request, texts)


@console.post("/settings")
@requires(Capability.SETTINGS)
async def save_settings(request: Request) -> HTTPResponse:
    files = files_of(request)
    if not files["business"].is_file():
        return response.json({"error": "this project has no business.yml"}, status=404)
    texts = _texts(files)
    # an emptied field says "take it out": it must reach `changed`
    posted: Any = request.get_form(keep_blank_values=True) or {}
    form = {key: str(posted.get(key) or "") for key in posted}
    try:
        new, keys = changed(texts, form, files)
    except (SettingsProblem, YamlEditError) as error:
        if wants_json(request):
            return response.json({"error": str(error)}, status=400)
        return await _page(request, texts, 400, str(error), _without_secrets(form))
    writes = {name: path for name, path in files.items() if new[name] != texts[name]}
    for name, path in writes.items():
        problem = unreadable(new[name], path)
        if problem:
            if wants_json(request):
                return response.json({"error": problem}, status=400)
            return await _page(request, texts, 400, problem, _without_secrets(form))
    stale = [
        path
        for name, path in writes.items()
        if f"digest.{name}" in form and digest_of(texts[name]) != form[f"digest.{name}"]
    ]
    # both files checked before either is written: a save is whole or nothing
    for name, path in writes.items():
        if stale or not replace_if_unchanged(path, new[name], digest_of(texts[name])):
            message = (
                f"{(stale or [path])[0].name} changed since this page was opened: look at it again"
            )
            if wants_json(request):
                return response.json({"error": message}, status=409)
            return await _page(request, texts, 409, message, _without_secrets(form))
    if keys:
        await database_of(request).record(
            request.ctx.session.user,
            "settings",
            ", ".join(sorted({p.name for p in files.values()})),
            ", ".join(keys),
        )
    if wants_json(request):
        return response.json({"changed": keys})
    return response.redirect(f"/console/settings?saved={len(keys)}", status=303)


def unreadable(text: str, path: Path) -> str | None:
    """Why parlez could not read `text` as `path` where it runs (a `${VAR}` that is not set
    there, a sealed secret without its key), or None: a save never leaves the assistant
    unable to read its own settings."""
    try:
        expand_all(yaml.safe_load(text) or {})
    except ParlezError as error:
        return (
            f"{path.name} would not be readable: {error.message} ({error.hint})"
            if error.hint
            else (f"{path.name} would not be readable: {error.message}")
        )
    return None


def _without_secrets(form: dict[str, str]) -> dict[str, str]:
    """What a refused form shows again: everything typed but the secrets."""
    secret = {s.name for fields in SECTIONS.values() for s in fields if s.kind == "secret"}
    return {k: v for k, v in form.items() if k not in secret}
