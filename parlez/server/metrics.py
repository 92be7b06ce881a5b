"""`/metrics` (Prometheus's format), `/health/live` and `/health/ready`, and the middleware
that times every request.

`/health/live` says the process answers (restart it when it does not); `/health/ready` says
it can take messages now: a model is loaded, it is not stopping, and its tracker and lock
stores answer (take it out of the load balancer when it cannot).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sanic import Request, Sanic, response
from sanic.response import BaseHTTPResponse, HTTPResponse

from parlez import metrics
from parlez.http.blueprint import ERROR_FORMAT
from parlez.server.errors import ApiError

logger = logging.getLogger(__name__)

#: seconds a store has to answer the readiness check
READY_TIMEOUT = 5.0


def route_of(request: Request) -> str:
    """The route's pattern (`conversations/<conversation_id:str>/tracker`), never the path a
    client sent: one series per route, however many conversations there are."""
    route = getattr(request, "route", None)
    return route.path if route is not None else "unmatched"


def time_requests(app: Sanic[Any, Any]) -> None:
    async def started(request: Request) -> None:
        request.ctx.metrics_started = time.perf_counter()

    async def answered(request: Request, reply: BaseHTTPResponse) -> None:
        began = getattr(request.ctx, "metrics_started", None)
        route, method = route_of(request), request.method
        metrics.REQUESTS.labels(route=route, method=method, status=str(reply.status)).inc()
        if began is not None:
            metrics.REQUEST_SECONDS.labels(route=route, method=method).observe(
                time.perf_counter() - began
            )

    # First in, last out: the time covers the other middleware too.
    app.register_middleware(started, "request", priority=1000)
    app.register_middleware(answered, "response", priority=-1000)


def _may_scrape(request: Request) -> bool:
    """With the API's token or JWT secret set, a scrape shows one of them: `?token=`, or the
    token as a bearer credential (Prometheus's `authorization:`), or an admin's JWT."""
    auth = request.app.ctx.auth
    if not auth.enabled:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    bearer = given if scheme.lower() == "bearer" else ""
    if auth.token and bearer and hmac.compare_digest(bearer.encode(), auth.token.encode()):
        return True
    try:
        auth.check(request, None)
    except ApiError:
        return False
    return True


async def metrics_route(request: Request) -> HTTPResponse:
    if not _may_scrape(request):
        raise ApiError(401, "NotAuthenticated", "User is not authenticated.")
    agent = request.app.ctx.state.agent
    metrics.serving(agent.model_id if agent is not None else None)
    return HTTPResponse(
        generate_latest(metrics.REGISTRY), content_type=CONTENT_TYPE_LATEST, status=200
    )


async def live(request: Request) -> HTTPResponse:
    return response.json({"status": "ok"})


async def ready(request: Request) -> HTTPResponse:
    state = request.app.ctx.state
    checks: dict[str, str] = {
        "model": "ok" if state.agent is not None else "no model is loaded",
        "server": "stopping" if state.stopping else "ok",
    }
    for name, store in (("tracker_store", state.tracker_store), ("lock_store", state.lock_store)):
        try:
            await asyncio.wait_for(store.ping(), READY_TIMEOUT)
            checks[name] = "ok"
        except Exception as error:  # what failed goes to the log, not to the caller
            logger.warning("readiness: the %s did not answer: %r", name, error)
            checks[name] = "unreachable"
    ok = all(value == "ok" for value in checks.values())
    return response.json(
        {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
    )


def add_routes(app: Sanic[Any, Any]) -> None:
    get = {"GET"}  # every error is answered in JSON (parlez.server.errors)
    app.add_route(
        metrics_route,
        "/metrics",
        methods=get,
        name=metrics.METRICS_ROUTE,
        error_format=ERROR_FORMAT,
    )
    app.add_route(live, "/health/live", methods=get, name="health_live", error_format=ERROR_FORMAT)
    app.add_route(
        ready, "/health/ready", methods=get, name="health_ready", error_format=ERROR_FORMAT
    )
