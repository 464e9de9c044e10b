"""The funnel: per stage, who reached it in a range, the conversion, the median days in it, and
who is at it now (with the overlays); and the checks of its filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.sql import ColumnElement

from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.errors import Invalid
from hxpulse.events import moments
from hxpulse.events.models import CHANNELS
from hxpulse.journey import overlays
from hxpulse.journey.store import stage_changes_t


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
    """Per stage, in order: how many customers reached it in [start, end) (entered it or a
    later stage by an entry or a move up, through `channel` / `department` when given), the
    conversion from the previous stage, the median days in the stage (stays that ended in the
    range and began through the filters), and how many live customers are at it now, at risk
    and lapsed. See docs/architecture.md, "The journey"."""
    names = live.journey.stage_names
    reached = _reached(conn, names, start, end, channel, department)
    medians = _medians(conn, names, start, end, channel, department)
    now_counts = _now(conn, live, now)
    stages: list[dict[str, Any]] = []
    previous: int | None = None
    for index, name in enumerate(names):
        got = sum(n for top, n in reached.items() if top >= index)
        conversion = None if previous is None or previous == 0 else got / previous
        median, stays = medians.get(name, (None, 0))
        current, at_risk, lapsed = now_counts.get(name, (0, 0, 0))
        stages.append({"stage": name, "label": name.replace("_", " ").capitalize(),
                       "reached": got, "conversion": conversion, "median_days_in_stage": median,
                       "stays": stays, "current": current, "at_risk": at_risk,
                       "lapsed": lapsed})  # fmt: skip
        previous = got
    totals = [sum(v[i] for v in now_counts.values()) for i in range(3)]
    return {
        "start": start, "end": end, "channel": channel, "department": department, "as_of": now,
        "stages": stages,
        "now": {"customers": totals[0], "at_risk": totals[1], "lapsed": totals[2]},
    }  # fmt: skip


def _rank(column: Any, names: Sequence[str]) -> Any:
    return case({name: index for index, name in enumerate(names)}, value=column, else_=None)


def _window(table: Any, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if start is not None:
        found.append(table.changed_at >= start)
    if end is not None:
        found.append(table.changed_at < end)
    return found


def _filters(table: Any, channel: str | None, department: str | None) -> list[Any]:
    found = []
    if channel is not None:
        found.append(table.channel == channel)
    if department is not None:
        found.append(table.department == department)
    return found


def _reached(
    conn: Connection,
    names: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    channel: str | None,
    department: str | None,
) -> dict[int, int]:
    """How many customers' highest stage entered (or moved up into) in the range is each."""
    s = stage_changes_t.c
    to_rank = _rank(s.to_stage, names)
    upward = s.from_stage.is_(None) | (func.coalesce(_rank(s.from_stage, names), -1) < to_rank)
    top = (
        select(s.customer_id, func.max(to_rank).label("top"))
        .where(upward, *_window(s, start, end), *_filters(s, channel, department))
        .group_by(s.customer_id)
        .subquery()
    )
    rows = conn.execute(
        select(top.c.top, func.count()).where(top.c.top.is_not(None)).group_by(top.c.top)
    )
    return {int(level): int(n) for level, n in rows}


def _medians(
    conn: Connection,
    names: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    channel: str | None,
    department: str | None,
) -> dict[str, tuple[float | None, int]]:
    """Median days between entering a stage and the customer's next change, per stage, over
    the stays that ended in the range and began through the filters."""
    left = stage_changes_t.alias("left_stage")
    entered = stage_changes_t.alias("entered")
    earlier = stage_changes_t.alias("earlier")
    before = (
        select(earlier.c.id)
        .where(earlier.c.customer_id == left.c.customer_id,
               earlier.c.changed_at < left.c.changed_at)
        .order_by(earlier.c.changed_at.desc(), earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )  # fmt: skip
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        days: Any = func.julianday(left.c.changed_at) - func.julianday(entered.c.changed_at)
    else:
        days = func.extract("epoch", left.c.changed_at - entered.c.changed_at) / 86_400.0
    stays = (
        select(entered.c.to_stage.label("stage"), days.label("days"))
        .select_from(left.join(entered, entered.c.id == before))
        .where(left.c.from_stage.is_not(None), *_window(left.c, start, end),
               *_filters(entered.c, channel, department))
        .subquery()
    )  # fmt: skip
    result: dict[str, tuple[float | None, int]] = {}
    if not sqlite:
        median = func.percentile_cont(0.5).within_group(stays.c.days)
        for stage, value, n in conn.execute(
            select(stays.c.stage, median, func.count()).group_by(stays.c.stage)
        ):
            result[stage] = (float(value), int(n))
        return result
    counts: dict[str, int] = {
        stage: int(n)
        for stage, n in conn.execute(select(stays.c.stage, func.count()).group_by(stays.c.stage))
    }
    ordered = conn.execute(select(stays.c.stage, stays.c.days).order_by(stays.c.stage,
                                                                        stays.c.days))  # fmt: skip
    position, current, low = 0, None, 0.0
    for stage, value in ordered:
        if stage != current:
            current, position = stage, 0
        n = int(counts[stage])
        if position == (n - 1) // 2:
            low = float(value)
        if position == n // 2:
            result[stage] = ((low + float(value)) / 2, n)
        position += 1
    return result


def _now(conn: Connection, live: Live, now: datetime) -> dict[str, tuple[int, int, int]]:
    """Per stage: live customers at it now, how many of them at risk, how many lapsed."""
    c = customers_t.c
    at_risk = func.sum(case((overlays.at_risk(live.pulse, now), 1), else_=0))
    lapsed = func.sum(case((overlays.lapsed(live.journey, now), 1), else_=0))
    rows = conn.execute(
        select(c.stage, func.count(), at_risk, lapsed)
        .where(c.merged_into_id.is_(None))
        .group_by(c.stage)
    )
    return {stage: (int(n), int(r or 0), int(lp or 0)) for stage, n, r, lp in rows}
