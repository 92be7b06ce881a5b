"""What a running server holds: the loaded agent (swappable), its stores and settings."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from parlez.agent import Agent
from parlez.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from parlez.console.database import ConsoleDatabase
from parlez.core.reminders import ReminderScheduler
from parlez.endpoints import Endpoints
from parlez.events import Event
from parlez.experiments import Experiments
from parlez.jobs.project_jobs import ProjectJob
from parlez.server.auth import Auth
from parlez.server.errors import ApiError
from parlez.stores.lock_store import InMemoryLockStore, LockStore, SharedRedis
from parlez.stores.tracker_store import InMemoryTrackerStore, TrackerStore
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_RESPONSE_TIMEOUT = 3600.0


def shutting_down() -> ApiError:
    """What a message gets once SIGTERM came: it was not taken, and may be sent elsewhere."""
    return ApiError(
        503,
        "ServiceUnavailable",
        "the server is shutting down: the message was not taken; send it again",
    )


@dataclass
class ServerState:
    agent: Agent | None
    tracker_store: TrackerStore = field(default_factory=InMemoryTrackerStore)
    lock_store: LockStore = field(default_factory=InMemoryLockStore)
    endpoints: Endpoints = field(default_factory=Endpoints)
    project: Path = Path(".")
    models: Path = Path("models")
    actions_module: str | None = None
    auth: Auth = field(default_factory=Auth)
    channels: list[InputChannel] = field(default_factory=list)
    #: the credentials.yml the channels were made from (None: the project's)
    credentials: Path | None = None
    response_timeout: float = DEFAULT_RESPONSE_TIMEOUT
    training_jobs: int = 0
    #: reminders set by actions; shared across model swaps
    reminders: ReminderScheduler = field(default_factory=ReminderScheduler)
    #: messages being handled: shutdown waits for them so no event is lost
    in_flight: set[asyncio.Future[Any]] = field(default_factory=set)
    #: set on SIGTERM: no new message is taken (parlez.server.lifecycle)
    stopping: bool = False
    #: the console's tables (/console/); None: no console is served
    console: ConsoleDatabase | None = None
    #: the A/B tests conversations are put in (experiments.yml); kept across model swaps
    experiments: Experiments = field(default_factory=Experiments)
    #: the assistant asks for a rating after these actions (analytics.yml)
    ask_rating_after: tuple[str, ...] = ()
    #: endpoints.yml's `jobs:`, run on the console's job runner
    project_jobs: list[ProjectJob] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.agent is not None:
            self.agent.use_reminders(self.reminders)
            self.fit(self.agent)

    def fit(self, agent: Agent) -> None:
        """Give `agent` what the server's agents keep across model swaps: the A/B tests,
        and when to ask for a rating."""
        agent.use_experiments(self.experiments)
        agent.ask_rating_after(self.ask_rating_after)

    def require_agent(self) -> Agent:
        if self.agent is None:
            raise ApiError(
                409,
                "Conflict",
                "No agent loaded. To continue processing, a model of a trained agent needs "
                "to be loaded.",
                help_url="PUT /model with {'model_file': ...}, or train one with POST /model/train",
            )
        return self.agent

    def output_channel(
        self, name: str | None, metadata: dict[str, Any] | None = None
    ) -> OutputChannel:
        """Where the bot reaches a customer on the channel `name`, whose latest message came
        with `metadata`; collected if nowhere."""
        for channel in self.channels:
            if name and channel.name() == name:
                found = channel.output_channel_for(metadata or {})
                if found is not None:
                    return found
        return CollectingOutputChannel()

    async def output_for(self, sender_id: str) -> OutputChannel:
        """Where a message the assistant sends on its own (a reminder another process set)
        reaches the customer: the channel of their latest message."""
        tracker = await self.tracker_store.retrieve(sender_id)
        latest = tracker.latest_message if tracker is not None else None
        if latest is None:
            return CollectingOutputChannel()
        return self.output_channel(latest.input_channel, latest.metadata)

    def load_model(self, archive: Path) -> Agent:
        """A new agent on the same stores: conversations go on across the swap."""
        agent = Agent.load(
            archive,
            self.endpoints,
            self.actions_module,
            tracker_store=self.tracker_store,
            lock_store=self.lock_store,
            reminders=self.reminders,
        )
        self.fit(agent)
        agent.warm_up()
        return agent

    async def guarded(self, work: Awaitable[T], timeout: float | None = None) -> T:
        """Run `work` to the end even if the client gives up or the timeout passes: its
        events are saved either way. The caller gets a 503 after `response_timeout`."""
        task = asyncio.ensure_future(work)
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout or self.response_timeout)
        except TimeoutError:
            raise ApiError(
                503,
                "ServiceUnavailable",
                f"the assistant did not answer within {timeout or self.response_timeout:g} s; "
                "the message is still being handled and will be saved",
            ) from None

    async def on_new_message(self, message: UserMessage) -> Any:
        if self.stopping:
            raise shutting_down()
        agent = self.require_agent()
        return await self.guarded(agent.handle_message(message))

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for messages still being handled (graceful shutdown)."""
        if self.in_flight:
            logger.info("waiting for %d message(s) to finish", len(self.in_flight))
            await asyncio.wait(set(self.in_flight), timeout=timeout)


class ServedConversations:
    """The `Conversations` a channel is given: those of the agent loaded now (a new model
    may replace it), each change run to its end even if the caller gives up."""

    def __init__(self, state: ServerState) -> None:
        self._state = state

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        agent = self._state.agent
        if agent is None:  # no model yet: what is stored can still be read
            return await self._state.tracker_store.retrieve(sender_id)
        return await agent.retrieve(sender_id)

    async def retrieve_after_turn(self, sender_id: str) -> DialogueStateTracker | None:
        agent = self._state.agent
        if agent is None:
            return await self._state.tracker_store.retrieve(sender_id)
        return await agent.retrieve_after_turn(sender_id)

    async def append_events(
        self, sender_id: str, events: Sequence[Event], output: OutputChannel | None = None
    ) -> DialogueStateTracker:
        agent = self._state.require_agent()
        return await self._state.guarded(agent.append_events(sender_id, events, output))

    async def execute_action(
        self,
        sender_id: str,
        name: str,
        output: OutputChannel,
        policy: str | None = None,
        confidence: float | None = None,
        events: Sequence[Event] = (),
    ) -> DialogueStateTracker:
        agent = self._state.require_agent()
        return await self._state.guarded(
            agent.execute_action(sender_id, name, output, policy, confidence, events)
        )

    async def track(
        self,
        sender_id: str,
        name: str,
        value: float | None = None,
        currency: str = "",
        order_id: str = "",
    ) -> bool:
        console = self._state.console
        if console is None:
            logger.info("no console database: '%s' of %s is not kept", name, sender_id)
            return False
        from parlez.console.tracking import VISIT, record

        await console.upgrade()
        at = time.time()
        kept = await record(console.engine, sender_id, name, value, currency, order_id, at)
        if kept and name != VISIT:  # for the business's own analytics (docs/analytics.md)
            await self._state.tracker_store.announce(
                {
                    "event": "conversion",
                    "sender_id": sender_id,
                    "name": name,
                    "value": value,
                    "currency": currency,
                    "order_id": order_id,
                    "timestamp": at,
                }
            )
        return kept

    def shared_redis(self) -> SharedRedis | None:
        return self._state.lock_store.shared_redis
