"""Whatever a socket.io client emits as `user_uttered`, the channel either hands a message
with a storable conversation id to the assistant or drops it with a log line: it never
raises into the socket.io server."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from parlez.channels.channel import UserMessage, sender_id_problem
from parlez.channels.socketio import SocketIOInput
from parlez.http.bodies import MAX_JSON_DEPTH, nesting_depth
from tests.fuzzing import SOCKET_PAYLOADS

pytestmark = pytest.mark.anyio

received: list[UserMessage] = []


async def record(message: UserMessage) -> None:
    received.append(message)


async def connected(channel: SocketIOInput, event: str) -> tuple[Any, str]:
    """The channel's handler of `event`, and the id of a socket connected to it."""
    channel.blueprint(record)
    assert channel.sio is not None
    sid = await channel.sio.manager.connect("an-engine-io-session", "/")
    return channel.sio.handlers["/"][event], sid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=SOCKET_PAYLOADS)
async def test_a_fuzzed_socketio_message_is_handed_on_or_dropped(payload: Any) -> None:
    received.clear()
    on_message, sid = await connected(SocketIOInput(session_persistence=True), "user_uttered")
    await on_message(sid, payload)
    for message in received:
        assert sender_id_problem(message.sender_id) is None
        assert message.metadata is None or nesting_depth(message.metadata) <= MAX_JSON_DEPTH


async def test_a_session_id_no_store_can_hold_is_dropped() -> None:
    received.clear()
    on_message, sid = await connected(SocketIOInput(session_persistence=True), "user_uttered")
    await on_message(sid, {"message": "hi", "session_id": "a\0b"})
    await on_message(sid, {"message": "hi", "session_id": "x" * 300})
    assert received == []
    await on_message(sid, {"message": "hi", "session_id": "fine"})
    assert [m.sender_id for m in received] == ["fine"]
