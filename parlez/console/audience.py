"""The e-mail marketing platform's audience: the customers who answered the marketing
question, kept there with their status, name, language and tags.

`marketing.yml` names the platform. Mailchimp's Marketing API v3 is the one built in
(`MailchimpAudience`); another platform implements `Audience`. A member is written with
Mailchimp's idempotent upsert (`PUT /lists/{list}/members/{md5 of the address}`), so that
sending a member twice changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)

FILE = "marketing.yml"
AUDIENCE_KEYS = ("type", "api_key", "list_id", "url", "tags", "webhook_secret")
#: what may become a member's tags: the outcomes their conversations reached (booked, lead),
#: their conversations' labels (by hand and by rule), and the segments they are in
TAG_SOURCES = ("outcomes", "labels", "segments")
#: attempts at one call before the member waits for the next sync
ATTEMPTS = 4


class MarketingFileError(ParlezError):
    code = "P555"


class AudienceError(ParlezError):
    """The platform did not take a member (after retries): logged, tried again later."""

    code = "P556"


@dataclass(frozen=True)
class Member:
    """A customer as the audience holds them."""

    email: str
    subscribed: bool
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    language: str = ""
    tags: frozenset[str] = frozenset()
    #: when the customer gave the answer `subscribed` holds
    consent_at: float = 0.0

    @property
    def fingerprint(self) -> str:
        """What was sent: the same fingerprint, nothing to send again."""
        text = "\x1f".join(
            [
                self.email,
                str(self.subscribed),
                self.first_name,
                self.last_name,
                self.phone,
                self.language,
                repr(self.consent_at),
                *sorted(self.tags),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


class Audience(Protocol):
    async def upsert(
        self, member: Member, dropped_tags: frozenset[str], new_answer: bool = True
    ) -> None:
        """Add or update `member` with its tags, and take `dropped_tags` off it; its status
        only when the customer gave a `new_answer` since the platform last took them (an
        unsubscribe on the platform stands until the customer says yes again); raise
        AudienceError when the platform does not take it."""

    async def forget(self, email: str) -> None:
        """Delete the member for good (the customer asked to be forgotten); raise
        AudienceError when the platform does not take it."""

    async def aclose(self) -> None: ...


def subscriber_hash(email: str) -> str:
    """Mailchimp's id of a member: the MD5 of the address in lower case."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


class _TryAgain(Exception):
    def __init__(self, reply: httpx.Response | None, reason: str) -> None:
        super().__init__(reason)
        self.reply = reply
        self.reason = reason


def _wait(state: RetryCallState) -> float:
    """Mailchimp's `Retry-After` when it gives one, else 0.5 s, 1 s, 2 s."""
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, _TryAgain) and error.reply is not None:
        try:
            return min(30.0, float(error.reply.headers.get("retry-after", "")))
        except ValueError:
            pass
    return float(0.5 * 2 ** (state.attempt_number - 1))


class MailchimpAudience:
    """One Mailchimp audience (a list), through the Marketing API v3."""

    def __init__(self, api_key: str, list_id: str, url: str | None = None) -> None:
        if not url:
            # A key ends with its data centre: `...-us21` is https://us21.api.mailchimp.com.
            centre = api_key.rsplit("-", 1)[-1] if "-" in api_key else "us1"
            url = f"https://{centre}.api.mailchimp.com/3.0"
        self.list_id = list_id
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """Made when first needed, and again after `aclose` (a server started again)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.url, auth=("parlez", self._api_key), timeout=20.0
            )
        return self._client

    async def upsert(
        self, member: Member, dropped_tags: frozenset[str], new_answer: bool = True
    ) -> None:
        path = f"/lists/{self.list_id}/members/{subscriber_hash(member.email)}"
        status = "subscribed" if member.subscribed else "unsubscribed"
        body: dict[str, Any] = {
            "email_address": member.email,
            "status_if_new": status,
            "merge_fields": {
                "FNAME": member.first_name,
                "LNAME": member.last_name,
                "PHONE": member.phone,
            },
        }
        if new_answer:
            body["status"] = status
        if member.language:
            body["language"] = member.language
        reply = await self._call("PUT", path, body)
        if (
            new_answer
            and member.subscribed
            and reply.status_code == 400
            and _title(reply) == "Member In Compliance State"
        ):
            # Someone who unsubscribed from an e-mail can only come back by confirming it:
            # Mailchimp sends them the confirmation.
            body["status"] = "pending"
            reply = await self._call("PUT", path, body)
        _check(reply, member.email)
        tags = [{"name": t, "status": "active"} for t in sorted(member.tags)]
        tags += [{"name": t, "status": "inactive"} for t in sorted(dropped_tags - member.tags)]
        if tags:
            _check(await self._call("POST", f"{path}/tags", {"tags": tags}), member.email)

    async def forget(self, email: str) -> None:
        path = f"/lists/{self.list_id}/members/{subscriber_hash(email)}/actions/delete-permanent"
        reply = await self._call("POST", path, {})
        if reply.status_code != 404:  # never sent: nothing to delete
            _check(reply, email)

    async def _call(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(_TryAgain),
                stop=stop_after_attempt(ATTEMPTS),
                wait=_wait,
                reraise=True,
            ):
                with attempt:
                    try:
                        reply = await self.client.request(method, path, json=body)
                    except httpx.TransportError as error:
                        raise _TryAgain(None, f"{type(error).__name__}: {error}") from error
                    if reply.status_code == 429 or reply.status_code >= 500:
                        raise _TryAgain(reply, f"HTTP {reply.status_code} {_title(reply)}")
                    return reply
        except _TryAgain as error:
            raise AudienceError(
                f"Mailchimp did not answer {method} {path} after {ATTEMPTS} tries: {error.reason}"
            ) from error
        raise AssertionError("unreachable: tenacity returns or raises")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _title(reply: httpx.Response) -> str:
    try:
        found = reply.json()
    except ValueError:
        return ""
    return str(found.get("title") or "") if isinstance(found, dict) else ""


def _check(reply: httpx.Response, email: str) -> None:
    if reply.status_code < 300:
        return
    detail = ""
    try:
        found = reply.json()
        detail = f"{found.get('title', '')}: {found.get('detail', '')}"
    except (ValueError, AttributeError):
        detail = reply.text[:200]
    # The address is the customer's: the log names the member by Mailchimp's id only.
    raise AudienceError(
        f"Mailchimp refused the member {subscriber_hash(email)} (HTTP {reply.status_code}, "
        f"{detail})",
        hint="check marketing.yml's api_key and list_id, and the audience's merge fields",
    )


def split_name(name: str) -> tuple[str, str]:
    """First name, and the rest."""
    first, _, rest = name.strip().partition(" ")
    return first, rest.strip()


def tags_of(
    outcomes: Iterable[str], labels: Iterable[str], sources: Iterable[str]
) -> frozenset[str]:
    wanted = set(sources)
    found: set[str] = set()
    if "outcomes" in wanted:
        found.update(outcomes)
    if "labels" in wanted:
        found.update(labels)
    return frozenset(found)
