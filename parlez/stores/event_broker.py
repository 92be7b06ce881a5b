"""Event brokers: every saved conversation event, published for other consumers.

Analytics, a CRM sync or a data warehouse read conversations from here instead of from the
tracker store. `SQL` writes Rasa's broker table (`id`, `sender_id`, `data`); `pika` publishes
JSON to RabbitMQ queues as Rasa's `PikaEventBroker` does (same exchange and queue names).
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from parlez.deprecation import moved
from parlez.endpoints import EndpointConfig
from parlez.extras import optional
from parlez.registry import event_brokers
from parlez.stores.engine import database_url, make_engine, with_retries

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = "rasa_production_events"
DEFAULT_EXCHANGE = "rasa-exchange"


class EventBroker(ABC):
    @classmethod
    def from_endpoint(cls, config: EndpointConfig, project: Path | None = None) -> EventBroker:
        """The broker `event_broker:` in endpoints.yml configures (`cls(config)` for the
        user's own)."""
        factory: Any = cls
        broker: EventBroker = factory(config)
        return broker

    @abstractmethod
    async def publish(self, event: dict[str, Any]) -> None:
        """Publish one event dict (Rasa's JSON plus `sender_id`)."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and release connections."""


_broker_metadata = MetaData()
broker_table = Table(
    "events",
    _broker_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), index=True),
    Column("data", Text),
)


@event_brokers.register("sql")
class SQLEventBroker(EventBroker):
    """Rasa's SQL broker: its own database (not the tracker store's), one row per event."""

    def __init__(self, config: EndpointConfig, project: Path | None = None) -> None:
        self.engine = make_engine(database_url(config, project))
        self._created = False

    @classmethod
    def from_endpoint(cls, config: EndpointConfig, project: Path | None = None) -> EventBroker:
        return cls(config, project)

    async def publish(self, event: dict[str, Any]) -> None:
        async def insert() -> None:
            async with self.engine.begin() as connection:
                if not self._created:
                    await connection.run_sync(_broker_metadata.create_all)
                    self._created = True
                await connection.execute(
                    broker_table.insert(),
                    {"sender_id": event.get("sender_id"), "data": json.dumps(event)},
                )

        await with_retries("publish an event", insert)

    async def close(self) -> None:
        await self.engine.dispose()


@event_brokers.register("pika")
class PikaEventBroker(EventBroker):
    """RabbitMQ with Rasa's keys: `url` (host), `port`, `username`, `password`, `queues`,
    `exchange_name`. Messages are persistent JSON, published to a fanout exchange bound to
    every queue, so each consumer queue gets every event."""

    def __init__(self, config: EndpointConfig) -> None:
        options = config.kwargs
        self.host = config.url or str(options.get("host") or "localhost")
        self.port = int(options.get("port") or 5672)
        self.username = str(options.get("username") or "guest")
        self.password = str(options.get("password") or "guest")
        self.vhost = str(options.get("virtual_host") or "/")
        queues = options.get("queues") or options.get("queue") or [DEFAULT_QUEUE]
        self.queues = [queues] if isinstance(queues, str) else [str(q) for q in queues]
        self.exchange_name = str(options.get("exchange_name") or DEFAULT_EXCHANGE)
        self._connection: Any = None
        self._exchange: Any = None
        self._connecting = asyncio.Lock()

    async def _ensure_exchange(self) -> Any:
        aio_pika = optional("aio_pika", "the RabbitMQ event broker")

        async with self._connecting:
            if self._exchange is not None and not self._connection.is_closed:
                return self._exchange
            # Robust connections reconnect by themselves after RabbitMQ restarts.
            self._connection = await aio_pika.connect_robust(
                host=self.host,
                port=self.port,
                login=self.username,
                password=self.password,
                virtualhost=self.vhost,
            )
            channel = await self._connection.channel()
            self._exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.FANOUT, durable=True
            )
            for name in self.queues:
                queue = await channel.declare_queue(name, durable=True)
                await queue.bind(self._exchange, routing_key="")
            return self._exchange

    async def publish(self, event: dict[str, Any]) -> None:
        import aio_pika

        exchange = await self._ensure_exchange()
        await exchange.publish(
            aio_pika.Message(
                json.dumps(event).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key="",
        )

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


def __getattr__(name: str) -> Any:
    return moved(__name__, name)  # the names that moved: parlez/deprecation.py
