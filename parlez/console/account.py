"""A person's own account page: who they are, and their personal API tokens."""

from __future__ import annotations

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.database import ConsoleUserError
from parlez.console.pages import console, render
from parlez.console.roles import Capability
from parlez.console.tokens import create_token, revoke_token, tokens_of


@console.get("/account")
@requires(Capability.READ)
async def account(request: Request) -> HTTPResponse:
    user = request.ctx.session.user
    return await render("account.html", request, tokens=await tokens_of(database_of(request), user))


@console.post("/account/tokens")
@requires(Capability.READ)
async def make_token(request: Request) -> HTTPResponse:
    """A new token, shown once on the page that answers this request."""
    session = request.ctx.session
    if session.by_token:
        # A leaked token must not be able to make itself a successor.
        return response.json({"error": "tokens are made in the console, signed in"}, status=403)
    database = database_of(request)
    try:
        plain, made = await create_token(database, session.user, form_field(request, "name"))
    except ConsoleUserError as error:
        return response.json({"error": str(error)}, status=400)
    await database.record(session.user, "make_token", made.name, f"…{made.hint}")
    return await render(
        "account.html",
        request,
        201,
        tokens=await tokens_of(database, session.user),
        made=made,
        made_token=plain,
    )


@console.post("/account/tokens/<token_id:int>/revoke")
@requires(Capability.READ)
async def revoke(request: Request, token_id: int) -> HTTPResponse:
    user = request.ctx.session.user
    revoked = await revoke_token(database_of(request), user, token_id)
    if revoked is None:
        return response.json({"error": f"you hold no token {token_id}"}, status=404)
    await database_of(request).record(user, "revoke_token", revoked.name, f"…{revoked.hint}")
    if wants_json(request):
        return response.json({"revoked": token_id})
    return response.redirect("/console/account", status=303)
