"""Leads: kept in the assistant's own database first, then synced to the business's CRM.

The local store (`leads.db`) is the source of truth: a lead is written there before anything
else, so a CRM that is down loses nothing. `sync_pending` pushes every lead not yet synced,
deduplicated by e-mail, to a HubSpot-compatible REST API (contacts search, create, update).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(
                """CREATE TABLE IF NOT EXISTS leads (
                    email TEXT PRIMARY KEY, name TEXT, phone TEXT, message TEXT,
                    source TEXT, sender_id TEXT, crm_id TEXT, synced INTEGER NOT NULL DEFAULT 0,
                    created TEXT NOT NULL, updated TEXT NOT NULL)"""
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(leads)")}
            if "marketing" not in columns:  # leads.db files from before the opt-in
                # The answer and when it was given: consent must be shown if asked.
                db.execute("ALTER TABLE leads ADD COLUMN marketing INTEGER")
                db.execute("ALTER TABLE leads ADD COLUMN marketing_at TEXT")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def save(self, lead: Lead) -> bool:
        """Insert or update by e-mail (details given again replace the old ones, empty ones
        do not); True when the lead is new. The lead is marked for syncing either way."""
        now = dt.datetime.now(dt.UTC).isoformat()
        email = lead.email.lower()
        with self._connect() as db:
            old = db.execute("SELECT * FROM leads WHERE email = ?", (email,)).fetchone()
            if old is None:
                db.execute(
                    "INSERT INTO leads (email, name, phone, message, source, sender_id, synced, "
                    "created, updated) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (
                        email,
                        lead.name,
                        lead.phone,
                        lead.message,
                        lead.source,
                        lead.sender_id,
                        now,
                        now,
                    ),
                )
                self._set_marketing(db, email, lead.marketing, now)
                return True
            db.execute(
                "UPDATE leads SET name = ?, phone = ?, message = ?, sender_id = ?, synced = 0, "
                "updated = ? WHERE email = ?",
                (
                    lead.name or old["name"],
                    lead.phone or old["phone"],
                    lead.message or old["message"],
                    lead.sender_id or old["sender_id"],
                    now,
                    email,
                ),
            )
            self._set_marketing(db, email, lead.marketing, now)
            return False

    @staticmethod
    def _set_marketing(db: sqlite3.Connection, email: str, wanted: bool | None, now: str) -> None:
        if wanted is not None:
            db.execute(
                "UPDATE leads SET marketing = ?, marketing_at = ? WHERE email = ?",
                (int(wanted), now, email),
            )

    def marketing_list(self) -> list[Lead]:
        """The leads who said yes to the marketing e-mails (and not no since)."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM leads WHERE marketing = 1 ORDER BY created").fetchall()
        return [self._lead(r) for r in rows]

    def unsynced(self) -> list[Lead]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM leads WHERE synced = 0 ORDER BY updated").fetchall()
        return [self._lead(r) for r in rows]

    def all(self) -> list[Lead]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM leads ORDER BY created").fetchall()
        return [self._lead(r) for r in rows]

    def mark_synced(self, email: str, crm_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE leads SET synced = 1, crm_id = ? WHERE email = ?", (crm_id, email.lower())
            )

    @staticmethod
    def _lead(row: sqlite3.Row) -> Lead:
        return Lead(
            row["email"],
            row["name"] or "",
            row["phone"] or "",
            row["message"] or "",
            row["source"] or "",
            row["sender_id"] or "",
            row["crm_id"],
            bool(row["synced"]),
            None if row["marketing"] is None else bool(row["marketing"]),
        )


class HubSpotClient:
    """The contacts and list memberships of HubSpot's CRM API v3 (and of compatible servers).
    With `marketing_list`, a lead who said yes is added to that list, one who said no is
    taken off it."""

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
        try:
            reply = self.client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise CRMError(f"the CRM cannot be reached: {error}") from error
        if reply.status_code >= 400:
            raise CRMError(f"the CRM answered {reply.status_code}: {reply.text[:200]}")
        result: dict[str, Any] = reply.json()
        return result

    def sync(self, lead: Lead) -> str:
        """Create or update the contact, then its marketing-list membership; its id."""
        contact_id = self.upsert(lead)
        if self.marketing_list and lead.marketing is not None:
            change = "add" if lead.marketing else "remove"
            self._call(
                "PUT", f"/crm/v3/lists/{self.marketing_list}/memberships/{change}", [contact_id]
            )
        return contact_id

    def upsert(self, lead: Lead) -> str:
        """The contact's id after creating it, or updating the one with this e-mail."""
        first, _, last = lead.name.partition(" ")
        properties = {"email": lead.email, "firstname": first, "lastname": last}
        if lead.phone:
            properties["phone"] = lead.phone
        found = self._call(
            "POST",
            "/crm/v3/objects/contacts/search",
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "email", "operator": "EQ", "value": lead.email}]}
                ],
                "properties": ["email"],
                "limit": 1,
            },
        )
        if found.get("results"):
            contact_id = str(found["results"][0]["id"])
            self._call(
                "PATCH", f"/crm/v3/objects/contacts/{contact_id}", {"properties": properties}
            )
            return contact_id
        created = self._call(
            "POST",
            "/crm/v3/objects/contacts",
            {"properties": {**properties, "hs_lead_status": "NEW", "lifecyclestage": "lead"}},
        )
        return str(created["id"])


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
    synced = 0
    for lead in store.unsynced():
        try:
            store.mark_synced(lead.email, crm.sync(lead))
        except CRMError as error:
            logger.warning("CRM sync stopped, %d lead(s) wait: %s", len(store.unsynced()), error)
            break
        synced += 1
    return synced
