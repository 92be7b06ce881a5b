"""Conversation events, one class per Rasa event type, serialised exactly as Rasa writes them.

Events are small immutable values. `to_dict()` gives the JSON Rasa stores and sends to action
servers (same keys, same order); `Event.from_dict()` reads it back. How an event changes a
conversation lives in `DialogueStateTracker`, which dispatches on the event's type.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from parlez.event_schema import shape_problem
from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)

ACTION_LISTEN = "action_listen"
#: predicted alongside the others; policies and test stories look past it, as Rasa's do
ACTION_UNLIKELY_INTENT = "action_unlikely_intent"


class EventError(ParlezError):
    code = "P140"


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Event:
    """Base of all events: a timestamp and optional metadata, compared by content only."""

    type_name: ClassVar[str] = "event"
    _registry: ClassVar[dict[str, type[Event]]] = {}

    timestamp: float = field(default_factory=_now, compare=False, kw_only=True)
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, kw_only=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type_name" in cls.__dict__:
            Event._registry.setdefault(cls.type_name, cls)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.type_name, "timestamp": self.timestamp}
        if self.metadata:
            data["metadata"] = self.metadata
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(**cls._base(data))

    @staticmethod
    def _base(data: dict[str, Any]) -> dict[str, Any]:
        base: dict[str, Any] = {"metadata": data.get("metadata") or {}}
        if data.get("timestamp") is not None:
            base["timestamp"] = data["timestamp"]
        return base

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Event:
        """The event a Rasa event dict describes; unknown types are an error naming them."""
        if not isinstance(data, dict) or "event" not in data:
            raise EventError(
                f"an event must be an object with an 'event' key, got {data!r}",
                hint='e.g. {"event": "slot", "name": "city", "value": "Paris"}',
            )
        cls = Event._registry.get(data["event"]) if isinstance(data["event"], str) else None
        if cls is None:
            raise EventError(
                f"unknown event type {data['event']!r}",
                hint="known types: " + ", ".join(sorted(Event._registry)),
            )
        problem = shape_problem(data)
        if problem is not None:
            raise EventError(
                f"the '{data['event']}' event is malformed: {problem}",
                hint="see Rasa's event reference for the keys of each event type",
            )
        try:
            return cls._from(data)
        except (KeyError, TypeError, ValueError) as error:
            raise EventError(f"the '{data['event']}' event is malformed: {error}") from None


def events_from_dicts(items: list[dict[str, Any]]) -> list[Event]:
    return [Event.from_dict(item) for item in items]


def stored_events(items: Iterable[Any], sender_id: str) -> list[Event]:
    """The events a store holds for a conversation, skipping (and logging) any that cannot be
    read: a row written before events were checked, or by another program, must not stop the
    conversation from going on. The row itself is kept; it is never rewritten."""
    events = []
    for position, item in enumerate(items):
        try:
            events.append(Event.from_dict(item))
        except EventError as error:
            logger.error(
                "conversation '%s': stored event %d is skipped: %s", sender_id, position, error
            )
    return events


@dataclass(frozen=True)
class UserUttered(Event):
    type_name: ClassVar[str] = "user"

    text: str | None = None
    intent: dict[str, Any] = field(default_factory=dict)
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_data_extra: dict[str, Any] = field(default_factory=dict, compare=False)
    input_channel: str | None = field(default=None, compare=False)
    message_id: str | None = field(default=None, compare=False)
    use_text_for_featurization: bool | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Stories give either the text (end-to-end) or the intent; prediction time gives both
        # and a later `user_featurization` event decides which one the policies used.
        if self.use_text_for_featurization is None:
            if self.text and not self.intent_name:
                object.__setattr__(self, "use_text_for_featurization", True)
            elif self.intent_name and not self.text:
                object.__setattr__(self, "use_text_for_featurization", False)

    @property
    def intent_name(self) -> str | None:
        name = self.intent.get("name") if self.intent else None
        return name if isinstance(name, str) else None

    @property
    def parse_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "intent": self.intent,
            "entities": list(self.entities),
            "text": self.text,
            "message_id": self.message_id,
            "metadata": self.metadata,
        }
        data.update(self.parse_data_extra)
        return data

    def is_empty(self) -> bool:
        return not self.text and not self.intent_name and not self.entities

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(
            {
                "text": self.text,
                "parse_data": self.parse_data,
                "input_channel": self.input_channel,
                "message_id": self.message_id,
                "metadata": self.metadata,
            }
        )
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        parse_data = data.get("parse_data") or {}
        return cls(
            text=data.get("text"),
            intent=parse_data.get("intent") or {},
            entities=list(parse_data.get("entities") or []),
            parse_data_extra=dict(parse_data),
            input_channel=data.get("input_channel"),
            message_id=data.get("message_id"),
            **cls._base(data),
        )

    def as_sub_state(self) -> dict[str, Any]:
        """What the dialogue policies see of this message (Rasa's `user` sub-state)."""
        labels: list[str] = [e.get("entity", "") for e in self.entities]
        labels += [f"{e.get('entity')}#{e['role']}" for e in self.entities if "role" in e]
        labels += [f"{e.get('entity')}#{e['group']}" for e in self.entities if "group" in e]
        state: dict[str, Any] = {}
        if self.text and self.use_text_for_featurization in (True, None):
            state["text"] = self.text
        if self.intent_name and not self.use_text_for_featurization:
            state["intent"] = self.intent_name
        if labels and not self.use_text_for_featurization:
            state["entities"] = labels
        return state


@dataclass(frozen=True)
class BotUttered(Event):
    type_name: ClassVar[str] = "bot"

    text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"text": self.text, "data": self.data, "metadata": self.metadata})
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(text=data.get("text"), data=data.get("data") or {}, **cls._base(data))

    def message(self) -> dict[str, Any]:
        """The message as a channel sends it: data, text and metadata flattened."""
        out = dict(self.data)
        out["text"] = self.text
        out["timestamp"] = self.timestamp
        out.update(self.metadata)
        if out.get("image") == out.get("attachment"):
            out["attachment"] = None
        return out


@dataclass(frozen=True)
class ActionExecuted(Event):
    type_name: ClassVar[str] = "action"

    action_name: str | None = None
    policy: str | None = field(default=None, compare=False)
    confidence: float | None = field(default=None, compare=False)
    action_text: str | None = None
    hide_rule_turn: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.action_name is None and self.action_text is None:
            raise ValueError("an action event needs a 'name' or an 'action_text'")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(
            {
                "name": self.action_name,
                "policy": self.policy,
                "confidence": self.confidence,
                "action_text": self.action_text,
                "hide_rule_turn": self.hide_rule_turn,
            }
        )
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(
            action_name=data.get("name"),
            policy=data.get("policy"),
            confidence=data.get("confidence"),
            action_text=data.get("action_text"),
            hide_rule_turn=bool(data.get("hide_rule_turn", False)),
            **cls._base(data),
        )

    def as_sub_state(self) -> dict[str, str]:
        if self.action_name:
            return {"action_name": self.action_name}
        return {"action_text": self.action_text or ""}


@dataclass(frozen=True)
class SlotSet(Event):
    type_name: ClassVar[str] = "slot"

    key: str = ""
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"name": self.key, "value": self.value})
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(key=data["name"], value=data.get("value"), **cls._base(data))


@dataclass(frozen=True)
class AllSlotsReset(Event):
    type_name: ClassVar[str] = "reset_slots"


@dataclass(frozen=True)
class Restarted(Event):
    type_name: ClassVar[str] = "restart"


@dataclass(frozen=True)
class UserUtteranceReverted(Event):
    type_name: ClassVar[str] = "rewind"


@dataclass(frozen=True)
class ActionReverted(Event):
    type_name: ClassVar[str] = "undo"


@dataclass(frozen=True)
class ConversationPaused(Event):
    type_name: ClassVar[str] = "pause"


@dataclass(frozen=True)
class ConversationResumed(Event):
    type_name: ClassVar[str] = "resume"


@dataclass(frozen=True)
class SessionStarted(Event):
    type_name: ClassVar[str] = "session_started"


@dataclass(frozen=True)
class StoryExported(Event):
    """Rasa writes only the base fields of this event; `path` is not serialised."""

    type_name: ClassVar[str] = "export"

    path: str | None = None

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(path=data.get("path"), **cls._base(data))


@dataclass(frozen=True)
class FollowupAction(Event):
    type_name: ClassVar[str] = "followup"

    action_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["name"] = self.action_name
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(action_name=data["name"], **cls._base(data))


@dataclass(frozen=True)
class ActiveLoop(Event):
    """Activates the loop (form) `name`; `name=None` deactivates the active one."""

    type_name: ClassVar[str] = "active_loop"

    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["name"] = self.name
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return ActiveLoop(name=data.get("name"), **cls._base(data))


@dataclass(frozen=True)
class LegacyForm(ActiveLoop):
    """Rasa 1.x stored active loops as `form` events; they are read as `active_loop`."""

    type_name: ClassVar[str] = "form"


@dataclass(frozen=True)
class LoopInterrupted(Event):
    type_name: ClassVar[str] = "loop_interrupted"

    is_interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["is_interrupted"] = self.is_interrupted
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return LoopInterrupted(
            is_interrupted=bool(data.get("is_interrupted", False)), **cls._base(data)
        )


@dataclass(frozen=True)
class LegacyFormValidation(LoopInterrupted):
    """Rasa 1.x `form_validation` events: `validate: true` means not interrupted."""

    type_name: ClassVar[str] = "form_validation"

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return LoopInterrupted(is_interrupted=not data.get("validate", True), **cls._base(data))


@dataclass(frozen=True)
class ActionExecutionRejected(Event):
    type_name: ClassVar[str] = "action_execution_rejected"

    action_name: str = ""
    policy: str | None = field(default=None, compare=False)
    confidence: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(
            {"name": self.action_name, "policy": self.policy, "confidence": self.confidence}
        )
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(
            action_name=data["name"],
            policy=data.get("policy"),
            confidence=data.get("confidence"),
            **cls._base(data),
        )


@dataclass(frozen=True)
class EntitiesAdded(Event):
    type_name: ClassVar[str] = "entities"

    entities: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["entities"] = self.entities
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(entities=list(data.get("entities") or []), **cls._base(data))


@dataclass(frozen=True)
class DefinePrevUserUtteredFeaturization(Event):
    type_name: ClassVar[str] = "user_featurization"

    use_text_for_featurization: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["use_text_for_featurization"] = self.use_text_for_featurization
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(
            use_text_for_featurization=bool(data.get("use_text_for_featurization")),
            **cls._base(data),
        )


@dataclass(frozen=True)
class ReminderScheduled(Event):
    type_name: ClassVar[str] = "reminder"

    intent: str = ""
    trigger_date_time: datetime = field(default_factory=datetime.now)
    entities: list[dict[str, Any]] | None = None
    name: str | None = None
    kill_on_user_message: bool = True

    def __post_init__(self) -> None:
        # As in Rasa: an unnamed reminder gets a unique name, so that it can be found again
        # (is it still in the conversation? was it replaced or cancelled?).
        if self.name is None:
            object.__setattr__(self, "name", str(uuid.uuid1()))

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(
            {
                "intent": self.intent,
                "date_time": self.trigger_date_time.isoformat(),
                "entities": self.entities,
                "name": self.name,
                "kill_on_user_msg": self.kill_on_user_message,
            }
        )
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(
            intent=data["intent"],
            trigger_date_time=datetime.fromisoformat(str(data["date_time"])),
            entities=data.get("entities"),
            name=data.get("name"),
            kill_on_user_message=bool(data.get("kill_on_user_msg", True)),
            **cls._base(data),
        )


@dataclass(frozen=True)
class ReminderCancelled(Event):
    """Rasa serialises only the base fields of this event; what to cancel is read on input."""

    type_name: ClassVar[str] = "cancel_reminder"

    name: str | None = None
    intent: str | None = None
    entities: list[dict[str, Any]] | None = None

    def cancels(self, reminder: ReminderScheduled) -> bool:
        """Whether this cancels `reminder` of the same conversation: every field it gives
        (name, intent, entities) must match; one that gives none cancels them all."""
        return (
            (self.name is None or self.name == reminder.name)
            and (self.intent is None or self.intent == reminder.intent)
            and (self.entities is None or _same_entities(self.entities, reminder.entities))
        )

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(
            name=data.get("name"),
            intent=data.get("intent"),
            entities=data.get("entities"),
            **cls._base(data),
        )


def _same_entities(left: object, right: object) -> bool:
    """Entities given as a dict or as Rasa's list of {entity, value}, compared as pairs."""

    def canonical(entities: object) -> object:
        if isinstance(entities, dict):
            return sorted((str(k), str(v)) for k, v in entities.items())
        if isinstance(entities, list):
            return sorted(
                (str(e.get("entity")), str(e.get("value"))) for e in entities if isinstance(e, dict)
            )
        return entities

    return canonical(left) == canonical(right)


@dataclass(frozen=True)
class AgentUttered(Event):
    type_name: ClassVar[str] = "agent"

    text: str | None = None
    data: Any = None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"text": self.text, "data": self.data})
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(text=data.get("text"), data=data.get("data"), **cls._base(data))


@dataclass(frozen=True)
class FeedbackGiven(Event):
    """A customer's rating of the conversation (1 to 5) and optional comment.

    Rasa has no such event; parlez keeps it in the tracker so the rating stays with the
    conversation it rates. Policies and stories ignore it.
    """

    type_name: ClassVar[str] = "feedback"

    rating: int = 0
    comment: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= int(self.rating) <= 5:
            raise ValueError(f"a rating is 1 to 5, got {self.rating!r}")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"rating": self.rating, "comment": self.comment})
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(rating=int(data["rating"]), comment=data.get("comment"), **cls._base(data))


@dataclass(frozen=True)
class DeliveryReported(Event):
    """What a platform reported of a message sent to the customer: delivered, read, or not
    delivered (`failed`, `undelivered`) with the platform's error code.

    Rasa has no such event; parlez keeps it in the tracker so the conversation shows which
    answers never reached the customer. `message_id` is the platform's id of the message
    (Twilio's `MessageSid`). Policies and stories ignore it, and it does not make a
    conversation newer in the inbox.
    """

    type_name: ClassVar[str] = "delivery"

    message_id: str = ""
    status: str = ""
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in NOT_DELIVERED

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"message_id": self.message_id, "status": self.status, "error": self.error})
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(
            message_id=str(data["message_id"]),
            status=str(data["status"]),
            error=data.get("error"),
            **cls._base(data),
        )


#: the statuses of a message that did not reach the customer
NOT_DELIVERED = frozenset({"failed", "undelivered"})


@dataclass(frozen=True)
class KnowledgeMissed(Event):
    """A customer's question the knowledge base could not answer: no entry was sure enough
    (`suggested`: the close ones offered instead, by id, if any).

    Rasa has no such event; the knowledge-base answer action returns it, so that what the
    customers ask and the business has not written down is counted where the conversations
    are (the console's "unanswered questions"). Policies and stories ignore it.
    """

    type_name: ClassVar[str] = "knowledge_miss"

    question: str = ""
    confidence: float = 0.0
    suggested: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(
            {"question": self.question, "confidence": self.confidence, "suggested": self.suggested}
        )
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(
            question=str(data["question"]),
            confidence=float(data.get("confidence") or 0.0),
            suggested=[str(s) for s in data.get("suggested") or []],
            **cls._base(data),
        )


@dataclass(frozen=True)
class ExperimentAssigned(Event):
    """The arm of an A/B test this conversation is in, given as its session starts
    (parlez/experiments.py): the same arm for the same sender, every session.

    Rasa has no such event; the reports compare the arms by it. Policies and stories ignore
    it (an experiment's slot, set beside it, is what responses and rules may test).
    """

    type_name: ClassVar[str] = "experiment"

    experiment: str = ""
    arm: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"experiment": self.experiment, "arm": self.arm})
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        return cls(experiment=str(data["experiment"]), arm=str(data["arm"]), **cls._base(data))


@dataclass(frozen=True)
class CallStep(Event):
    """A step of a phone call that is not a message (parlez/channels/twilio_voice.py): the
    call `started`, a `no_input` (the caller said nothing, and was asked again), a
    `transfer` to a person and its `transfer_result`, and the call `ended` (`details`: its
    Twilio status, its duration, and where in the conversation the caller hung up).

    Rasa has no such event; the voice reports count calls by it. `call_id` is Twilio's
    `CallSid`. Policies and stories ignore it.
    """

    type_name: ClassVar[str] = "call"

    call_id: str = ""
    step: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"call_id": self.call_id, "step": self.step, "details": self.details})
        return data

    @classmethod
    def _from(cls, data: dict[str, Any]) -> Event:
        details = data.get("details") or {}
        return cls(
            call_id=str(data["call_id"]),
            step=str(data["step"]),
            details=dict(details) if isinstance(details, dict) else {},
            **cls._base(data),
        )


#: the steps of a call a `call` event records
CALL_STEPS = frozenset({"started", "no_input", "transfer", "transfer_result", "ended"})
