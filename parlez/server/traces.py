"""A span for each HTTP request (the root of a message's trace, or the continuation of the
trace its caller sent in `traceparent`), ended when the answer is sent."""

from __future__ import annotations

from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from parlez import tracing
from parlez.server.metrics import route_of


def trace_requests(app: Sanic[Any, Any]) -> None:
    async def started(request: Request) -> None:
        route = route_of(request)
        span = tracing.tracer().start_span(
            f"{request.method} {route}",
            context=tracing.continued(dict(request.headers)),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": route},
        )
        request.ctx.trace_span = span
        request.ctx.trace_token = context.attach(trace.set_span_in_context(span))

    async def answered(request: Request, reply: BaseHTTPResponse) -> None:
        span = getattr(request.ctx, "trace_span", None)
        if span is None:
            return
        span.set_attribute("http.response.status_code", reply.status)
        if reply.status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        context.detach(request.ctx.trace_token)

    # Outermost, as the request's timing for /metrics is.
    app.register_middleware(started, "request", priority=999)
    app.register_middleware(answered, "response", priority=-999)
