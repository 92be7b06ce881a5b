"""Alembic's environment for the console's tables: it runs on the connection the console
hands it, and keeps its own version table beside any of the project's."""

from __future__ import annotations

from alembic import context

from parlez.console.database import VERSION_TABLE
from parlez.console.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
