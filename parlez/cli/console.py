"""`parlez console add-user EMAIL --role ROLE`: accounts for the console at /console/; `parlez
console secret-key`: the key that seals the secrets saved in the console; `parlez console
weekly-report`: last week's figures, printed or e-mailed; `parlez console forget-customer`:
a customer's right to be forgotten."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from parlez.cli.commands import help_of
from parlez.console.roles import Role
from parlez.endpoints import Endpoints

if TYPE_CHECKING:
    from parlez.console.database import ConsoleDatabase

# The console's database (argon2, Alembic, SQLAlchemy) is imported by the commands that use
# it, so that `parlez console --help` answers at once.

PASSWORD_ENV = "PARLEZ_CONSOLE_PASSWORD"


def _database(args: argparse.Namespace) -> ConsoleDatabase:
    """The console's tables where `parlez run` keeps them for this project."""
    from parlez.server.run import console_database  # the server's modules load only here
    from parlez.stores.factory import tracker_store_from_endpoint

    project = Path(args.project)
    endpoints = Endpoints.load(
        Path(args.endpoints) if args.endpoints else project / "endpoints.yml"
    )
    store = tracker_store_from_endpoint(endpoints.tracker_store, (), project)
    return console_database(store, project)


def _password() -> str:
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    first = getpass.getpass("Password (8 characters at least): ")
    if getpass.getpass("The same password again: ") != first:
        from parlez.console.database import ConsoleUserError

        raise ConsoleUserError("the two passwords differ")
    return first


def run_add_user(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    password = _password()

    async def add() -> None:
        database = _database(args)
        try:
            await database.add_user(args.email, password, Role(args.role), args.name or "")
        finally:
            await database.close()

    asyncio.run(add())
    console.print(f"Added {args.email} ({args.role}): sign in at /console/ of `parlez run`.")
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    """The console's tables brought to this version's schema, before the servers start (a
    deployment's migration job); `parlez run` does it too when it starts."""

    async def migrate() -> None:
        database = _database(args)
        try:
            await database.upgrade()
        finally:
            await database.close()

    asyncio.run(migrate())
    Console(highlight=False).print("The console's tables are up to date.")
    return 0


def run_secret_key(args: argparse.Namespace) -> int:
    """A new key for the secrets the console seals in the project's files."""
    from parlez.io.secrets import KEY_ENV, new_key

    print(new_key())
    print(
        f"Keep it where parlez runs, as {KEY_ENV} (a secret store, not the project's git): "
        "the secrets sealed with it cannot be read without it.",
        file=sys.stderr,
    )
    return 0


def run_weekly_report(args: argparse.Namespace) -> int:
    """Print last week's report (as the weekly e-mail has it), or send it (`--send`)."""
    from datetime import date, datetime

    from parlez.console.analytics.config import WeeklyReport, configured
    from parlez.console.analytics.weekly import Week, WeeklyReporter, due_week
    from parlez.console.business import read_business
    from parlez.console.index import ConversationIndex
    from parlez.server.run import console_database
    from parlez.stores.factory import tracker_store_from_endpoint

    project = Path(args.project)
    endpoints = Endpoints.load(
        Path(args.endpoints) if args.endpoints else project / "endpoints.yml"
    )
    config, problem = configured(project)
    if problem is not None:
        raise problem
    if args.week:
        given = date.fromisoformat(args.week)
        week = Week(given - timedelta(days=given.weekday()))
    else:
        week = due_week(datetime.now(config.zone), config.weekly_report or WeeklyReport())

    async def report() -> str:
        store = tracker_store_from_endpoint(endpoints.tracker_store, (), project)
        database = console_database(store, project)
        reporter = WeeklyReporter(
            ConversationIndex(store, database, config),
            database,
            project,
            lambda: read_business(project),
        )
        try:
            await database.upgrade()
            if args.send:
                await reporter.send(week)
                return f"Sent the report of the week of {week.since}."
            message = await reporter.message(week)
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            return f"Subject: {message['Subject']}\nTo: {message['To']}\n\n{text}"
        finally:
            await store.close()
            await database.close()

    print(asyncio.run(report()))
    return 0


def run_forget_customer(args: argparse.Namespace) -> int:
    """Forget a customer for good (their right to be forgotten), found by their number in
    the console, an e-mail address or a phone number."""
    from parlez.agent import custom_executor
    from parlez.console.analytics.config import configured
    from parlez.console.contacts import ContactBook
    from parlez.console.forget import ForgetError, assistant_forgetting, forget_customer
    from parlez.console.index import ConversationIndex
    from parlez.console.marketing import MarketingConfig
    from parlez.project import Project
    from parlez.server.run import console_database
    from parlez.stores.factory import tracker_store_from_endpoint

    console = Console(highlight=False)
    project = Path(args.project)
    endpoints = Endpoints.load(
        Path(args.endpoints) if args.endpoints else project / "endpoints.yml"
    )
    config, _ = configured(project)
    marketing = MarketingConfig.load(project, config.outcome_names)

    async def forget() -> int:
        store = tracker_store_from_endpoint(endpoints.tracker_store, (), project)
        database = console_database(store, project)
        try:
            await database.upgrade()
            index = ConversationIndex(store, database, config)
            await index.catch_up_reports(None)
            book = ContactBook(database.engine)
            contact = None
            if args.customer.isdigit():
                contact, _ = await book.find(int(args.customer))
            if contact is None:
                contact = await book.by_identifier(args.customer)
            if contact is None:
                console.print(f"No customer is known by '{args.customer}'.")
                return 1
            if not args.yes:
                answer = input(
                    f"Forget customer {contact.id} ({contact.conversations} conversations) "
                    "for good? Type yes: "
                )
                if answer.strip().lower() != "yes":
                    console.print("Nothing was forgotten.")
                    return 1
            # the assistant's own data first: its actions, as the server would run them
            files = Project(project)
            sys.path.insert(0, str(project.resolve()))  # the project's `actions` package
            executor = custom_executor(endpoints)
            before = (
                assistant_forgetting(store, executor, files.domain)
                if files.has_domain and executor is not None
                else None
            )
            try:
                done = await forget_customer(
                    index, contact.id, store.replace, marketing.audience, before
                )
            except ForgetError as error:
                console.print(f"{error.code} {error.message}\n  hint: {error.hint}")
                return 1
            assert done is not None
            await database.record_as(
                "parlez console forget-customer",
                "forget_customer",
                f"customer {done.contact_id}",
                f"{done.conversations} conversations",
            )
            console.print(
                f"Forgot customer {done.contact_id} and {done.conversations} conversations."
            )
            if done.platform_problem:
                console.print(
                    "The e-mail platform did not delete the member: do it by hand "
                    f"({done.platform_problem})."
                )
            return 0
        finally:
            if marketing.audience is not None:
                await marketing.audience.aclose()
            await store.close()
            await database.close()

    return asyncio.run(forget())


def register(commands: Any) -> None:
    parser = commands.add_parser("console", help=help_of("console"))
    sub = parser.add_subparsers(dest="console_what", metavar="WHAT")
    add = sub.add_parser("add-user", help="add a console user (the password is asked for)")
    add.add_argument("email")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.AGENT.value)
    add.add_argument(
        "--name", default=None, help="the name colleagues see (default: from the e-mail)"
    )
    add.add_argument("--project", default=".", help="project folder (default: here)")
    add.add_argument("--endpoints", default=None, help="endpoints.yml (default: the project's)")
    add.set_defaults(handler=run_add_user)
    migrate = sub.add_parser(
        "migrate", help="bring the console's tables up to date (a deployment's migration job)"
    )
    migrate.add_argument("--project", default=".", help="project folder (default: here)")
    migrate.add_argument("--endpoints", default=None, help="endpoints.yml (default: the project's)")
    migrate.set_defaults(handler=run_migrate)
    key = sub.add_parser(
        "secret-key",
        help="print a new PARLEZ_SECRET_KEY, which seals the secrets saved in the console",
    )
    key.set_defaults(handler=run_secret_key)
    weekly = sub.add_parser(
        "weekly-report",
        help="print last week's report, as the weekly e-mail has it (--send: e-mail it)",
    )
    weekly.add_argument("--week", default=None, help="a day of the week to report (YYYY-MM-DD)")
    weekly.add_argument("--send", action="store_true", help="e-mail it to the owners (or `to:`)")
    weekly.add_argument("--project", default=".", help="project folder (default: here)")
    weekly.add_argument("--endpoints", default=None, help="endpoints.yml (default: the project's)")
    weekly.set_defaults(handler=run_weekly_report)
    forget = sub.add_parser(
        "forget-customer",
        help="forget a customer for good: their conversations and what the console keeps",
    )
    forget.add_argument("customer", help="their number in the console, e-mail address or phone")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.add_argument("--project", default=".", help="project folder (default: here)")
    forget.add_argument("--endpoints", default=None, help="endpoints.yml (default: the project's)")
    forget.set_defaults(handler=run_forget_customer)
