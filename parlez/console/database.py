"""The console's data: users, sessions, the audit log and who holds which conversation, in
the conversations' SQL database (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from parlez.console.models import assignments, audit_log, labels, sessions, users
from parlez.console.roles import Role
from parlez.database import transaction_lock
from parlez.exceptions import ParlezError
from parlez.stores.engine import make_engine, with_retries

MIGRATIONS = Path(__file__).parent / "migrations"
#: Alembic's version table for the console's tables, beside any of the project's own
VERSION_TABLE = "console_alembic_version"
#: the newest migration of MIGRATIONS (a test holds the two equal): a database already at it
#: is not handed to Alembic, whose import took 0.1 s of every server's start
HEAD = "0015"
#: how long a sign-in lasts without signing in again
SESSION_SECONDS = 12 * 3600

_hasher = PasswordHasher()
#: the password hash of a user who signs in only through single sign-on: argon2 refuses it
NO_PASSWORD = "!single-sign-on"


#: `assign(..., team=KEEP)`: the conversation stays with the team it has
KEEP = "\x00keep"


class ConsoleUserError(ParlezError):
    code = "P600"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: Role


@dataclass(frozen=True)
class Session:
    user: User
    #: the CSRF token of a browser's session; "" for a script's API token, which is sent
    #: by the script itself, never by a browser on its own, so it needs none
    csrf: str
    by_token: bool = False


@dataclass(frozen=True)
class Assignment:
    status: str
    assignee: str | None
    team: str | None = None


def digest(token: str) -> str:
    """What the tables keep of a secret token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: the lock replicas starting together take to migrate one by one
MIGRATION_LOCK = "parlez console migration"


def _upgrade(connection: Any) -> None:
    from alembic import command
    from alembic.config import Config

    # Alembic narrates each step at INFO; a server starting says nothing about a routine upgrade.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Held until the migration's transaction ends: a second replica then finds it done.
    transaction_lock(connection, MIGRATION_LOCK)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class ConsoleDatabase:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._ready = False

    @classmethod
    def at(cls, url: str) -> ConsoleDatabase:
        """A console database of its own (when conversations are not kept in SQL)."""
        from sqlalchemy.engine import make_url

        return cls(make_engine(make_url(url)))

    async def upgrade(self) -> None:
        """Bring the console's tables to the newest schema (Alembic migrations)."""
        if self._ready:
            return
        if await self._at_head():
            self._ready = True
            return

        async def migrate() -> None:
            async with self.engine.begin() as connection:
                await connection.run_sync(_upgrade)

        await with_retries("migrate the console's tables", migrate)
        self._ready = True

    async def _at_head(self) -> bool:
        """Whether the tables are at the newest migration already; False also where that
        cannot be read (no tables yet, a database that does not answer: `upgrade` retries)."""
        try:
            async with self.engine.connect() as connection:
                found = await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                return list(found.scalars()) == [HEAD]
        except SQLAlchemyError:
            return False

    # ---- users ------------------------------------------------------------------------------

    async def add_user(self, email: str, password: str, role: Role, name: str = "") -> User:
        await self.upgrade()
        email = email.strip().lower()
        if "@" not in email:
            raise ConsoleUserError(f"'{email}' is not an e-mail address")
        if len(password) < 8:
            raise ConsoleUserError("a password has at least 8 characters")
        row = {
            "email": email,
            "name": name or email.split("@", 1)[0],
            "role": role.value,
            "password_hash": await asyncio.to_thread(_hasher.hash, password),
            "disabled": False,
            "created_at": time.time(),
        }
        try:
            async with self.engine.begin() as connection:
                result = await connection.execute(insert(users).values(row))
        except IntegrityError:
            raise ConsoleUserError(
                f"there is already a user '{email}'", hint="sign in with that address"
            ) from None
        key = result.inserted_primary_key
        return User(int(key[0]) if key else 0, email, str(row["name"]), role)

    async def signed_on(self, email: str, name: str, role: Role) -> User | None:
        """The user a person who signed on at the identity provider is: made on their first
        sign-in, their role and name kept as the provider says. None for a disabled user.
        A user made so has no password: they sign in only through the provider."""
        await self.upgrade()
        email = email.strip().lower()
        async with self.engine.begin() as connection:
            row = (await connection.execute(select(users).where(users.c.email == email))).first()
            if row is not None and row.disabled:
                return None
            if row is not None:
                await connection.execute(
                    update(users).where(users.c.id == row.id).values(role=role.value, name=name)
                )
                return User(row.id, email, name, role)
            result = await connection.execute(
                insert(users).values(
                    email=email,
                    name=name,
                    role=role.value,
                    password_hash=NO_PASSWORD,
                    disabled=False,
                    created_at=time.time(),
                )
            )
        key = result.inserted_primary_key
        return User(int(key[0]) if key else 0, email, name, role)

    async def count_users(self) -> int:
        await self.upgrade()
        async with self.engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(users))).scalar_one()
            )

    async def users(self) -> list[User]:
        """Everyone who may sign in, by address."""
        await self.upgrade()
        query = select(users).where(users.c.disabled.is_(False)).order_by(users.c.email)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [User(r.id, r.email, r.name, Role(r.role)) for r in rows]

    async def check_password(self, email: str, password: str) -> User | None:
        """The user whose password this is; None for a wrong one or an unknown address
        (both take an argon2 verification, so timing tells them apart no better)."""
        await self.upgrade()
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(users).where(users.c.email == email.strip().lower())
                )
            ).first()
        stored = row.password_hash if row is not None else _dummy_hash()
        # argon2 takes ~130 ms of CPU, outside the GIL: off the event loop, which answers
        # every other conversation meanwhile.
        try:
            await asyncio.to_thread(_hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        return User(row.id, row.email, row.name, Role(row.role))

    # ---- sessions ---------------------------------------------------------------------------

    async def open_session(self, user: User) -> tuple[str, Session]:
        """A new sign-in: the token for the cookie, and the session it opens."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(sessions).values(
                    token_hash=digest(token),
                    user_id=user.id,
                    csrf=csrf,
                    expires_at=time.time() + SESSION_SECONDS,
                )
            )
        return token, Session(user, csrf)

    async def session(self, token: str) -> Session | None:
        await self.upgrade()
        query = (
            select(sessions.c.csrf, sessions.c.expires_at, users)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == digest(token))
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None or row.expires_at < time.time() or row.disabled:
            return None
        return Session(User(row.id, row.email, row.name, Role(row.role)), row.csrf)

    async def close_session(self, token: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(sessions).where(sessions.c.token_hash == digest(token)))

    # ---- the audit log ----------------------------------------------------------------------

    async def record(self, user: User, action: str, target: str = "", detail: str = "") -> None:
        await self.record_as(user.email, action, target, detail)

    async def record_as(self, who: str, action: str, target: str = "", detail: str = "") -> None:
        """An entry made by `who`: a user's address, or what did it (the command line)."""
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(audit_log).values(
                    at=time.time(),
                    user_email=who,
                    action=action,
                    target=target,
                    detail=detail,
                )
            )

    async def audit(self, limit: int = 200) -> list[dict[str, Any]]:
        await self.upgrade()
        query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query.limit(limit))).mappings().all()
        return [dict(row) for row in rows]

    # ---- who holds a conversation -----------------------------------------------------------

    async def assignment(self, sender_id: str) -> Assignment | None:
        return (await self.assignments([sender_id])).get(sender_id)

    async def assignments(self, sender_ids: list[str]) -> dict[str, Assignment]:
        """The console's state of each conversation, in one query."""
        await self.upgrade()
        if not sender_ids:
            return {}
        query = select(assignments).where(assignments.c.sender_id.in_(sender_ids))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row.sender_id: Assignment(row.status, row.assignee, row.team) for row in rows}

    async def assign(
        self, sender_id: str, status: str, assignee: str | None, team: str | None = KEEP
    ) -> None:
        """Who holds the conversation now; its team stays unless `team` is given (None
        takes it from its team)."""
        values: dict[str, Any] = {"status": status, "assignee": assignee, "updated_at": time.time()}
        if team != KEEP:
            values["team"] = team
        async with self.engine.begin() as connection:
            changed = await connection.execute(
                update(assignments).where(assignments.c.sender_id == sender_id).values(values)
            )
            if not changed.rowcount:
                await connection.execute(insert(assignments).values(sender_id=sender_id, **values))

    # ---- labels ---------------------------------------------------------------------------

    async def labels(self, sender_id: str) -> list[str]:
        await self.upgrade()
        query = select(labels.c.label).where(labels.c.sender_id == sender_id)
        async with self.engine.connect() as connection:
            return sorted(
                row[0] for row in await connection.execute(query.order_by(labels.c.label))
            )

    async def add_label(self, sender_id: str, label: str) -> None:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(labels).values(sender_id=sender_id, label=label))
        except IntegrityError:
            pass  # labelled already

    async def remove_label(self, sender_id: str, label: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(labels).where(labels.c.sender_id == sender_id, labels.c.label == label)
            )

    async def close(self) -> None:
        await self.engine.dispose()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify an unknown user's password against all the same; made at the first
    sign-in, not at import (130 ms of every server's start)."""
    return _hasher.hash("no such user: a hash to verify against all the same")
