"""The LLM interface the assistant's actions use, and the factory that reads endpoints.yml."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from parlez.endpoints import EndpointConfig
from parlez.llm.errors import LLMConfigError as LLMConfigError  # re-exported
from parlez.llm.errors import LLMError as LLMError
from parlez.registry import llm_clients

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_TOKENS = 400


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "user" or "assistant"
    content: str


class LLM(ABC):
    #: the model asked for when endpoints.yml names none
    default_model: ClassVar[str] = ""

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


def llm_from_endpoint(config: EndpointConfig | None) -> LLM | None:
    """The LLM endpoints.yml configures, or None when there is none or it has no key. `type`
    is `anthropic`, `openai` or the dotted path of the user's own LLM class."""
    if config is None:
        return None
    options: dict[str, Any] = config.kwargs
    cls = llm_clients.get(config.type or "")
    api_key = str(options.get("api_key") or "")
    if not api_key:
        return None
    factory: Any = cls  # an LLM subclass: the registry checked it
    client: LLM = factory(
        model=str(options.get("model") or cls.default_model),
        api_key=api_key,
        base_url=config.url or options.get("base_url") or None,
        timeout=float(options.get("timeout") or DEFAULT_TIMEOUT),
        max_tokens=int(options.get("max_tokens") or DEFAULT_MAX_TOKENS),
        temperature=float(options.get("temperature") or 0.0),
    )
    return client
