"""Teams: an owner or admin groups colleagues; a conversation given to a team waits for one
of its members, shows under the team in the inbox, and stays the team's once taken over."""

from __future__ import annotations

import pytest

from parlez.console.roles import Role
from tests.console.conftest import Browser, Console, email

pytestmark = pytest.mark.anyio


async def make_billing(console: Console) -> Browser:
    admin = await console.sign_in(Role.ADMIN)
    reply = await admin.post("/console/teams", {"name": "Billing", "members": email(Role.AGENT)})
    assert reply.status == 303, reply.text
    return admin


async def test_a_team_is_made_with_colleagues_who_answer(console: Console) -> None:
    admin = await make_billing(console)
    page = await admin.get("/console/teams")
    assert "billing" in page.text and email(Role.AGENT) in page.text
    refused = await admin.post("/console/teams", {"name": "billing", "members": email(Role.VIEWER)})
    assert refused.status == 400 and "cannot answer customers" in refused.json["error"]
    odd = await admin.post("/console/teams", {"name": "a/b"})
    assert odd.status == 400


async def test_a_conversation_given_to_a_team_waits_for_one_of_its_members(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    await console.customer_says("other", "hello")
    await make_billing(console)
    agent = await console.sign_in(Role.AGENT)
    given = await agent.post("/console/conversations/visitor/assign", {"assignee": "team:billing"})
    assert given.status == 303
    assert (await console.app.ctx.state.agent.retrieve("visitor")).is_paused()
    waiting = await agent.get("/console/inbox?team=billing")
    assert "/console/conversations/visitor" in waiting.text
    assert "/console/conversations/other" not in waiting.text
    assert "open · billing" in waiting.text
    # A member takes it over: it is theirs, and still the team's.
    await agent.post("/console/conversations/visitor/take-over")
    held = await console.database.assignment("visitor")
    assert held is not None and (held.status, held.assignee, held.team) == (
        "human",
        email(Role.AGENT),
        "billing",
    )
    mine = await agent.get(f"/console/inbox?team=billing&assignee={email(Role.AGENT)}")
    assert "/console/conversations/visitor" in mine.text


async def test_an_unknown_team_is_refused(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    agent = await console.sign_in(Role.AGENT)
    reply = await agent.post("/console/conversations/visitor/assign", {"assignee": "team:nobody"})
    assert reply.status == 400 and "no team 'nobody'" in reply.json["error"]
    assert not (await console.app.ctx.state.agent.retrieve("visitor")).is_paused()


async def test_deleting_a_team_leaves_its_conversations_with_whoever_holds_them(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    admin = await make_billing(console)
    await admin.post("/console/conversations/visitor/assign", {"assignee": "team:billing"})
    assert (await admin.post("/console/teams/billing/delete")).status == 303
    held = await console.database.assignment("visitor")
    assert held is not None and held.team is None and held.status == "open"
    assert "No team yet" in (await admin.get("/console/teams")).text
    assert (await admin.post("/console/teams/billing/delete")).status == 404


async def test_an_agent_sees_the_teams_but_cannot_change_them(console: Console) -> None:
    await make_billing(console)
    agent = await console.sign_in(Role.AGENT)
    page = await agent.get("/console/teams")
    assert page.status == 200 and "billing" in page.text and "Save the team" not in page.text
    assert (await agent.post("/console/teams", {"name": "mine"})).status == 403
