"""`GET /openapi.json` describes exactly what the server serves: a valid OpenAPI 3.1 document,
every route in it, the HTTP API described by hand. (Responses are checked against it by
schemathesis in `bench/openapi.py`, whose smoke runs in tests/bench.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from parlez.server.app import create_app
from parlez.server.openapi import (
    DESCRIBED_BLUEPRINTS,
    blueprint_of,
    described_by_hand,
    served_operations,
)
from parlez.server.run import ServeOptions, build_state
from tests.conftest import REPO
from tests.server.conftest import AppFactory
from tests.server.process import assistant_endpoints

pytestmark = pytest.mark.anyio

#: the REST channel is Rasa's contract: described by hand like the API
BY_HAND = (*DESCRIBED_BLUEPRINTS, "rest_webhook", "")


async def described(app: Any) -> dict[str, Any]:
    _, reply = await app.asgi_client.get("/openapi.json")
    assert reply.status == 200
    document: dict[str, Any] = reply.json
    return document


async def test_the_description_is_valid_openapi_3_1(make_app: AppFactory) -> None:
    document = await described(make_app())
    validate(document)  # raises with the offending place
    assert document["openapi"] == "3.1.0"


async def test_without_the_api_only_what_is_served_is_described(make_app: AppFactory) -> None:
    document = await described(make_app(enable_api=False))
    assert "/model/parse" not in document["paths"]
    assert "/conversations/{conversation_id}/tracker" not in document["paths"]
    assert "/webhooks/rest/webhook" in document["paths"]


@pytest.fixture
def assistant_app(assistant_models: Path, tmp_path: Path) -> Any:
    """The repository's assistant as `parlez run --enable-api` builds it: its channels (the
    web chat among them), the console and the API."""
    options = ServeOptions(
        project=REPO,
        model=assistant_models,
        enable_api=True,
        endpoints=assistant_endpoints(tmp_path),
    )
    return create_app(build_state(options, say=lambda *_: None), enable_api=True)


async def test_every_route_of_the_assistants_server_is_described(assistant_app: Any) -> None:
    document = await described(assistant_app)
    by_hand = described_by_hand()["paths"]
    served = served_operations(assistant_app)
    assert len(served) > 100  # the console and the web chat are there
    for (method, path), route in served.items():
        assert method in document["paths"].get(path, {}), f"{method.upper()} {path}"
        if blueprint_of(route) in BY_HAND and route.name.rsplit(".", 1)[-1] != "handle_request":
            # the API, the REST channel and the server's own routes: written out, with shapes
            assert method in by_hand.get(path, {}), f"{method.upper()} {path} not in openapi.yml"
    for path, item in by_hand.items():
        for method in item:
            if method != "parameters":
                assert (method, path) in served, f"openapi.yml describes {method} {path}"


async def test_listed_routes_carry_their_typed_path_parameters(assistant_app: Any) -> None:
    paths = (await described(assistant_app))["paths"]
    customer = paths["/console/customers/{contact_id}"]
    assert customer["parameters"] == [
        {"name": "contact_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    assert customer["get"]["tags"] == ["console"]
