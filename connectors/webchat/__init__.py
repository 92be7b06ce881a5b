"""The web chat: an embeddable widget and the channel it talks to."""

from connectors.webchat.channel import WebChatInput, WebChatOutput

__all__ = ["WebChatInput", "WebChatOutput"]
