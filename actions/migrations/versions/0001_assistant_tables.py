"""Leads, the local calendar and the outbox, moved from their own SQLite files (leads.db,
calendar.db, outbox.db) into the project's database.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assistant_leads",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("phone", sa.String(64), nullable=False, server_default=""),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("source", sa.String(64), nullable=False, server_default=""),
        sa.Column("sender_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("crm_id", sa.String(64)),
        sa.Column("synced", sa.Boolean, nullable=False, server_default=sa.false(), index=True),
        sa.Column("marketing", sa.Boolean),
        sa.Column("marketing_at", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "assistant_appointments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("starts_at", sa.Float, nullable=False),
        sa.Column("ends_at", sa.Float, nullable=False),
        sa.Column("customer_name", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.String(320), nullable=False, server_default=""),
        sa.Column("phone", sa.String(64), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="booked"),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("assistant_appointments_starts_at", "assistant_appointments", ["starts_at"])
    op.create_table(
        "assistant_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("claimed_until", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sqlite_autoincrement=True,
    )
    op.create_index("assistant_outbox_waiting", "assistant_outbox", ["kind", "done"])


def downgrade() -> None:
    for table in ("assistant_outbox", "assistant_appointments", "assistant_leads"):
        op.drop_table(table)
