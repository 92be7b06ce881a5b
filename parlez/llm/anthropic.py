"""Anthropic's Messages API through the `anthropic` SDK."""

from __future__ import annotations

from typing import Any

from parlez.extras import optional
from parlez.llm.base import LLM, ChatMessage, LLMError
from parlez.registry import register_llm


@register_llm("anthropic")
class AnthropicLLM(LLM):
    default_model = "claude-haiku-4-5"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        anthropic = optional("anthropic", "an LLM of type 'anthropic'")

        self._errors = (anthropic.APIError, anthropic.APIConnectionError)
        # The SDK retries connection errors and 429/5xx itself; one retry keeps answers fast.
        self.client = anthropic.AsyncAnthropic(
            api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=1
        )

    async def complete(self, system: str, messages: list[ChatMessage]) -> str:
        # Plain dicts in the API's wire shape; the SDK's TypedDicts are the same thing.
        turns: Any = [{"role": m.role, "content": m.content} for m in messages]
        try:
            reply = await self.client.messages.create(
                model=self.model,
                system=system,
                max_tokens=self.max_tokens,
                messages=turns,
            )
        except self._errors as error:
            raise LLMError(f"the Anthropic API failed: {error}") from error
        text = "".join(
            getattr(block, "text", "") for block in reply.content if block.type == "text"
        ).strip()
        if not text:
            raise LLMError("the Anthropic API answered with no text")
        return text
