"""Alembic's environment for the assistant's tables: it runs on the connection it is handed,
with a version table of its own beside the console's. This folder is not a Python package, so
that rasa_sdk, which imports every module of `actions`, leaves it to Alembic."""

from __future__ import annotations

from alembic import context

from actions.integrations.tables import metadata

VERSION_TABLE = "assistant_alembic_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
