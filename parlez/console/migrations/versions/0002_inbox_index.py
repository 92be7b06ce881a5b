"""The inbox's index (what each conversation shows and is filtered on), labels, and the
messages' full-text search: FTS5 on SQLite, a GIN index on PostgreSQL.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_index",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False, server_default=""),
        sa.Column("customer", sa.String(255), nullable=False, server_default=""),
        sa.Column("language", sa.String(16), nullable=False, server_default=""),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_text", sa.Text, nullable=False, server_default=""),
        sa.Column("last_at", sa.Float, nullable=False, index=True),
    )
    op.create_table(
        "console_index_position",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("history", sa.String(255), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "console_labels",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("label", sa.String(64), primary_key=True, index=True),
    )
    if op.get_bind().dialect.name == "sqlite":
        # Accents folded, so "cafe" finds "café"; every language split on Unicode words.
        op.execute(
            "CREATE VIRTUAL TABLE console_search USING fts5("
            "sender_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.create_table(
            "console_search",
            sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
            sa.Column("sender_id", sa.String(255), nullable=False, index=True),
            sa.Column("body", sa.Text, nullable=False),
        )
        # 'simple': no stemming, the same for the four languages, as on SQLite.
        op.execute(
            "CREATE INDEX console_search_body ON console_search "
            "USING gin (to_tsvector('simple', body))"
        )


def downgrade() -> None:
    for table in ("console_search", "console_labels", "console_index_position", "console_index"):
        op.drop_table(table)
