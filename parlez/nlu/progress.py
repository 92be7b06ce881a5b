"""Training progress: components report epochs here; the CLI shows them as a progress bar."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

logger = logging.getLogger(__name__)

Listener = Callable[[str, int, int, dict[str, float]], None]
_listener: ContextVar[Listener | None] = ContextVar("parlez_progress", default=None)


def report_epoch(component: str, epoch: int, epochs: int, metrics: dict[str, float]) -> None:
    listener = _listener.get()
    if listener is not None:
        listener(component, epoch, epochs, metrics)
    else:
        logger.debug("%s epoch %d/%d %s", component, epoch, epochs, metrics)


@contextmanager
def listen(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
