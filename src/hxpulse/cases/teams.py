"""Teams, their agents and their business hours; round-robin picks a team's next agent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM, Who
from hxpulse.auth.models import User
from hxpulse.cases import calendar
from hxpulse.cases.calendar import ALWAYS_OPEN, Calendar
from hxpulse.cases.models import Team, TeamMember
from hxpulse.db.base import parse_id
from hxpulse.errors import Conflict, Invalid, NotFound

teams_t = cast(Table, Team.__table__)
members_t = cast(Table, TeamMember.__table__)
users_t = cast(Table, User.__table__)
AGENT_ROLES = ("agent", "admin")  # who can be given cases (cases:work)


def _checked(
    zone: str, hours: Any, country: str | None, subdivision: str | None, closed: Sequence[str]
) -> Calendar:
    try:
        return calendar.calendar_of(zone=zone, hours=hours, country=country,
                                    subdivision=subdivision, closed=closed)  # fmt: skip
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise Invalid(str(exc), errors=[{"field": field, "message": str(exc)}]) from None


def _calendar(row: Any) -> Calendar:
    return calendar.calendar_of(zone=row.zone, hours=row.hours, country=row.holiday_country,
                                subdivision=row.holiday_subdivision,
                                closed=row.closed_dates or [])  # fmt: skip


def calendar_for(conn: Connection, team_id: int | None) -> Calendar:
    """The calendar a case of `team_id` counts its SLAs in (no team: 24/7)."""
    if team_id is None:
        return ALWAYS_OPEN
    row = conn.execute(select(teams_t).where(teams_t.c.id == team_id)).first()
    return ALWAYS_OPEN if row is None else _calendar(row)


def create(
    conn: Connection,
    *,
    name: str,
    zone: str = "UTC",
    hours: dict[str, list[list[str]]] | None = None,
    country: str | None = None,
    subdivision: str | None = None,
    closed: Sequence[str] = (),
    now: datetime,
    who: Who = SYSTEM,
) -> dict[str, Any]:
    """Create a team (no hours: it works 24/7)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("name: 1 to 100 characters", errors=[{"field": "name", "message": "1-100"}])
    _checked(zone, hours, country, subdivision, closed)
    if conn.execute(select(teams_t.c.id).where(teams_t.c.name == name)).first():
        raise Conflict(f"a team named {name!r} exists already")
    team_id: int = conn.execute(
        insert(teams_t).returning(teams_t.c.id),
        {"name": name, "zone": zone, "hours": hours or {}, "holiday_country": country or None,
         "holiday_subdivision": subdivision or None, "closed_dates": sorted(closed),
         "created_at": now},
    ).scalar_one()  # fmt: skip
    audit.record(conn, who=who, action="team.create", now=now, subject_kind="team",
                 subject_id=team_id, detail={"name": name})  # fmt: skip
    return get(conn, team_id)


def set_hours(
    conn: Connection,
    *,
    team_id: int,
    zone: str,
    hours: dict[str, list[list[str]]],
    country: str | None,
    subdivision: str | None,
    closed: Sequence[str],
    now: datetime,
    who: Who = SYSTEM,
) -> dict[str, Any]:
    """Replace a team's calendar (cases already open keep the due times they have)."""
    get(conn, team_id)
    _checked(zone, hours, country, subdivision, closed)
    conn.execute(update(teams_t).where(teams_t.c.id == team_id).values(
        zone=zone, hours=hours, holiday_country=country or None,
        holiday_subdivision=subdivision or None, closed_dates=sorted(closed)))  # fmt: skip
    audit.record(conn, who=who, action="team.hours", now=now, subject_kind="team",
                 subject_id=team_id, detail={"zone": zone, "hours": hours})  # fmt: skip
    return get(conn, team_id)


def _members(conn: Connection, team_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    m, u = members_t.c, users_t.c
    rows = conn.execute(
        select(m.team_id, m.user_id, m.active, m.last_assigned_at, u.email, u.name, u.role)
        .join(users_t, u.id == m.user_id)
        .where(m.team_id.in_(team_ids))
        .order_by(m.team_id, u.email)
    )
    out: dict[int, list[dict[str, Any]]] = {t: [] for t in team_ids}
    for row in rows:
        out[row.team_id].append(dict(row._mapping))
    return out


def _out(row: Any, members: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "zone": row.zone, "hours": row.hours or {},
            "hours_text": calendar.format_hours(row.hours or {}) or "24/7",
            "holiday_country": row.holiday_country, "holiday_subdivision": row.holiday_subdivision,
            "closed_dates": list(row.closed_dates or []), "members": members,
            "created_at": row.created_at}  # fmt: skip


def get(conn: Connection, team_id: int) -> dict[str, Any]:
    row = conn.execute(select(teams_t).where(teams_t.c.id == team_id)).first()
    if row is None:
        raise NotFound(f"there is no team {team_id}")
    return _out(row, _members(conn, [team_id])[team_id])


def find(conn: Connection, ref: str) -> dict[str, Any]:
    """A team by name or id, or 404."""
    row = conn.execute(select(teams_t).where(teams_t.c.name == ref.strip())).first()
    if row is None and (team_id := parse_id(ref)) is not None:
        return get(conn, team_id)
    if row is None:
        raise NotFound(f"there is no team {ref!r}")
    return _out(row, _members(conn, [row.id])[row.id])


def list_teams(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(teams_t).order_by(teams_t.c.name)).all()
    members = _members(conn, [r.id for r in rows])
    return [_out(r, members[r.id]) for r in rows]


def add_member(
    conn: Connection, *, team_id: int, user_id: int, now: datetime, who: Who = SYSTEM
) -> dict[str, Any]:
    """Add an agent to a team (again: make them active)."""
    get(conn, team_id)
    user = conn.execute(select(users_t.c.role).where(users_t.c.id == user_id)).first()
    if user is None:
        raise NotFound(f"there is no user {user_id}")
    if user.role not in AGENT_ROLES:
        raise Invalid(f"user: a {user.role} cannot work cases; make them an agent first",
                      errors=[{"field": "user", "message": "not an agent"}])  # fmt: skip
    m = members_t.c
    known = conn.execute(select(m.id).where(m.team_id == team_id, m.user_id == user_id)).first()
    if known is None:
        conn.execute(insert(members_t), {"team_id": team_id, "user_id": user_id, "active": True})
    else:
        conn.execute(update(members_t).where(m.id == known.id).values(active=True))
    audit.record(conn, who=who, action="team.member_add", now=now, subject_kind="team",
                 subject_id=team_id, detail={"user_id": user_id})  # fmt: skip
    return get(conn, team_id)


def set_member_active(
    conn: Connection, *, team_id: int, user_id: int, active: bool, now: datetime, who: Who = SYSTEM
) -> dict[str, Any]:
    """Take an agent out of (or back into) the team's round-robin."""
    m = members_t.c
    done = conn.execute(update(members_t).where(m.team_id == team_id, m.user_id == user_id)
                        .values(active=active)).rowcount  # fmt: skip
    if not done:
        raise NotFound(f"user {user_id} is not in team {team_id}")
    audit.record(conn, who=who, action="team.member_active", now=now, subject_kind="team",
                 subject_id=team_id, detail={"user_id": user_id, "active": active})  # fmt: skip
    return get(conn, team_id)


def next_agent(conn: Connection, team_id: int, now: datetime) -> int | None:
    """Round-robin: the team's active agent least recently assigned (never first), stamped as
    assigned now; None when the team has no active agent."""
    m, u = members_t.c, users_t.c
    query = (
        select(m.id, m.user_id)
        .join(users_t, u.id == m.user_id)
        .where(
            m.team_id == team_id, m.active.is_(True), u.active.is_(True), u.role.in_(AGENT_ROLES)
        )  # fmt: skip
        .order_by(m.last_assigned_at.asc().nulls_first(), m.id)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=members_t)
    row = conn.execute(query.limit(1)).first()
    if row is None:
        return None
    conn.execute(update(members_t).where(m.id == row.id).values(last_assigned_at=now))
    return int(row.user_id)


def stamp_assigned(conn: Connection, *, team_id: int, user_id: int, now: datetime) -> None:
    """An agent of the team was given a case by hand or rule: round-robin counts it."""
    m = members_t.c
    conn.execute(update(members_t).where(m.team_id == team_id, m.user_id == user_id)
                 .values(last_assigned_at=now))  # fmt: skip


def team_ids_of(conn: Connection, user_id: int) -> list[int]:
    m = members_t.c
    return [int(t) for t in conn.execute(select(m.team_id).where(m.user_id == user_id)).scalars()]


def names(conn: Connection, team_ids: Sequence[int]) -> dict[int, str]:
    rows = conn.execute(select(teams_t.c.id, teams_t.c.name).where(teams_t.c.id.in_(team_ids)))
    return {int(r.id): str(r.name) for r in rows}
