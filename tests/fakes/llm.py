"""A local stand-in for the Anthropic and OpenAI APIs, speaking their wire formats.

The real SDKs reach it through `base_url`: Anthropic's Messages API at `/v1/messages`,
OpenAI's Chat Completions at `/v1/chat/completions`. Each test sets what it answers (a text,
a function of the request, an HTTP error, a delay) and reads the requests it received.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import JsonHandler, serving


@dataclass
class FakeLLM:
    reply: str | Callable[[dict[str, Any]], str] = "An answer."
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def text_for(self, body: dict[str, Any]) -> str:
        return self.reply(body) if callable(self.reply) else self.reply


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            if fake.delay:
                time.sleep(fake.delay)
            anthropic = self.path.endswith("/messages")
            if fake.status != 200:
                error = (
                    {"type": "error", "error": {"type": "api_error", "message": "down"}}
                    if anthropic
                    else {"error": {"message": "down", "type": "server_error", "code": None}}
                )
                self._send(fake.status, error)
                return
            text = fake.text_for(body)
            if anthropic:
                self._send(
                    200,
                    {
                        "id": "msg_fake",
                        "type": "message",
                        "role": "assistant",
                        "model": body.get("model"),
                        "content": [{"type": "text", "text": text}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": {"input_tokens": 10, "output_tokens": 5},
                    },
                )
            else:
                self._send(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    },
                )

    return Handler


@contextmanager
def fake_llm(**settings: Any) -> Iterator[FakeLLM]:
    fake = FakeLLM(**settings)
    with serving(fake, _handler(fake)):
        yield fake
