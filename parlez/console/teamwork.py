"""How a team works a conversation together: internal notes that name colleagues
(`@ana`), the mentions waiting for each colleague, and canned replies (`/hours`).

Notes live in the console's tables, never in the conversation's events: nothing here can
reach the customer.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from parlez.console.database import ConsoleDatabase, ConsoleUserError, User
from parlez.console.models import canned_replies, mentions, notes

#: the longest note or canned reply
MAX_TEXT = 4000
#: what a shortcut may be: `/` and then letters, digits, `-` or `_`
SHORTCUT = re.compile(r"^[\w-]{1,64}$")
#: `@name` or `@address` in a note
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


@dataclass(frozen=True)
class Note:
    id: int
    sender_id: str
    at: float
    author: str
    text: str


@dataclass(frozen=True)
class Canned:
    id: int
    shortcut: str
    text: str
    updated_by: str


def mentioned(text: str, team: list[User]) -> list[str]:
    """The addresses of the colleagues `text` names: `@ana` (a name, or an address's part
    before the @) or `@ana@example.com`, in any case."""
    named = {m.group(1).lower().rstrip(".") for m in MENTION.finditer(text)}
    found = []
    for user in team:
        handles = {user.email, user.email.split("@", 1)[0], user.name.lower().replace(" ", "")}
        if named & handles:
            found.append(user.email)
    return found


#: who wrote a note that parlez itself adds (a reply that was not delivered)
PARLEZ = "parlez"


async def add_note(
    database: ConsoleDatabase, sender_id: str, author: User | None, text: str
) -> Note:
    """A note by a colleague, or by parlez itself when `author` is None."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise ConsoleUserError(f"a note has 1 to {MAX_TEXT} characters")
    team = await database.users() if author is not None else []
    written_by = author.email if author is not None else PARLEZ
    at = time.time()
    async with database.engine.begin() as connection:
        result = await connection.execute(
            insert(notes).values(sender_id=sender_id, at=at, author=written_by, text=text)
        )
        key = result.inserted_primary_key
        note_id = int(key[0]) if key else 0
        named = [e for e in mentioned(text, team) if e != written_by]
        if named:
            await connection.execute(
                insert(mentions), [{"note_id": note_id, "user_email": e} for e in named]
            )
    return Note(note_id, sender_id, at, written_by, text)


async def notes_of(database: ConsoleDatabase, sender_id: str) -> list[Note]:
    await database.upgrade()
    query = select(notes).where(notes.c.sender_id == sender_id).order_by(notes.c.at, notes.c.id)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [Note(r.id, r.sender_id, r.at, r.author, r.text) for r in rows]


async def waiting_mentions(database: ConsoleDatabase, email: str) -> list[Note]:
    """The notes naming `email` that they have not yet seen (opened the conversation
    since), newest first."""
    await database.upgrade()
    query = (
        select(notes)
        .join(mentions, mentions.c.note_id == notes.c.id)
        .where(mentions.c.user_email == email, mentions.c.seen.is_(False))
        .order_by(notes.c.at.desc(), notes.c.id.desc())
    )
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [Note(r.id, r.sender_id, r.at, r.author, r.text) for r in rows]


async def count_waiting_mentions(database: ConsoleDatabase, email: str) -> int:
    """How many notes wait for `email` (the count beside Mentions, on every page)."""
    await database.upgrade()
    query = (
        select(func.count())
        .select_from(mentions)
        .where(mentions.c.user_email == email, mentions.c.seen.is_(False))
    )
    async with database.engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def mentions_seen(database: ConsoleDatabase, email: str, sender_id: str) -> None:
    """`email` opened the conversation: its mentions of them are read."""
    in_conversation = select(notes.c.id).where(notes.c.sender_id == sender_id)
    async with database.engine.begin() as connection:
        await connection.execute(
            update(mentions)
            .where(
                mentions.c.user_email == email,
                mentions.c.seen.is_(False),
                mentions.c.note_id.in_(in_conversation),
            )
            .values(seen=True)
        )


# ---- canned replies -------------------------------------------------------------------------


async def canned(database: ConsoleDatabase) -> list[Canned]:
    await database.upgrade()
    async with database.engine.connect() as connection:
        rows = (
            await connection.execute(select(canned_replies).order_by(canned_replies.c.shortcut))
        ).all()
    return [Canned(r.id, r.shortcut, r.text, r.updated_by) for r in rows]


def shortcut_of(value: str) -> str:
    """`/Opening Hours` is saved as `opening-hours`: typed the same way every time."""
    return value.strip().lstrip("/").lower().replace(" ", "-")


async def save_canned(database: ConsoleDatabase, shortcut: str, text: str, by: User) -> Canned:
    """Add a canned reply, or change the text of the one with this shortcut."""
    shortcut, text = shortcut_of(shortcut), text.strip()
    if not SHORTCUT.match(shortcut):
        raise ConsoleUserError("a shortcut is 1 to 64 letters, digits, '-' or '_'")
    if not text or len(text) > MAX_TEXT:
        raise ConsoleUserError(f"a canned reply has 1 to {MAX_TEXT} characters")
    values = {"text": text, "updated_by": by.email, "updated_at": time.time()}
    async with database.engine.begin() as connection:
        changed = await connection.execute(
            update(canned_replies).where(canned_replies.c.shortcut == shortcut).values(values)
        )
        if not changed.rowcount:
            try:
                await connection.execute(insert(canned_replies).values(shortcut=shortcut, **values))
            except IntegrityError:  # saved by a colleague at the same moment: theirs stays
                raise ConsoleUserError(f"'/{shortcut}' was just added by someone else") from None
        row = (
            await connection.execute(
                select(canned_replies).where(canned_replies.c.shortcut == shortcut)
            )
        ).one()
    return Canned(row.id, row.shortcut, row.text, row.updated_by)


async def delete_canned(database: ConsoleDatabase, canned_id: int) -> str | None:
    """Delete a canned reply; its shortcut, or None if there was none."""
    async with database.engine.begin() as connection:
        row = (
            await connection.execute(select(canned_replies).where(canned_replies.c.id == canned_id))
        ).first()
        if row is None:
            return None
        await connection.execute(delete(canned_replies).where(canned_replies.c.id == canned_id))
    return str(row.shortcut)


async def expanded(database: ConsoleDatabase, text: str) -> str:
    """A reply that is only `/shortcut` becomes its canned text; anything else is sent as
    written (a message may well start with a slash)."""
    found = re.fullmatch(r"\s*/([\w-]{1,64})\s*", text)
    if found is None:
        return text
    shortcut = shortcut_of(found.group(1))
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(
                select(canned_replies.c.text).where(canned_replies.c.shortcut == shortcut)
            )
        ).first()
    return str(row.text) if row is not None else text
