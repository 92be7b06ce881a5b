"""Colleagues in a conversation: who else has it open, who is typing, heard live by every
page; and the customer sees a person typing on channels that can show it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parlez.console import presence as presence_module
from parlez.console.live import LiveFeed
from parlez.console.presence import TYPING_SECONDS, VIEWING_SECONDS, Doing, Presence
from parlez.console.roles import Role
from parlez.events import ConversationPaused, UserUttered
from tests.console.conftest import Console, make_console
from tests.phone import Phone

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    ticking = Clock()
    monkeypatch.setattr(presence_module.Presence, "_now", lambda self: ticking())
    return ticking


def test_a_visitor_is_seen_until_their_page_stops_saying_so(clock: Clock) -> None:
    seen = Presence()
    assert seen.mark("c1", "ana@x.example", "Ana", Doing.VIEWING)
    assert not seen.mark("c1", "ana@x.example", "Ana", Doing.VIEWING)  # a heartbeat
    assert [v.name for v in seen.visitors("c1")] == ["Ana"]
    assert seen.visitors("c1", besides="ana@x.example") == []
    clock.now += VIEWING_SECONDS + 1
    assert seen.visitors("c1") == []


def test_typing_stops_by_itself_and_leaving_is_at_once(clock: Clock) -> None:
    seen = Presence()
    seen.mark("c1", "ana@x.example", "Ana", Doing.TYPING)
    seen.mark("c1", "bo@x.example", "Bo", Doing.VIEWING)
    assert seen.typing("c1")
    clock.now += TYPING_SECONDS + 1
    assert not seen.typing("c1") and len(seen.visitors("c1")) == 2
    assert seen.mark("c1", "bo@x.example", "Bo", Doing.LEFT)
    assert [v.email for v in seen.visitors("c1")] == ["ana@x.example"]


def test_the_customer_is_told_at_the_start_the_stop_and_every_few_seconds(clock: Clock) -> None:
    seen = Presence()
    assert seen.relay_due("c1", True)
    assert not seen.relay_due("c1", True)
    clock.now += 5
    assert seen.relay_due("c1", True)
    assert seen.relay_due("c1", False)
    assert not seen.relay_due("c1", False)


@pytest.fixture
async def phone_console(small_model: Path, tmp_path: Path) -> AsyncIterator[tuple[Console, Phone]]:
    phone = Phone()
    url = f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}"
    console = await make_console(small_model, url, channels=[phone])
    yield console, phone
    await console.close()


async def test_colleagues_see_each_other_viewing_and_typing(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    ana, bo = await console.sign_in(Role.AGENT), await console.sign_in(Role.ADMIN)
    alone = await ana.post("/console/conversations/visitor/presence", {"doing": "viewing"})
    assert alone.status == 200 and "is viewing" not in alone.text  # never oneself
    await bo.post("/console/conversations/visitor/presence", {"doing": "typing"})
    seen = await ana.get("/console/conversations/visitor/presence")
    assert "admin is typing a reply" in seen.text
    both = await bo.get("/console/conversations/visitor/presence")
    assert "agent is viewing this conversation" in both.text
    await ana.post("/console/conversations/visitor/presence", {"doing": "left"})
    assert "agent" not in (await bo.get("/console/conversations/visitor/presence")).text


class Heard(LiveFeed):
    """The live feed, and what it told the pages about presence."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: list[str] = []

    def presence(self, sender_id: str) -> None:
        self.heard.append(sender_id)
        super().presence(sender_id)


async def test_every_page_hears_when_someone_arrives_or_types(console: Console) -> None:
    feed = console.app.ctx.console_feed = Heard()
    ana = await console.sign_in(Role.AGENT)
    await ana.post("/console/conversations/visitor/presence", {"doing": "viewing"})
    assert feed.heard == ["visitor"]
    await ana.post("/console/conversations/visitor/presence", {"doing": "viewing"})  # heartbeat
    assert feed.heard == ["visitor"]
    await ana.post("/console/conversations/visitor/presence", {"doing": "typing"})
    assert feed.heard == ["visitor", "visitor"]


async def test_the_feed_carries_presence_as_its_own_event() -> None:
    feed = LiveFeed()
    stream = feed.stream()
    await anext(stream)
    feed.presence("visitor")
    assert await anext(stream) == 'event: presence\ndata: "visitor"\n\n'


async def test_a_viewer_is_never_shown_typing(console: Console) -> None:
    viewer, agent = await console.sign_in(Role.VIEWER), await console.sign_in(Role.AGENT)
    await viewer.post("/console/conversations/visitor/presence", {"doing": "typing"})
    seen = await agent.get("/console/conversations/visitor/presence")
    assert "viewer is viewing" in seen.text


async def test_a_bad_doing_is_refused(console: Console) -> None:
    agent = await console.sign_in(Role.AGENT)
    reply = await agent.post("/console/conversations/visitor/presence", {"doing": "dancing"})
    assert reply.status == 400


async def test_the_customer_sees_a_person_typing_only_once_a_person_has_them(
    phone_console: tuple[Console, Phone],
) -> None:
    console, phone = phone_console
    agent = console.app.ctx.state.agent
    await agent.append_events("caller", [UserUttered("hello", input_channel="phone")])
    ana = await console.sign_in(Role.AGENT)
    await ana.post("/console/conversations/caller/presence", {"doing": "typing"})
    assert phone.typing == []  # the bot has the conversation: its own turns show typing
    await ana.post("/console/conversations/caller/presence", {"doing": "viewing"})
    await agent.append_events("caller", [ConversationPaused()])
    await ana.post("/console/conversations/caller/presence", {"doing": "typing"})
    await ana.post("/console/conversations/caller/presence", {"doing": "viewing"})
    assert phone.typing == [("caller", True), ("caller", False)]
