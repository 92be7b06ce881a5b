"""How a predicted name becomes an action: a default action, a form, a response, a custom
action (the order Rasa looks in)."""

from __future__ import annotations

from collections.abc import Callable

from parlez.core.actions.action import (
    Action,
    ActionBotText,
    ActionResponse,
    ActionRetrieveResponse,
    UnknownActionError,
)
from parlez.core.actions.custom import CustomAction
from parlez.core.actions.default import (
    ActionBack,
    ActionDeactivateLoop,
    ActionListen,
    ActionRestart,
    ActionSendText,
    ActionSessionStart,
    ActionUnlikelyIntent,
)
from parlez.core.actions.extract_slots import ActionExtractSlots
from parlez.core.actions.fallback import (
    ActionDefaultAskAffirmation,
    ActionDefaultAskRephrase,
    ActionDefaultFallback,
    ActionRevertFallbackEvents,
    TwoStageFallbackAction,
)
from parlez.core.actions.loops import FormAction
from parlez.domain import Domain

#: Rasa's default actions by name (`action_listen`, `action_restart`, ...)
DEFAULT_ACTIONS: dict[str, Callable[[], Action]] = {
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
} | {
    "action_extract_slots": ActionExtractSlots,
    "action_two_stage_fallback": TwoStageFallbackAction,
}


def default_action(name: str) -> Action | None:
    factory = DEFAULT_ACTIONS.get(name)
    return factory() if factory else None


def action_for_name(name: str, domain: Domain) -> Action:
    """The action behind a name: a default action, a form, a response, a custom action."""
    found = default_action(name)
    if found is not None:
        return found
    if name in domain.forms:
        return FormAction(name)
    if name in domain.user_actions:
        return CustomAction(name)
    if name in domain.responses:
        return ActionResponse(name)
    if name in domain.response_actions:
        return ActionRetrieveResponse(name)
    if name in domain.action_texts:
        return ActionBotText(name)
    if name.startswith("utter_"):
        return ActionResponse(name)
    raise UnknownActionError(name)
