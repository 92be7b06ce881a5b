"""Phone calls in the reports: each conversation's calls, their seconds, the calls nobody
from the team took part in, transfers, silences and fallbacks during calls, and the
speech-recognition confidence of what customers said. Rows counted before are left at 0:
they had no calls.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COUNTS = ("calls", "contained_calls", "transfers", "no_inputs", "no_matches", "heard")
SUMS = ("call_seconds", "heard_confidence")


def upgrade() -> None:
    with op.batch_alter_table("console_analytics_conversations") as table:
        for name in COUNTS:
            table.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
        for name in SUMS:
            table.add_column(sa.Column(name, sa.Float, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("console_analytics_conversations") as table:
        for name in (*COUNTS, *SUMS):
            table.drop_column(name)
