"""The teams page: who is in which team; an owner or admin makes and changes them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.database import ConsoleUserError
from parlez.console.pages import console, render
from parlez.console.roles import Capability, may
from parlez.console.teams import all_teams, delete_team, save_team


@console.get("/teams")
@requires(Capability.ANSWER)
async def teams_page(request: Request) -> HTTPResponse:
    database = database_of(request)
    found = await all_teams(database)
    if wants_json(request):
        return response.json({"teams": [vars(t) for t in found]})
    colleagues = [u for u in await database.users() if may(u.role, Capability.ANSWER)]
    return await render("teams.html", request, teams=found, colleagues=colleagues)


@console.post("/teams")
@requires(Capability.SETTINGS)
async def save_team_route(request: Request) -> HTTPResponse:
    """Make a team, or set its members (`members`, once per colleague)."""
    database = database_of(request)
    form: Any = request.form
    members = [str(m) for m in form.getlist("members", [])] if form is not None else []
    try:
        saved = await save_team(
            database, form_field(request, "name"), members, await database.users()
        )
    except ConsoleUserError as error:
        return response.json({"error": error.message}, status=400)
    user = request.ctx.session.user
    await database.record(user, "team", saved.name, ", ".join(saved.members))
    if wants_json(request):
        return response.json({"team": vars(saved)})
    return response.redirect("/console/teams", status=303)


@console.post("/teams/<name:str>/delete")
@requires(Capability.SETTINGS)
async def delete_team_route(request: Request, name: str) -> HTTPResponse:
    name = unquote(name)
    if not await delete_team(database_of(request), name):
        return response.json({"error": f"there is no team '{name}'"}, status=404)
    await database_of(request).record(request.ctx.session.user, "delete_team", name)
    if wants_json(request):
        return response.json({"deleted": name})
    return response.redirect("/console/teams", status=303)
