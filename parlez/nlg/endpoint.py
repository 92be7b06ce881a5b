"""An NLG server (`nlg: url:` in endpoints.yml) asked for each response, in Rasa's format:
`{"response", "arguments", "tracker", "channel": {"name"}}` in, the message out."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from parlez.endpoints import EndpointConfig
from parlez.nlg.generator import NaturalLanguageGenerator
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)


class EndpointGenerator(NaturalLanguageGenerator):
    def __init__(
        self, endpoint: EndpointConfig, fallback: NaturalLanguageGenerator | None = None
    ) -> None:
        self.endpoint = endpoint
        self.fallback = fallback
        self.timeout = float(endpoint.kwargs.get("timeout", 5))

    async def generate(
        self,
        response: str,
        tracker: DialogueStateTracker,
        channel: str | None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        body = {
            "response": response,
            "template": response,  # the name Rasa 2 servers read
            "arguments": kwargs,
            "tracker": tracker.current_state(),
            "channel": {"name": channel},
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout, auth=self.endpoint.auth()) as client:
                reply = await client.post(
                    str(self.endpoint.url),
                    json=body,
                    headers=dict(self.endpoint.headers),
                    params=self.endpoint.query_params(),
                )
                reply.raise_for_status()
                message = reply.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.error(
                "the NLG server at %s failed for '%s': %s", self.endpoint.url, response, error
            )
            if self.fallback is not None:
                return await self.fallback.generate(response, tracker, channel, **kwargs)
            return None
        return message if isinstance(message, dict) else None
