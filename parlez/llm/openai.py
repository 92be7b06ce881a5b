"""OpenAI's Chat Completions API through the `openai` SDK (and compatible servers)."""

from __future__ import annotations

from typing import Any

from parlez.extras import optional
from parlez.llm.base import LLM, ChatMessage, LLMError
from parlez.registry import register_llm


@register_llm("openai")
class OpenAILLM(LLM):
    default_model = "gpt-4o-mini"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        openai = optional("openai", "an LLM of type 'openai'")

        self._errors = (openai.APIError, openai.APIConnectionError)
        self.client = openai.AsyncOpenAI(
            api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=1
        )

    async def complete(self, system: str, messages: list[ChatMessage]) -> str:
        turns: Any = [
            {"role": "system", "content": system},
            *({"role": m.role, "content": m.content} for m in messages),
        ]
        try:
            reply = await self.client.chat.completions.create(
                model=self.model,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                messages=turns,
            )
        except self._errors as error:
            raise LLMError(f"the OpenAI API failed: {error}") from error
        text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
        if not text:
            raise LLMError("the OpenAI API answered with no text")
        return text
