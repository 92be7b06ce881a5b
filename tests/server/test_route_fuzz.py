"""Fuzzed requests to every route of the API: each gets a 2xx, or a 4xx in Rasa's error
format, never a 5xx; and the conversation they went to still answers afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzzing import CONVERSATION, REST_PAYLOADS, requests
from tests.server.conftest import AppFactory

pytestmark = pytest.mark.anyio

RASA_ERROR_KEYS = {"version", "status", "message", "reason", "details", "help", "code"}

CI = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def app(make_app: AppFactory) -> Any:
    return make_app()


def check_answer(reply: Any, what: str) -> None:
    assert reply.status < 500, f"{what} -> {reply.status}: {reply.text[:300]}"
    if reply.status >= 400:
        assert set(reply.json) == RASA_ERROR_KEYS, f"{what} -> {reply.text[:300]}"


async def still_answers(app: Any) -> None:
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": CONVERSATION, "message": "hello"}
    )
    assert reply.status == 200, reply.text[:300]


@CI
@given(request=requests())
async def test_a_fuzzed_request_gets_a_2xx_or_a_rasa_4xx(
    app: Any, request: tuple[str, str, bytes, dict[str, str]]
) -> None:
    method, path, body, headers = request
    _, reply = await app.asgi_client.request(method, path, content=body, headers=headers)
    check_answer(reply, f"{method} {path} {body[:200]!r}")
    await still_answers(app)


@settings(CI, max_examples=150)
@given(payload=REST_PAYLOADS)
async def test_a_fuzzed_rest_message_is_answered_or_refused(app: Any, payload: Any) -> None:
    body = json.dumps(payload).encode()  # \ud800 and the like as JSON escapes
    _, reply = await app.asgi_client.post("/webhooks/rest/webhook", content=body)
    check_answer(reply, repr(payload))
