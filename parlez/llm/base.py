"""The LLM interface the assistant's actions use, and the factory that reads endpoints.yml."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from parlez.endpoints import EndpointConfig
from parlez.exceptions import ParlezError

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_TOKENS = 400


class LLMError(ParlezError):
    """The model did not answer: down, slow, refused the key, or an unusable reply."""

    code = "P510"


class LLMConfigError(ParlezError):
    code = "P511"


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "user" or "assistant"
    content: str


class LLM(ABC):
    def __init__(
        self,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.temperature = temperature

    @abstractmethod
    async def complete(self, system: str, messages: list[ChatMessage]) -> str:
        """The model's reply to `messages` under the `system` instructions; LLMError if none."""


DEFAULT_MODELS = {"anthropic": "claude-haiku-4-5", "openai": "gpt-4o-mini"}


def llm_from_endpoint(config: EndpointConfig | None) -> LLM | None:
    """The LLM endpoints.yml configures, or None when there is none or it has no key."""
    if config is None:
        return None
    options: dict[str, Any] = config.kwargs
    kind = (config.type or "").lower()
    if kind not in DEFAULT_MODELS:
        raise LLMConfigError(
            f"unknown llm type '{config.type}'", hint="use 'anthropic' or 'openai'"
        )
    api_key = str(options.get("api_key") or "")
    if not api_key:
        return None
    settings = {
        "model": str(options.get("model") or DEFAULT_MODELS[kind]),
        "api_key": api_key,
        "base_url": config.url or options.get("base_url") or None,
        "timeout": float(options.get("timeout") or DEFAULT_TIMEOUT),
        "max_tokens": int(options.get("max_tokens") or DEFAULT_MAX_TOKENS),
        "temperature": float(options.get("temperature") or 0.0),
    }
    if kind == "anthropic":
        from parlez.llm.anthropic import AnthropicLLM

        return AnthropicLLM(**settings)
    from parlez.llm.openai import OpenAILLM

    return OpenAILLM(**settings)
