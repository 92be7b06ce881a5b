"""Rasa's HTTP API routes, called as Rasa's clients call them."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from parlez import __version__
from parlez.channels.rest import RestInput
from tests.phone import Phone
from tests.server.conftest import AppFactory
from tests.small_assistant import CONFIG, DOMAIN, NLU, RULES

pytestmark = pytest.mark.anyio


async def say(app: Any, sender: str, text: str) -> list[dict[str, Any]]:
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": text}
    )
    assert reply.status == 200, reply.json
    messages: list[dict[str, Any]] = reply.json
    return messages


async def test_health_and_version_are_open(make_app: AppFactory) -> None:
    app = make_app(enable_api=False)
    _, hello = await app.asgi_client.get("/")
    assert hello.status == 200 and __version__ in hello.text
    _, version = await app.asgi_client.get("/version")
    assert version.json["version"] == __version__
    assert "minimum_compatible_version" in version.json


async def test_api_routes_are_off_unless_enabled(make_app: AppFactory) -> None:
    app = make_app(enable_api=False)
    _, reply = await app.asgi_client.post("/model/parse", json={"text": "hello"})
    assert reply.status == 404
    assert reply.json["status"] == "failure" and reply.json["code"] == 404


async def test_status_names_the_loaded_model(make_app: AppFactory, small_model: Path) -> None:
    _, reply = await make_app().asgi_client.get("/status")
    assert reply.json == {
        "model_file": str(small_model),
        "model_id": small_model.name.removesuffix(".tar.gz"),
        "num_active_training_jobs": 0,
    }


async def test_parse_returns_intent_and_entities(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/model/parse", json={"text": "I am in Paris", "message_id": "m1"}
    )
    assert reply.status == 200
    assert reply.json["intent"]["name"] == "inform"
    assert [e["value"] for e in reply.json["entities"]] == ["Paris"]
    assert reply.json["message_id"] == "m1"


async def test_a_rest_conversation_is_stored_and_read_back(make_app: AppFactory) -> None:
    app = make_app()
    assert [m["text"] for m in await say(app, "ana", "hello")] == ["Hello! Where are you?"]
    assert await say(app, "ana", '/inform{"city": "Lisbon"}') == [
        {"recipient_id": "ana", "text": "You are in Lisbon."}
    ]
    _, tracker = await app.asgi_client.get("/conversations/ana/tracker?include_events=ALL")
    assert tracker.json["slots"]["city"] == "Lisbon"
    names = [e["event"] for e in tracker.json["events"]]
    assert names[:3] == ["action", "session_started", "action"]
    assert names.count("user") == 2 and names.count("bot") == 2
    _, none = await app.asgi_client.get("/conversations/ana/tracker?include_events=NONE")
    assert none.json["events"] is None


async def test_the_story_route_writes_the_conversation_as_a_story(make_app: AppFactory) -> None:
    app = make_app()
    await say(app, "bo", "hello")
    _, reply = await app.asgi_client.get("/conversations/bo/story")
    story = yaml.safe_load(reply.text)
    steps = story["stories"][0]["steps"]
    assert story["stories"][0]["story"] == "bo"
    assert {"action": "utter_greet"} in steps
    assert any(s.get("intent") == "greet" for s in steps)


async def test_events_are_appended_and_replaced(make_app: AppFactory) -> None:
    app = make_app()
    _, appended = await app.asgi_client.post(
        "/conversations/cy/tracker/events?include_events=ALL",
        json={"event": "slot", "name": "city", "value": "Oslo"},
    )
    assert appended.status == 200
    assert appended.json["slots"]["city"] == "Oslo"
    # A new conversation starts with its session, as in Rasa.
    assert appended.json["events"][0]["name"] == "action_session_start"
    _, replaced = await app.asgi_client.put(
        "/conversations/cy/tracker?include_events=ALL",
        json=[{"event": "slot", "name": "city", "value": "Rome"}],
    )
    assert [e["event"] for e in replaced.json["events"]] == ["slot"]
    _, read = await app.asgi_client.get("/conversations/cy/tracker?include_events=ALL")
    assert read.json["slots"]["city"] == "Rome" and len(read.json["events"]) == 1


async def test_messages_are_logged_without_an_answer(make_app: AppFactory) -> None:
    app = make_app()
    _, reply = await app.asgi_client.post(
        "/conversations/di/messages", json={"text": "I live in Berlin", "sender": "user"}
    )
    assert reply.status == 200
    assert reply.json["latest_message"]["intent"]["name"] == "inform"
    assert reply.json["slots"]["city"] == "Berlin"
    assert reply.json["latest_action_name"] != "utter_city"  # nothing was predicted


async def test_predict_scores_without_acting(make_app: AppFactory) -> None:
    app = make_app()
    await app.asgi_client.post(
        "/conversations/ed/messages", json={"text": "goodbye", "sender": "user"}
    )
    _, reply = await app.asgi_client.post("/conversations/ed/predict")
    assert reply.status == 200
    assert reply.json["scores"][0] == {"action": "utter_goodbye", "score": 1.0}
    assert reply.json["policy"] == "RulePolicy"
    _, tracker = await app.asgi_client.get("/conversations/ed/tracker")
    assert tracker.json["latest_action_name"] != "utter_goodbye"


async def test_execute_runs_one_action(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/conversations/fa/execute", json={"name": "utter_goodbye"}
    )
    assert reply.status == 200
    assert reply.json["messages"] == [{"recipient_id": "fa", "text": "Bye"}]
    assert reply.json["tracker"]["latest_action_name"] == "utter_goodbye"


async def test_trigger_intent_runs_the_conversation_on(make_app: AppFactory) -> None:
    _, reply = await make_app().asgi_client.post(
        "/conversations/gi/trigger_intent", json={"name": "inform", "entities": {"city": "Porto"}}
    )
    assert reply.status == 200
    assert [m["text"] for m in reply.json["messages"]] == ["You are in Porto."]
    assert reply.json["tracker"]["slots"]["city"] == "Porto"


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("tracker/events?execute_side_effects=true&", {"event": "bot", "text": "Ana here"}),
        ("execute?", {"name": "utter_goodbye"}),
        ("trigger_intent?", {"name": "goodbye"}),
    ],
)
async def test_output_channel_latest_reaches_the_channel_the_customer_wrote_from(
    make_app: AppFactory, route: str, body: dict[str, Any]
) -> None:
    phone = Phone()
    app = make_app(channels=[RestInput(), phone])
    wrote = {"event": "user", "text": "hi", "input_channel": "phone"}
    await app.asgi_client.post("/conversations/hb/tracker/events", json=wrote)
    _, reply = await app.asgi_client.post(
        f"/conversations/hb/{route}output_channel=latest", json=body
    )
    assert reply.status == 200, reply.json
    assert [m["to"] for m in phone.received] == ["hb"]
    assert phone.received[0]["text"] in ("Ana here", "Bye")


async def test_model_predict_scores_a_posted_conversation(make_app: AppFactory) -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
    ]
    _, reply = await make_app().asgi_client.post("/model/predict", json=events)
    assert reply.status == 200
    assert reply.json["scores"][0]["action"] == "utter_greet"


async def test_domain_as_json_or_yaml(make_app: AppFactory) -> None:
    app = make_app()
    _, as_json = await app.asgi_client.get("/domain", headers={"Accept": "application/json"})
    assert "utter_greet" in as_json.json["responses"]
    _, as_yaml = await app.asgi_client.get("/domain", headers={"Accept": "application/x-yml"})
    assert "utter_greet" in yaml.safe_load(as_yaml.text)["responses"]
    _, refused = await app.asgi_client.get("/domain", headers={"Accept": "text/csv"})
    assert refused.status == 406 and refused.json["reason"] == "NotAcceptable"


async def test_model_tests_report_on_posted_data(make_app: AppFactory) -> None:
    app = make_app()
    _, stories = await app.asgi_client.post(
        "/model/test/stories",
        content=RULES.replace("rules:", "stories:").replace("- rule:", "- story:"),
        headers={"Content-Type": "text/yml"},
    )
    assert stories.status == 200
    assert stories.json["conversation_accuracy"]["accuracy"] == 1.0
    _, intents = await app.asgi_client.post(
        "/model/test/intents", content=NLU, headers={"Content-Type": "application/x-yaml"}
    )
    assert intents.status == 200
    assert intents.json["intent_evaluation"]["accuracy"] >= 0.5
    assert len(intents.json["intent_evaluation"]["predictions"]) == 12


async def test_unload_then_load_a_model_keeps_conversations(
    make_app: AppFactory, small_model: Path
) -> None:
    app = make_app()
    await say(app, "ha", '/inform{"city": "Nice"}')
    _, deleted = await app.asgi_client.delete("/model")
    assert deleted.status == 204
    _, missing = await app.asgi_client.post("/model/parse", json={"text": "hi"})
    assert missing.status == 409 and missing.json["reason"] == "Conflict"
    _, loaded = await app.asgi_client.put("/model", json={"model_file": str(small_model)})
    assert loaded.status == 204
    _, tracker = await app.asgi_client.get("/conversations/ha/tracker")
    assert tracker.json["slots"]["city"] == "Nice"


async def test_train_returns_a_model_archive(make_app: AppFactory, tmp_path: Path) -> None:
    payload = "\n".join(
        [
            CONFIG,
            DOMAIN.replace('version: "3.1"', ""),
            NLU.replace('version: "3.1"', ""),
            RULES.replace('version: "3.1"', ""),
        ]
    )
    _, reply = await make_app().asgi_client.post(
        "/model/train?save_to_default_model_directory=false",
        content=payload,
        headers={"Content-Type": "application/yaml"},
        timeout=600,
    )
    assert reply.status == 200, reply.text[:500]
    assert reply.headers["filename"].endswith(".tar.gz")
    with tarfile.open(fileobj=io.BytesIO(reply.body), mode="r:gz") as archive:
        names = archive.getnames()
    assert "metadata.json" in names
    assert any(n.startswith("core/") for n in names) and any(n.startswith("nlu/") for n in names)
