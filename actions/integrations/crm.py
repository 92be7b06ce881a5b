"""Leads: kept in the project's database first, then synced to the business's CRM.

The local store (the table `assistant_leads`) is the source of truth: a lead is written
there before anything else, so a CRM that is down loses nothing. `sync_pending` pushes every lead not yet synced,
deduplicated by e-mail, to a HubSpot-compatible REST API (contacts batch upsert by e-mail).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, delete, insert, or_, select, update
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from actions.integrations.database import now, write_lock
from actions.integrations.tables import leads

logger = logging.getLogger(__name__)


class CRMError(Exception):
    pass


@dataclass
class Lead:
    email: str
    name: str = ""
    phone: str = ""
    message: str = ""
    source: str = "chat"
    sender_id: str = ""
    crm_id: str | None = None
    synced: bool = False
    #: whether the customer wants the marketing e-mails: None when not asked
    marketing: bool | None = None


class LeadStore:
    """The leads in the project's database, one per e-mail address (lower case)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, lead: Lead) -> bool:
        """Insert or update by e-mail (details given again replace the old ones, empty ones
        do not); True when the lead is new. The lead is marked for syncing either way."""
        at = now()
        email = lead.email.lower()
        with self.engine.begin() as db:
            write_lock(db, "assistant_leads")
            old = db.execute(select(leads).where(leads.c.email == email)).first()
            marketing = (
                {} if lead.marketing is None else {"marketing": lead.marketing, "marketing_at": at}
            )
            if old is None:
                db.execute(
                    insert(leads).values(
                        email=email,
                        name=lead.name,
                        phone=lead.phone,
                        message=lead.message,
                        source=lead.source,
                        sender_id=lead.sender_id,
                        synced=False,
                        created_at=at,
                        updated_at=at,
                        **marketing,
                    )
                )
                return True
            db.execute(
                update(leads)
                .where(leads.c.email == email)
                .values(
                    name=lead.name or old.name,
                    phone=lead.phone or old.phone,
                    message=lead.message or old.message,
                    sender_id=lead.sender_id or old.sender_id,
                    synced=False,
                    updated_at=at,
                    **marketing,
                )
            )
            return False

    def crm_ids(self, emails: list[str], sender_id: str) -> list[str]:
        """The CRM ids of the customer's synced leads (by any of their addresses, or their
        conversation)."""
        with self.engine.connect() as db:
            return [
                str(row.crm_id)
                for row in db.execute(
                    select(leads.c.crm_id).where(
                        _of(emails, sender_id), leads.c.crm_id.is_not(None)
                    )
                )
            ]

    def forget(self, emails: list[str], sender_id: str) -> int:
        """Delete the customer's leads; how many."""
        with self.engine.begin() as db:
            write_lock(db, "assistant_leads")
            return int(db.execute(delete(leads).where(_of(emails, sender_id))).rowcount or 0)

    def marketing_list(self) -> list[Lead]:
        """The leads who said yes to the marketing e-mails (and not no since)."""
        return self._select(leads.c.marketing.is_(True), order=leads.c.created_at)

    def unsynced(self) -> list[Lead]:
        return self._select(leads.c.synced.is_(False), order=leads.c.updated_at)

    def all(self) -> list[Lead]:
        return self._select(None, order=leads.c.created_at)

    def mark_synced(self, email: str, crm_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(leads)
                .where(leads.c.email == email.lower())
                .values(synced=True, crm_id=crm_id)
            )

    def _select(self, where: Any, order: Any) -> list[Lead]:
        query = select(leads).order_by(order)
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as db:
            return [
                Lead(
                    row.email,
                    row.name,
                    row.phone,
                    row.message,
                    row.source,
                    row.sender_id,
                    row.crm_id,
                    row.synced,
                    row.marketing,
                )
                for row in db.execute(query)
            ]


def _of(emails: list[str], sender_id: str) -> Any:
    return or_(
        leads.c.email.in_([email.lower() for email in emails if email]),
        leads.c.sender_id == sender_id,
    )


#: contacts per batch call (HubSpot's limit is 100)
BATCH = 100
#: the longest `Retry-After` waited for before the leads are left for the next sync
MAX_RETRY_AFTER = 10.0
#: tries of one call that HubSpot answers 429 (too many requests)
RATE_LIMIT_TRIES = 3


class RateLimited(CRMError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    return error.retry_after if isinstance(error, RateLimited) else 1.0


class HubSpotClient:
    """The contacts and list memberships of HubSpot's CRM API v3 (and of compatible servers).
    Contacts are upserted by e-mail in batches (one call, no search-then-create race); a
    429 is waited out as its `Retry-After` says. With `marketing_list`, a lead who said yes
    is added to that list, one who said no is taken off it."""

    def __init__(
        self, url: str, token: str, timeout: float = 10.0, marketing_list: str | None = None
    ) -> None:
        self.marketing_list = marketing_list
        self.client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def _call(self, method: str, path: str, body: Any) -> dict[str, Any]:
        for attempt in Retrying(
            retry=retry_if_exception_type(RateLimited),
            wait=_retry_after,
            stop=stop_after_attempt(RATE_LIMIT_TRIES),
            reraise=True,
        ):
            with attempt:
                return self._call_once(method, path, body)
        raise AssertionError("unreachable: tenacity returns or raises")

    def _call_once(self, method: str, path: str, body: Any) -> dict[str, Any]:
        try:
            reply = self.client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise CRMError(f"the CRM cannot be reached: {error}") from error
        if reply.status_code == 429:
            wait = _seconds(reply.headers.get("Retry-After"))
            if wait > MAX_RETRY_AFTER:
                raise CRMError(f"the CRM asks to wait {wait:.0f} s (429): the leads wait")
            logger.warning("the CRM asks to slow down (429): waiting %.1f s", wait)
            raise RateLimited("the CRM answered 429 (too many requests)", wait)
        if reply.status_code >= 400:
            raise CRMError(f"the CRM answered {reply.status_code}: {reply.text[:200]}")
        result: dict[str, Any] = reply.json() if reply.content else {}
        return result

    def sync(self, leads: list[Lead]) -> dict[str, str]:
        """Create or update the contacts (by e-mail), then their marketing-list
        memberships; each lead's e-mail -> its contact id."""
        ids: dict[str, str] = {}
        for first in range(0, len(leads), BATCH):
            ids.update(self.upsert(leads[first : first + BATCH]))
        if self.marketing_list:
            for change, wanted in (("add", True), ("remove", False)):
                members = [ids[lead.email.lower()] for lead in leads if lead.marketing is wanted]
                if members:
                    path = f"/crm/v3/lists/{self.marketing_list}/memberships/{change}"
                    self._call("PUT", path, members)
        return ids

    def gdpr_delete(self, contact_id: str) -> None:
        """HubSpot's permanent, GDPR-compliant deletion of a contact and its content (by
        id: by e-mail, an unknown address would be blocklisted)."""
        self._call("POST", "/crm/v3/objects/contacts/gdpr-delete", {"objectId": contact_id})

    def upsert(self, leads: list[Lead]) -> dict[str, str]:
        """One batch upsert by e-mail; the new contacts then get their lead status (an
        existing contact's lifecycle stage is never moved back). E-mail -> contact id."""
        inputs = []
        for lead in leads:
            first, _, last = lead.name.partition(" ")
            properties = {"email": lead.email, "firstname": first, "lastname": last}
            if lead.phone:
                properties["phone"] = lead.phone
            inputs.append({"idProperty": "email", "id": lead.email, "properties": properties})
        done = self._call("POST", "/crm/v3/objects/contacts/batch/upsert", {"inputs": inputs})
        ids: dict[str, str] = {}
        new: list[str] = []
        for result in done.get("results") or []:
            email = str((result.get("properties") or {}).get("email") or "").lower()
            ids[email] = str(result["id"])
            if result.get("new"):
                new.append(str(result["id"]))
        missing = [lead.email for lead in leads if lead.email.lower() not in ids]
        if missing:
            raise CRMError(f"the CRM did not return the contacts of {', '.join(missing)}")
        if new:
            status = {"hs_lead_status": "NEW", "lifecyclestage": "lead"}
            self._call(
                "POST",
                "/crm/v3/objects/contacts/batch/update",
                {"inputs": [{"id": contact, "properties": status} for contact in new]},
            )
        return ids


def _seconds(value: str | None) -> float:
    """`Retry-After` in seconds (HubSpot sends seconds; an HTTP date is read as 1 s)."""
    try:
        return max(0.0, float(value or 1))
    except ValueError:
        return 1.0


def crm_from_settings(settings: dict[str, Any] | None) -> HubSpotClient | None:
    if not settings or str(settings.get("type") or "").lower() in ("", "none", "local"):
        return None
    if str(settings["type"]).lower() != "hubspot":
        raise CRMError(f"unknown crm type '{settings['type']}' in business.yml (hubspot)")
    token = str(settings.get("token") or "")
    if not token:
        return None
    marketing_list = settings.get("marketing_list")
    return HubSpotClient(
        str(settings.get("url") or "https://api.hubapi.com"),
        token,
        float(settings.get("timeout") or 10),
        str(marketing_list) if marketing_list else None,
    )


def sync_pending(store: LeadStore, crm: HubSpotClient | None) -> int:
    """Push every unsynced lead; stop at the first failure (the CRM is down) and keep the
    rest for the next time. The number synced."""
    if crm is None:
        return 0
    waiting = store.unsynced()
    if not waiting:
        return 0
    try:
        ids = crm.sync(waiting)
    except CRMError as error:
        logger.warning("CRM sync stopped, %d lead(s) wait: %s", len(waiting), error)
        return 0
    for lead in waiting:
        store.mark_synced(lead.email, ids[lead.email.lower()])
    return len(waiting)
