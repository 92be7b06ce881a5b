"""Rasa's default actions, under their names (`action_listen`, `action_restart`, ...)."""

from __future__ import annotations

import json
from collections.abc import Callable

from parlez.core.actions.action import Action, ActionContext, bot_event, utter
from parlez.domain import REQUESTED_SLOT, SESSION_START_METADATA_SLOT, Domain
from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from parlez.tracker import ACTION_SESSION_START, DialogueStateTracker


class _Named(Action):
    action_name = ""

    def name(self) -> str:
        return self.action_name


class ActionListen(_Named):
    action_name = ACTION_LISTEN

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return []


class ActionRestart(_Named):
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


class ActionSessionStart(_Named):
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


class ActionDefaultFallback(_Named):
    """Says `utter_default` and takes the user's message back, so it does not steer the story."""

    action_name = "action_default_fallback"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        said = (
            await utter("utter_default", context, tracker)
            if "utter_default" in domain.responses
            else []
        )
        return [*said, UserUtteranceReverted()]


class ActionDeactivateLoop(_Named):
    action_name = "action_deactivate_loop"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


class ActionBack(_Named):
    """Says `utter_back` if defined and takes back the user's last two turns."""

    action_name = "action_back"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        said = (
            await utter("utter_back", context, tracker) if "utter_back" in domain.responses else []
        )
        return [*said, UserUtteranceReverted(), UserUtteranceReverted()]


class ActionDefaultAskAffirmation(_Named):
    """Asks whether the user meant the intent NLU found, with Yes / No buttons."""

    action_name = "action_default_ask_affirmation"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        message = tracker.latest_message
        ranking = (message.parse_data.get("intent_ranking") if message else None) or []
        intent = next(
            (r["name"] for r in ranking if r.get("name") != "nlu_fallback"),
            message.intent_name if message else None,
        )
        if "utter_ask_affirmation" in domain.responses:
            return await utter("utter_ask_affirmation", context, tracker, intent=intent)
        entities = {e["entity"]: e.get("value") for e in (message.entities if message else [])}
        payload = f"/{intent}" + (json.dumps(entities) if entities else "")
        return [
            bot_event(
                {
                    "text": f"Did you mean '{intent}'?",
                    "buttons": [
                        {"title": "Yes", "payload": payload},
                        {"title": "No", "payload": "/out_of_scope"},
                    ],
                },
                utter_action="action_default_ask_affirmation",
            )
        ]


class ActionDefaultAskRephrase(_Named):
    action_name = "action_default_ask_rephrase"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        if "utter_ask_rephrase" in domain.responses:
            return await utter("utter_ask_rephrase", context, tracker)
        return [BotUttered(text="I'm sorry, I didn't quite understand that. Could you rephrase?")]


class ActionRevertFallbackEvents(_Named):
    """After a two-stage fallback that ended well, removes the fallback turns so the
    conversation reads as if the user had been understood the first time."""

    action_name = "action_revert_fallback_events"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        from parlez.core.actions.loops import fallback_turns

        return [UserUtteranceReverted()] * fallback_turns(tracker)


class ActionUnlikelyIntent(_Named):
    action_name = "action_unlikely_intent"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return []


class ActionSendText(_Named):
    """Says the text given in the message metadata (`{"message": {"text": ...}}`)."""

    action_name = "action_send_text"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        message = context.metadata.get("message") or {}
        return [bot_event(message)] if message else []


def _defaults() -> dict[str, Callable[[], Action]]:
    from parlez.core.actions.extract_slots import ActionExtractSlots
    from parlez.core.actions.loops import TwoStageFallbackAction

    found: dict[str, Callable[[], Action]] = {
        cls.action_name: cls
        for cls in (
            ActionListen,
            ActionRestart,
            ActionSessionStart,
            ActionDefaultFallback,
            ActionDeactivateLoop,
            ActionBack,
            ActionDefaultAskAffirmation,
            ActionDefaultAskRephrase,
            ActionRevertFallbackEvents,
            ActionUnlikelyIntent,
            ActionSendText,
        )
    }
    found["action_extract_slots"] = ActionExtractSlots
    found["action_two_stage_fallback"] = TwoStageFallbackAction
    return found


def default_action(name: str) -> Action | None:
    factory = _defaults().get(name)
    return factory() if factory else None
