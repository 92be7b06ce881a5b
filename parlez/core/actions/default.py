"""Rasa's default actions, under their names (`action_listen`, `action_restart`, ...)."""

from __future__ import annotations

from parlez.core.actions.action import Action, ActionContext, bot_event, utter
from parlez.domain import REQUESTED_SLOT, SESSION_START_METADATA_SLOT, Domain
from parlez.events import (
    ACTION_LISTEN,
    ACTION_UNLIKELY_INTENT,
    ActionExecuted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from parlez.tracker import ACTION_SESSION_START, DialogueStateTracker


class NamedAction(Action):
    """An action with one fixed name, as Rasa's default actions have."""

    action_name = ""

    def name(self) -> str:
        return self.action_name


class ActionListen(NamedAction):
    action_name = ACTION_LISTEN

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return []


class ActionRestart(NamedAction):
    """Says `utter_restart` if the domain has it, then starts the conversation over."""

    action_name = "action_restart"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        said = (
            await utter("utter_restart", context, tracker)
            if "utter_restart" in domain.responses
            else []
        )
        return [*said, Restarted()]


class ActionSessionStart(NamedAction):
    """Starts a session: carries the slots over if the domain says so, keeps the metadata."""

    action_name = ACTION_SESSION_START

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        events: list[Event] = [SessionStarted()]
        if domain.session_config.carry_over_slots:
            events += [
                SlotSet(name, value)
                for name, value in tracker.slots.items()
                if value is not None
                and name != SESSION_START_METADATA_SLOT
                and _differs_from_initial(domain, name, value)
            ]
        if context.metadata:
            events.append(SlotSet(SESSION_START_METADATA_SLOT, context.metadata))
        events.append(ActionExecuted(ACTION_LISTEN))
        return events


def _differs_from_initial(domain: Domain, name: str, value: object) -> bool:
    slot = domain.all_slots.get(name)
    return slot is None or slot.initial_value != value


class ActionDeactivateLoop(NamedAction):
    action_name = "action_deactivate_loop"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


class ActionBack(NamedAction):
    """Says `utter_back` if defined and takes back the user's last two turns."""

    action_name = "action_back"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        said = (
            await utter("utter_back", context, tracker) if "utter_back" in domain.responses else []
        )
        return [*said, UserUtteranceReverted(), UserUtteranceReverted()]


class ActionUnlikelyIntent(NamedAction):
    action_name = ACTION_UNLIKELY_INTENT

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return []


class ActionSendText(NamedAction):
    """Says the text given in the message metadata (`{"message": {"text": ...}}`)."""

    action_name = "action_send_text"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        message = context.metadata.get("message") or {}
        return [bot_event(message)] if message else []
