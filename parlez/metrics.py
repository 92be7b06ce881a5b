"""The service's own metrics, in Prometheus's format: what `/metrics` serves.

The metrics live in a registry of parlez's own (not prometheus-client's global one), so an
application that embeds parlez keeps its metrics apart. They count what this process did;
several `parlez run` processes are each scraped, and Prometheus adds them up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
#: the route pattern `/metrics` is counted under
METRICS_ROUTE = "metrics"
#: what monitors poll: left out of the service's own figures
MONITORING_ROUTES = frozenset({METRICS_ROUTE, "health/live", "health/ready"})
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

#: Seconds, from a cached reply to a slow LLM answer: the plan's 200 ms sits between buckets.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

STARTED = Gauge(
    "parlez_start_time_seconds", "When this process started (Unix time)", registry=REGISTRY
)
START_TIME = time.time()
STARTED.set(START_TIME)

REQUESTS = Counter(
    "parlez_http_requests",
    "HTTP requests answered, by route pattern, method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "parlez_http_request_seconds",
    "Time to answer an HTTP request, by route pattern",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
MESSAGES = Counter(
    "parlez_messages",
    "Customers' messages handled, by channel",
    ["channel"],
    registry=REGISTRY,
)
MESSAGE_SECONDS = Histogram(
    "parlez_message_seconds",
    "Time to handle a customer's message, from its arrival to the saved answer, by channel",
    ["channel"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
MESSAGE_ERRORS = Counter(
    "parlez_message_errors",
    "Customers' messages whose handling failed, by channel",
    ["channel"],
    registry=REGISTRY,
)
NLU_SECONDS = Histogram(
    "parlez_nlu_seconds",
    "Time to understand a message (the NLU pipeline)",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
ACTION_SECONDS = Histogram(
    "parlez_action_seconds",
    "Time to run an action, by action",
    ["action"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
ACTION_ERRORS = Counter(
    "parlez_action_errors",
    "Actions that failed (the customer was told so), by action",
    ["action"],
    registry=REGISTRY,
)
STORE_ERRORS = Counter(
    "parlez_store_errors",
    "Database calls that failed after their retries, by what was being done",
    ["operation"],
    registry=REGISTRY,
)
BROKER_ERRORS = Counter(
    "parlez_event_broker_errors",
    "Times the event broker did not take saved events (they wait and are sent later)",
    registry=REGISTRY,
)
MODEL = Gauge(
    "parlez_model_info",
    "The model being served (1 for the loaded one)",
    ["model_id"],
    registry=REGISTRY,
)


def serving(model_id: str | None) -> None:
    """Say which model is loaded: the previous one's series goes."""
    MODEL.clear()
    if model_id:
        MODEL.labels(model_id=model_id).set(1)


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe the seconds the block took, whether it returned or raised."""
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


@dataclass(frozen=True)
class ServiceFigures:
    """The plan's service figures, as this process measured them since it started."""

    uptime_seconds: float
    requests: int
    #: the share of requests answered with a server error (5xx)
    error_rate: float | None
    #: the latency under which 50 % and 99 % of requests were answered: the upper bound of
    #: the histogram bucket it falls in (None before any request)
    p50_seconds: float | None
    p99_seconds: float | None
    messages: int
    message_p99_seconds: float | None


def _quantile(buckets: dict[float, float], share: float) -> float | None:
    """The bucket bound under which `share` of the observations fall (cumulative counts)."""
    total = buckets.get(math.inf, 0.0)
    if not total:
        return None
    for bound in sorted(buckets):
        if buckets[bound] >= share * total:
            return bound
    return math.inf


def _buckets(histogram: Histogram, skip: Callable[[dict[str, str]], bool]) -> dict[float, float]:
    found: dict[float, float] = {}
    for family in histogram.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket") and not skip(sample.labels):
                bound = float(sample.labels["le"])
                found[bound] = found.get(bound, 0.0) + sample.value
    return found


def service_figures(now: float | None = None) -> ServiceFigures:
    """Uptime, error rate and latencies of this process, read from its metrics. The scrape
    of `/metrics` and the health checks are left out: a monitor's polling is not the
    service's traffic."""
    answered = errors = 0.0
    for family in REQUESTS.collect():
        for sample in family.samples:
            if not sample.name.endswith("_total") or sample.labels["route"] in MONITORING_ROUTES:
                continue
            answered += sample.value
            if sample.labels["status"].startswith("5"):
                errors += sample.value
    requests = _buckets(REQUEST_SECONDS, lambda labels: labels["route"] in MONITORING_ROUTES)
    messages = _buckets(MESSAGE_SECONDS, lambda labels: False)
    return ServiceFigures(
        uptime_seconds=(now or time.time()) - START_TIME,
        requests=int(answered),
        error_rate=errors / answered if answered else None,
        p50_seconds=_quantile(requests, 0.50),
        p99_seconds=_quantile(requests, 0.99),
        messages=int(messages.get(math.inf, 0.0)),
        message_p99_seconds=_quantile(messages, 0.99),
    )
