"""The SLA report: per team, priority, channel and metric, the share met and median times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from hxpulse.cases import sla, teams
from hxpulse.cases.calendar import Calendar
from hxpulse.cases.service import _select, cases_t


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
