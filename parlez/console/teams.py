"""Teams: groups of colleagues (billing, returns, Spanish...) that a conversation can be
given to. A conversation given to a team waits for one of its members, shows in the inbox
under the team, and stays the team's when a member takes it over."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from parlez.console.database import ConsoleDatabase, ConsoleUserError, User
from parlez.console.models import assignments, team_members, teams
from parlez.console.roles import Capability, may

#: what a team's name may be: short, and the same however it is typed
NAME = re.compile(r"^[\w-]{1,64}$")


@dataclass(frozen=True)
class Team:
    name: str
    #: the members' addresses
    members: list[str]


def team_name(typed: str) -> str:
    """A team's name as it is kept: lower case, `-` for spaces; an error for anything else."""
    name = "-".join(typed.strip().lower().split())
    if not NAME.match(name):
        raise ConsoleUserError("a team's name is 1 to 64 letters, digits, '-' or '_'")
    return name


async def all_teams(database: ConsoleDatabase) -> list[Team]:
    """Every team and its members, by name (two queries, whatever the number of teams)."""
    await database.upgrade()
    async with database.engine.connect() as connection:
        names = (await connection.execute(select(teams.c.name).order_by(teams.c.name))).all()
        rows = (await connection.execute(select(team_members))).all()
    members: dict[str, list[str]] = {}
    for row in rows:
        members.setdefault(row.team, []).append(row.user_email)
    return [Team(row.name, sorted(members.get(row.name, []))) for row in names]


async def save_team(
    database: ConsoleDatabase, typed_name: str, emails: list[str], team: list[User]
) -> Team:
    """Make a team, or set who is in it: colleagues who may answer customers."""
    name = team_name(typed_name)
    answerers = {u.email for u in team if may(u.role, Capability.ANSWER)}
    chosen = sorted({e.strip().lower() for e in emails if e.strip()})
    strangers = [e for e in chosen if e not in answerers]
    if strangers:
        raise ConsoleUserError(f"{', '.join(strangers)} cannot answer customers")
    await database.upgrade()
    async with database.engine.begin() as connection:
        known = (await connection.execute(select(teams).where(teams.c.name == name))).first()
        if known is None:
            await connection.execute(insert(teams).values(name=name, created_at=time.time()))
        await connection.execute(delete(team_members).where(team_members.c.team == name))
        if chosen:
            await connection.execute(
                insert(team_members), [{"team": name, "user_email": e} for e in chosen]
            )
    return Team(name, chosen)


async def delete_team(database: ConsoleDatabase, name: str) -> bool:
    """Remove a team; its conversations stay with whoever holds them, and no team."""
    async with database.engine.begin() as connection:
        await connection.execute(delete(team_members).where(team_members.c.team == name))
        await connection.execute(
            update(assignments).where(assignments.c.team == name).values(team=None)
        )
        gone = await connection.execute(delete(teams).where(teams.c.name == name))
    return bool(gone.rowcount)


async def teams_of(database: ConsoleDatabase, email: str) -> list[str]:
    """The teams a colleague is in."""
    await database.upgrade()
    query = select(team_members.c.team).where(team_members.c.user_email == email)
    async with database.engine.connect() as connection:
        return sorted(row[0] for row in await connection.execute(query))
