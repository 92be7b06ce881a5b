"""The business page: opening hours, closed dates, and the catalogue (services and products,
their prices and descriptions), changed by an owner or admin in the project's
`business.yml` (parlez/console/business.py); and each item's page, with its names,
descriptions and aliases in every language (parlez/console/catalogue_item.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, requires, wants_json
from parlez.console.business import (
    WEEKDAYS,
    SettingsProblem,
    business_file,
    changed,
    read_settings,
)
from parlez.console.catalogue_item import KINDS, find_item, item_changed, languages_of
from parlez.console.pages import console, render, state_of
from parlez.console.roles import Capability
from parlez.io.edit import digest_of, replace_if_unchanged
from parlez.io.yaml_edit import YamlEditError


async def _page(
    request: Request, text: str, status: int = 200, error: str | None = None, **shown: Any
) -> HTTPResponse:
    return await render(
        "business.html",
        request,
        status=status,
        settings=read_settings(text),
        weekdays=WEEKDAYS,
        digest=digest_of(text),
        error=error,
        form=shown.get("form") or {},
        saved=request.args.get("saved"),
    )


@console.get("/business")
@requires(Capability.SETTINGS)
async def business_page(request: Request) -> HTTPResponse:
    path = business_file(state_of(request).project)
    if not path.is_file():
        return response.html("<p>This project has no business.yml.</p>", status=404)
    text = path.read_text(encoding="utf-8")
    if wants_json(request):
        settings = read_settings(text)
        return response.json(
            {
                "hours": settings.hours,
                "closed_dates": [d.isoformat() for d in settings.closed_dates],
                "services": [vars(s) for s in settings.services],
                "products": [vars(p) for p in settings.products],
                "digest": digest_of(text),
            }
        )
    return await _page(request, text)


@console.post("/business")
@requires(Capability.SETTINGS)
async def save_business(request: Request) -> HTTPResponse:
    path = business_file(state_of(request).project)
    if not path.is_file():
        return response.json({"error": "this project has no business.yml"}, status=404)
    text = path.read_text(encoding="utf-8")
    posted: Any = request.form or {}
    form = {key: str(posted.get(key) or "") for key in posted}
    try:
        new, keys = changed(text, form, str(path))
    except (SettingsProblem, YamlEditError) as error:
        if wants_json(request):
            return response.json({"error": str(error)}, status=400)
        return await _page(request, text, 400, str(error), form=form)
    expected = form.get("digest") if "digest" in form else None
    if keys and not replace_if_unchanged(path, new, expected):
        message = "business.yml changed since this page was opened: look at it again"
        if wants_json(request):
            return response.json({"error": message}, status=409)
        return await _page(request, text, 409, message, form=form)
    if keys:
        await database_of(request).record(
            request.ctx.session.user, "business", path.name, ", ".join(keys)
        )
    if wants_json(request):
        return response.json({"changed": keys})
    return response.redirect(f"/console/business?saved={len(keys)}", status=303)


async def _item_page(
    request: Request, text: str, kind: str, name: str, status: int = 200, **shown: Any
) -> HTTPResponse:
    item = find_item(text, kind, name)
    if item is None:
        return await render("missing.html", request, status=404, what=kind[:-1], missing=name)
    return await render(
        "business_item.html",
        request,
        status=status,
        item=item,
        languages=languages_of(text),
        digest=digest_of(text),
        error=shown.get("error"),
        form=shown.get("form") or {},
        saved=request.args.get("saved"),
    )


@console.get("/business/<kind:str>/<name:str>")
@requires(Capability.SETTINGS)
async def catalogue_item_page(request: Request, kind: str, name: str) -> HTTPResponse:
    path = business_file(state_of(request).project)
    if kind not in KINDS or not path.is_file():
        return await render("missing.html", request, status=404, what="page", missing=kind)
    text = path.read_text(encoding="utf-8")
    if wants_json(request):
        item = find_item(text, kind, name)
        if item is None:
            return response.json({"error": f"there is no {kind[:-1]} '{name}'"}, status=404)
        return response.json({"item": vars(item), "digest": digest_of(text)})
    return await _item_page(request, text, kind, name)


@console.post("/business/<kind:str>/<name:str>")
@requires(Capability.SETTINGS)
async def save_catalogue_item(request: Request, kind: str, name: str) -> HTTPResponse:
    path = business_file(state_of(request).project)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    item = find_item(text, kind, name) if kind in KINDS else None
    if item is None:
        return response.json({"error": f"there is no {kind[:-1]} '{name}'"}, status=404)
    posted: Any = request.get_form(keep_blank_values=True) or {}
    form = {key: str(posted.get(key) or "") for key in posted}
    try:
        new, keys = item_changed(text, item, form, str(path))
    except (SettingsProblem, YamlEditError) as error:
        if wants_json(request):
            return response.json({"error": str(error)}, status=400)
        return await _item_page(request, text, kind, name, 400, error=str(error), form=form)
    expected = form.get("digest") if "digest" in form else None
    if keys and not replace_if_unchanged(path, new, expected):
        message = "business.yml changed since this page was opened: look at it again"
        if wants_json(request):
            return response.json({"error": message}, status=409)
        return await _item_page(request, text, kind, name, 409, error=message, form=form)
    if keys:
        await database_of(request).record(
            request.ctx.session.user, "business", path.name, ", ".join(keys)
        )
    if wants_json(request):
        return response.json({"changed": keys})
    return response.redirect(
        f"/console/business/{kind}/{quote(item.name, safe='')}?saved={len(keys)}", status=303
    )
