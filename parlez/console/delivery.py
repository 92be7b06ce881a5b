"""A person's reply on its way to the customer: when their channel fails (Messenger outside
its window, Twilio refusing a number, a platform down), the reply is already saved in the
conversation, so the failure is kept here, logged, and told to the team in a note, instead
of failing the page after the fact."""

from __future__ import annotations

import logging
from typing import Any

from parlez.channels.channel import OutputChannel

logger = logging.getLogger(__name__)

#: how much of a platform's own words go into the note
MAX_REASON = 300


class Delivery(OutputChannel):
    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        #: why the customer has not seen the reply; None while every message went out
        self.failure: str | None = None

    @property
    def delivered(self) -> bool:
        return self.failure is None

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        try:
            await self.channel.send_response(recipient_id, message)
        except Exception as error:  # whatever the platform's SDK raises
            logger.warning(
                "A person's reply to %s was not delivered on %s: %s",
                recipient_id,
                self.channel.name(),
                type(error).__name__,
            )
            self.failure = (str(error) or type(error).__name__)[:MAX_REASON]

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        await self.send_response(recipient_id, {"text": text})
