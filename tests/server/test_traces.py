"""A message's trace across the HTTP request, the NLU, each prediction and action and the
tracker store, continued from the caller's `traceparent`."""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.server.conftest import AppFactory

CALLER_TRACE = "4bf92f3577b34da6a3ce929c0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


def test_a_message_is_one_trace_from_the_request_to_the_store(
    make_app: AppFactory, recorded: InMemorySpanExporter
) -> None:
    app = make_app()

    async def send() -> None:
        _, reply = await app.asgi_client.post(
            "/webhooks/rest/webhook",
            json={"sender": "traced", "message": "hello"},
            headers={"traceparent": TRACEPARENT},
        )
        assert reply.status == 200

    asyncio.run(send())
    spans = recorded.get_finished_spans()
    found = [span.name for span in spans]
    for name in (
        "POST webhooks/rest/webhook",
        "parlez.message",
        "parlez.tracker_store.retrieve",
        "parlez.nlu.parse",
        "parlez.predict",
        "parlez.action",
        "parlez.tracker_store.save",
    ):
        assert name in found, found
    # the caller's trace, continued: every span is in it
    assert {format(span.context.trace_id, "032x") for span in spans} == {CALLER_TRACE}
    by_id = {span.context.span_id: span for span in spans}
    message = next(span for span in spans if span.name == "parlez.message")
    assert message.parent is not None
    assert by_id[message.parent.span_id].name == "POST webhooks/rest/webhook"
    assert (
        message.attributes is not None and message.attributes["parlez.conversation_id"] == "traced"
    )
    nlu = next(span for span in spans if span.name == "parlez.nlu.parse")
    assert nlu.attributes is not None and nlu.attributes["parlez.intent"] == "greet"
    actions = [
        s.attributes["parlez.action"] for s in spans if s.name == "parlez.action" and s.attributes
    ]
    assert "utter_greet" in actions
