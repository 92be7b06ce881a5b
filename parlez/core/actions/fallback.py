"""Rasa's fallback actions: the default fallback, the two-stage fallback (ask to affirm,
then to rephrase), and taking the fallback turns back once the user was understood."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from parlez.core.actions.action import ActionContext, bot_event, utter
from parlez.core.actions.default import NamedAction
from parlez.core.actions.loops import LoopAction
from parlez.domain import Domain
from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    UserUtteranceReverted,
    UserUttered,
)
from parlez.tracker import DialogueStateTracker

NLU_FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


class ActionDefaultFallback(NamedAction):
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


class ActionDefaultAskAffirmation(NamedAction):
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


class ActionDefaultAskRephrase(NamedAction):
    action_name = "action_default_ask_rephrase"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        if "utter_ask_rephrase" in domain.responses:
            return await utter("utter_ask_rephrase", context, tracker)
        return [BotUttered(text="I'm sorry, I didn't quite understand that. Could you rephrase?")]


class ActionRevertFallbackEvents(NamedAction):
    """After a two-stage fallback that ended well, removes the fallback turns so the
    conversation reads as if the user had been understood the first time."""

    action_name = "action_revert_fallback_events"

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return [UserUtteranceReverted()] * fallback_turns(tracker)


def _intents_since_restart(tracker: DialogueStateTracker) -> list[str | None]:
    intents: list[str | None] = []
    for event in tracker.events:
        if isinstance(event, Restarted):
            intents = []
        elif isinstance(event, UserUttered):
            intents.append(event.intent_name)
    return intents


def _last_intents(tracker: DialogueStateTracker, count: int) -> list[str | None]:
    return _intents_since_restart(tracker)[-count:]


def fallback_turns(tracker: DialogueStateTracker) -> int:
    """How many user turns a finished fallback took (what `action_revert_fallback_events` undoes)."""
    turns = 0
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            turns += 1
        if isinstance(event, ActiveLoop) and event.name == "action_two_stage_fallback":
            break
    return max(turns, 1)


class TwoStageFallbackAction(LoopAction):
    """Rasa's two-stage fallback: "Did you mean ...?"; if not, "please rephrase"; then
    "Did you mean ...?" once more; if that fails too, the default fallback."""

    def name(self) -> str:
        return "action_two_stage_fallback"

    async def do(
        self,
        context: ActionContext,
        tracker: DialogueStateTracker,
        domain: Domain,
        events_so_far: list[Event],
    ) -> list[Event]:
        just_activated = any(isinstance(e, ActiveLoop) for e in events_so_far)
        last = _last_intents(tracker, 1)
        if just_activated or last == [NLU_FALLBACK]:
            return await ActionDefaultAskAffirmation().run(context, tracker, domain)
        return await ActionDefaultAskRephrase().run(context, tracker, domain)

    def is_done(self, tracker: DialogueStateTracker, events_so_far: list[Event]) -> bool:
        last = _last_intents(tracker, 1)
        clarified = bool(last) and last[0] not in (NLU_FALLBACK, OUT_OF_SCOPE)
        if any(isinstance(e, ActiveLoop) and e.name for e in events_so_far):
            clarified = False  # the message that started the fallback clarifies nothing
        return clarified or self._failed(tracker)

    def _failed(self, tracker: DialogueStateTracker) -> bool:
        return _last_intents(tracker, 2) == [NLU_FALLBACK, NLU_FALLBACK] or _last_intents(
            tracker, 3
        ) == [OUT_OF_SCOPE, NLU_FALLBACK, OUT_OF_SCOPE]

    async def deactivate(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        if self._failed(tracker):
            return await ActionDefaultFallback().run(context, tracker, domain)
        message = tracker.latest_message
        if message is None:
            return []
        intent = dict(message.intent)
        intent["confidence"] = 1.0
        clarified = replace(message, intent=intent, timestamp=time.time())
        return [UserUtteranceReverted(), ActionExecuted(ACTION_LISTEN), clarified]
