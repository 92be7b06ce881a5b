"""Agent: a trained model with its stores, responses and actions, ready to talk."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from parlez.channels.channel import OutputChannel, UserMessage
from parlez.core.actions.custom import CustomActionExecutor, InProcessExecutor, RemoteExecutor
from parlez.core.policies.ensemble import PolicyEnsemble
from parlez.core.processor import MessageProcessor, external_message
from parlez.core.reminders import ReminderScheduler, still_wanted
from parlez.domain import Domain
from parlez.endpoints import Endpoints
from parlez.events import ReminderScheduled
from parlez.exceptions import ParlezError
from parlez.inference import run_on_inference_thread
from parlez.model import opened, read_metadata
from parlez.nlg.endpoint import EndpointGenerator
from parlez.nlg.generator import NaturalLanguageGenerator, TemplatedGenerator
from parlez.nlu.pipeline import Pipeline
from parlez.stores.lock_store import InMemoryLockStore, LockStore
from parlez.stores.tracker_store import InMemoryTrackerStore, TrackerStore
from parlez.training import DOMAIN_FILE

logger = logging.getLogger(__name__)


def custom_executor(
    endpoints: Endpoints, actions_module: str | None = None
) -> CustomActionExecutor | None:
    """In-process actions when a package is named (`--actions` wins), else the action server."""
    package = actions_module or endpoints.actions_module
    if package:
        return InProcessExecutor(package)
    if endpoints.action is not None and endpoints.action.url:
        return RemoteExecutor(endpoints.action)
    return None


class Agent:
    def __init__(
        self,
        domain: Domain,
        ensemble: PolicyEnsemble,
        nlu: Pipeline | None,
        tracker_store: TrackerStore | None = None,
        nlg: NaturalLanguageGenerator | None = None,
        custom: CustomActionExecutor | None = None,
        model: Path | None = None,
        lock_store: LockStore | None = None,
        reminders: ReminderScheduler | None = None,
    ) -> None:
        self.domain = domain
        self.model = model
        self.nlu = nlu
        self.tracker_store = tracker_store or InMemoryTrackerStore(domain.all_slots.values())
        # The store may come from another agent (a model swap): it must know this domain's slots.
        self.tracker_store.slots = list(domain.all_slots.values())
        self.lock_store = lock_store or InMemoryLockStore()
        self.processor = MessageProcessor(
            domain,
            ensemble,
            nlu,
            self.tracker_store,
            nlg or TemplatedGenerator(domain.responses),
            custom,
        )
        self.use_reminders(reminders or ReminderScheduler())

    @classmethod
    def load(
        cls,
        archive: Path,
        endpoints: Endpoints | None = None,
        actions_module: str | None = None,
        tracker_store: TrackerStore | None = None,
        lock_store: LockStore | None = None,
        reminders: ReminderScheduler | None = None,
    ) -> Agent:
        """The assistant in `archive`, loaded on the thread that will run its models."""
        return run_on_inference_thread(
            cls._load, archive, endpoints, actions_module, tracker_store, lock_store, reminders
        )

    @classmethod
    def _load(
        cls,
        archive: Path,
        endpoints: Endpoints | None,
        actions_module: str | None,
        tracker_store: TrackerStore | None,
        lock_store: LockStore | None,
        reminders: ReminderScheduler | None,
    ) -> Agent:
        endpoints = endpoints or Endpoints()
        with opened(archive) as folder:
            if not (folder / "core").is_dir():
                raise ParlezError(
                    f"the model '{archive.name}' has no dialogue part",
                    hint="train the whole assistant with `parlez train` (not only `train nlu`)",
                )
            read_metadata(folder)
            domain = Domain.from_raw(
                json.loads((folder / "core" / DOMAIN_FILE).read_text(encoding="utf-8"))
            )
            nlu = Pipeline.load(folder / "nlu") if (folder / "nlu").is_dir() else None
            ensemble = PolicyEnsemble.load(folder / "core").use_nlu(nlu)
        templated = TemplatedGenerator(domain.responses)
        nlg: NaturalLanguageGenerator = (
            EndpointGenerator(endpoints.nlg, templated)
            if endpoints.nlg and endpoints.nlg.url
            else templated
        )
        return cls(
            domain,
            ensemble,
            nlu,
            tracker_store,
            nlg,
            custom_executor(endpoints, actions_module),
            archive,
            lock_store,
            reminders,
        )

    async def handle_message(self, message: UserMessage) -> list[dict[str, Any]]:
        # One message at a time per conversation: two messages of one user never interleave.
        async with self.lock_store.lock(message.sender_id):
            return await self.processor.handle_message(message)

    def use_reminders(self, reminders: ReminderScheduler) -> None:
        """Set reminders on `reminders` and answer its due ones: a scheduler shared with the
        agent this one replaces has its pending reminders answered by the newest model."""
        self.reminders = reminders
        self.processor.reminders = reminders
        reminders.handler = self.handle_reminder

    async def handle_reminder(
        self, reminder: ReminderScheduled, sender_id: str, output_channel: OutputChannel
    ) -> None:
        """A reminder is due: its intent enters the conversation, unless the user spoke since
        (`kill_on_user_msg`) or the conversation restarted."""
        async with self.lock_store.lock(sender_id):
            tracker = await self.tracker_store.retrieve(sender_id)
            if tracker is None or not still_wanted(tracker, reminder):
                logger.debug(
                    "reminder '%s' for '%s' is outdated: dropped", reminder.name, sender_id
                )
                return
            message = external_message(
                reminder.intent, reminder.entities, sender_id, output_channel
            )
            await self.processor.handle_message(message)

    async def handle_text(
        self,
        text: str,
        sender_id: str = "default",
        output_channel: OutputChannel | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return await self.handle_message(UserMessage(text, output_channel, sender_id, metadata))

    async def parse_message(self, text: str) -> dict[str, Any]:
        return await self.processor.parse(text)

    def warm_up(self) -> None:
        """Parse one message now, so what loads lazily (the sentence encoder, tokenizers)
        is loaded before the first user waits for it, and not by many threads at once."""
        if self.nlu is not None:
            run_on_inference_thread(self.nlu.parse, "hello")

    @property
    def model_id(self) -> str | None:
        return self.model.name.removesuffix(".tar.gz") if self.model else None
