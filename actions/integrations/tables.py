"""The assistant's own tables, beside the conversations in the project's database. Times
are seconds since the epoch (UTC), as in the console's tables: one type that orders the
same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

#: one row per e-mail address (lower case): the source of truth, synced to the CRM
leads = Table(
    "assistant_leads",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("name", Text, nullable=False, server_default=""),
    Column("phone", String(64), nullable=False, server_default=""),
    Column("message", Text, nullable=False, server_default=""),
    Column("source", String(64), nullable=False, server_default=""),
    Column("sender_id", String(255), nullable=False, server_default=""),
    Column("crm_id", String(64)),
    Column("synced", Boolean, nullable=False, server_default=false(), index=True),
    #: the answer to the marketing e-mails' question and when it was given (None: not asked)
    Column("marketing", Boolean),
    Column("marketing_at", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

#: the local calendar's appointments (a cancelled one is kept, marked so)
appointments = Table(
    "assistant_appointments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("service", String(255), nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False),
    Column("customer_name", Text, nullable=False, server_default=""),
    Column("email", String(320), nullable=False, server_default=""),
    Column("phone", String(64), nullable=False, server_default=""),
    Column("status", String(16), nullable=False, server_default="booked"),
    Column("created_at", Float, nullable=False),
    Index("assistant_appointments_starts_at", "starts_at"),
)

#: work that waits for a service that was down: bookings, moves, e-mails
outbox = Table(
    "assistant_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
    Column("done", Boolean, nullable=False, server_default=false()),
    #: while a retry holds it: no other process takes it before then
    Column("claimed_until", Float),
    Column("attempts", Integer, nullable=False, server_default=false()),
    Index("assistant_outbox_waiting", "kind", "done"),
    sqlite_autoincrement=True,
)
