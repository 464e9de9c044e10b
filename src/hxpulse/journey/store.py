"""The journey's storage: what the live path and the rebuild read (stored stages and counters,
events, negatives) and write (transitions, stages), in few statements per batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete

from hxpulse.db import raw
from hxpulse.events.schemas import EventIn
from hxpulse.journey.definition import Moment, StageEvent, Timeline, Transition
from hxpulse.journey.models import StageChange

stage_changes_t = cast(Table, StageChange.__table__)
STAGE_COLUMNS = ("customer_id", "from_stage", "to_stage", "changed_at", "message_id", "channel",
                 "department")  # fmt: skip


def moment_reader(conn: Connection) -> Callable[[Any], datetime]:
    """How this driver's timestamps become aware UTC datetimes (SQLite: stored text)."""
    if conn.dialect.name == "sqlite":
        return _from_sqlite
    return _to_utc


def _from_sqlite(value: Any) -> datetime:
    return _fromisoformat(value + "+00:00")  # 8x faster than .replace(tzinfo=UTC)


_fromisoformat = datetime.fromisoformat


def _to_utc(value: Any) -> datetime:
    moment = cast(datetime, value)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def stored_stages(conn: Connection, customer_ids: list[int]) -> list[tuple[Any, ...]]:
    """(customer, stage, stage_at, open_negatives, journey_counters): the stored stage, its
    latest change, how many negative experiences are open, and the counters the replay can go
    on from."""
    sql = ("SELECT id, stage, stage_at, open_negatives, journey_counters FROM customers"
           " WHERE id {in}")  # fmt: skip
    if conn.dialect.name != "sqlite":
        # lock them (in id order, like every customer lock) so that a concurrent batch for the
        # same customer waits for this one and then replays on top of it; event inserts are
        # not blocked (they take key-share locks)
        sql += " ORDER BY id FOR NO KEY UPDATE"
    return raw.select_in(conn, sql, customer_ids)


def stored_span(conn: Connection, customer_ids: list[int]) -> list[tuple[Any, ...]]:
    """(customer, first and last transition time) for those with transitions: index-only."""
    sql = ("SELECT customer_id, MIN(changed_at), MAX(changed_at) FROM stage_changes"
           " WHERE customer_id {in} GROUP BY customer_id")  # fmt: skip
    return raw.select_in(conn, sql, customer_ids)


def latest_change(conn: Connection) -> datetime | None:
    """The time of the latest stored transition of anyone (one index lookup)."""
    if conn.dialect.name == "sqlite":  # the driver's own cursor: this runs for every batch
        found = raw.driver(conn).execute("SELECT MAX(changed_at) FROM stage_changes").fetchone()
    else:
        with raw.driver(conn).cursor() as cursor:
            found = cursor.execute("SELECT MAX(changed_at) FROM stage_changes").fetchone()
    return None if found is None or found[0] is None else moment_reader(conn)(found[0])


def entries_after(
    conn: Connection, customer_ids: list[int], first: dict[int, EventIn]
) -> list[tuple[Any, ...]]:
    """Of `customer_ids`, those whose stored entry is later than the earliest of their batch
    events (the SQL keeps only entries later than the batch's earliest such event)."""
    if not customer_ids:
        return []
    earliest = min(first[cid].occurred_at for cid in customer_ids)
    bound = raw.sqlite_timestamp(earliest) if conn.dialect.name == "sqlite" else (
        earliest.isoformat())  # fmt: skip
    kind = "" if conn.dialect.name == "sqlite" else "::timestamptz"
    sql = ("SELECT customer_id, MIN(changed_at), MAX(changed_at) FROM stage_changes"
           " WHERE customer_id {in} GROUP BY customer_id"
           f" HAVING MIN(changed_at) > '{bound}'{kind}")  # fmt: skip
    return raw.select_in(conn, sql, sorted(customer_ids))


def first_events(conn: Connection, customer_ids: Sequence[int]) -> dict[int, StageEvent]:
    """Each customer's first event (by time, then message id)."""
    sql = (
        "SELECT customer_id, message_id, type, occurred_at, channel, department FROM ("
        "SELECT customer_id, message_id, type, occurred_at, channel, department, ROW_NUMBER()"
        " OVER (PARTITION BY customer_id ORDER BY occurred_at, message_id) AS n"
        " FROM events WHERE customer_id {in}) AS firsts WHERE n = 1"
    )
    read = moment_reader(conn)
    return {
        row[0]: StageEvent(row[1], row[2], read(row[3]), row[4], row[5])
        for row in raw.select_in(conn, sql, list(customer_ids))
    }


def load_events(
    conn: Connection, relevant_sql: str, customer_ids: list[int]
) -> dict[int, list[Moment]]:
    """Every stage-relevant event (types `relevant_sql`) of the customers: the (customer, time)
    index."""
    sqlite = conn.dialect.name == "sqlite"
    hint = " INDEXED BY ix_events_customer_occurred" if sqlite else ""
    moment = "occurred_at || '+00:00'" if sqlite else "occurred_at"  # parsed 8x faster
    sql = (f"SELECT customer_id, message_id, type, {moment}, channel, department FROM events"
           f"{hint} WHERE customer_id {{in}} AND type IN ({relevant_sql})")  # fmt: skip
    read = _fromisoformat if sqlite else _to_utc
    found: dict[int, list[Moment]] = {}
    for cid, mid, kind, occurred, channel, department in raw.select_in(conn, sql, customer_ids):
        found.setdefault(cid, []).append(StageEvent(mid, kind, read(occurred), channel,
                                                    department))  # fmt: skip
    return found


def load_negatives(
    conn: Connection, customer_ids: list[int]
) -> dict[int, list[tuple[datetime, datetime | None]]]:
    if not customer_ids:
        return {}
    sql = "SELECT customer_id, occurred_at, resolved_at FROM pulse_negatives WHERE customer_id {in}"
    read = moment_reader(conn)
    found: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for cid, occurred, resolved in raw.select_in(conn, sql, customer_ids):
        span = (read(occurred), read(resolved) if resolved is not None else None)
        found.setdefault(cid, []).append(span)
    return found


_SET_STAGE = (
    "UPDATE customers SET stage = ?, stage_at = COALESCE(?, stage_at), detractor = ?,"
    " journey_counters = ? WHERE id = ?"
)
_SET_STAGE_PG = (
    "UPDATE customers AS c SET stage = d.s, stage_at = COALESCE(d.t, c.stage_at), detractor = d.n,"
    " journey_counters = d.j FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[],"
    " %s::bool[], %s::text[]) AS d(id, s, t, n, j) WHERE c.id = d.id"
)
_DROP_SINCE = "DELETE FROM stage_changes WHERE customer_id = ? AND changed_at >= ?"
_DROP_SINCE_PG = (
    "DELETE FROM stage_changes AS s USING unnest(%s::bigint[], %s::timestamptz[]) AS d(id, t)"
    " WHERE s.customer_id = d.id AND s.changed_at >= d.t"
)


def replace_transitions(
    conn: Connection, replaced: Sequence[tuple[int, datetime | None, bool, list[Transition]]],
    fresh: set[int],
) -> None:  # fmt: skip
    """Per (customer, since, stored, added): drop the customer's transitions from `since` on
    (None: all of them, unless the customer is in `fresh`, who has none) when `stored` says
    there are any, and insert `added`."""
    ts = raw.timestamp_writer(conn)
    drop_all: list[int] = []
    drop_since: list[tuple[int, datetime]] = []
    rows: list[tuple[Any, ...]] = []
    for cid, since, stored, added in sorted(replaced, key=_customer):
        if since is None:
            if cid not in fresh:
                drop_all.append(cid)
        elif stored:
            drop_since.append((cid, since))
        rows.extend((cid, t.from_stage, t.to_stage, ts(t.at), t.message_id, t.channel,
                     t.department) for t in added)  # fmt: skip
    sqlite = conn.dialect.name == "sqlite"
    if drop_all:
        s = stage_changes_t.c
        for start in range(0, len(drop_all), raw.SQLITE_MAX_IN):
            part = drop_all[start : start + raw.SQLITE_MAX_IN]
            conn.execute(delete(stage_changes_t).where(s.customer_id.in_(part)))
    if drop_since:
        if sqlite:
            raw.driver(conn).executemany(_DROP_SINCE, [(c, ts(t)) for c, t in drop_since])
        else:
            with raw.driver(conn).cursor() as cursor:
                ids, times = [c for c, _ in drop_since], [t for _, t in drop_since]
                cursor.execute(_DROP_SINCE_PG, (raw.pg_array(ids), raw.pg_array(times)))
    raw.insert_rows(conn, "stage_changes", STAGE_COLUMNS, rows)


def _customer(item: tuple[Any, ...]) -> Any:
    return item[0]


def set_stages(conn: Connection, states: Sequence[tuple[int, Timeline, str | None]]) -> None:
    """Write each customer's stage, since when, NPS flag and counters (the rebuild's path; the
    live path writes them with the pulse sums, `pulse.live.apply`)."""
    if not states:
        return
    if conn.dialect.name == "sqlite":
        raw.driver(conn).executemany(_SET_STAGE, [
            (t.stage, raw.sqlite_timestamp(t.stage_at) if t.stage_at else None, int(t.detractor),
             counters, cid) for cid, t, counters in states])  # fmt: skip
        return
    with raw.driver(conn).cursor() as cursor:
        columns = (
            [c for c, _, _ in states],
            [t.stage for _, t, _ in states],
            [t.stage_at for _, t, _ in states],
            [t.detractor for _, t, _ in states],
            [j for _, _, j in states],
        )
        cursor.execute(_SET_STAGE_PG, [raw.pg_array(c) for c in columns])
