"""The Action contract, response actions, and how a predicted name becomes an action."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parlez.channels.channel import OutputChannel
from parlez.domain import Domain
from parlez.events import BotUttered, Event
from parlez.nlg.generator import NaturalLanguageGenerator
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.core.actions.custom import CustomAction, CustomActionExecutor

logger = logging.getLogger(__name__)

#: the parts of a bot message that go into BotUttered.data; the rest is metadata
MESSAGE_DATA_KEYS = ("elements", "quick_replies", "buttons", "attachment", "image", "custom")


@dataclass
class ActionContext:
    """What an action may use while it runs."""

    output_channel: OutputChannel
    nlg: NaturalLanguageGenerator
    #: the custom action a name stands for: how a form reaches `validate_<form>` and
    #: `action_ask_<slot>`, and slot mappings their validation action
    custom_action: Callable[[str], CustomAction]
    custom: CustomActionExecutor | None = None
    #: metadata of the user message being answered
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def channel_name(self) -> str:
        return self.output_channel.name()


class Action(ABC):
    """Something the assistant does; `run` returns the events it caused."""

    @abstractmethod
    def name(self) -> str:
        """The name policies predict and events record."""

    @abstractmethod
    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        """Do the action; the events it caused, bot messages included."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name()}>"


def bot_event(message: dict[str, Any], **metadata: Any) -> BotUttered:
    """Rasa's BotUttered for a bot message: text, the structured parts as data, rest metadata."""
    rest = {k: v for k, v in message.items() if k != "text" and k not in MESSAGE_DATA_KEYS}
    return BotUttered(
        text=message.get("text"),
        data={key: message.get(key) for key in MESSAGE_DATA_KEYS},
        metadata={**rest, **metadata},
    )


async def utter(
    response: str,
    context: ActionContext,
    tracker: DialogueStateTracker,
    **kwargs: Any,
) -> list[Event]:
    """The response `response` said, or nothing (logged) if the domain does not have it."""
    message = await context.nlg.generate(response, tracker, context.channel_name, **kwargs)
    if message is None:
        logger.error("the response '%s' is not in the domain; nothing is said", response)
        return []
    return [bot_event(message, utter_action=response)]


class ActionResponse(Action):
    """`utter_*`: says one of the response's variations."""

    def __init__(self, response: str) -> None:
        self.response = response

    def name(self) -> str:
        return self.response

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return await utter(self.response, context, tracker)


class ActionRetrieveResponse(ActionResponse):
    """`utter_faq`: says the response of the retrieval intent the ResponseSelector chose."""

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        intent = self.response[len("utter_") :]
        message = tracker.latest_message
        selector = (message.parse_data.get("response_selector", {}) if message else {}) or {}
        chosen = selector.get(intent) or selector.get("default") or {}
        full = (chosen.get("response") or {}).get("utter_action")
        if not full:
            full_intent = (chosen.get("response") or {}).get("intent_response_key")
            full = f"utter_{full_intent}" if full_intent else None
        if not full:
            logger.error("no response was selected for the retrieval intent '%s'", intent)
            return []
        return await utter(full, context, tracker)


class ActionBotText(Action):
    """An end-to-end story's `bot:` text, said as written."""

    def __init__(self, text: str) -> None:
        self.text = text

    def name(self) -> str:
        return self.text

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return [BotUttered(text=self.text)]


class UnknownActionError(Exception):
    pass
