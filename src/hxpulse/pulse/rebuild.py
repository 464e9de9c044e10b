"""`hxpulse pulse --rebuild`: recompute every customer's pulse from the event log.

Run after changing weights or the half-life. Customers are rebuilt in chunks of ids, each chunk
in its own write transaction (on PostgreSQL the chunk's customers are locked first), so that
ingestion can go on between chunks and never sees a half-rebuilt customer. At the end the
settings are recorded as the keys' law (pulse/law.py); `ensure_keys` runs at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.db import raw
from hxpulse.db.engine import run_write
from hxpulse.events.service import events_t
from hxpulse.pulse import law as key_law
from hxpulse.pulse.live import NEGATIVE_COLUMNS
from hxpulse.pulse.replay import LoggedEvent, Replay, replay
from hxpulse.pulse.service import log_query, logged, model

CHUNK = 5_000
_SET = (
    "UPDATE customers SET pulse_key = ?, pulse_investments = ?, pulse_returns = ?,"
    " open_negatives = ?, last_return_at = ? WHERE id = ?"
)
_SET_PG = (
    "UPDATE customers AS c SET pulse_key = d.k, pulse_investments = d.i, pulse_returns = d.r,"
    " open_negatives = d.o, last_return_at = d.l"
    " FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::float8[], %s::int[],"
    " %s::timestamptz[]) AS d(id, k, i, r, o, l) WHERE c.id = d.id"
)


def rebuild(
    engine: Engine,
    live: Live,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
) -> dict[str, int]:
    """Recompute S, I, R, the open negatives and the last return of every customer."""
    with engine.connect() as conn:
        top = conn.execute(select(func.max(customers_t.c.id))).scalar() or 0
    customers = events = 0
    for low in range(1, top + 1, chunk):
        high = low + chunk

        def one(conn: Connection, low: int = low, high: int = high) -> tuple[int, int]:
            return _rebuild_range(conn, live, low, high, now)

        done_customers, done_events = run_write(engine, one)
        customers += done_customers
        events += done_events
        if progress is not None:
            progress(done_events)
    with engine.begin() as conn:
        key_law.record(conn, live.pulse)
    return {"customers": customers, "events": events}


def ensure_keys(
    engine: Engine,
    live: Live,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """At start-up: rebuild every key if a migration asked for it, then check the configured
    `[pulse]` against the keys' law (raises when they cannot be read with it); return notes."""
    with engine.begin() as conn:
        reason = key_law.rebuild_reason(conn)
        notes = [] if reason is not None else key_law.check(conn, live.pulse)
    if reason is None:
        return notes
    done = rebuild(engine, live, now=now, progress=progress)
    return [f"rebuilt the pulse of {done['customers']:,} customers from {done['events']:,}"
            f" events ({reason})"]  # fmt: skip


def _rebuild_range(
    conn: Connection, live: Live, low: int, high: int, now: datetime
) -> tuple[int, int]:
    c, e = customers_t.c, events_t.c
    in_range = (c.id >= low) & (c.id < high)
    ids = list(
        conn.execute(select(c.id).where(in_range).order_by(c.id).with_for_update()).scalars()
    )
    logs: dict[int, list[LoggedEvent]] = {cid: [] for cid in ids}
    query = log_query(live.pulse).where((e.customer_id >= low) & (e.customer_id < high))
    events = 0
    for row in conn.execute(query.execution_options(yield_per=20_000)):
        logs.setdefault(row.customer_id, []).append(logged(row))
        events += 1
    law = model(live.pulse)
    results = {cid: replay(live.pulse, law, log, now) for cid, log in logs.items()}
    _write_sums(conn, results)
    _write_negatives(conn, low, high, results)
    return len(ids), events


def _write_sums(conn: Connection, results: dict[int, Replay]) -> None:
    ids = sorted(results)
    if conn.dialect.name == "sqlite":
        rows: list[tuple[Any, ...]] = []
        for cid in ids:
            r = results[cid]
            last = raw.sqlite_timestamp(r.last_return_at) if r.last_return_at else None
            rows.append((r.state.key, r.state.investments, r.state.returns, r.open_negatives,
                         last, cid))  # fmt: skip
        raw.driver(conn).executemany(_SET, rows)
        return
    columns = (ids, [results[c].state.key for c in ids],
               [results[c].state.investments for c in ids],
               [results[c].state.returns for c in ids],
               [results[c].open_negatives for c in ids],
               [results[c].last_return_at for c in ids])  # fmt: skip
    with raw.driver(conn).cursor() as cursor:
        cursor.execute(_SET_PG, [raw.pg_array(c) for c in columns])


def _write_negatives(conn: Connection, low: int, high: int, results: dict[int, Replay]) -> None:
    raw.driver(conn).execute(
        "DELETE FROM pulse_negatives WHERE customer_id >= ? AND customer_id < ?"
        if conn.dialect.name == "sqlite"
        else "DELETE FROM pulse_negatives WHERE customer_id >= %s AND customer_id < %s",
        (low, high),
    )
    ts = raw.timestamp_writer(conn)
    columns = (*NEGATIVE_COLUMNS, "resolved_at", "resolved_by")
    rows: list[tuple[Any, ...]] = []
    for cid, result in results.items():
        for n in result.negatives:
            rows.append((cid, n.message_id, n.event_type, n.component, n.weight,
                         ts(n.occurred_at), ts(n.resolved_at) if n.resolved_at else None,
                         n.resolved_by))  # fmt: skip
        for named, (moment, by) in result.early.items():
            if not any(n.message_id == named for n in result.negatives):
                rows.append((cid, named, "", "experience", 0.0, ts(moment), ts(moment), by))
    raw.insert_rows(conn, "pulse_negatives", columns, rows)
