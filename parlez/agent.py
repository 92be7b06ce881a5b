"""Agent: a trained model with its stores, responses and actions, ready to talk."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Coroutine, Iterable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from parlez import metrics, tracing
from parlez.channels.channel import OutputChannel, UserMessage
from parlez.core.actions.custom import CustomActionExecutor, InProcessExecutor, RemoteExecutor
from parlez.core.actions.lookup import action_for_name
from parlez.core.policies.ensemble import PolicyEnsemble
from parlez.core.policies.policy import PolicyPrediction
from parlez.core.processor import MessageProcessor, external_message
from parlez.core.reminders import ReminderScheduler, still_wanted
from parlez.domain import Domain
from parlez.endpoints import Endpoints
from parlez.events import Event, ReminderScheduled
from parlez.exceptions import ParlezError
from parlez.experiments import Experiments
from parlez.inference import run_on_inference_thread, start_on_inference_thread
from parlez.log_context import about
from parlez.metrics import timed
from parlez.model import CORE_PART, DOMAIN_FILE, NLU_PART, opened, read_metadata
from parlez.nlg.endpoint import EndpointGenerator
from parlez.nlg.generator import NaturalLanguageGenerator, TemplatedGenerator
from parlez.nlu.pipeline import Pipeline
from parlez.stores.lock_store import InMemoryLockStore, LockStore
from parlez.stores.tracker_store import InMemoryTrackerStore, TrackerStore
from parlez.tracker import DialogueStateTracker

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
        self.processor.model_id = self.model_id
        self.use_reminders(reminders or ReminderScheduler())
        self._warming: Future[None] | None = None

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
            read_metadata(folder)
            nlu = Pipeline.load(folder / NLU_PART) if (folder / NLU_PART).is_dir() else None
            if (folder / CORE_PART).is_dir():
                domain = Domain.from_raw(
                    json.loads((folder / CORE_PART / DOMAIN_FILE).read_text(encoding="utf-8"))
                )
                ensemble = PolicyEnsemble.load(folder / CORE_PART).use_nlu(nlu)
            elif nlu is not None:
                # `parlez train nlu`'s model, served as Rasa serves it: /model/parse answers,
                # and messages are kept without an answer (no policies, an empty domain).
                domain, ensemble = Domain(), PolicyEnsemble([])
            else:
                raise ParlezError(f"the model '{archive.name}' has neither NLU nor dialogue part")
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

    @property
    def custom_actions(self) -> CustomActionExecutor | None:
        """What runs the assistant's own actions (in process, or its action server)."""
        return self.processor.custom

    @contextlib.asynccontextmanager
    async def _conversation(self, sender_id: str) -> AsyncIterator[None]:
        """The one door into a conversation: its lock held, and its id on every log line
        written meanwhile (`--log-format json`)."""
        with about(sender_id):
            async with self.lock_store.lock(sender_id):
                yield

    async def handle_message(self, message: UserMessage) -> list[dict[str, Any]]:
        channel = message.input_channel or "unknown"
        metrics.MESSAGES.labels(channel=channel).inc()
        try:
            with (
                timed(metrics.MESSAGE_SECONDS.labels(channel=channel)),
                tracing.span(
                    "parlez.message",
                    **{
                        "parlez.conversation_id": message.sender_id,
                        "parlez.channel": channel,
                        "parlez.message_id": message.message_id,
                    },
                ),
            ):
                # One message at a time per conversation: two messages of one user never
                # interleave.
                async with self._conversation(message.sender_id):
                    return await self.processor.handle_message(message)
        except Exception:
            metrics.MESSAGE_ERRORS.labels(channel=channel).inc()
            raise

    def use_experiments(self, experiments: Experiments) -> None:
        """Put each new session in its arm of the running A/B tests (experiments.yml)."""
        self.processor.experiments = experiments

    def ask_rating_after(self, actions: Iterable[str]) -> None:
        """Ask the customer for a rating after the assistant runs one of `actions` (its
        goodbye; analytics.yml's `ask_rating_after`)."""
        self.processor.ask_rating_after = frozenset(actions)

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
        async with self._conversation(sender_id):
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

    # ---- the one door into a conversation: every change holds the conversation's lock ----------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation as stored; None if it has not started. Reading takes no lock:
        a conversation's events are only ever appended."""
        return await self.tracker_store.retrieve(sender_id)

    async def recent(self, limit: int, before: float | None = None) -> list[tuple[str, float]]:
        """The conversations with the newest activity (a page of the console's inbox)."""
        return await self.tracker_store.recent(limit, before)

    async def retrieve_many(self, sender_ids: Sequence[str]) -> dict[str, DialogueStateTracker]:
        """The stored conversations among `sender_ids` (a page of the console's inbox)."""
        return await self.tracker_store.retrieve_many(sender_ids)

    async def retrieve_after_turn(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation once the message being answered (if any) is saved: what a
        customer reopening the chat mid-answer must see, the answer included."""
        async with self._conversation(sender_id):
            return await self.tracker_store.retrieve(sender_id)

    async def tracker(self, sender_id: str) -> DialogueStateTracker:
        """The conversation as stored, or an empty one (not saved) if it has not started."""
        return await self.tracker_store.retrieve(sender_id) or self.tracker_store.create(sender_id)

    async def append_events(
        self, sender_id: str, events: Sequence[Event], output: OutputChannel | None = None
    ) -> DialogueStateTracker:
        """Add `events` to the conversation (started first if it is new); bot messages among
        them are also sent to `output` when one is given."""
        async with self._conversation(sender_id):
            return await self.processor.append_events(sender_id, events, output)

    async def replace(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """Store `tracker` in place of the conversation's events (`PUT .../tracker`)."""
        async with self._conversation(tracker.sender_id):
            await self.tracker_store.replace(tracker)
            return tracker

    async def log_only(self, message: UserMessage) -> DialogueStateTracker:
        """Add the user's message (and the slots it fills) without the bot answering."""
        async with self._conversation(message.sender_id):
            return await self.processor.log_only(message)

    async def execute_action(
        self,
        sender_id: str,
        name: str,
        output: OutputChannel,
        policy: str | None = None,
        confidence: float | None = None,
        events: Sequence[Event] = (),
    ) -> DialogueStateTracker:
        """Run the action `name` now, after `events` if any, in one turn of the lock."""
        async with self._conversation(sender_id):
            return await self.processor.execute_action(
                sender_id, name, output, policy, confidence, events
            )

    def trigger_intent(
        self, sender_id: str, intent: str, entities: Any, output: OutputChannel
    ) -> Coroutine[Any, Any, DialogueStateTracker]:
        """The bot answering `intent` as if the user had said it, to be awaited. Bad
        `entities` raise ValueError here, before anything runs."""
        return self._answer(external_message(intent, entities, sender_id, output))

    async def _answer(self, message: UserMessage) -> DialogueStateTracker:
        async with self._conversation(message.sender_id):
            await self.processor.handle_message(message)
            return await self.tracker_store.get_or_create(message.sender_id)

    def predict_next(self, tracker: DialogueStateTracker) -> tuple[str, PolicyPrediction]:
        """The action the policies would run next in `tracker`; nothing is run or saved."""
        return self.processor.predict_next(tracker)

    def scores(self, tracker: DialogueStateTracker) -> dict[str, Any]:
        """Every action's score for the next step (`POST .../predict`), best first."""
        return self.processor.scores(tracker)

    @asynccontextmanager
    async def step_by_step(
        self, sender_id: str, output: OutputChannel
    ) -> AsyncIterator[StepByStep]:
        """The conversation, for a person to drive one step at a time (`parlez interactive`);
        it holds the lock throughout and is saved at the end."""
        async with self._conversation(sender_id):
            tracker = await self.processor.fetch_tracker_with_session(sender_id, output)
            steps = StepByStep(self.processor, tracker, output)
            try:
                yield steps
            finally:
                await self.tracker_store.save(tracker)

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
        is loaded before the first user waits for it, and not by many threads at once; and
        let the in-process actions package warm up (its `warm_up()`)."""
        self.start_warm_up()
        self.warmed()

    def start_warm_up(self) -> None:
        """`warm_up` on the models' thread, without waiting: a starting server builds its
        channels and routes meanwhile. They overlap only in part: the encoders' sessions open
        outside the GIL, but lingua holds it while it loads its models."""
        self._warming = start_on_inference_thread(self._warm_up)

    def warmed(self) -> None:
        """Wait for the warm-up `start_warm_up` began; raises what it raised."""
        if self._warming is not None:
            self._warming.result()

    def _warm_up(self) -> None:
        if self.nlu is not None:
            self.nlu.parse("hello")
        if self.custom_actions is not None:
            self.custom_actions.warm_up()

    @property
    def nlg(self) -> NaturalLanguageGenerator:
        """What writes the domain's responses (a page asks the customer with them too)."""
        return self.processor.nlg

    @property
    def model_id(self) -> str | None:
        return self.model.name.removesuffix(".tar.gz") if self.model else None


class StepByStep:
    """One conversation that a person steps through: each parse and each action is theirs
    to confirm or correct before it is logged."""

    def __init__(
        self, processor: MessageProcessor, tracker: DialogueStateTracker, output: OutputChannel
    ) -> None:
        self._processor = processor
        self.tracker = tracker
        self._context = processor.action_context(output)
        self.max_predictions = processor.max_predictions

    async def parse(self, text: str) -> dict[str, Any]:
        return await self._processor.parse(text)

    async def log_user(self, message: UserMessage) -> None:
        """The user's message (with the parse in `message.parse_data`) and the slots it fills."""
        await self._processor.log_message(message, self.tracker, self._context)

    def predict(self) -> tuple[str, PolicyPrediction]:
        return self._processor.predict_next(self.tracker)

    async def run(self, name: str, prediction: PolicyPrediction) -> bool:
        """Run the action `name`; whether the bot acts again before it listens."""
        action = action_for_name(name, self._processor.domain)
        return await self._processor.run_action(action, self.tracker, self._context, prediction)

    def update(self, event: Event) -> None:
        self.tracker.update(event)
