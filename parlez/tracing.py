"""Traces of each message's path (the HTTP request, the conversation's lock, the NLU, each
prediction and action, the tracker store) in OpenTelemetry, sent where `tracing:` in
endpoints.yml says, as Rasa's key does:

    tracing:
      type: otlp                       # or jaeger: OTLP to a Jaeger's own OTLP port
      endpoint: http://collector:4318  # OTLP over HTTP; `protocol: grpc` for port 4317
      service_name: shop-assistant
      insecure: true                   # grpc without TLS

Without `tracing:` nothing is recorded (OpenTelemetry's no-op tracer: a few hundred
nanoseconds a span). A trace continues one a caller started (a `traceparent` header), and an
action server is sent the trace on, so that rasa_sdk's own spans join it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from parlez.endpoints import EndpointConfig
from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)

NAME = "parlez"
#: Jaeger's OTLP over HTTP port, for a Rasa `type: jaeger` block that names only its host
JAEGER_OTLP_PORT = 4318

_tracer: Tracer = trace.get_tracer(NAME)
_provider: Any = None


class TracingConfigError(ParlezError):
    code = "P403"


def tracer() -> Tracer:
    return _tracer


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span]:
    """A span around a step of the message's path; an exception marks it failed."""
    kept = {key: value for key, value in attributes.items() if value is not None}
    with _tracer.start_as_current_span(name, attributes=kept) as current:
        yield current


def configure(config: EndpointConfig | None, service_name: str = NAME) -> bool:
    """Send spans where `tracing:` says; False (and nothing recorded) without it."""
    global _tracer, _provider
    if config is None:
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = _exporter(config)
    service = str(config.kwargs.get("service_name") or service_name)
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    use(provider)
    logger.info("traces go to %s as '%s'", _where(config), service)
    return True


def use(provider: Any) -> None:
    """Record spans with `provider` (an SDK TracerProvider) from now on."""
    global _tracer, _provider
    if _provider is not None and _provider is not provider:
        _provider.shutdown()
    _provider = provider
    _tracer = provider.get_tracer(NAME)


def shutdown() -> None:
    """Send what is still buffered and stop (the server is stopping)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None
    _tracer = trace.get_tracer(NAME)


def _where(config: EndpointConfig) -> str:
    return str(config.kwargs.get("endpoint") or config.url or "the default OTLP endpoint")


def _exporter(config: EndpointConfig) -> Any:
    kind = str(config.type or "otlp").lower()
    options = config.kwargs
    if kind == "jaeger":
        # Rasa's jaeger type sent Thrift to the agent; every Jaeger since 1.35 takes OTLP.
        host = str(config.url or options.get("host") or "localhost")
        options = {**options, "endpoint": f"http://{host}:{JAEGER_OTLP_PORT}"}
        kind = "otlp"
    if kind != "otlp":
        raise TracingConfigError(
            f"unknown tracing type '{config.type}' in endpoints.yml",
            hint="use 'otlp' (an OpenTelemetry collector) or 'jaeger'",
        )
    endpoint = options.get("endpoint") or config.url
    if str(options.get("protocol") or "http").lower() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter(
            endpoint=str(endpoint) if endpoint else None,
            insecure=bool(options.get("insecure", False)),
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if endpoint and not str(endpoint).rstrip("/").endswith("/v1/traces"):
        endpoint = str(endpoint).rstrip("/") + "/v1/traces"
    return OTLPSpanExporter(endpoint=str(endpoint) if endpoint else None)


def continued(headers: Mapping[str, str]) -> context.Context:
    """The trace a caller started (its `traceparent` header), to be continued here."""
    return propagate.extract(headers)


def passed_on(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with the current trace added, for a call to another service."""
    propagate.inject(headers)
    return headers


def failed(current: Span, error: BaseException) -> None:
    current.record_exception(error)
    current.set_status(Status(StatusCode.ERROR, str(error)))
