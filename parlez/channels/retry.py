"""Sending to a messaging platform again when it failed for a moment.

Every platform's API has bad seconds (a 429 when a page is busy, a 502 from its edge, a
dropped connection); a bot message lost to one is a customer left without an answer. The
channels send through `delivered`, which tries again with a growing wait (`tenacity`) while
the failure is one that trying again may fix, and gives back the last error instead of
raising it: the message is in the conversation either way, and the channel logs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

#: how many times a message is tried, and the first wait between tries (then doubled)
ATTEMPTS = 4
FIRST_WAIT = 0.5


class PlatformError(Exception):
    """A platform's API refused a request (HTTP `status`); `transient` when trying again may
    help (a 429 or a 5xx)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status
        self.transient = status == 429 or status >= 500


def transient(error: BaseException) -> bool:
    """Whether `error`, raised by a request to a platform through httpx, may pass."""
    if isinstance(error, PlatformError):
        return error.transient
    return isinstance(error, httpx.TransportError)


async def delivered(
    send: Callable[[], Awaitable[object]],
    transient: Callable[[BaseException], bool],
    failures: tuple[type[BaseException], ...],
    attempts: int = ATTEMPTS,
    first_wait: float = FIRST_WAIT,
) -> BaseException | None:
    """Await `send()` until it succeeds, again after a `transient` failure, up to `attempts`
    times; None when it went, else the last of the `failures` it raised."""
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=first_wait, max=30 * first_wait),
            retry=retry_if_exception(transient),
        ):
            with attempt:
                await send()
    except RetryError as error:
        last = error.last_attempt.exception()
        return last if last is not None else error
    except failures as error:
        return error
    return None
