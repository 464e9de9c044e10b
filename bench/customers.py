"""The customer list's pages on 1,000,000 customers with ~3,000,000 events, on SQLite and
PostgreSQL: each sort, a stage filter, a name search and a deep page, with the total.

Run: `.venv/bin/python bench/customers.py [--quick] [--only sqlite|postgresql]`. The rows are
bench/segments.py's (bulk-loaded, indexes built after, `last_seen_at` filled as migration 0020
fills it, ANALYZE). Each page is
`customers.listing.search` (the count of all matches included), median of several runs after a
warm-up, next to the baseline measured in the same run: the list as it was before it had a
total, filters or sorts (newest first by id, no count).

Target: every page in under 2 s on PostgreSQL. Exit status 1 when one is not. The sort by
last activity reads `customers.last_seen_at` in index order; before it was stored, it took one
`max(occurred_at)` index seek per customer (about 5 s at a million customers on PostgreSQL,
1 to 2.4 s on SQLite).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text

import segments as data
from hxpulse.config import Settings
from hxpulse.customers import listing
from hxpulse.customers.service import customers_t
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.testing.postgres import TemporaryPostgres

TARGET_SECONDS = 2.0
PAGES: dict[str, listing.ListQuery] = {
    "newest first (the default)": listing.ListQuery(),
    "by name": listing.ListQuery(sort="name"),
    "by pulse, lowest first": listing.ListQuery(sort="pulse"),
    "by created, oldest first": listing.ListQuery(sort="created"),
    "by last activity, latest first": listing.ListQuery(sort="-last_activity"),
    "by last activity, earliest first": listing.ListQuery(sort="last_activity"),
    "stage = customer, by name": listing.ListQuery(stage="customer", sort="name"),
    'name contains "4242"': listing.ListQuery(q="4242"),
    "page 2,000 of newest first": listing.ListQuery(page=2000),
}


def baseline(conn: Connection) -> list[int]:
    """The list before: one page newest first by id, no total, no filter, no sort."""
    c = customers_t.c
    rows = conn.execute(
        select(c.id, c.name, c.created_at, c.stage, c.pulse_key, c.last_seen_at)
        .where(c.merged_into_id.is_(None))
        .order_by(c.id.desc())
        .limit(26)
    ).all()
    items = [dict(r._mapping) for r in rows[:25]]
    listing._attach_summary(conn, items)
    return [item["id"] for item in items]


# the loaded events bypass the ingest, which keeps it: filled as migration 0020 does
LAST_SEEN = (
    "UPDATE customers SET last_seen_at ="
    " (SELECT max(e.occurred_at) FROM events e WHERE e.customer_id = customers.id)"
)


def set_up(engine: Engine, customers: int, events: int) -> None:
    data.set_up(engine, customers, events)
    with engine.begin() as conn:
        conn.execute(text(LAST_SEEN))
        conn.execute(text("ANALYZE"))


def measure(db: str, engine: Engine, customers: int, events: int) -> bool:
    upgrade(engine)
    seconds, _ = data.timed(lambda: set_up(engine, customers, events))
    print(f"{db:<11}set-up: {customers:,} customers, {events:,} events in {seconds:.0f} s",
          flush=True)  # fmt: skip
    ok = True
    with engine.connect() as conn:
        plain, _ = data.median_of(lambda: baseline(conn))
        print(f"{db:<11}{'baseline: the list before (no total)':<36}{plain:>8.3f} s", flush=True)
        for name, query in PAGES.items():

            def page(q: listing.ListQuery = query) -> Any:
                found = listing.search(conn, q)
                return found["total"], [item["id"] for item in found["items"]]

            ours, (total, _ids) = data.median_of(page)  # type: ignore[misc]
            verdict = ""
            if db == "postgresql":
                passed = ours < TARGET_SECONDS
                ok &= passed
                verdict = f"  {'PASS' if passed else 'FAIL'} (< {TARGET_SECONDS:g} s)"
            print(f"{db:<11}{name:<36}{ours:>8.3f} s{total:>11,}  x{ours / plain:.0f} the list"
                  f" before{verdict}", flush=True)  # fmt: skip
    return ok


def run_database(db: str, customers: int, events: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="hxbench-cust-") as folder:
        pg = TemporaryPostgres().start() if db == "postgresql" else None
        try:
            url = pg.create_database("bench_customers") if pg else f"sqlite:///{Path(folder)}/c.db"
            engine = make_engine(Settings(database_url=url, sqlite_synchronous="OFF"))
            try:
                return measure(db, engine, customers, events)
            finally:
                engine.dispose()
        finally:
            if pg is not None:
                pg.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    customers, events = (50_000, 150_000) if args.quick else (1_000_000, 3_000_000)
    print(f"HX Pulse customer list: {customers:,} customers, {events:,} events; median of"
          f" {data.RUNS} pages of 25; target < {TARGET_SECONDS:g} s on PostgreSQL")  # fmt: skip
    print(f"{'database':<11}{'page':<36}{'median':>10}{'matching':>11}")
    dbs = [db for db in ("postgresql", "sqlite") if args.only in (None, db)]
    return 0 if all([run_database(db, customers, events) for db in dbs]) else 1


if __name__ == "__main__":
    sys.exit(main())
