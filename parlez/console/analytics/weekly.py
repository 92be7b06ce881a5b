"""The weekly e-mail report: last week's headline figures and what changed since the week
before, sent to the owners when analytics.yml asks for it (`weekly_report:`).

Every server process checks now and then whether a report is due; the first to write the
week into `console_weekly_reports` sends it, so several processes send it once. A report
that could not be sent is given back and tried again at the next check.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from parlez.console.analytics.config import AnalyticsConfig, WeeklyReport
from parlez.console.analytics.report import Report, ReportFilters, build_report
from parlez.console.database import ConsoleDatabase
from parlez.console.index import ConversationIndex
from parlez.console.mail import MailError, email_settings, send_mail, sender_of
from parlez.console.models import weekly_reports
from parlez.console.pages import pages
from parlez.console.roles import Role
from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)

#: how often a server checks whether a report is due
CHECK_SECONDS = 600.0

#: the plain-text part: what a customer wrote goes into it as written
texts = Environment(
    loader=PackageLoader("parlez.console", "templates"), autoescape=False, trim_blocks=True
)


@dataclass(frozen=True)
class Week:
    """Monday to Sunday, both included."""

    since: date

    @property
    def until(self) -> date:
        return self.since + timedelta(days=6)

    @property
    def before(self) -> Week:
        return Week(self.since - timedelta(days=7))


def due_week(now: datetime, weekly: WeeklyReport) -> Week:
    """The week whose report is due at `now` (in the reports' zone): the Monday-to-Sunday
    week before the latest sending time that has passed."""
    monday = now.date() - timedelta(days=now.weekday())
    sending = datetime.combine(monday + timedelta(days=weekly.day), datetime.min.time(), now.tzinfo)
    sending += timedelta(hours=weekly.hour)
    if now < sending:
        sending -= timedelta(days=7)
    return Week(sending.date() - timedelta(days=sending.weekday()) - timedelta(days=7))


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    #: the change since the week before, in words ("+12 %", "-3 points"); "" when none
    change: str = ""


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _points(now: float | None, then: float | None) -> str:
    if now is None or then is None:
        return ""
    change = round(100 * (now - then))
    return "no change" if change == 0 else f"{change:+d} points"


def _relative(now: float, then: float) -> str:
    if not then:
        return ""
    change = round(100 * (now - then) / then)
    return "no change" if change == 0 else f"{change:+d} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def headline(this: Report, before: Report) -> list[Figure]:
    """The figures the report leads with, each with its change since the week before."""
    figures = [
        Figure(
            "Conversations",
            str(this.conversations),
            _relative(this.conversations, before.conversations),
        ),
        Figure(
            "Resolved without a person",
            _percent(this.resolution_rate),
            _points(this.resolution_rate, before.resolution_rate),
        ),
        Figure(
            "Handed over to a person",
            _percent(this.handoff_rate),
            _points(this.handoff_rate, before.handoff_rate),
        ),
        Figure(
            "Customer satisfaction",
            "—" if this.csat is None else f"{this.csat:.2f} of 5 ({this.rated} rated)",
            "" if this.csat is None or before.csat is None else f"{this.csat - before.csat:+.2f}",
        ),
        Figure(
            "First response by a person",
            _duration(this.first_response_seconds),
        ),
    ]
    for name in sorted(set(this.outcomes) | set(before.outcomes)):
        now, then = this.outcomes.get(name, 0), before.outcomes.get(name, 0)
        figures.append(Figure(name.replace("_", " ").capitalize(), str(now), _relative(now, then)))
    if this.outcomes or before.outcomes:
        figures.append(
            Figure(
                "Converted",
                _percent(this.conversion_rate),
                _points(this.conversion_rate, before.conversion_rate),
            )
        )
    return figures


def compose(
    business: str, week: Week, this: Report, before: Report, sender: str, to: list[str]
) -> EmailMessage:
    figures = headline(this, before)
    values = {
        "business": business,
        "week": week,
        "figures": figures,
        "unanswered": this.unanswered[:5],
        "report": this,
    }
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="parlez.local")
    message["Subject"] = (
        f"{business}: {this.conversations} conversations, "
        f"{_percent(this.resolution_rate)} resolved without a person "
        f"(week of {week.since:%d %b %Y})"
    )
    message.set_content(texts.get_template("email/weekly.txt").render(**values))
    message.add_alternative(
        pages.get_template("email/weekly.html").render(**values), subtype="html"
    )
    return message


class WeeklyReporter:
    """Sends the weekly report when it is due, once across the server's processes."""

    def __init__(
        self,
        index: ConversationIndex,
        database: ConsoleDatabase,
        project: Path,
        business: Any,
    ) -> None:
        self.index = index
        self.database = database
        self.project = project
        #: reads business.yml (its name and `email:` settings), ${VAR} and secrets opened
        self.business = business

    @property
    def config(self) -> AnalyticsConfig:
        return self.index.analytics

    async def message(self, week: Week) -> EmailMessage:
        """The report of `week`, addressed to analytics.yml's `to` or the owners."""
        await self.index.catch_up_reports(None)
        zone = self.config.zone
        async with self.index.engine.connect() as connection:
            this = await build_report(connection, ReportFilters(week.since, week.until), zone)
            before = await build_report(
                connection, ReportFilters(week.before.since, week.before.until), zone
            )
        settings = self.business()
        weekly = self.config.weekly_report or WeeklyReport()
        to = list(weekly.to) or [
            u.email for u in await self.database.users() if u.role == Role.OWNER
        ]
        name = str(settings.get("name") or "parlez")
        return compose(name, week, this, before, sender_of(email_settings(settings)), to)

    async def send(self, week: Week) -> None:
        message = await self.message(week)
        if not message["To"]:
            raise MailError(
                "nobody to send the weekly report to",
                hint="add 'to:' to weekly_report in analytics.yml, or a console owner",
            )
        email = email_settings(self.business())
        await asyncio.to_thread(send_mail, email, self.project / "mail", message)
        logger.info("the weekly report of %s went to %s", week.since, message["To"])

    async def tick(self, now: datetime) -> bool:
        """Send the report that is due at `now` unless a process sent it already; True when
        this call sent it."""
        weekly = self.config.weekly_report
        if weekly is None:
            return False
        week = due_week(now.astimezone(self.config.zone), weekly)
        await self.database.upgrade()
        try:
            async with self.database.engine.begin() as connection:
                await connection.execute(
                    insert(weekly_reports).values(
                        week=week.since.isoformat(), sent_at=now.timestamp()
                    )
                )
        except IntegrityError:
            return False  # sent already, by this process or another
        try:
            await self.send(week)
        except (ParlezError, OSError) as error:
            logger.error(
                "the weekly report of %s was not sent (retried later): %s", week.since, error
            )
            async with self.database.engine.begin() as connection:
                await connection.execute(
                    delete(weekly_reports).where(weekly_reports.c.week == week.since.isoformat())
                )
            return False
        return True

    async def keep_sending(self) -> None:
        """Check every CHECK_SECONDS while the server runs."""
        while True:
            try:
                await self.tick(datetime.now(self.config.zone))
            except Exception:  # the next check tries again; the server goes on
                logger.exception("checking for a weekly report failed")
            await asyncio.sleep(CHECK_SECONDS)
