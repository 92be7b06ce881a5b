"""MessageProcessor: one user message through NLU, slot filling, the policies and actions.

parse -> `UserUttered` -> `action_extract_slots` -> loop { predict -> run the action -> log
its events, send its messages } until the bot listens -> save. A failing action never ends
the conversation; the prediction loop stops after `max_predictions` actions in a row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from parlez import metrics, tracing
from parlez.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from parlez.core.actions.action import (
    Action,
    ActionContext,
    UnknownActionError,
    bot_event,
)
from parlez.core.actions.custom import ACTION_FAILED_TEXT, CustomAction, CustomActionExecutor
from parlez.core.actions.extract_slots import ActionExtractSlots
from parlez.core.actions.lookup import action_for_name
from parlez.core.policies.ensemble import PolicyEnsemble
from parlez.core.policies.policy import PolicyPrediction
from parlez.core.reminders import ReminderScheduler
from parlez.core.survey import rating_due, rating_question, survey_answer
from parlez.diagnostics import warn
from parlez.domain import Domain
from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    ActionExecutionRejected,
    BotUttered,
    Event,
    ExperimentAssigned,
    ReminderCancelled,
    ReminderScheduled,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from parlez.experiments import Experiments
from parlez.inference import infer, run_on_inference_thread
from parlez.metrics import timed
from parlez.nlg.generator import NaturalLanguageGenerator
from parlez.nlu.pipeline import Pipeline
from parlez.stores.tracker_store import TrackerStore
from parlez.tracker import ACTION_SESSION_START, DialogueStateTracker
from parlez.training_data.shortcut import read_shortcut

logger = logging.getLogger(__name__)

MAX_PREDICTIONS = 10


def parse_command(text: str, domain: Domain) -> dict[str, Any] | None:
    """The parse of a `/intent{...}` message, or None if the text is not one. As Rasa does,
    an intent the domain does not know is no shortcut (the NLU reads the words), and
    entities it does not know are left out; both are logged."""
    shortcut = read_shortcut(text)
    if shortcut is None:
        return None
    if shortcut.intent.split("/")[0] not in domain.intent_names:
        logger.warning(
            "%r names the intent %r, which the domain does not list: it is parsed as words",
            text,
            shortcut.intent,
        )
        return None
    entities = [e for e in shortcut.entities if e["entity"] in domain.entities]
    if len(entities) < len(shortcut.entities):
        unknown = sorted({e["entity"] for e in shortcut.entities} - set(domain.entities))
        logger.warning("%r gives entities the domain does not list, left out: %s", text, unknown)
    intent = {"name": shortcut.intent, "confidence": shortcut.confidence}
    return {
        "text": text,
        "intent": intent,
        "intent_ranking": [dict(intent)],
        "entities": entities,
    }


def entity_list(raw: Any) -> list[dict[str, Any]]:
    """Entities given as `{"name": value}` or as a list of entity objects, as a list."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [{"entity": str(k), "value": v} for k, v in raw.items()]
    if isinstance(raw, list) and all(isinstance(e, dict) and "entity" in e for e in raw):
        return list(raw)
    raise ValueError("entities must map entity names to values, or list entity objects")


def external_message(
    intent: str, entities: Any, sender_id: str, output: OutputChannel
) -> UserMessage:
    """The user message an external event (`trigger_intent`, a reminder) enters as, the way
    Rasa writes it: text `EXTERNAL: <intent>`, the intent certain, `is_external` metadata."""
    return UserMessage(
        f"EXTERNAL: {intent}",
        output,
        sender_id,
        metadata={"is_external": True},
        input_channel=output.name(),
        parse_data={
            "intent": {"name": intent, "confidence": 1.0},
            "intent_ranking": [{"name": intent, "confidence": 1.0}],
            "entities": entity_list(entities),
        },
    )


#: how many of a conversation's latest user messages a re-delivered message is looked for
#: among: platforms re-deliver within minutes, never after a long conversation
REDELIVERY_WINDOW = 50


def failed(event: Event, action: str) -> bool:
    """Whether `event` is the fallback answer of `action` having failed."""
    return isinstance(event, BotUttered) and (event.metadata or {}).get("action_failed") == action


def already_handled(tracker: DialogueStateTracker, message_id: str) -> bool:
    """Whether one of the conversation's latest user messages has the id `message_id`."""
    looked = 0
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if event.message_id == message_id:
                return True
            looked += 1
            if looked >= REDELIVERY_WINDOW:
                break
    return False


class MessageProcessor:
    def __init__(
        self,
        domain: Domain,
        ensemble: PolicyEnsemble,
        nlu: Pipeline | None,
        tracker_store: TrackerStore,
        nlg: NaturalLanguageGenerator,
        custom: CustomActionExecutor | None = None,
        max_predictions: int = MAX_PREDICTIONS,
        reminders: ReminderScheduler | None = None,
    ) -> None:
        self.domain = domain
        self.ensemble = ensemble
        self.nlu = nlu
        self.tracker_store = tracker_store
        self.nlg = nlg
        self.custom = custom
        self.max_predictions = max_predictions
        #: the model's name, stamped on each customer's message (None: not from an archive)
        self.model_id: str | None = None
        #: the A/B tests each new session is put in
        self.experiments = Experiments()
        #: the assistant asks for a rating after running one of these (analytics.yml)
        self.ask_rating_after: frozenset[str] = frozenset()
        self.reminders = reminders

    # ---- the message path -----------------------------------------------------------------------

    async def handle_message(self, message: UserMessage) -> list[dict[str, Any]]:
        output = message.output_channel or CollectingOutputChannel()
        with tracing.span("parlez.tracker_store.retrieve", **self._store_attributes()):
            tracker = await self.tracker_store.get_or_create(message.sender_id)
        if already_handled(tracker, message.message_id):
            # A platform delivering again (Meta, Twilio and Slack retry a webhook they think
            # went unanswered): the message was answered once, under the platform's own id.
            logger.info(
                "message %s of '%s' was already handled: not answered again",
                message.message_id,
                message.sender_id,
            )
            return []
        context = self.action_context(output, message.metadata)
        await self.start_session_if_needed(tracker, context)
        if await self.answer_survey(message, tracker, context):
            return list(output.messages) if isinstance(output, CollectingOutputChannel) else []
        await self.log_message(message, tracker, context)
        try:
            if tracker.is_paused():
                # A person has the conversation: the message is kept, the bot only listens (so
                # that after `resume` the conversation reads as turns again).
                tracker.update(ActionExecuted(ACTION_LISTEN))
            elif not self.ensemble.policies:
                # An NLU-only model (an NLU service behind another dialogue engine): as in
                # Rasa, the message is understood and kept, and nothing is answered.
                warn(
                    "P322",
                    "the model has no dialogue part: the message is kept, not answered",
                    hint="train the whole assistant with `parlez train` to answer messages",
                )
            else:
                await self.run_prediction_loop(tracker, context)
                await self.ask_rating_if_due(tracker, context)
        finally:
            # The customer's message is kept even if answering it failed.
            with tracing.span("parlez.tracker_store.save", **self._store_attributes()):
                await self.tracker_store.save(tracker)
        return list(output.messages) if isinstance(output, CollectingOutputChannel) else []

    def _store_attributes(self) -> dict[str, Any]:
        return {"parlez.store": type(self.tracker_store).__name__}

    async def answer_survey(
        self, message: UserMessage, tracker: DialogueStateTracker, context: ActionContext
    ) -> bool:
        """Keep a rating (or its comment) the customer gave (parlez/core/survey.py) and
        answer it; False for any other message."""
        events = await survey_answer(tracker, message.text, self.nlg, context.channel_name)
        if events is None:
            return False
        for event in events:
            tracker.update(event)
            if isinstance(event, BotUttered):
                await self._send(event, tracker, context)
        await self.tracker_store.save(tracker)
        return True

    async def ask_rating_if_due(
        self, tracker: DialogueStateTracker, context: ActionContext
    ) -> None:
        """After the assistant's goodbye (analytics.yml's `ask_rating_after`), the rating
        question, once a session, on channels that do not ask themselves."""
        if rating_due(tracker, self.ask_rating_after, context.channel_name):
            question = await rating_question(tracker, self.nlg, context.channel_name)
            tracker.update(question)
            await self._send(question, tracker, context)

    async def fetch_tracker_with_session(
        self, sender_id: str, output: OutputChannel | None = None
    ) -> DialogueStateTracker:
        """The conversation, started (`action_session_start`) if it is new or has expired."""
        tracker = await self.tracker_store.get_or_create(sender_id)
        await self.start_session_if_needed(
            tracker, self.action_context(output or CollectingOutputChannel())
        )
        return tracker

    async def log_only(self, message: UserMessage) -> DialogueStateTracker:
        """Add the user's message (and the slots it fills) without the bot answering."""
        output = message.output_channel or CollectingOutputChannel()
        context = self.action_context(output, message.metadata)
        tracker = await self.fetch_tracker_with_session(message.sender_id, output)
        await self.log_message(message, tracker, context)
        await self.tracker_store.save(tracker)
        return tracker

    async def append_events(
        self, sender_id: str, events: Sequence[Event], output: OutputChannel | None = None
    ) -> DialogueStateTracker:
        """Add `events` to the conversation (started first if it is new); the bot messages
        among them are also sent to `output` when one is given."""
        tracker = await self.fetch_tracker_with_session(sender_id)
        for event in events:
            tracker.update(event)
        await self.tracker_store.save(tracker)
        if output is not None:
            for event in events:
                if isinstance(event, BotUttered):
                    await output.send_response(sender_id, event.message())
        return tracker

    async def execute_action(
        self,
        sender_id: str,
        name: str,
        output: OutputChannel,
        policy: str | None = None,
        confidence: float | None = None,
        events: Sequence[Event] = (),
    ) -> DialogueStateTracker:
        """Run one named action now (`POST .../execute`), after `events` if any are given;
        the bot then waits, as in Rasa."""
        tracker = await self.fetch_tracker_with_session(sender_id, output)
        for event in events:
            tracker.update(event)
        action = action_for_name(name, self.domain)
        names = self.domain.action_names_or_texts
        probabilities = [
            (confidence if confidence is not None else 1.0) if n == name else 0.0 for n in names
        ]
        await self.run_action(
            action, tracker, self.action_context(output), PolicyPrediction(probabilities, policy)
        )
        await self.tracker_store.save(tracker)
        return tracker

    def scores(self, tracker: DialogueStateTracker) -> dict[str, Any]:
        """What the policies would do next (`POST .../predict`), best first; nothing is run."""
        _, prediction = self.predict_next(tracker)
        names = self.domain.action_names_or_texts
        scores: list[dict[str, Any]] = [
            {"action": action, "score": float(score)}
            for action, score in zip(names, prediction.probabilities, strict=False)
        ]
        scores.sort(key=lambda item: -item["score"])
        return {
            "scores": scores,
            "policy": prediction.policy_name,
            "confidence": prediction.max_confidence if prediction.probabilities else None,
            "tracker": tracker.current_state("after_restart"),
        }

    def action_context(
        self, output: OutputChannel, metadata: dict[str, Any] | None = None
    ) -> ActionContext:
        """What actions run with: where their messages go, the NLG, the custom actions and
        the message's metadata."""
        return ActionContext(output, self.nlg, CustomAction, self.custom, dict(metadata or {}))

    async def parse(
        self, text: str | None, metadata: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        text = text or ""
        command = parse_command(text, self.domain) if text.startswith("/") else None
        if command is not None:
            return command
        if self.nlu is None:
            return {"text": text, "intent": {"name": None, "confidence": 0.0}, "entities": []}
        # Inference is CPU-bound: off the event loop, so other conversations keep moving.
        with timed(metrics.NLU_SECONDS), tracing.span("parlez.nlu.parse") as span:
            parsed = await infer(self.nlu.parse, text, metadata)
            intent = parsed.get("intent") or {}
            span.set_attribute("parlez.intent", str(intent.get("name")))
            span.set_attribute("parlez.intent_confidence", float(intent.get("confidence") or 0))
            return parsed

    def stamped(self, metadata: dict[str, Any] | None) -> dict[str, Any]:
        """The message's metadata with the model that read it (`model_id`, as Rasa 3 adds
        it): the reports compare assistant versions by it."""
        stamped = dict(metadata or {})
        if self.model_id:
            stamped.setdefault("model_id", self.model_id)
        return stamped

    async def log_message(
        self, message: UserMessage, tracker: DialogueStateTracker, context: ActionContext
    ) -> None:
        parsed = message.parse_data or await self.parse(message.text, message.metadata)
        event = UserUttered(
            text=message.text,
            intent=parsed.get("intent") or {},
            entities=list(parsed.get("entities") or []),
            parse_data_extra={k: v for k, v in parsed.items() if k not in ("intent", "entities")},
            input_channel=message.input_channel,
            message_id=message.message_id,
            metadata=self.stamped(message.metadata),
        )
        tracker.update(event)
        if tracker.is_paused():
            return
        for extracted in await ActionExtractSlots().run(context, tracker, self.domain):
            tracker.update(extracted)
            if isinstance(extracted, BotUttered):
                await self._send(extracted, tracker, context)

    # ---- sessions ---------------------------------------------------------------------------------

    def session_expired(self, tracker: DialogueStateTracker) -> bool:
        minutes = self.domain.session_config.session_expiration_time
        if not minutes or minutes <= 0:
            return False
        last_user = next((e for e in reversed(tracker.events) if isinstance(e, UserUttered)), None)
        if last_user is None:
            return False
        return (time.time() - last_user.timestamp) / 60 > minutes

    async def start_session_if_needed(
        self, tracker: DialogueStateTracker, context: ActionContext
    ) -> None:
        if not tracker.events or self.session_expired(tracker):
            await self.run_action(
                action_for_name(ACTION_SESSION_START, self.domain),
                tracker,
                context,
                PolicyPrediction([], None),
            )
            self.assign_experiments(tracker)

    def assign_experiments(self, tracker: DialogueStateTracker) -> None:
        """Put the new session in its arm of each running experiment: the event the
        reports count by, and the experiment's slot that responses and rules test (when the
        domain has it)."""
        for experiment in self.experiments.running:
            arm = experiment.arm_for(tracker.sender_id)
            tracker.update(ExperimentAssigned(experiment.name, arm))
            if experiment.slot_name in self.domain.all_slots:
                tracker.update(SlotSet(experiment.slot_name, arm))

    # ---- predicting and acting --------------------------------------------------------------------

    def predict_next(self, tracker: DialogueStateTracker) -> tuple[str, PolicyPrediction]:
        """The next action and the prediction that chose it (computed on the models' thread)."""
        return run_on_inference_thread(self._predict_next, tracker)

    def _predict_next(self, tracker: DialogueStateTracker) -> tuple[str, PolicyPrediction]:
        if tracker.followup_action and tracker.followup_action != ACTION_LISTEN:
            action = tracker.followup_action
            names = self.domain.action_names_or_texts
            probabilities = [1.0 if n == action else 0.0 for n in names]
            return action, PolicyPrediction(probabilities, "followup_action", 0)
        prediction = self.ensemble.predict(tracker, self.domain)
        names = self.domain.action_names_or_texts
        index = prediction.max_confidence_index
        if index < 0 or prediction.max_confidence <= 0:
            return ACTION_LISTEN, prediction
        return names[index], prediction

    async def run_prediction_loop(
        self, tracker: DialogueStateTracker, context: ActionContext
    ) -> None:
        for _ in range(self.max_predictions):
            with tracing.span("parlez.predict") as span:
                name, prediction = await infer(self._predict_next, tracker)
                span.set_attribute("parlez.action", name)
                span.set_attribute("parlez.policy", str(prediction.policy_name))
                span.set_attribute("parlez.confidence", float(prediction.max_confidence))
            logger.debug(
                "next action '%s' (%s, %.2f)",
                name,
                prediction.policy_name,
                prediction.max_confidence,
            )
            try:
                action = action_for_name(name, self.domain)
            except UnknownActionError:
                logger.error("the policies predicted '%s', which is not in the domain", name)
                action = action_for_name(ACTION_LISTEN, self.domain)
            if not await self.run_action(action, tracker, context, prediction):
                return
            if tracker.is_paused():  # the action handed the conversation to a person
                tracker.update(ActionExecuted(ACTION_LISTEN))
                return
        logger.warning(
            "the bot ran %d actions in a row without listening; it stops here and waits for the user "
            "(check the stories and rules for a loop)",
            self.max_predictions,
        )
        tracker.update(ActionExecuted(ACTION_LISTEN))

    async def run_action(
        self,
        action: Action,
        tracker: DialogueStateTracker,
        context: ActionContext,
        prediction: PolicyPrediction,
    ) -> bool:
        """Run `action`, log its events; whether the bot should act again before listening."""
        try:
            with (
                timed(metrics.ACTION_SECONDS.labels(action=action.name())),
                tracing.span("parlez.action", **{"parlez.action": action.name()}),
            ):
                events = await action.run(context, tracker, self.domain)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one action must not lose the conversation
            logger.exception("the action '%s' failed", action.name())
            metrics.ACTION_ERRORS.labels(action=action.name()).inc()
            events = [bot_event({"text": ACTION_FAILED_TEXT}, action_failed=action.name())]
        rejected = any(
            isinstance(e, ActionExecutionRejected) and e.action_name == action.name()
            for e in events
        )
        if not rejected:
            for event in prediction.events:
                tracker.update(event)
            tracker.update(
                ActionExecuted(
                    action.name(),
                    policy=prediction.policy_name,
                    confidence=prediction.max_confidence if prediction.probabilities else None,
                )
            )
        for event in events:
            tracker.update(event)
            if isinstance(event, BotUttered):
                await self._send(event, tracker, context)
            elif isinstance(event, ReminderScheduled | ReminderCancelled):
                self._remind(event, tracker.sender_id, context.output_channel)
        if events and isinstance(events[-1], UserUtteranceReverted):
            # The user's message was taken back (fallback, back): wait for a new one.
            tracker.update(ActionExecuted(ACTION_LISTEN))
            return False
        if any(failed(event, action.name()) for event in events):
            # The steps after it counted on it ("Thanks, we'll call you" after saving the
            # lead): after "something went wrong, please try again" the bot listens.
            tracker.update(ActionExecuted(ACTION_LISTEN))
            return False
        return action.name() not in (ACTION_LISTEN, ACTION_SESSION_START) or rejected

    def _remind(
        self, event: ReminderScheduled | ReminderCancelled, sender_id: str, output: OutputChannel
    ) -> None:
        if self.reminders is None:
            logger.warning("no reminder scheduler here: the reminder '%s' will not fire", event)
        elif isinstance(event, ReminderScheduled):
            self.reminders.schedule(event, sender_id, output)
        else:
            self.reminders.cancel(event, sender_id)

    async def _send(
        self, event: BotUttered, tracker: DialogueStateTracker, context: ActionContext
    ) -> None:
        try:
            await context.output_channel.send_response(tracker.sender_id, event.message())
        except Exception:  # the channel failing must not lose the events already logged
            logger.exception("the channel could not deliver a message to '%s'", tracker.sender_id)
