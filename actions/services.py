"""What the actions reach outside the conversation: the clock, the project folder, the
calendar, the outbox and the mailer, each as `business.yml` configures it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from actions.business import Business
from actions.integrations.calendar import Calendar, calendar_from_settings
from actions.integrations.email import Mailer, compose
from actions.integrations.outbox import Outbox
from parlez.project import project_folder


def now() -> dt.datetime:
    """The current time (tests set `PARLEZ_NOW` to an ISO time to fix it)."""
    fixed = os.environ.get("PARLEZ_NOW")
    return dt.datetime.fromisoformat(fixed) if fixed else dt.datetime.now(dt.UTC)


def project() -> Path:
    """The project being served: where the outbox, the local calendar and mail live."""
    return project_folder()


def calendar(settings: Business) -> Calendar:
    return calendar_from_settings(settings.booking.calendar, project())


def outbox() -> Outbox:
    return Outbox(project() / "outbox.db")


def mailer(settings: Business) -> Mailer:
    folder = Path(str(settings.email.get("folder") or "mail"))
    return Mailer(settings.email, outbox(), folder if folder.is_absolute() else project() / folder)


def send_email(
    settings: Business, to: str, subject: str, text: str, page: str | None = None
) -> bool:
    """From the business's address (`email.from`): sent now, or kept in the outbox until it
    can be; False when it had to wait."""
    sender = settings.email.get("from") or settings.contact.email or "assistant@localhost"
    return mailer(settings).send(compose(sender, to, subject, text, page))
