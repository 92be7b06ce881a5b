"""Two `parlez run` processes behind one address share one Redis (their lock store): what one
process does for a visitor holds on the other. A person's reply sent through one reaches a
visitor connected to the other, a visitor has one message budget, and a message taken by one
is not taken again by the other."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors.webchat.limits import SharedRateLimiter
from connectors.webchat.seen import SharedSeenMessages
from tests.connectors.webchat.conftest import ALLOWED, webchat_project
from tests.connectors.webchat.test_channel import Visitor
from tests.server.process import ServerProcess, parlez_run
from tests.services import Redis, free_port

CREDENTIALS = f"""
connectors.webchat.WebChatInput:
  allowed_origins: ["{ALLOWED}"]
  messages_per_minute: 1
  burst: 4
"""


@pytest.fixture(scope="module")
def two_processes(
    small_project: Path,
    small_model: Path,
    redis_server: Redis,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    endpoints = f"""
    tracker_store:
      type: SQL
      dialect: sqlite
      db: conversations.db
    lock_store:
      type: redis
      url: 127.0.0.1
      port: {redis_server.port}
      key_prefix: "{uuid.uuid4().hex[:8]}:"
    """
    root = webchat_project(
        tmp_path_factory.mktemp("webchat-replicas"), small_project, CREDENTIALS, endpoints
    )
    model = str(small_model)
    with (
        parlez_run(root, "-m", model, "--enable-api") as one,
        parlez_run(root, "-m", model, "--enable-api") as two,
    ):
        yield one, two


def test_a_persons_reply_sent_through_one_process_reaches_a_visitor_on_the_other(
    two_processes: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = two_processes

    async def run() -> None:
        visitor = Visitor(one.url)
        await visitor.start()
        assert (await visitor.say("hello"))["ok"]
        await asyncio.wait_for(visitor.bot.get(), 30)
        async with httpx.AsyncClient(timeout=30) as http:
            sent = await http.post(
                f"{two.url}/conversations/{visitor.session}/tracker/events",
                params={"execute_side_effects": "true", "output_channel": "latest"},
                json={"event": "bot", "text": "Hi, this is Ana from the studio."},
            )
        assert sent.status_code == 200, sent.text
        reply = await asyncio.wait_for(visitor.bot.get(), 30)
        assert reply["text"] == "Hi, this is Ana from the studio."
        await visitor.stop()

    asyncio.run(run())


def test_a_visitor_has_one_message_budget_across_processes(
    two_processes: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = two_processes

    async def run() -> list[bool]:
        first = Visitor(one.url)
        await first.start()
        second = Visitor(two.url)  # another tab, its socket on the other process
        await second.start(first.session)
        taken = []
        for visitor in (first, second, first, second, second):
            taken.append(bool((await visitor.say("hello"))["ok"]))
        await first.stop()
        await second.stop()
        return taken

    assert asyncio.run(run()) == [True, True, True, True, False]  # burst 4, then 1 a minute


def test_a_message_taken_by_one_process_is_not_taken_again_by_the_other(
    two_processes: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = two_processes
    message_id = uuid.uuid4().hex

    async def run() -> dict[str, object]:
        first = Visitor(one.url)
        await first.start()
        assert (await first.say("hello", message_id=message_id))["ok"]
        again = Visitor(two.url)
        await again.start(first.session)
        reply = await again.say("hello", message_id=message_id)
        await first.stop()
        await again.stop()
        return reply

    assert asyncio.run(run()) == {"ok": True, "id": message_id, "duplicate": True}


def test_without_redis_each_process_keeps_its_own_budget_and_ids(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis away: visitors are still served (and limited) by the process, not refused."""
    import redis.asyncio

    async def run() -> tuple[list[float], list[bool]]:
        client = redis.asyncio.Redis(port=free_port(), socket_timeout=1)
        budget = SharedRateLimiter(client, "t:", per_minute=1, burst=2)
        seen = SharedSeenMessages(client, "t:")
        waits = [await budget.spend("anna") for _ in range(3)]
        firsts = [await seen.first_time("anna", "m1"), await seen.first_time("anna", "m1")]
        await client.aclose()
        return waits, firsts

    with caplog.at_level("WARNING"):
        waits, firsts = asyncio.run(run())
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0
    assert firsts == [True, False]
    assert "message budgets are per process" in caplog.text
