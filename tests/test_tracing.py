"""OpenTelemetry traces: passed on to an action server, and sent over OTLP as `tracing:` in
endpoints.yml says (a message's whole trace: tests/server/test_traces.py)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from parlez import tracing
from parlez.core.actions.custom import RemoteExecutor
from parlez.domain import Domain
from parlez.endpoints import EndpointConfig, Endpoints
from parlez.tracker import DialogueStateTracker
from tests.conftest import write


class Recorder(BaseHTTPRequestHandler):
    """A collector's or an action server's side of HTTP: what was posted, and its headers."""

    received: list[tuple[str, dict[str, str], bytes]]
    answer = b"{}"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    received: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Handler", (Recorder,), {"received": received, "answer": b'{"events": []}'})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def test_an_action_server_is_sent_the_trace(
    recorded: InMemorySpanExporter,
    listener: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, received = listener
    executor = RemoteExecutor(EndpointConfig(url=f"{url}/webhook"))
    domain = Domain.from_raw({"actions": ["action_check"]})

    async def call() -> None:
        with tracing.span("parlez.action") as current:
            await executor.run("action_check", DialogueStateTracker("anna"), domain)
            return format(current.get_span_context().trace_id, "032x")

    trace_id = asyncio.run(call())
    ((_, headers, _),) = received
    assert headers["traceparent"].split("-")[1] == trace_id


def test_spans_go_over_otlp_to_the_collector_endpoints_yml_names(
    tmp_path: Path, listener: tuple[str, list[tuple[str, dict[str, str], bytes]]]
) -> None:
    url, received = listener
    write(
        tmp_path / "endpoints.yml",
        f"tracing:\n  type: otlp\n  endpoint: {url}\n  service_name: shop-assistant\n",
    )
    assert tracing.configure(Endpoints.load(tmp_path / "endpoints.yml").tracing)
    try:
        with (
            tracing.span("parlez.message", **{"parlez.channel": "rest"}),
            tracing.span("parlez.nlu.parse"),
        ):
            pass
    finally:
        tracing.shutdown()  # sends what is buffered
    ((path, headers, body),) = received
    assert path == "/v1/traces" and headers["Content-Type"] == "application/x-protobuf"
    sent = ExportTraceServiceRequest.FromString(body)
    (resource,) = sent.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "shop-assistant"
    spans = [span for scope in resource.scope_spans for span in scope.spans]
    assert sorted(span.name for span in spans) == ["parlez.message", "parlez.nlu.parse"]


def test_without_tracing_nothing_is_set_up_and_an_unknown_type_is_refused() -> None:
    assert tracing.configure(None) is False
    with pytest.raises(tracing.TracingConfigError) as refused:
        tracing.configure(EndpointConfig(type="zipkin"))
    assert refused.value.code == "P403" and "otlp" in str(refused.value.hint)
    assert json.dumps(tracing.passed_on({})) == "{}"  # no trace: nothing passed on
