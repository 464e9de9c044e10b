"""NPS, CSAT and CES with their margins of error, overall and broken down by department,
channel, touchpoint, segment and period, read from the counts rolled up as answers arrive
(a segment breakdown reads the answers themselves, since membership changes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Connection, Table, func, literal, select

from hxpulse.analytics import nps as stats
from hxpulse.config import Live
from hxpulse.customers.models import Customer
from hxpulse.errors import Invalid
from hxpulse.segments import service as segments
from hxpulse.segments.models import Segment
from hxpulse.surveys import kinds
from hxpulse.surveys.models import COUNT_COLUMNS, Response, ScoreCount, Survey

counts_t = cast(Table, ScoreCount.__table__)
surveys_t = cast(Table, Survey.__table__)
responses_t = cast(Table, Response.__table__)
customers_t = cast(Table, Customer.__table__)
BY = ("department", "channel", "touchpoint", "survey", "segment")
PERIODS = ("day", "week", "month")
By = Literal["department", "channel", "touchpoint", "survey", "segment"]


def _bad(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _period(conn: Connection, column: Any, period: str) -> Any:
    if conn.dialect.name == "sqlite":
        if period == "month":
            return func.substr(column, 1, 7)
        if period == "week":  # the Monday of the week
            return func.date(column, "weekday 0", "-6 days")
        return func.date(column)
    if period == "month":
        return func.to_char(column, "YYYY-MM")
    if period == "week":
        return func.to_char(func.date_trunc("week", column), "YYYY-MM-DD")
    return func.to_char(column, "YYYY-MM-DD")


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_label(value: str) -> str:
    """A period as people read it: a day or a week (its Monday) `2 Jun 2026`, a month
    `Jun 2026`; anything else as given."""
    try:
        if len(value) == 7:  # YYYY-MM
            year, month = int(value[:4]), int(value[5:7])
            return f"{MONTHS[month - 1]} {year}"
        day = date.fromisoformat(value)
    except (ValueError, IndexError):
        return value
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def summarise(kind: str, counts: list[int]) -> dict[str, Any]:
    """The kind's figures for score counts 0..10, as plain JSON values."""
    if kind == "nps":
        return stats.nps(counts).to_dict()
    if kind == "csat":
        return stats.csat(counts).to_dict()
    if kind == "ces":
        return stats.ces(counts).to_dict()
    spec = kinds.spec(kind)
    n = sum(counts[spec.low : spec.high + 1])
    mean = sum(s * counts[s] for s in range(spec.low, spec.high + 1)) / n if n else None
    return {"n": n, "mean": mean, "too_small": n < stats.MIN_READABLE}


def compare(kind: str, a: list[int], b: list[int]) -> dict[str, Any] | None:
    if kind == "nps":
        return stats.compare_nps(stats.nps(a), stats.nps(b)).to_dict()
    if kind == "csat":
        return stats.compare_csat(stats.csat(a), stats.csat(b)).to_dict()
    return None


def report(
    conn: Connection,
    live: Live,
    *,
    kind: str = "nps",
    survey: dict[str, Any] | None = None,
    by: str | None = None,
    period: str | None = None,
    since: date | None = None,
    until: date | None = None,
    department: str | None = None,
    channel: str | None = None,
    touchpoint: str | None = None,
    segment: dict[str, Any] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Overall figures and, with `by` and/or `period`, one group per value (each group's name
    under the key `by`, its period under `period`, and, for a `by` breakdown, a comparison
    with all the other groups together that says whether the difference is significant)."""
    if by is not None and by not in BY:
        raise _bad("by", f"must be one of {', '.join(BY)}")
    if period is not None and period not in PERIODS:
        raise _bad("period", f"must be one of {', '.join(PERIODS)}")
    if kind not in kinds.SPECS:
        raise _bad("kind", f"must be one of {', '.join(kinds.SPECS)}")
    if survey is not None:
        kind = survey["kind"]
    if since and until and since > until:
        raise _bad("since", "is after until")
    filters = dict(department=department, channel=channel, touchpoint=touchpoint)
    if by == "segment" or segment is not None:
        rows = _from_answers(
            conn, live, kind, survey, by, period, since, until, filters, segment, now
        )
    else:
        rows = _from_counts(conn, kind, survey, by, period, since, until, filters)
    overall = [0] * 11
    groups: dict[tuple[Any, ...], list[int]] = {}
    for key, counts in rows:
        if by != "segment" or key[0] is None:  # segments overlap: their total comes apart
            for s in range(11):
                overall[s] += counts[s]
        if by == "segment" and key[0] is None:
            continue
        cell = groups.setdefault(key, [0] * 11)
        for s in range(11):
            cell[s] += counts[s]
    out_groups = []
    by_totals: dict[Any, list[int]] = {}
    for key, counts in groups.items():
        if by:
            total = by_totals.setdefault(key[0], [0] * 11)
            for s in range(11):
                total[s] += counts[s]
    for key, counts in sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        group = summarise(kind, counts)
        position = 0
        if by:
            group[by] = key[0]
            position = 1
        if period:
            group["period"] = key[position]
        if by and not period and by != "segment":
            rest = [overall[s] - counts[s] for s in range(11)]
            group["vs_rest"] = compare(kind, counts, rest)
        out_groups.append(group)
    if by == "segment":  # members of a segment may also be in another: compare with everyone
        for group in out_groups:
            if not period:
                group["vs_all"] = compare(kind, by_totals[group["segment"]], overall)
    result: dict[str, Any] = {
        "kind": kind,
        "survey": survey["name"] if survey else None,
        "by": by,
        "period": period,
        "filters": {
            k: v
            for k, v in {
                **filters,
                "since": since,
                "until": until,
                "segment": segment["name"] if segment else None,
            }.items()
            if v is not None
        },
        "overall": summarise(kind, overall),
        "groups": out_groups,
    }
    return result


def _of_surveys(
    column: ColumnElement[int], kind: str, survey: dict[str, Any] | None
) -> ColumnElement[bool]:
    """One survey's answers, or those of every survey of `kind` (NPS over time combines all)."""
    if survey is not None:
        return column == int(survey["id"])
    return column.in_(select(surveys_t.c.id).where(surveys_t.c.kind == kind))


def _answer_filters(
    since: date | None, until: date | None, dimensions: dict[str, str | None]
) -> list[ColumnElement[bool]]:
    """Answers from `since` to `until` (UTC days, both included; bounds on the indexed moment)
    with the department, channel and touchpoint given."""
    r = responses_t
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(r.c.answered_at >= datetime.combine(since, time(), UTC))
    if until is not None:
        where.append(r.c.answered_at < datetime.combine(until + timedelta(days=1), time(), UTC))
    where += [r.c[name] == value for name, value in dimensions.items() if value is not None]
    return where


def _where_counts(
    kind: str,
    survey: dict[str, Any] | None,
    since: date | None,
    until: date | None,
    filters: dict[str, str | None],
) -> list[ColumnElement[bool]]:
    where = [_of_surveys(counts_t.c.survey_id, kind, survey)]
    if since:
        where.append(counts_t.c.day >= since)
    if until:
        where.append(counts_t.c.day <= until)
    for name, value in filters.items():
        if value is not None:
            where.append(counts_t.c[name] == value)
    return where


def _from_counts(
    conn: Connection,
    kind: str,
    survey: dict[str, Any] | None,
    by: str | None,
    period: str | None,
    since: date | None,
    until: date | None,
    filters: dict[str, str | None],
) -> list[tuple[tuple[Any, ...], list[int]]]:
    keys: list[Any] = []
    if by == "survey":
        keys.append(
            select(surveys_t.c.name).where(surveys_t.c.id == counts_t.c.survey_id).scalar_subquery()
        )
        group_cols: list[Any] = [counts_t.c.survey_id]
    elif by:
        keys.append(counts_t.c[by])
        group_cols = [counts_t.c[by]]
    else:
        group_cols = []
    if period:
        bucket = _period(conn, counts_t.c.day, period)
        keys.append(bucket)
        group_cols.append(bucket)
    sums = [func.coalesce(func.sum(counts_t.c[c]), 0) for c in COUNT_COLUMNS]
    query = select(*(keys or [literal(0)]), *sums).where(
        *_where_counts(kind, survey, since, until, filters)
    )
    if group_cols:
        query = query.group_by(*group_cols)
    width = max(len(keys), 1)
    out = []
    for row in conn.execute(query):
        key = tuple(_label(v) for v in row[:width]) if keys else ()
        out.append((key, [int(v) for v in row[width:]]))
    return out


def _label(value: Any) -> Any:
    if value == "":
        return None  # answers given without a department, channel or touchpoint
    return value.isoformat() if isinstance(value, date) else value


def _from_answers(
    conn: Connection,
    live: Live,
    kind: str,
    survey: dict[str, Any] | None,
    by: str | None,
    period: str | None,
    since: date | None,
    until: date | None,
    filters: dict[str, str | None],
    segment: dict[str, Any] | None,
    now: datetime,
) -> list[tuple[tuple[Any, ...], list[int]]]:
    """Score counts from the answers themselves: for segment filters and breakdowns."""
    r = responses_t
    where = [_of_surveys(r.c.survey_id, kind, survey), *_answer_filters(since, until, filters)]
    day = (
        func.date(r.c.answered_at)
        if conn.dialect.name == "sqlite"
        else func.date(func.timezone("UTC", r.c.answered_at))
    )
    if segment is not None:
        where.append(
            r.c.customer_id.in_(
                select(customers_t.c.id).where(
                    segments.condition(conn, live, segment["definition"], now)
                )
            )
        )
    buckets: list[Any] = [_period(conn, day, period)] if period else []
    groups: list[tuple[Any, list[ColumnElement[bool]]]] = []
    if by == "segment":
        for seg in _all_segments(conn):
            member = r.c.customer_id.in_(
                select(customers_t.c.id).where(
                    segments.condition(conn, live, seg["definition"], now)
                )
            )
            groups.append((seg["name"], [member]))
    else:
        keycol = r.c[by] if by in ("department", "channel", "touchpoint") else None
        groups.append((keycol, []))
    out: list[tuple[tuple[Any, ...], list[int]]] = []
    for label, extra in groups:
        cols: list[Any] = []
        if by == "segment":
            cols.append(literal(label))
        elif by == "survey":
            cols.append(
                select(surveys_t.c.name).where(surveys_t.c.id == r.c.survey_id).scalar_subquery()
            )
        elif label is not None:
            cols.append(label)
        cols += buckets
        group_by = (
            [r.c.survey_id] if by == "survey" else [label] if by not in (None, "segment") else []
        ) + buckets
        query = select(*cols, r.c.score, func.count()).where(*where, *extra)
        query = query.group_by(*group_by, r.c.score)
        cells: dict[tuple[Any, ...], list[int]] = {}
        for row in conn.execute(query):
            key = tuple(_label(v) for v in row[: len(cols)])
            cells.setdefault(key, [0] * 11)[int(row[-2])] += int(row[-1])
        out += list(cells.items())
    if by == "segment":  # the overall figures: everyone matching the filters, once
        everyone_q = select(r.c.score, func.count()).where(*where).group_by(r.c.score)
        total = [0] * 11
        for score, n in conn.execute(everyone_q):
            total[int(score)] += int(n)
        everyone: tuple[Any, ...] = (None,)
        out.append((everyone, total))
    return out


def _all_segments(conn: Connection) -> list[dict[str, Any]]:
    t = cast(Table, Segment.__table__)
    return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.name))]


def latest_answers(
    conn: Connection,
    *,
    limit: int = 20,
    flagged: bool | None = None,
    kind: str | None = None,
    band: str | None = None,
    survey_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    department: str | None = None,
    channel: str | None = None,
    touchpoint: str | None = None,
) -> list[dict[str, Any]]:
    """The newest answers with a why (untrusted text: render escaped), optionally only one
    survey's, one band's (`detractor`, …), those answered from `since` to `until` (UTC days,
    both included), and those with the department, channel and touchpoint given."""
    r = responses_t
    query = (
        select(
            r.c.id,
            r.c.customer_id,
            r.c.score,
            r.c.band,
            r.c.why,
            r.c.sentiment,
            r.c.flagged,
            r.c.answered_at,
            r.c.department,
            r.c.channel,
            r.c.touchpoint,
            surveys_t.c.name.label("survey"),
            surveys_t.c.kind,
        )
        .join(surveys_t, surveys_t.c.id == r.c.survey_id)
        .where(r.c.why.is_not(None))
        .order_by(r.c.answered_at.desc(), r.c.id.desc())
        .limit(limit)
    )
    if flagged is not None:
        query = query.where(r.c.flagged.is_(flagged))
    if kind is not None:
        query = query.where(surveys_t.c.kind == kind)
    if band is not None:
        query = query.where(r.c.band == band)
    if survey_id is not None:
        query = query.where(r.c.survey_id == survey_id)
    dimensions = {"department": department, "channel": channel, "touchpoint": touchpoint}
    query = query.where(*_answer_filters(since, until, dimensions))
    return [dict(row._mapping) for row in conn.execute(query)]
