"""What the actions reach outside the conversation: the clock, the project folder, the
calendar, the outbox and the mailer, each as `business.yml` configures it."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from actions.business import Business
from actions.integrations.calendar import Calendar, calendar_from_settings
from actions.integrations.crm import LeadStore
from actions.integrations.database import database
from actions.integrations.email import EmailTemplateError, Mailer, compose, render
from actions.integrations.outbox import Outbox
from parlez.project import project_folder

logger = logging.getLogger(__name__)


def now() -> dt.datetime:
    """The current time (tests set `PARLEZ_NOW` to an ISO time to fix it)."""
    fixed = os.environ.get("PARLEZ_NOW")
    return dt.datetime.fromisoformat(fixed) if fixed else dt.datetime.now(dt.UTC)


def project() -> Path:
    """The project being served: its database holds the outbox, the leads and the local
    calendar; its folders the mail written to files."""
    return project_folder()


def calendar(settings: Business) -> Calendar:
    return calendar_from_settings(settings.booking.calendar, project())


def outbox() -> Outbox:
    return Outbox(database(project()))


def lead_store() -> LeadStore:
    return LeadStore(database(project()))


def mailer(settings: Business) -> Mailer:
    folder = Path(str(settings.email.get("folder") or "mail"))
    return Mailer(settings.email, outbox(), folder if folder.is_absolute() else project() / folder)


def send_template(
    settings: Business,
    to: str,
    subject: str,
    template: str,
    values: dict[str, Any],
    language: str = "en",
) -> bool:
    """The e-mail of `template` (actions/templates/) with `values`, sent as `send_email`
    sends. A template that cannot be filled (a placeholder misspelt in an edited template)
    is logged and nothing is sent: the conversation goes on."""
    try:
        text, page = render(template, values, language)
    except EmailTemplateError as error:
        logger.error("the e-mail '%s' to %s is not sent: %s", subject, to, error)
        return False
    return send_email(settings, to, subject, text, page)


def send_email(
    settings: Business, to: str, subject: str, text: str, page: str | None = None
) -> bool:
    """From the business's address (`email.from`): sent now, or kept in the outbox until it
    can be; False when it had to wait."""
    sender = settings.email.get("from") or settings.contact.email or "assistant@localhost"
    return mailer(settings).send(compose(sender, to, subject, text, page))
