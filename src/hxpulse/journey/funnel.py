"""The funnel: per stage, who entered it in a range, how many of them went on to a higher stage
(the conversion) and the median days it took, and who is at it now (with the overlays); and
the checks of its filters."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.db import raw
from hxpulse.errors import Invalid
from hxpulse.events import moments
from hxpulse.events.models import CHANNELS
from hxpulse.journey import overlays


@dataclass(frozen=True, slots=True)
class FunnelQuery:
    """The funnel's filters, checked."""

    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    department: str | None = None


def funnel_query(
    start: str | None, end: str | None, channel: str | None, department: str | None
) -> FunnelQuery:
    """Check the funnel's filters as given in a form, a query string or on the command line;
    one Invalid lists every bad field."""
    errors: list[dict[str, Any]] = []
    since = until = None
    chosen_channel = chosen_department = None
    try:
        since, until = parse_range(start, end)
    except Invalid as exc:
        errors.extend(exc.errors)
    try:
        chosen_channel, chosen_department = check_filters(channel, department)
    except Invalid as exc:
        errors.extend(exc.errors)
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return FunnelQuery(since, until, chosen_channel, chosen_department)


def parse_range(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """The funnel's [start, end) from text: a day (both days included) or an ISO 8601 moment
    (no zone: UTC; the end moment excluded). Empty: open. Errors name the field."""
    errors: list[dict[str, str]] = []
    since = _parse_moment("start", start, errors, end_of_day=False)
    until = _parse_moment("end", end, errors, end_of_day=True)
    if since is not None and until is not None and since >= until:
        errors.append({"field": "end", "message": "must be after start"})
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return since, until


def _parse_moment(
    name: str, text: str | None, errors: list[dict[str, str]], *, end_of_day: bool
) -> datetime | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        errors.append({"field": name, "message": f"{text[:40]!r} is not a date (YYYY-MM-DD)"
                                                 " or an ISO 8601 moment"})  # fmt: skip
        return None
    try:  # the range every moment taken in has (events.moments)
        if len(text) == 10:
            moment = moments.start_of(moments.check_day(day, name))
            return moment + timedelta(days=1) if end_of_day else moment
        return moments.check_moment(parsed, name)
    except Invalid as exc:
        errors.extend(exc.errors)
        return None


def check_filters(channel: str | None, department: str | None) -> tuple[str | None, str | None]:
    """Blank filters mean none; a channel must be one of the known channels."""
    channel = (channel or "").strip().lower() or None
    department = (department or "").strip() or None
    errors = []
    if channel is not None and channel not in CHANNELS:
        errors.append({"field": "channel", "message": f"must be one of {', '.join(CHANNELS)}"})
    if department is not None and len(department) > 100:
        errors.append({"field": "department", "message": "at most 100 characters"})
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return channel, department


def funnel(
    conn: Connection,
    live: Live,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    channel: str | None = None,
    department: str | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Per stage, in order: how many customers entered it in [start, end) (a change into it
    that is an entry or a move up, through `channel` / `department` when given), how many of
    them went on to a higher stage afterwards (up to now), the conversion (went on ÷ entered),
    the median days from entering it to entering a higher stage (over those who went on), and
    how many live customers are at it now, at risk and lapsed. See docs/architecture.md, "The
    journey"."""
    names = live.journey.stage_names
    cohorts = _cohorts(conn, names, start, end, channel, department)
    now_counts = _now(conn, live, now)
    stages: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        cohort = cohorts[index]
        top = index == len(names) - 1  # nothing to go on to
        went_on = len(cohort.days)
        conversion = None if top or cohort.entered == 0 else went_on / cohort.entered
        median = statistics.median(cohort.days) if cohort.days else None
        current, at_risk, lapsed = now_counts.get(name, (0, 0, 0))
        stages.append({"stage": name, "label": name.replace("_", " ").capitalize(),
                       "entered": cohort.entered, "went_on": went_on, "conversion": conversion,
                       "median_days_to_next": median, "current": current, "at_risk": at_risk,
                       "lapsed": lapsed})  # fmt: skip
    totals = [sum(v[i] for v in now_counts.values()) for i in range(3)]
    return {
        "start": start, "end": end, "channel": channel, "department": department, "as_of": now,
        "stages": stages,
        "now": {"customers": totals[0], "at_risk": totals[1], "lapsed": totals[2]},
    }  # fmt: skip


@dataclass(slots=True)
class _Cohort:
    """Those who entered one stage: how many, and each one's days to a higher stage."""

    entered: int = 0
    days: list[float] = field(default_factory=list)


def _cohorts(
    conn: Connection,
    names: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    channel: str | None,
    department: str | None,
) -> list[_Cohort]:
    """Per stage: the customers whose first entry or move up into it in the range (through the
    filters), how long each took to go on above it, if they did (up to now, through any
    channel or department).

    One pass over the moves up from `start` on, in (customer, time) order (the index on
    `(customer_id, changed_at)`): the first later change above a stage is always a move up
    (the stage just before it is at most that one), so falls are not read. Each customer
    counts once per stage, from their first entry into it in the range. The rows come from the
    driver as plain tuples (`db.raw.select`): SQLAlchemy rows made the funnel 40% slower."""
    ts = raw.timestamp_writer(conn)
    rank = "CASE {} " + " ".join("WHEN ? THEN ?" for _ in names) + " END"
    ranks = [value for index, name in enumerate(names) for value in (name, index)]
    tests = [("changed_at < ?", ts(end) if end is not None else None), ("channel = ?", channel),
             ("department = ?", department)]  # fmt: skip
    counted = [(sql, value) for sql, value in tests if value is not None]
    counts = " AND ".join(sql for sql, _ in counted)
    day = "julianday(changed_at)" if conn.dialect.name == "sqlite" else (
        "date_part('epoch', changed_at) / 86400")  # fmt: skip
    sql = (f"SELECT customer_id, {rank.format('to_stage')}, {day},"
           f" {f'CASE WHEN {counts} THEN 1 ELSE 0 END' if counted else '1'} FROM stage_changes"
           f" WHERE COALESCE({rank.format('from_stage')}, -1) < {rank.format('to_stage')}"
           f"{' AND changed_at >= ?' if start is not None else ''}"
           " ORDER BY customer_id, changed_at")  # fmt: skip
    params = [*ranks, *[value for _, value in counted], *ranks, *ranks]
    if start is not None:
        params.append(ts(start))
    cohorts = [_Cohort() for _ in names]
    customer = None
    entered: set[int] = set()  # the stages this customer entered in the range
    waiting: dict[int, float] = {}  # of them, those not gone on from yet: since when (days)
    for cid, stage, moment, counts_in in raw.select(conn, sql, params):
        if cid != customer:
            customer, entered, waiting = cid, set(), {}
        if waiting:
            for below in [r for r in waiting if r < stage]:
                cohorts[below].days.append(moment - waiting.pop(below))
        if counts_in and stage not in entered:
            entered.add(stage)
            waiting[stage] = moment
            cohorts[stage].entered += 1
    return cohorts


def _now(conn: Connection, live: Live, now: datetime) -> dict[str, tuple[int, int, int]]:
    """Per stage: live customers at it now, how many of them at risk, how many lapsed."""
    c = customers_t.c
    at_risk = func.sum(case((overlays.at_risk(live, now), 1), else_=0))
    lapsed = func.sum(case((overlays.lapsed(live, now), 1), else_=0))
    rows = conn.execute(
        select(c.stage, func.count(), at_risk, lapsed)
        .where(c.merged_into_id.is_(None))
        .group_by(c.stage)
    )
    return {stage: (int(n), int(r or 0), int(lp or 0)) for stage, n, r, lp in rows}
