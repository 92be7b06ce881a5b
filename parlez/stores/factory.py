"""The stores endpoints.yml configures: `type:` names a built-in (Rasa's names) or the dotted
path of the user's own class, resolved through the registries of parlez.registry."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from parlez.endpoints import EndpointConfig, Endpoints
from parlez.registry import event_brokers, lock_stores, tracker_stores
from parlez.slots import Slot
from parlez.stores.event_broker import EventBroker
from parlez.stores.lock_store import LockStore
from parlez.stores.tracker_store import TrackerStore

IN_MEMORY = "in_memory"


def tracker_store_from_endpoint(
    config: EndpointConfig | None, slots: Iterable[Slot] = (), project: Path | None = None
) -> TrackerStore:
    """The store `tracker_store:` names (in memory when it names none)."""
    config = config or EndpointConfig()
    cls = tracker_stores.get(config.type or IN_MEMORY)
    return cls.from_endpoint(config, slots, project)


def lock_store_from_endpoint(
    config: EndpointConfig | None, project: Path | None = None
) -> LockStore:
    """The store `lock_store:` names (in memory when it names none)."""
    config = config or EndpointConfig()
    return lock_stores.get(config.type or IN_MEMORY).from_endpoint(config, project)


def event_broker_from_endpoint(
    config: EndpointConfig | None, project: Path | None = None
) -> EventBroker | None:
    """The broker `event_broker:` names; None when there is no `event_broker:`."""
    if config is None:
        return None
    return event_brokers.get(config.type or "").from_endpoint(config, project)


def stores_from_endpoints(
    endpoints: Endpoints, slots: Iterable[Slot] = (), project: Path | None = None
) -> tuple[TrackerStore, LockStore]:
    """The tracker store (with its event broker) and the lock store endpoints.yml configures."""
    tracker_store = tracker_store_from_endpoint(endpoints.tracker_store, slots, project)
    tracker_store.event_broker = event_broker_from_endpoint(endpoints.event_broker, project)
    return tracker_store, lock_store_from_endpoint(endpoints.lock_store, project)
