"""Contacts: one customer across channels, their marketing consent, their identifiers and
conversations, and the merges (with what each moved, for undo). Filled from the
conversations by the index: the reports' position goes back to the start of the store once,
so that every conversation is linked to its contact.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_contacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False, index=True),
        sa.Column("merged_into", sa.Integer, index=True),
        sa.Column("consent", sa.Boolean),
        sa.Column("consent_at", sa.Float),
        sa.Column("consent_wording", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "console_contact_identifiers",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(255), primary_key=True),
        sa.Column("contact_id", sa.Integer, nullable=False, index=True),
    )
    op.create_table(
        "console_contact_conversations",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("contact_id", sa.Integer, nullable=False, index=True),
    )
    op.create_table(
        "console_contact_merges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("by", sa.String(255), nullable=False, server_default=""),
        sa.Column("kept", sa.Integer, nullable=False, index=True),
        sa.Column("merged", sa.Integer, nullable=False, index=True),
        sa.Column("identifiers", sa.Text, nullable=False),
        sa.Column("conversations", sa.Text, nullable=False),
        sa.Column("undone_at", sa.Float),
    )
    # Counted again from the start (reports included): each conversation meets its contact.
    op.execute("UPDATE console_index_position SET history = '' WHERE id = 2")


def downgrade() -> None:
    for table in (
        "console_contact_merges",
        "console_contact_conversations",
        "console_contact_identifiers",
        "console_contacts",
    ):
        op.drop_table(table)
