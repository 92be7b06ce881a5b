"""`/metrics` in Prometheus's format, read back with Prometheus's own parser, and the
liveness and readiness routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from parlez import metrics
from parlez.server.auth import Auth
from parlez.stores.engine import make_engine
from tests.server.conftest import AppFactory

pytestmark = pytest.mark.anyio


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(app: Any, **kwargs: Any) -> dict[Any, float]:
    _, reply = await app.asgi_client.get("/metrics", **kwargs)
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    return scraped(reply.text)


async def test_a_message_is_counted_timed_and_its_route_named_by_pattern(
    make_app: AppFactory, small_model: Path
) -> None:
    app = make_app()
    before = await scrape(app)
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": "m1", "message": "hello"}
    )
    assert reply.status == 200
    await app.asgi_client.get("/conversations/m1/tracker")
    after = await scrape(app)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("parlez_messages_total", channel="rest") == 1
    assert grew("parlez_message_seconds_count", channel="rest") == 1
    assert grew("parlez_nlu_seconds_count") >= 1
    assert grew("parlez_action_seconds_count", action="utter_greet") == 1
    route = "webhooks/rest/webhook"
    assert grew("parlez_http_requests_total", route=route, method="POST", status="200") == 1
    assert grew("parlez_http_request_seconds_count", route=route, method="POST") == 1
    # One series per route, not per conversation.
    tracker = "conversations/<conversation_id:str>/tracker"
    assert grew("parlez_http_requests_total", route=tracker, method="GET", status="200") == 1
    assert value(after, "parlez_model_info", model_id=small_model.name.removesuffix(".tar.gz")) == 1
    assert value(after, "parlez_start_time_seconds") > 0


async def test_errors_are_counted_by_status(make_app: AppFactory) -> None:
    app = make_app()
    before = await scrape(app)
    _, reply = await app.asgi_client.post("/webhooks/rest/webhook", json={"sender": "m2"})
    assert reply.status == 400
    after = await scrape(app)
    route = "webhooks/rest/webhook"
    labels = {"route": route, "method": "POST", "status": "400"}
    assert (
        value(after, "parlez_http_requests_total", **labels)
        - value(before, "parlez_http_requests_total", **labels)
        == 1
    )


async def test_with_a_token_the_scrape_needs_it(make_app: AppFactory) -> None:
    app = make_app(auth=Auth(token="s3cret"))
    _, refused = await app.asgi_client.get("/metrics")
    assert refused.status == 401
    await scrape(app, params={"token": "s3cret"})
    await scrape(app, headers={"Authorization": "Bearer s3cret"})
    _, wrong = await app.asgi_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401


async def test_liveness_says_the_process_answers(make_app: AppFactory) -> None:
    app = make_app(loaded=False, auth=Auth(token="s3cret"))
    _, reply = await app.asgi_client.get("/health/live")
    assert reply.status == 200 and reply.json == {"status": "ok"}


async def test_readiness_needs_a_model_and_reachable_stores(make_app: AppFactory) -> None:
    _, ready = await make_app().asgi_client.get("/health/ready")
    assert ready.status == 200
    assert ready.json["checks"] == {
        "model": "ok",
        "server": "ok",
        "tracker_store": "ok",
        "lock_store": "ok",
    }
    _, unready = await make_app(loaded=False).asgi_client.get("/health/ready")
    assert unready.status == 503
    assert unready.json["checks"]["model"] == "no model is loaded"


async def test_readiness_fails_when_the_database_is_gone(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    store = app.ctx.state.tracker_store
    await store.engine.dispose()
    # A database file that cannot be opened: its folder is gone.
    store.engine = make_engine(make_url(f"sqlite+aiosqlite:///{tmp_path}/gone/conversations.db"))
    _, reply = await app.asgi_client.get("/health/ready")
    assert reply.status == 503
    assert reply.json["checks"]["tracker_store"] == "unreachable"


def test_service_figures_leave_the_monitors_out() -> None:
    before = metrics.service_figures(now=metrics.START_TIME + 90)
    assert before.uptime_seconds == 90  # from the process's start to the time asked about
    for route in metrics.MONITORING_ROUTES:
        metrics.REQUESTS.labels(route=route, method="GET", status="503").inc()
    after = metrics.service_figures(now=metrics.START_TIME + 90)
    assert (after.requests, after.error_rate) == (before.requests, before.error_rate)
    # p99 is a bucket bound: the bound under which 99 % of the counted requests fell.
    assert metrics._quantile({0.1: 50.0, 0.2: 99.0, 0.5: 100.0, float("inf"): 100.0}, 0.99) == 0.2
    assert metrics._quantile({0.1: 0.0, float("inf"): 0.0}, 0.99) is None
