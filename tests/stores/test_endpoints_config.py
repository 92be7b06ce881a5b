"""endpoints.yml's `tracker_store`, `lock_store` and `event_broker`, with Rasa's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.endpoints import Endpoints
from parlez.stores.event_broker import PikaEventBroker, SQLEventBroker
from parlez.stores.factory import stores_from_endpoints
from parlez.stores.lock_store import InMemoryLockStore, RedisLockStore
from parlez.stores.sql import SQLTrackerStore, StoreConfigError
from parlez.stores.tracker_store import InMemoryTrackerStore
from tests.conftest import write


def stores(tmp_path: Path, text: str) -> tuple[object, object]:
    endpoints = Endpoints.load(write(tmp_path / "endpoints.yml", text))
    return stores_from_endpoints(endpoints, (), tmp_path)


def test_nothing_configured_keeps_everything_in_memory(tmp_path: Path) -> None:
    tracker_store, lock_store = stores(tmp_path, "action_endpoint:\n  url: http://x\n")
    assert isinstance(tracker_store, InMemoryTrackerStore)
    assert isinstance(lock_store, InMemoryLockStore)


def test_rasa_keys_build_sql_redis_and_brokers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "from-the-environment")
    tracker_store, lock_store = stores(
        tmp_path,
        """
        tracker_store:
          type: SQL
          dialect: postgresql
          url: db.internal
          port: 5432
          username: bot
          password: ${DB_PASSWORD}
          db: conversations
        lock_store:
          type: redis
          url: cache.internal
          port: 6380
          key_prefix: shop
          lock_lifetime: 30
        event_broker:
          type: pika
          url: mq.internal
          username: bot
          password: ${DB_PASSWORD}
          queues:
            - analytics
            - crm
        """,
    )
    assert isinstance(tracker_store, SQLTrackerStore)
    assert tracker_store.engine.url.host == "db.internal"
    assert tracker_store.engine.url.password == "from-the-environment"
    assert isinstance(lock_store, RedisLockStore)
    assert lock_store.key_prefix == "shoplock:" and lock_store.lifetime == 30
    broker = tracker_store.event_broker
    assert isinstance(broker, PikaEventBroker)
    assert broker.host == "mq.internal" and broker.queues == ["analytics", "crm"]


def test_the_sqlite_file_is_next_to_the_project(tmp_path: Path) -> None:
    tracker_store, _ = stores(
        tmp_path,
        """
        tracker_store:
          type: SQL
          db: conversations.db
        event_broker:
          type: SQL
          db: events.db
        """,
    )
    assert isinstance(tracker_store, SQLTrackerStore)
    assert tracker_store.engine.url.database == str(tmp_path / "conversations.db")
    assert isinstance(tracker_store.event_broker, SQLEventBroker)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tracker_store:\n  type: mongod\n", "unknown tracker_store type 'mongod'"),
        ("tracker_store:\n  type: SQL\n  dialect: oracle\n", "dialect 'oracle'"),
        ("lock_store:\n  type: memcached\n", "unknown lock_store type"),
        ("event_broker:\n  type: kafka\n", "unknown event_broker type"),
        ("tracker_store:\n  type: nowhere.Store\n", "cannot import 'nowhere.Store'"),
    ],
)
def test_unknown_stores_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(StoreConfigError, match=message):
        stores(tmp_path, text)
