"""Large language models behind one small interface: Anthropic and OpenAI, set in endpoints.yml.

    llm:
      type: anthropic            # or openai
      model: claude-haiku-4-5
      api_key: ${ANTHROPIC_API_KEY:-}
      base_url: null             # another endpoint speaking the same API
      timeout: 20

No key means no LLM: `llm_from_endpoint` returns None and the assistant answers locally.
"""

from parlez.llm.base import LLM, ChatMessage, LLMError, llm_from_endpoint

__all__ = ["LLM", "ChatMessage", "LLMError", "llm_from_endpoint"]
