"""Rasa's HTTP API as its published description (openapi.yml of Rasa 3.0.4) and its server
answer: what a client written for Rasa sends, parlez takes, and answers with what that
client expects. Found by running the description through schemathesis."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import shared_path
from tests.server.conftest import AppFactory

pytestmark = pytest.mark.anyio


def described_operations() -> set[tuple[str, str]]:
    spec = yaml.safe_load(shared_path("compat", "rasa-3.0.4", "openapi.yml").read_text())
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "delete")
    }


async def test_every_operation_of_rasas_description_is_served(make_app: AppFactory) -> None:
    app = make_app()
    routes = {
        (method, "/" + route.path.rstrip("/"))
        for route in app.router.routes
        for method in route.methods
    }
    normalised = {
        (method, "/" + path.strip("/").replace("{conversation_id}", "<conversation_id:str>"))
        for method, path in described_operations()
    }
    assert normalised - routes == set()


async def test_replacing_a_conversations_events_with_put(make_app: AppFactory) -> None:
    app = make_app()
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
    ]
    _, put = await app.asgi_client.put("/conversations/kim/tracker/events", json=events)
    assert put.status == 200
    _, tracker = await app.asgi_client.get("/conversations/kim/tracker")
    assert [e["event"] for e in tracker.json["events"]] == ["action", "user"]


async def test_the_story_route_answers_text_yml(make_app: AppFactory) -> None:
    _, story = await make_app().asgi_client.get("/conversations/nobody/story")
    assert story.status == 200
    assert story.headers["content-type"].startswith("text/yml")


async def test_a_method_not_allowed_says_which_are(make_app: AppFactory) -> None:
    _, refused = await make_app().asgi_client.delete("/version")
    assert refused.status == 405
    assert refused.headers["allow"] == "GET"
    assert refused.json["reason"] == "MethodNotAllowed"


@pytest.mark.parametrize(
    "parse_data",
    [
        {"intent": [None, None], "entities": []},
        {"intent": {"name": "greet"}, "entities": "city"},
        {"intent": {"name": "greet"}, "entities": [{"value": "Nice"}]},
        {"intent": {"name": 3}},
    ],
)
async def test_a_malformed_parse_data_is_a_400_not_a_500(
    make_app: AppFactory, parse_data: dict[str, Any]
) -> None:
    """Rasa answers 500 here; the client's body is what is wrong."""
    _, refused = await make_app().asgi_client.post(
        "/conversations/kim/messages",
        json={"text": "Hello!", "sender": "user", "parse_data": parse_data},
    )
    assert refused.status == 400 and refused.json["reason"] == "BadRequest"


async def test_predicting_for_a_conversation_not_started_predicts_as_for_a_new_one(
    make_app: AppFactory,
) -> None:
    _, predicted = await make_app().asgi_client.post("/conversations/never-seen/predict")
    assert predicted.status == 200 and predicted.json["scores"]


async def test_an_unknown_action_to_execute_is_a_400(make_app: AppFactory) -> None:
    _, refused = await make_app().asgi_client.post(
        "/conversations/kim/execute", json={"name": "greet"}
    )
    assert refused.status == 400 and "not in the domain" in refused.json["message"]


async def test_intents_are_tested_from_rasas_json_training_data(make_app: AppFactory) -> None:
    body = {
        "rasa_nlu_data": {
            "common_examples": [
                {"text": "hello", "intent": "greet", "entities": []},
                {"text": "hi there", "intent": "greet"},
            ]
        }
    }
    _, tested = await make_app().asgi_client.post("/model/test/intents", json=body)
    assert tested.status == 200
    assert len(tested.json["intent_evaluation"]["predictions"]) == 2
    _, broken = await make_app().asgi_client.post(
        "/model/test/intents",
        json={"rasa_nlu_data": {"common_examples": [{"text": "hi", "entities": [{}]}]}},
    )
    assert broken.status == 400 and "Rasa's shape" in broken.json["message"]
    # found by the fuzzer against parlez's own description: a 500 from scikit-learn before
    _, unlabelled = await make_app().asgi_client.post(
        "/model/test/intents",
        json={"rasa_nlu_data": {"common_examples": [{"text": "", "intent": ""}]}},
    )
    assert unlabelled.status == 400 and "no NLU example" in unlabelled.json["message"]
    _, listed = await make_app().asgi_client.post(
        "/model/test/intents",
        json={"rasa_nlu_data": {"common_examples": [{"text": "hi", "intent": [None]}]}},
    )
    assert listed.status == 400 and "'intent' must be a string" in listed.json["message"]


async def test_parse_answers_in_the_shape_of_the_service_emulated(make_app: AppFactory) -> None:
    app = make_app()

    async def parse(mode: str) -> Any:
        _, reply = await app.asgi_client.post(
            f"/model/parse?emulation_mode={mode}", json={"text": "hello"}
        )
        return reply

    wit = (await parse("WIT")).json
    assert wit["text"] == "hello" and wit["intents"][0]["name"] == "greet"
    assert wit["entities"] == {}
    luis = (await parse("luis")).json
    assert luis["query"] == "hello" and luis["prediction"]["topIntent"] == "greet"
    assert luis["prediction"]["intents"]["greet"]["score"] > 0
    dialogflow = (await parse("DIALOGFLOW")).json
    assert dialogflow["queryResult"]["intent"]["displayName"] == "greet"
    assert (await parse("watson")).status == 400
