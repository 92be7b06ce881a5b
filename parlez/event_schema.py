"""What each Rasa event dict must look like, as pydantic models, checked before an event from
outside (the HTTP API, an action server, a stored row) is read.

An event is only ever appended, so one that a conversation cannot apply (a loop `name` that
is a list, a string timestamp) would break that conversation for good: it is refused here,
with the field that is wrong. Keys Rasa or a client adds beyond these are kept, as Rasa keeps
them; values are checked strictly (`"3"` is not a number, `1` is not a string).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class EntityShape(_Shape):
    entity: StrictStr
    start: StrictInt | None = None
    end: StrictInt | None = None
    value: Any = None
    role: StrictStr | None = None
    group: StrictStr | None = None
    confidence: Number | None = None
    extractor: StrictStr | None = None


class IntentShape(_Shape):
    name: StrictStr | None = None
    confidence: Number | None = None


class ParseDataShape(_Shape):
    intent: IntentShape | None = None
    entities: list[EntityShape] | None = None
    intent_ranking: list[IntentShape] | None = None
    text: StrictStr | None = None
    message_id: StrictStr | None = None
    metadata: dict[str, Any] | None = None


class EventShape(_Shape):
    event: StrictStr
    timestamp: Number | None = None
    metadata: dict[str, Any] | None = None


class UserShape(EventShape):
    text: StrictStr | None = None
    parse_data: ParseDataShape | None = None
    input_channel: StrictStr | None = None
    message_id: StrictStr | None = None


class BotShape(EventShape):
    text: StrictStr | None = None
    data: dict[str, Any] | None = None


class ActionShape(EventShape):
    name: StrictStr | None = None
    policy: StrictStr | None = None
    confidence: Number | None = None
    action_text: StrictStr | None = None
    hide_rule_turn: StrictBool = False


class SlotShape(EventShape):
    name: StrictStr
    value: Any = None


class NamedShape(EventShape):
    """`followup`: the action to run next."""

    name: StrictStr


class LoopShape(EventShape):
    """`active_loop` (and Rasa 1's `form`): the loop's name, or null to end it."""

    name: StrictStr | None = None


class RejectedShape(EventShape):
    name: StrictStr
    policy: StrictStr | None = None
    confidence: Number | None = None


class InterruptedShape(EventShape):
    is_interrupted: StrictBool = False


class FormValidationShape(EventShape):
    validate_: StrictBool = Field(default=True, alias="validate")


class EntitiesShape(EventShape):
    entities: list[EntityShape] | None = None


class FeaturizationShape(EventShape):
    use_text_for_featurization: StrictBool | None = None


#: Rasa takes a reminder's entities as a list of entity objects or as `{name: value}`.
ReminderEntities = list[dict[str, Any]] | dict[str, Any] | None


class ReminderShape(EventShape):
    intent: StrictStr
    date_time: StrictStr
    entities: ReminderEntities = None
    name: StrictStr | None = None
    kill_on_user_msg: StrictBool = True


class CancelReminderShape(EventShape):
    name: StrictStr | None = None
    intent: StrictStr | None = None
    entities: ReminderEntities = None


class AgentShape(EventShape):
    text: StrictStr | None = None
    data: Any = None


class FeedbackShape(EventShape):
    rating: StrictInt = Field(ge=1, le=5)
    comment: StrictStr | None = None


class DeliveryShape(EventShape):
    message_id: StrictStr
    status: StrictStr
    error: StrictStr | None = None


class KnowledgeMissShape(EventShape):
    question: StrictStr
    confidence: Number = 0.0
    suggested: list[StrictStr] = []


class ExperimentShape(EventShape):
    experiment: StrictStr
    arm: StrictStr


class CallShape(EventShape):
    call_id: StrictStr
    step: StrictStr
    details: dict[str, Any] = {}


class ExportShape(EventShape):
    path: StrictStr | None = None


#: The shape of each event type; types not named here have only the common keys.
SHAPES: dict[str, type[EventShape]] = {
    "user": UserShape,
    "bot": BotShape,
    "action": ActionShape,
    "slot": SlotShape,
    "followup": NamedShape,
    "active_loop": LoopShape,
    "form": LoopShape,
    "action_execution_rejected": RejectedShape,
    "loop_interrupted": InterruptedShape,
    "form_validation": FormValidationShape,
    "entities": EntitiesShape,
    "user_featurization": FeaturizationShape,
    "reminder": ReminderShape,
    "cancel_reminder": CancelReminderShape,
    "agent": AgentShape,
    "feedback": FeedbackShape,
    "delivery": DeliveryShape,
    "knowledge_miss": KnowledgeMissShape,
    "experiment": ExperimentShape,
    "call": CallShape,
    "export": ExportShape,
}


def shape_problem(data: dict[str, Any]) -> str | None:
    """What is wrong with an event dict, in one line naming the key; None if nothing is."""
    return _problem(SHAPES.get(str(data.get("event")), EventShape), data, "the event")


def parse_data_problem(data: Any) -> str | None:
    """What is wrong with a client's own NLU result (`parse_data` of `POST .../messages`),
    checked as a user event's is; None if nothing is."""
    return _problem(ParseDataShape, data, "parse_data", prefix="parse_data")


def _problem(shape: type[BaseModel], data: Any, whole: str, prefix: str = "") -> str | None:
    try:
        shape.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in [prefix, *first["loc"]] if part != "") or whole
        message = re.sub(r" or instance of \w+", "", first["msg"]).lower()
        return f"'{where}': {message}"
    return None
