"""The conversation a log line is about. Set where a conversation's work starts (the agent
takes its lock), read by `--log-format json`, so a log collector shows one conversation's
lines across processes. Work handed to a thread (NLU, actions run in-process) logs
without it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_CONVERSATION: ContextVar[str | None] = ContextVar("parlez_conversation", default=None)


@contextmanager
def about(sender_id: str) -> Iterator[None]:
    """Log lines written inside are about the conversation `sender_id`."""
    token = _CONVERSATION.set(sender_id)
    try:
        yield
    finally:
        _CONVERSATION.reset(token)


def current_conversation() -> str | None:
    return _CONVERSATION.get()


def stamp_conversations() -> None:
    """Every log record from now on carries `conversation_id` as it is when the line is
    logged (a handler may format it later, elsewhere). Installed once by `parlez run`."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_conversations", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.conversation_id = _CONVERSATION.get()
        return record

    factory.stamps_conversations = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
