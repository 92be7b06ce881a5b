"""A person's reply that the customer's channel refuses is kept in the conversation, and
the team is told in a note that the customer has not seen it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parlez.channels.rest import RestInput
from parlez.console.roles import Role
from parlez.events import BotUttered, UserUttered
from tests.console.conftest import Console, make_console
from tests.phone import Phone

pytestmark = pytest.mark.anyio


@pytest.fixture
async def phone_console(small_model: Path, tmp_path: Path) -> AsyncIterator[tuple[Console, Phone]]:
    phone = Phone()
    url = f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}"
    console = await make_console(small_model, url, channels=[phone, RestInput()])
    await console.app.ctx.state.agent.append_events(
        "caller", [UserUttered("hello", input_channel="phone")]
    )
    yield console, phone
    await console.close()


async def test_a_delivered_reply_reaches_the_customer(
    phone_console: tuple[Console, Phone],
) -> None:
    console, phone = phone_console
    agent = await console.sign_in(Role.AGENT)
    assert (
        await agent.post("/console/conversations/caller/reply", {"text": "Ana here"})
    ).status == 303
    assert phone.received == [{"to": "caller", "text": "Ana here"}]
    assert "was not delivered" not in (await agent.get("/console/conversations/caller")).text


async def test_a_refused_reply_is_kept_and_the_team_is_told(
    phone_console: tuple[Console, Phone],
) -> None:
    console, phone = phone_console
    phone.refusal = "(#10) This message is sent outside of allowed window."
    agent = await console.sign_in(Role.AGENT)
    reply = await agent.post("/console/conversations/caller/reply", {"text": "Ana here"})
    assert reply.status == 303
    tracker = await console.app.ctx.state.agent.retrieve("caller")
    said = [e for e in tracker.events if isinstance(e, BotUttered)]
    assert said[-1].text == "Ana here" and tracker.is_paused()
    page = (await agent.get("/console/conversations/caller")).text
    assert "Note by parlez" in page
    assert "reply was not delivered: the customer has not seen it" in page
    assert "outside of allowed window" in page


async def test_a_script_learns_whether_its_reply_was_delivered(
    phone_console: tuple[Console, Phone],
) -> None:
    console, phone = phone_console
    page = await (await console.sign_in(Role.AGENT)).post(
        "/console/account/tokens", {"name": "script"}
    )
    token = page.text.split('id="new-token" class="token" readonly value="')[1].split('"')[0]
    headers = {"authorization": f"Bearer {token}"}
    path = "/console/conversations/caller/reply"
    _, sent = await console.app.asgi_client.post(path, data={"text": "one"}, headers=headers)
    assert sent.json["delivered"] is True
    phone.refusal = "the number is unreachable"
    _, refused = await console.app.asgi_client.post(path, data={"text": "two"}, headers=headers)
    assert refused.status == 200 and refused.json["delivered"] is False


async def test_a_channel_that_cannot_be_written_to_is_said_above_the_reply_box(
    phone_console: tuple[Console, Phone],
) -> None:
    """REST answers only within the customer's own request: a person's reply is kept, but
    nothing pushes it to them, and the agent is told before writing."""
    console, _ = phone_console
    await console.customer_says("rest-customer", "hello")
    agent = await console.sign_in(Role.AGENT)
    rest = (await agent.get("/console/conversations/rest-customer")).text
    assert "The customer wrote over rest, which cannot receive a message" in rest
    phone = (await agent.get("/console/conversations/caller")).text
    assert "cannot receive a message" not in phone
