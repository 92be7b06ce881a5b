"""Who may call the API, and what bad requests get: a 4xx JSON error, never a crash."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest

from parlez.server.auth import Auth
from tests.server.conftest import AppFactory

pytestmark = pytest.mark.anyio

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def bearer(username: str, role: str) -> dict[str, str]:
    token = jwt.encode({"user": {"username": username, "role": role}}, SECRET, "HS256")
    return {"Authorization": f"Bearer {token}"}


async def test_the_token_opens_the_api(make_app: AppFactory) -> None:
    app = make_app(auth=Auth(token="s3cret"))
    _, refused = await app.asgi_client.get("/status")
    assert refused.status == 401 and refused.json["reason"] == "NotAuthenticated"
    _, wrong = await app.asgi_client.get("/status?token=nope")
    assert wrong.status == 401
    _, allowed = await app.asgi_client.get("/status?token=s3cret")
    assert allowed.status == 200


async def test_jwt_admins_reach_everything_users_only_their_conversation(
    make_app: AppFactory,
) -> None:
    app = make_app(auth=Auth(jwt_secret=SECRET))
    _, admin = await app.asgi_client.get("/conversations/x/tracker", headers=bearer("a", "admin"))
    assert admin.status == 200
    _, own = await app.asgi_client.get("/conversations/ana/tracker", headers=bearer("ana", "user"))
    assert own.status == 200
    _, other = await app.asgi_client.get("/conversations/bo/tracker", headers=bearer("ana", "user"))
    assert other.status == 403 and other.json["reason"] == "NotAuthorized"
    forged = jwt.encode(
        {"user": {"username": "a", "role": "admin"}},
        "not-the-secret-but-just-as-long-as-the-real-one",
        "HS256",
    )
    _, bad = await app.asgi_client.get("/status", headers={"Authorization": f"Bearer {forged}"})
    assert bad.status == 401


async def test_the_rest_channel_needs_no_api_token(make_app: AppFactory) -> None:
    app = make_app(auth=Auth(token="s3cret"))
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": "ana", "message": "hello"}
    )
    assert reply.status == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"sender": ["a"], "message": "hi"}', "'sender'"),
        (b'{"sender": "a", "message": 42}', "'message' must be a string"),
        (b'{"sender": "a"}', "'message' is missing"),
        (b'{"sender": "a", "message": null}', "'message' is missing"),
        (b'{"sender": "a", "message": "hi", "metadata": 3}', "'metadata'"),
        (b'{"sender": "' + b"x" * 300 + b'", "message": "hi"}', "at most 255"),
    ],
)
async def test_malformed_messages_get_a_400_in_rasas_format(
    make_app: AppFactory, body: bytes, message: str
) -> None:
    _, reply = await make_app().asgi_client.post("/webhooks/rest/webhook", content=body)
    assert reply.status == 400
    assert reply.json["status"] == "failure" and reply.json["reason"] == "BadRequest"
    assert message in reply.json["message"]
    assert set(reply.json) == {"version", "status", "message", "reason", "details", "help", "code"}


async def test_a_10_mb_body_is_refused_by_default(make_app: AppFactory) -> None:
    body = b'{"sender": "a", "message": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    _, reply = await make_app().asgi_client.post("/webhooks/rest/webhook", content=body)
    assert reply.status == 413 and reply.json["reason"] == "PayloadTooLarge"
    _, still = await make_app().asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": "a", "message": "hello"}
    )
    assert still.status == 200


async def test_a_body_over_the_limit_is_refused(make_app: AppFactory) -> None:
    app = make_app(max_body=64 * 1024)
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", content=b'{"sender": "a", "message": "' + b"x" * 100_000 + b'"}'
    )
    assert reply.status == 413
    assert reply.json["status"] == "failure"


async def test_a_multipart_body_without_its_boundary_is_a_400(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/webhooks/rest/webhook", content=b"x", headers={"Content-Type": "multipart/form-data"}
    )
    assert reply.status == 400 and "boundary" in reply.json["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/model/parse", {"message": "hi"}, 400),
        ("post", "/conversations/a/tracker/events", {"event": "no_such_event"}, 400),
        ("post", "/conversations/a/tracker/events", [{"name": "x"}], 400),
        ("put", "/conversations/a/tracker", {"event": "slot"}, 400),
        ("post", "/conversations/a/messages", {"text": "hi", "sender": "bot"}, 400),
        ("post", "/conversations/a/execute", {"name": "utter_nothing_like_it"}, 400),
        ("post", "/conversations/a/execute", {}, 400),
        ("post", "/conversations/a/trigger_intent", {"name": "no_such_intent"}, 404),
        ("put", "/model", {"model_file": "missing.tar.gz"}, 400),
        ("post", "/model/predict", {"not": "a list"}, 400),
        ("get", "/conversations/a/tracker?include_events=SOME", None, 400),
        ("get", "/conversations/a/tracker?until=yesterday", None, 400),
    ],
)
async def test_bad_api_calls_get_clear_errors(
    make_app: AppFactory, method: str, path: str, body: Any, status: int
) -> None:
    client = make_app().asgi_client
    kwargs = {"json": body} if body is not None else {}
    _, reply = await getattr(client, method)(path, **kwargs)
    assert reply.status == status, reply.json
    assert reply.json["status"] == "failure" and reply.json["code"] == status


async def test_a_corrupt_model_file_is_refused_and_the_old_one_stays(
    make_app: AppFactory, tmp_path: Any
) -> None:
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b this is not a model")
    app = make_app()
    _, reply = await app.asgi_client.put("/model", json={"model_file": str(broken)})
    assert reply.status == 400 and "cannot be loaded" in reply.json["message"]
    _, still = await app.asgi_client.post("/model/parse", json={"text": "hello"})
    assert still.status == 200


@pytest.mark.parametrize("sender", ["ünïcödé 🙂", "a/b", "../../etc/passwd", "x' OR '1'='1", "%00"])
async def test_odd_sender_ids_are_just_names(make_app: AppFactory, sender: str) -> None:
    app = make_app()
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": "hello"}
    )
    assert reply.status == 200 and reply.json[0]["recipient_id"] == sender


async def test_a_slow_answer_times_out_but_its_events_are_saved(make_app: AppFactory) -> None:
    app = make_app(response_timeout=0.05)
    agent = app.ctx.state.agent
    original = agent.processor.run_prediction_loop

    async def slow(*args: Any) -> None:
        await asyncio.sleep(0.3)
        await original(*args)

    agent.processor.run_prediction_loop = slow
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": "slow", "message": "hello"}
    )
    assert reply.status == 503 and "will be saved" in reply.json["message"]
    await app.ctx.state.drain()
    tracker = await agent.tracker_store.retrieve("slow")
    assert tracker is not None and tracker.latest_action_name == "action_listen"
    assert any(e.type_name == "bot" for e in tracker.events)


async def test_streaming_sends_each_message_as_a_json_line(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/webhooks/rest/webhook?stream=true", json={"sender": "st", "message": "hello"}
    )
    lines = [line for line in reply.text.splitlines() if line]
    assert len(lines) == 1 and "Where are you?" in lines[0]
