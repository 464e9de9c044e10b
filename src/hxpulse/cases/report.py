"""The SLA report: per team, priority, channel and metric, the share met and median times; and
how many cases are open now, and late."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from hxpulse.cases import sla, teams
from hxpulse.cases.calendar import Calendar
from hxpulse.cases.models import ACTIVE
from hxpulse.cases.service import _select, cases_t

OPEN = (*ACTIVE, "waiting")  # the inbox's "active" cases: not resolved, not closed


def sla_report(
    conn: Connection, *, now: datetime, since: datetime | None = None, by_owner: bool = False
) -> list[dict[str, Any]]:
    """Cases opened since `since` (all: None), grouped (per owner too, if `by_owner`); times
    in business seconds."""
    query = _select()
    if since is not None:
        query = query.where(cases_t.c.created_at >= since)
    cases = [dict(r._mapping) for r in conn.execute(query)]
    calendars: dict[int | None, Calendar] = {}

    def calendar_of(team_id: int | None) -> Calendar:
        if team_id not in calendars:
            calendars[team_id] = teams.calendar_for(conn, team_id)
        return calendars[team_id]

    return sla.report(cases, calendar_of, now, by_owner=by_owner)


def open_cases(conn: Connection, *, now: datetime) -> dict[str, int]:
    """`open`: cases open, in progress or waiting on the customer; `breached`: how many of
    them missed a target (a breach stamped, or a running clock past its due time)."""
    c = cases_t.c
    late = or_(c.first_response_breached_at.is_not(None), c.resolution_breached_at.is_not(None),
               and_(c.status.in_(ACTIVE), c.next_due_at <= now))  # fmt: skip
    row = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((late, 1), else_=0)), 0))
        .where(c.status.in_(OPEN))
    ).one()  # fmt: skip
    return {"open": int(row[0]), "breached": int(row[1])}


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The SLA report's rows added up: targets decided, met, missed, and the share met."""
    decided = sum(int(r["count"]) for r in rows)
    met = sum(int(r["met"]) for r in rows)
    return {"decided": decided, "met": met, "missed": decided - met,
            "share_met": met / decided if decided else None}  # fmt: skip
