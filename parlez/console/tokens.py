"""Personal API tokens: a script sends `Authorization: Bearer pzc_...` and works with the
console as the user who made the token, with that user's role at the time of each request.

A token is shown once, when it is made; the database keeps its SHA-256 and its last four
characters (to tell tokens apart on the page). `pzc_` starts every token, so that secret
scanners can find one pasted where it should not be.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from parlez.console.database import ConsoleDatabase, ConsoleUserError, User, digest
from parlez.console.models import api_tokens, users
from parlez.console.roles import Role

PREFIX = "pzc_"
#: a token's use is written down at most this often (not on every request)
USE_RESOLUTION = 60.0
MAX_NAME = 64
#: tokens one user may hold at once
MAX_TOKENS = 20


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    hint: str
    created_at: float
    last_used_at: float | None


def _token(row: Row[Any]) -> ApiToken:
    return ApiToken(row.id, row.name, row.hint, row.created_at, row.last_used_at)


async def tokens_of(database: ConsoleDatabase, user: User) -> list[ApiToken]:
    await database.upgrade()
    query = (
        select(api_tokens)
        .where(api_tokens.c.user_id == user.id)
        .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
    )
    async with database.engine.connect() as connection:
        return [_token(row) for row in await connection.execute(query)]


async def create_token(database: ConsoleDatabase, user: User, name: str) -> tuple[str, ApiToken]:
    """A new token for `user`: the token itself (to show once), and what is kept of it."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ConsoleUserError(f"a token's name has 1 to {MAX_NAME} characters")
    if len(await tokens_of(database, user)) >= MAX_TOKENS:
        raise ConsoleUserError(
            f"you hold {MAX_TOKENS} tokens already", hint="revoke one you no longer use"
        )
    plain = PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    row = {
        "user_id": user.id,
        "name": name,
        "token_hash": digest(plain),
        "hint": plain[-4:],
        "created_at": now,
        "last_used_at": None,
    }
    async with database.engine.begin() as connection:
        result = await connection.execute(insert(api_tokens).values(row))
    key = result.inserted_primary_key
    return plain, ApiToken(int(key[0]) if key else 0, name, plain[-4:], now, None)


async def revoke_token(database: ConsoleDatabase, user: User, token_id: int) -> ApiToken | None:
    """Revoke one of `user`'s own tokens; None when they hold no such token."""
    for token in await tokens_of(database, user):
        if token.id == token_id:
            async with database.engine.begin() as connection:
                await connection.execute(delete(api_tokens).where(api_tokens.c.id == token_id))
            return token
    return None


async def user_of_token(database: ConsoleDatabase, plain: str) -> User | None:
    """The user a token works as; None for an unknown or revoked token, or a disabled user."""
    if not plain.startswith(PREFIX):
        return None
    await database.upgrade()
    query = (
        select(api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at.label("used_at"), users)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == digest(plain))
    )
    async with database.engine.connect() as connection:
        row = (await connection.execute(query)).first()
    if row is None or row.disabled:
        return None
    now = time.time()
    if row.used_at is None or now - row.used_at > USE_RESOLUTION:
        async with database.engine.begin() as connection:
            await connection.execute(
                update(api_tokens).where(api_tokens.c.id == row.token_id).values(last_used_at=now)
            )
    return User(row.id, row.email, row.name, Role(row.role))
