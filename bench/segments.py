"""Segment counts on 1,000,000 customers with ~3,000,000 events, on SQLite and PostgreSQL.

Run: `.venv/bin/python bench/segments.py [--quick] [--only sqlite|postgresql]`. Rows are loaded
with the driver's bulk path (COPY / executemany), not through ingestion, events oldest first
(as a log fills up; a skewed spread over customers), indexes built after the load; then
ANALYZE. Each segment is counted by `segments.service.count` (compiling the definition
included), median of several runs after a warm-up, next to two baselines measured in the same
run:

- `count(*)` of live customers (a scan of the customers table), and
- the same segment written the obvious other way: a correlated per-customer count of events
  (`(SELECT count(*) FROM events WHERE customer_id = c.id AND ...) >= n`), which is what the
  service's `IN (SELECT customer_id ... GROUP BY ... HAVING ...)` replaces.

Target: each segment counts in under 2 s on PostgreSQL. Exit status 1 when it does not.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from hxpulse.config import Live, Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.db.raw import insert_rows, timestamp_writer
from hxpulse.pulse.service import model
from hxpulse.segments import service
from hxpulse.testing.postgres import TemporaryPostgres

TARGET_SECONDS = 2.0
RUNS = 5
CHUNK = 100_000
LIVE = Live()
NOW = datetime.now(UTC)
STAGES = (
    ("prospect", 40),
    ("lead", 20),
    ("qualified_lead", 10),
    ("customer", 20),
    ("repeat_customer", 8),
    ("advocate", 2),
)
TYPES = (
    ("page_view", 45),
    ("purchase", 15),
    ("app_open", 15),
    ("email_opened", 12),
    ("support_contact", 5),
    ("add_to_cart", 5),
    ("review", 3),
)
CHANNELS = ("web", "app", "email", "store", "chat", "phone")
SEGMENTS: dict[str, Any] = {
    "bought >= 2x in 90 days via the app": {
        "event": {"type": "purchase", "channel": "app", "within_days": 90, "min_count": 2}
    },
    "support in 7 days and stage = customer": {
        "all": [
            {"event": {"type": "support_contact", "within_days": 7}},
            {"field": "stage", "op": "eq", "value": "customer"},
        ]
    },
}
# the same segments as correlated per-customer counts (the baseline they are compared with)
NAIVE = {
    "bought >= 2x in 90 days via the app": (
        "SELECT count(*) FROM customers c WHERE c.merged_into_id IS NULL AND (SELECT count(*)"
        " FROM events e WHERE e.customer_id = c.id AND e.type = 'purchase' AND e.channel = 'app'"
        " AND e.occurred_at >= :since90) >= 2"
    ),
    "support in 7 days and stage = customer": (
        "SELECT count(*) FROM customers c WHERE c.merged_into_id IS NULL AND c.stage = 'customer'"
        " AND EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id"
        " AND e.type = 'support_contact' AND e.occurred_at >= :since7)"
    ),
}
PLAIN = "SELECT count(*) FROM customers WHERE merged_into_id IS NULL"


def weighted(pairs: tuple[tuple[str, int], ...], rng: random.Random, n: int) -> list[str]:
    names, weights = zip(*pairs, strict=True)
    return rng.choices(names, weights, k=n)


def customer_rows(n: int, rng: random.Random, stamp: Callable[[datetime], Any]) -> Iterator[Any]:
    law = model(LIVE.pulse)
    stages = weighted(STAGES, rng, n)
    for cid in range(1, n + 1):
        created = stamp(NOW - timedelta(days=rng.uniform(0, 1000)))
        returned = stamp(NOW - timedelta(days=rng.uniform(0, 400))) if cid % 3 else None
        yield (
            cid,
            f"Customer {cid}",
            '{"plan": "basic"}',
            "{}",
            "{}",
            created,
            created,
            law.key_threshold(rng.expovariate(1 / 15), NOW),
            stages[cid - 1],
            returned,
            0,
            cid % 50 == 0,
        )


def event_rows(
    n: int, customers: int, rng: random.Random, stamp: Callable[[datetime], Any]
) -> Iterator[Any]:
    types = weighted(TYPES, rng, n)
    received = stamp(NOW)
    # stored oldest first, as a log fills up (ingestion appends events as they arrive)
    ages = sorted((rng.uniform(0, 365 * 86_400) for _ in range(n)), reverse=True)
    for k in range(n):
        # a skewed spread: a few customers have many events, most have a few or none
        cid = 1 + int(customers * rng.random() ** 2)
        kind = types[k]
        channel = rng.choice(("app", "web", "store")) if kind == "purchase" else CHANNELS[k % 6]
        value = round(rng.uniform(5, 200), 2) if kind == "purchase" else None
        at = stamp(NOW - timedelta(seconds=ages[k]))
        yield (
            f"bench-{k}",
            cid,
            "track",
            kind,
            channel,
            "support" if kind == "support_contact" else None,
            at,
            received,
            value,
            "import",
            "{}",
        )


CUSTOMER_COLUMNS = (
    "id",
    "name",
    "traits",
    "preferences",
    "consent",
    "created_at",
    "updated_at",
    "pulse_key",
    "stage",
    "last_return_at",
    "open_negatives",
    "detractor",
)
EVENT_COLUMNS = (
    "message_id",
    "customer_id",
    "kind",
    "type",
    "channel",
    "department",
    "occurred_at",
    "received_at",
    "value",
    "source",
    "properties",
)


# built after the load, as a restore would (the service's queries need them; loading is faster
# without them)
EVENT_INDEXES = {
    "ix_events_customer_occurred": "events (customer_id, occurred_at)",
    "ix_events_type_occurred": "events (type, occurred_at, customer_id)",
}


def load(engine: Engine, table: str, columns: tuple[str, ...], rows: Iterator[Any]) -> None:
    done = False
    while not done:
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                break
        done = len(chunk) < CHUNK
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # the rows are known to be consistent
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            insert_rows(conn, table, columns, chunk)


def set_up(engine: Engine, customers: int, events: int) -> None:
    rng = random.Random(20261123)
    with engine.connect() as conn:
        stamp = timestamp_writer(conn)
    load(engine, "customers", CUSTOMER_COLUMNS, customer_rows(customers, rng, stamp))
    with engine.begin() as conn:
        for name in EVENT_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
    load(engine, "events", EVENT_COLUMNS, event_rows(events, customers, rng, stamp))
    with engine.begin() as conn:
        for name, on in EVENT_INDEXES.items():
            conn.execute(text(f"CREATE INDEX {name} ON {on}"))
        conn.execute(text("ANALYZE"))


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    answer = work()
    return time.perf_counter() - start, answer


def median_of(work: Callable[[], object]) -> tuple[float, object]:
    _, answer = timed(work)  # warm-up: caches and plans, as on a server that is running
    times = []
    for _ in range(RUNS):
        seconds, again = timed(work)
        assert again == answer, (again, answer)
        times.append(seconds)
    return statistics.median(times), answer


def run_database(db: str, customers: int, events: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="hxbench-seg-") as folder:
        pg = TemporaryPostgres().start() if db == "postgresql" else None
        try:
            url = pg.create_database("bench_segments") if pg else f"sqlite:///{Path(folder)}/s.db"
            settings = Settings(database_url=url, sqlite_synchronous="OFF")
            engine = make_engine(settings)
            try:
                return measure(db, engine, customers, events)
            finally:
                engine.dispose()
        finally:
            if pg is not None:
                pg.stop()


def measure(db: str, engine: Engine, customers: int, events: int) -> bool:
    upgrade(engine)
    seconds, _ = timed(lambda: set_up(engine, customers, events))
    print(
        f"{db:<11}set-up: {customers:,} customers, {events:,} events in {seconds:.0f} s", flush=True
    )
    ok = True
    with engine.connect() as conn:
        plain, total = median_of(lambda: conn.execute(text(PLAIN)).scalar_one())
        print(
            f"{db:<11}{'baseline: count(*) of live customers':<44}{plain:>8.3f} s{total:>11,}",
            flush=True,
        )
        for name, definition in SEGMENTS.items():
            ours, found = median_of(lambda d=definition: service.count(conn, LIVE, d, NOW))  # type: ignore[misc]
            naive, same = median_of(lambda n=name: naive_count(conn, n))  # type: ignore[misc]
            if same != found:
                print(f"{db:<11}{name}: naive count {same} differs from {found}")
                ok = False
            verdict = ""
            if db == "postgresql":
                passed = ours < TARGET_SECONDS
                ok &= passed
                verdict = f"  {'PASS' if passed else 'FAIL'} (< {TARGET_SECONDS:g} s)"
            print(
                f"{db:<11}{name:<44}{ours:>8.3f} s{found:>11,}"
                f"  x{ours / plain:.1f} count(*), correlated {naive:.3f} s"
                f" (x{naive / ours:.1f} slower){verdict}",
                flush=True,
            )
    return ok


def naive_count(conn: Connection, name: str) -> int:
    since90, since7 = NOW - timedelta(days=90), NOW - timedelta(days=7)
    if conn.dialect.name == "sqlite":
        from hxpulse.db.raw import sqlite_timestamp

        params: dict[str, Any] = {
            "since90": sqlite_timestamp(since90),
            "since7": sqlite_timestamp(since7),
        }
    else:
        params = {"since90": since90, "since7": since7}
    return int(conn.execute(text(NAIVE[name]), params).scalar_one())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    customers, events = (50_000, 150_000) if args.quick else (1_000_000, 3_000_000)
    print(
        f"HX Pulse segments: {customers:,} customers, {events:,} events over 365 days;"
        f" median of {RUNS} counts; target < {TARGET_SECONDS:g} s on PostgreSQL"
    )
    print(f"{'database':<11}{'segment':<44}{'median':>10}{'customers':>11}")
    dbs = [db for db in ("postgresql", "sqlite") if args.only in (None, db)]
    return 0 if all([run_database(db, customers, events) for db in dbs]) else 1


if __name__ == "__main__":
    sys.exit(main())
