"""The settings page: the business's profile, e-mail, CRM and calendar (`business.yml`), the
LLM (`endpoints.yml`), the web chat's look and the channels' credentials (`credentials.yml`),
changed by an owner or admin (parlez/console/settings.py). Secrets are write-only; every
save is audited with the settings it changed, never a secret's value. A channel takes its
new settings at once where it can (the web chat's look), else at the next start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import InputChannel
from parlez.channels.credentials import channel_class
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
    and credentials.yml the server was started with."""
    state = state_of(request)
    endpoints = os.environ.get("PARLEZ_ENDPOINTS") or state.project / "endpoints.yml"
    return {
        "business": business_file(state.project),
        "endpoints": Path(endpoints),
        "credentials": state.credentials or state.project / "credentials.yml",
    }


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
        later=request.args.getlist("later") or [],
        webchat=any(c.name() == "webchat" for c in state_of(request).channels),
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
    # the channels' blocks before and after, read once: checked now, handed on once written
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, path in writes.items():
        problem = unreadable(new[name], path)
        if not problem and name == "credentials":
            before, after = _blocks(texts[name]), _blocks(new[name])
            problem = channel_problem(before, after)
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
    later = (
        reconfigure(state_of(request).channels, before, after) if "credentials" in writes else []
    )
    if wants_json(request):
        return response.json({"changed": keys, "after_restart": later})
    restart = "".join(f"&later={quote(name)}" for name in later)
    return response.redirect(f"/console/settings?saved={len(keys)}{restart}", status=303)


def _blocks(text: str) -> dict[str, Any]:
    """credentials.yml's channel blocks, `${VAR}` and sealed secrets opened (none when the
    text cannot be read so: the new text was checked to be readable before)."""
    try:
        parsed = yaml.safe_load(text) or {}
        return expand_all(parsed) if isinstance(parsed, dict) else {}
    except (ParlezError, yaml.YAMLError):
        return {}


def channel_problem(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """Why a channel whose block changed (`before` → `after`, as `_blocks` reads them) could
    not start with it (a key it needs, a value it refuses), said before anything is written;
    None: each could."""
    for name, block in after.items():
        if name in before and before[name] == block:
            continue
        try:
            channel_class(str(name)).from_credentials(block or {})
        except (ParlezError, ValueError) as error:
            return f"{name}: {getattr(error, 'message', error)}"
    return None


def reconfigure(
    channels: list[InputChannel], before: dict[str, Any], after: dict[str, Any]
) -> list[str]:
    """The served channels whose blocks changed, given their new settings; the names of
    those that take some of them only at the next start (or are not served yet)."""
    later = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name) and (name in before) == (name in after):
            continue
        try:
            kind = channel_class(name) if name in after else None
        except ParlezError:
            kind = None  # a channel parlez does not serve: it stays as it was
        served = [c for c in channels if kind is not None and type(c) is kind]
        if not served or not all([c.reconfigure(after[name]) for c in served]):
            later.append(name)
    return later


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
