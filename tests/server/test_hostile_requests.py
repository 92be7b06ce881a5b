"""What a hostile client sends gets a 4xx in Rasa's error format, never a 5xx, a frozen server
or a conversation that no longer works."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parlez.events import ActiveLoop
from parlez.server.auth import Auth
from tests.io.test_yaml import billion_laughs
from tests.server.conftest import AppFactory

pytestmark = pytest.mark.anyio

RASA_ERROR_KEYS = {"version", "status", "message", "reason", "details", "help", "code"}


def assert_rasa_error(reply: Any, status: int) -> None:
    assert reply.status == status, reply.text[:300]
    assert set(reply.json) == RASA_ERROR_KEYS
    assert reply.json["status"] == "failure" and reply.json["code"] == status


async def say(app: Any, sender: str, text: str) -> Any:
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": text}
    )
    return reply


async def test_an_alias_bomb_is_refused_and_the_server_goes_on(make_app: AppFactory) -> None:
    app = make_app()
    for route in ("/model/test/stories", "/model/train", "/model/test/intents"):
        _, reply = await app.asgi_client.post(
            route, content=billion_laughs(9), headers={"Content-Type": "application/x-yaml"}
        )
        assert_rasa_error(reply, 400)
        assert "aliases expand" in reply.json["message"]
    _, version = await app.asgi_client.get("/version")
    assert version.status == 200


DEEP = b"[" * 100_000 + b"]" * 100_000
FAIRLY_DEEP = b'{"event": "slot", "name": "city", "value": ' + b"[" * 500 + b"]" * 500 + b"}"


@pytest.mark.parametrize("body", [DEEP, FAIRLY_DEEP], ids=["100000-deep", "500-deep"])
@pytest.mark.parametrize(
    "route",
    [
        "/conversations/ana/tracker/events",
        "/conversations/ana/messages",
        "/conversations/ana/execute",
        "/model/parse",
        "/webhooks/rest/webhook",
    ],
)
async def test_deeply_nested_json_is_a_400(make_app: AppFactory, route: str, body: bytes) -> None:
    _, reply = await make_app().asgi_client.post(
        route, content=body, headers={"Content-Type": "application/json"}
    )
    assert_rasa_error(reply, 400)
    assert "levels deep" in reply.json["message"]


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"event": ["x"]}, "unknown event type"),
        ({"event": "user", "text": "hi", "parse_data": {"intent": "greet"}}, "parse_data.intent"),
        ({"event": "slot", "name": ["city"], "value": "Paris"}, "'name'"),
        ({"event": "bot", "text": "hi", "timestamp": "yesterday"}, "'timestamp'"),
        ({"event": "active_loop", "name": ["x"]}, "'name'"),
        ({"event": "action", "name": "action_listen", "confidence": "high"}, "'confidence'"),
        ({"event": "user", "text": "hi", "metadata": [1]}, "'metadata'"),
        ({"event": "feedback", "rating": 11}, "'rating'"),
    ],
)
async def test_a_malformed_event_is_refused_naming_its_key(
    make_app: AppFactory, event: dict[str, Any], named: str
) -> None:
    app = make_app()
    _, reply = await app.asgi_client.post("/conversations/ana/tracker/events", json=event)
    assert_rasa_error(reply, 400)
    assert named in reply.json["message"]
    # Nothing was stored and the conversation goes on.
    assert (await say(app, "ana", "hello")).status == 200


async def test_nan_is_not_a_timestamp(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/conversations/ana/tracker/events",
        content=b'{"event": "bot", "text": "hi", "timestamp": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert_rasa_error(reply, 400)


async def test_a_conversation_with_an_unreadable_stored_event_still_keeps_new_messages(
    make_app: AppFactory,
) -> None:
    app = make_app()
    assert (await say(app, "ana", "hello")).status == 200
    store = app.ctx.state.tracker_store
    # A row written before events were checked: a loop whose name is a list.
    tracker = await store.retrieve("ana")
    tracker.update(ActiveLoop(name=["x"]))  # type: ignore[arg-type]
    await store.save(tracker)

    reply = await say(app, "ana", "I am in Paris")
    assert reply.status == 200
    again = await store.retrieve("ana")
    assert [e.text for e in again.events if e.type_name == "user"][-1] == "I am in Paris"


async def test_training_with_a_broken_yaml_section_is_a_400(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/model/train",
        content=json.dumps({"domain": "x: [1", "config": "language: en"}),
        headers={"Content-Type": "application/json"},
    )
    assert_rasa_error(reply, 400)
    assert "'domain'" in reply.json["message"]


async def test_a_token_with_characters_outside_ascii_is_refused_not_a_crash(
    make_app: AppFactory,
) -> None:
    app = make_app(auth=Auth(token="s3cret"))
    _, reply = await app.asgi_client.get("/status?token=s%C3%A9cret")
    assert_rasa_error(reply, 401)
    _, right = await app.asgi_client.get("/status?token=s3cret")
    assert right.status == 200


@pytest.mark.parametrize(
    ("sender", "named"), [("a\0b", "U+0000"), ("x" * 300, "at most 255"), ("tab\tid", "U+0009")]
)
async def test_a_sender_no_store_can_hold_is_a_400(
    make_app: AppFactory, sender: str, named: str
) -> None:
    _, reply = await make_app().asgi_client.post(
        "/webhooks/rest/webhook", content=json.dumps({"sender": sender, "message": "hi"})
    )
    assert_rasa_error(reply, 400)
    assert named in reply.json["message"]


async def test_a_conversation_id_over_255_characters_is_a_400(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.get(f"/conversations/{'x' * 300}/tracker")
    assert_rasa_error(reply, 400)
    assert "at most 255" in reply.json["message"]


async def test_a_lone_surrogate_in_a_message_is_a_400(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/webhooks/rest/webhook", content=b'{"sender": "ana", "message": "hi \\ud800"}'
    )
    assert_rasa_error(reply, 400)


# ---- writes from other websites -------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_state_changes_need_a_json_body_type(
    make_app: AppFactory, content_type: str | None
) -> None:
    app = make_app()
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"event": "slot", "name": "city", "value": "Evil"})
    _, reply = await app.asgi_client.post(
        "/conversations/ana/tracker/events", content=body, headers=headers
    )
    assert_rasa_error(reply, 415)
    _, tracker = await app.asgi_client.get("/conversations/ana/tracker")
    assert tracker.json["slots"].get("city") is None


async def test_a_write_from_another_origin_is_refused_unless_cors_allows_it(
    make_app: AppFactory,
) -> None:
    event = {"event": "slot", "name": "city", "value": "Paris"}
    other = {"Origin": "https://evil.example"}
    refused_app = make_app()
    _, refused = await refused_app.asgi_client.post(
        "/conversations/ana/tracker/events", json=event, headers=other
    )
    assert_rasa_error(refused, 403)
    _, train = await refused_app.asgi_client.post(
        "/model/train", content="x: 1", headers={**other, "Content-Type": "application/x-yaml"}
    )
    assert_rasa_error(train, 403)

    allowed_app = make_app(cors=["https://evil.example"])
    _, allowed = await allowed_app.asgi_client.post(
        "/conversations/ana/tracker/events", json=event, headers=other
    )
    assert allowed.status == 200


async def test_the_servers_own_origin_may_write(make_app: AppFactory) -> None:
    app = make_app()
    event = {"event": "slot", "name": "city", "value": "Paris"}
    _, reply = await app.asgi_client.post(
        "/conversations/ana/tracker/events",
        json=event,
        headers={"Origin": "http://mockserver", "Host": "mockserver"},
    )
    assert reply.status == 200, reply.json
