"""Responses: the variation for the channel and the slots, placeholders, and NLG servers."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from parlez.endpoints import EndpointConfig
from parlez.nlg.endpoint import EndpointGenerator
from parlez.nlg.generator import TemplatedGenerator
from parlez.tracker import DialogueStateTracker

RESPONSES: dict[str, list[dict[str, Any]]] = {
    "utter_greet": [
        {"text": "Hi {name}!", "buttons": [{"title": "Book for {name}", "payload": "/book"}]},
        {"text": "Hey, this is the web chat.", "channel": "socketio"},
        {
            "text": "Welcome back, {name}.",
            "condition": [{"type": "slot", "name": "returning", "value": True}],
        },
    ],
    "utter_price": [{"text": "That costs {amount} euros."}],
    "utter_image": [{"image": "https://example.com/{name}.png", "custom": {"card": "{name}"}}],
}


def test_placeholders_are_filled_in_text_buttons_images_and_custom_payloads() -> None:
    nlg = TemplatedGenerator(RESPONSES)
    message = nlg.render("utter_greet", {"name": "Ada", "returning": False}, None)
    assert message == {
        "text": "Hi Ada!",
        "buttons": [{"title": "Book for Ada", "payload": "/book"}],
    }
    image = nlg.render("utter_image", {"name": "ada"}, None)
    assert image == {"image": "https://example.com/ada.png", "custom": {"card": "ada"}}


def test_a_channel_specific_variation_wins_on_its_channel() -> None:
    nlg = TemplatedGenerator(RESPONSES)
    assert nlg.render("utter_greet", {"name": "Ada"}, "socketio") == {
        "text": "Hey, this is the web chat."
    }


def test_a_conditional_variation_wins_when_its_slots_hold() -> None:
    nlg = TemplatedGenerator(RESPONSES)
    assert nlg.render("utter_greet", {"name": "Ada", "returning": True}, None) == {
        "text": "Welcome back, Ada."
    }


def test_values_an_action_passes_fill_placeholders_and_unknown_ones_stay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nlg = TemplatedGenerator(RESPONSES)
    assert nlg.render("utter_price", {}, None, amount=30) == {"text": "That costs 30 euros."}
    assert nlg.render("utter_price", {}, None) == {"text": "That costs {amount} euros."}
    assert "amount" in caplog.text
    assert nlg.render("utter_unknown", {}, None) is None


def test_a_buttons_payload_with_entities_is_sent_as_written_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`{"city": "Paris"}` in a payload is JSON, not a placeholder: no slot is missing."""
    button = {"title": "Paris", "payload": '/inform{"city": "Paris"}'}
    nlg = TemplatedGenerator({"utter_where": [{"text": "Where?", "buttons": [button]}]})
    assert nlg.render("utter_where", {}, None) == {"text": "Where?", "buttons": [button]}
    assert caplog.text == ""


class _NLGServer(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _NLGServer.requests.append(body)
        answer = json.dumps({"text": f"[server] {body['response']} for {body['channel']['name']}"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def nlg_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _NLGServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/nlg"
    server.shutdown()


def test_an_nlg_server_is_asked_in_rasas_format(nlg_server: str) -> None:
    tracker = DialogueStateTracker("ada")
    nlg = EndpointGenerator(EndpointConfig(url=nlg_server))
    message = asyncio.run(nlg.generate("utter_greet", tracker, "rest", name="Ada"))
    assert message == {"text": "[server] utter_greet for rest"}
    request = _NLGServer.requests[-1]
    assert request["response"] == "utter_greet"
    assert request["arguments"] == {"name": "Ada"}
    assert request["tracker"]["sender_id"] == "ada"


def test_a_failing_nlg_server_falls_back_to_the_domain(caplog: pytest.LogCaptureFixture) -> None:
    tracker = DialogueStateTracker("ada")
    tracker.slots["name"] = "Ada"
    nlg = EndpointGenerator(
        EndpointConfig(url="http://127.0.0.1:9/nlg"), TemplatedGenerator(RESPONSES)
    )
    message = asyncio.run(nlg.generate("utter_price", tracker, None, amount=5))
    assert message == {"text": "That costs 5 euros."}
    assert "NLG server" in caplog.text
