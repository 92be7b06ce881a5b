"""Lock stores keep one conversation's messages apart, across processes with Redis; event
brokers publish every saved event once."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from parlez.endpoints import EndpointConfig
from parlez.events import ActionExecuted, UserUttered
from parlez.stores.event_broker import EventBroker, PikaEventBroker, SQLEventBroker, broker_table
from parlez.stores.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from parlez.stores.sql import SQLTrackerStore, StoreUnavailableError
from parlez.stores.tracker_store import InMemoryTrackerStore, TrackerStore
from parlez.tracker import DialogueStateTracker
from tests.services import RabbitMQ, Redis

pytestmark = pytest.mark.anyio


def redis_store(server: Redis, **options: object) -> RedisLockStore:
    return RedisLockStore(
        EndpointConfig(
            url="127.0.0.1",
            type="redis",
            kwargs={"port": server.port, "key_prefix": uuid.uuid4().hex, **options},
        )
    )


async def interleavings(stores: list[LockStore], sender: str = "ana") -> list[str]:
    """Each task writes start/end around a pause while holding the lock; the log shows
    whether two of them were ever inside at once."""
    log: list[str] = []

    async def one(store: LockStore, n: int) -> None:
        async with store.lock(sender):
            log.append(f"start {n}")
            await asyncio.sleep(0.01)
            log.append(f"end {n}")

    await asyncio.gather(*(one(stores[n % len(stores)], n) for n in range(8)))
    return log


def nested(log: list[str]) -> bool:
    return all(
        log[i].startswith("start") and log[i + 1] == "end" + log[i][5:]
        for i in range(0, len(log), 2)
    )


async def test_in_memory_locks_keep_messages_of_one_user_in_order() -> None:
    store = InMemoryLockStore()
    log = await interleavings([store])
    assert nested(log)
    assert [entry for entry in log if entry.startswith("start")] == [
        f"start {n}" for n in range(8)
    ]  # first come, first served
    assert not store._locks  # idle conversations leave no lock behind


async def test_redis_locks_hold_across_two_server_processes(redis_server: Redis) -> None:
    prefix = uuid.uuid4().hex
    first = redis_store(redis_server, key_prefix=prefix)
    second = redis_store(redis_server, key_prefix=prefix)
    assert nested(await interleavings([first, second]))
    await first.close()
    await second.close()


async def test_a_lock_held_by_a_dead_process_expires(redis_server: Redis) -> None:
    prefix = uuid.uuid4().hex
    dead = redis_store(redis_server, key_prefix=prefix, lock_lifetime=0.5)
    alive = redis_store(redis_server, key_prefix=prefix, lock_lifetime=0.5)
    # `dead` takes the lock and never gives it back, as a process killed mid-message.
    lock = dead.redis.lock(dead.key_prefix + "ana", timeout=0.5)
    assert await lock.acquire()
    async with alive.lock("ana"):
        pass
    await dead.close()
    await alive.close()


async def test_redis_that_is_down_is_a_clear_error() -> None:
    store = RedisLockStore(EndpointConfig(url="127.0.0.1", type="redis", kwargs={"port": 1}))
    with pytest.raises(StoreUnavailableError, match="Redis"):
        async with store.lock("ana"):
            pass
    await store.close()


def saved_conversation() -> DialogueStateTracker:
    tracker = DialogueStateTracker("ana")
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
    return tracker


async def test_the_sql_broker_gets_each_saved_event_once(tmp_path: Path) -> None:
    from sqlalchemy import select

    broker = SQLEventBroker(
        EndpointConfig(type="SQL", kwargs={"dialect": "sqlite", "db": "broker.db"}), tmp_path
    )
    store = InMemoryTrackerStore()
    store.event_broker = broker
    tracker = saved_conversation()
    await store.save(tracker)
    await store.save(tracker)
    async with broker.engine.connect() as connection:
        rows = (
            await connection.execute(select(broker_table.c.sender_id, broker_table.c.data))
        ).all()
    assert [(r[0], json.loads(r[1])["event"]) for r in rows] == [("ana", "action"), ("ana", "user")]
    assert json.loads(rows[1][1])["sender_id"] == "ana"
    await store.close()


async def test_the_pika_broker_publishes_to_rabbitmq_queues(rabbitmq: RabbitMQ) -> None:
    import aio_pika

    queue_name = f"events_{uuid.uuid4().hex[:8]}"
    broker = PikaEventBroker(
        EndpointConfig(
            url="127.0.0.1", type="pika", kwargs={"port": rabbitmq.port, "queues": [queue_name]}
        )
    )
    store = InMemoryTrackerStore()
    store.event_broker = broker
    await store.save(saved_conversation())
    connection = await aio_pika.connect_robust(host="127.0.0.1", port=rabbitmq.port)
    channel = await connection.channel()
    queue = await channel.declare_queue(queue_name, durable=True)
    received = []
    for _ in range(2):
        message = await queue.get(timeout=10, fail=True)
        received.append(json.loads(message.body))
        await message.ack()
    assert [(e["sender_id"], e["event"]) for e in received] == [("ana", "action"), ("ana", "user")]
    await connection.close()
    await store.close()


class FlakyBroker(EventBroker):
    """A broker that is down until told otherwise: what it took, in order."""

    def __init__(self) -> None:
        self.down = True
        self.taken: list[dict[str, object]] = []

    async def publish(self, event: dict[str, object]) -> None:
        if self.down:
            raise ConnectionError("the broker is down")
        self.taken.append(event)

    async def close(self) -> None:
        pass


def said(sender: str, text: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender)
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    return tracker


@pytest.mark.parametrize("kind", ["memory", "sql"])
async def test_events_the_broker_did_not_take_are_sent_first_when_it_is_back(
    kind: str, tmp_path: Path
) -> None:
    store: TrackerStore = (
        InMemoryTrackerStore()
        if kind == "memory"
        else SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    )
    broker = FlakyBroker()
    store.event_broker = broker
    await store.save(said("ana", "one"))
    await store.save(said("bo", "two"))
    assert broker.taken == []
    broker.down = False
    await store.save(said("cy", "three"))
    assert [e["text"] for e in broker.taken] == ["one", "two", "three"]
    await store.save(said("di", "four"))  # nothing sent twice
    assert [e["text"] for e in broker.taken] == ["one", "two", "three", "four"]
    await store.close()


async def test_events_left_waiting_by_a_process_that_stopped_are_sent_by_another(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    first, broker = SQLTrackerStore(url), FlakyBroker()
    first.event_broker = broker
    await first.save(said("ana", "while down"))
    await first.close()  # it stops before the broker is back
    second = SQLTrackerStore(url)
    second.event_broker = broker
    broker.down = False
    await second.save(said("bo", "after"))
    assert [e["text"] for e in broker.taken] == ["while down", "after"]
    await second.close()


async def test_rabbitmq_stopped_and_started_again_receives_every_event(
    rabbitmq: RabbitMQ, tmp_path: Path
) -> None:
    import aio_pika

    queue_name = f"events_{uuid.uuid4().hex[:8]}"
    store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    store.event_broker = PikaEventBroker(
        EndpointConfig(
            url="127.0.0.1", type="pika", kwargs={"port": rabbitmq.port, "queues": [queue_name]}
        )
    )
    await store.save(said("ana", "before"))
    rabbitmq.stop()
    try:
        await store.save(said("bo", "while stopped"))
    finally:
        rabbitmq.start()
    for turn in range(300):  # the robust connection comes back by itself
        await store.save(said(f"cy{turn}", "after"))
        if not store._unsent_here:
            break
        await asyncio.sleep(0.1)
    connection = await aio_pika.connect_robust(host="127.0.0.1", port=rabbitmq.port)
    channel = await connection.channel()
    queue = await channel.declare_queue(queue_name, durable=True)
    texts = []
    while (message := await queue.get(timeout=10, fail=False)) is not None:
        texts.append(json.loads(message.body)["text"])
        await message.ack()
    assert texts[:2] == ["before", "while stopped"] and set(texts[2:]) == {"after"}
    await connection.close()
    await store.close()


async def test_a_database_away_while_sending_what_waits_does_not_fail_the_saved_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The conversation is saved; sending what waits for the broker is tried again later.
    (PostgreSQL restarting made such messages answer 500 in bench/faults.py.)"""

    class DatabaseAway(SQLTrackerStore):
        async def send_unsent(self, publish: Any) -> bool:
            raise ConnectionResetError("the database went away")

    store = DatabaseAway(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    store.event_broker = broker = FlakyBroker()
    broker.down = False
    with caplog.at_level("WARNING"):
        await store.save(said("ana", "hello"))
    assert "wait on" in caplog.text
    assert (await store.retrieve("ana")) is not None
    await store.close()
