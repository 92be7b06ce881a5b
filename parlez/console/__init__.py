"""The business's console at `/console/`: accounts and roles, and the inbox where a person
reads every conversation and takes one over.

It reads conversations through the agent and changes them only through it (`pause`,
`resume`, a `bot` event sent by a person), never by writing rows behind the tracker
store's back. Its own tables (users, sessions, the audit log, who holds which conversation)
live in the conversations' database, migrated with Alembic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sanic import Blueprint


def blueprint() -> Blueprint:
    """The console's routes, from every module that adds some."""
    from parlez.console import (  # noqa: F401  (each adds its routes)
        account,
        business_routes,
        contact_routes,
        follow_up_routes,
        knowledge_pages_routes,
        knowledge_routes,
        model_routes,
        presence_routes,
        response_routes,
        review_routes,
        routes,
        settings_routes,
        signin,
        team_routes,
    )
    from parlez.console.analytics import experiment_routes  # noqa: F401
    from parlez.console.analytics import routes as analytics_routes  # noqa: F401
    from parlez.console.pages import console

    return console
