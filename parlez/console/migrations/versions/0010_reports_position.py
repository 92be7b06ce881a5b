"""The reports' rows follow the conversations from a position of their own (row 2 of the
index's positions), so that the inbox can follow every message without rewriting them.
Until now they were written with the inbox's rows: they start where the inbox is.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO console_index_position (id, history, position) "
        "SELECT 2, history, position FROM console_index_position WHERE id = 1"
    )


def downgrade() -> None:
    op.execute("DELETE FROM console_index_position WHERE id = 2")
