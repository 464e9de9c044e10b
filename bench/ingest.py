"""Ingestion throughput on SQLite and PostgreSQL, each path against a raw-driver ceiling.

Run: `.venv/bin/python bench/ingest.py [--quick] [--only sqlite|postgresql]`. Every measurement
uses a freshly migrated database. The raw ceiling inserts the same `events` rows with the
driver alone (sqlite3 executemany / psycopg COPY, 5000 rows a transaction, customers created
before the clock starts); the other paths go through HX Pulse's own code. Exit status 1 when
a target is missed or a path fails.
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from sqlalchemy import Engine, text

from hxpulse.auth.service import create_key
from hxpulse.config import Live, Settings
from hxpulse.db.engine import make_engine, run_write, sqlite_pragmas
from hxpulse.db.migrate import upgrade
from hxpulse.db.raw import sqlite_timestamp
from hxpulse.events.importer import import_events
from hxpulse.events.models import EVENT_COLUMNS
from hxpulse.events.schemas import EventIn
from hxpulse.events.service import _row
from hxpulse.ingest import ingest
from hxpulse.privacy import tombstones
from hxpulse.testing.postgres import TemporaryPostgres
from hxpulse.testing.server import ServerProcess

BATCH, HTTP_BATCH, HTTP_THREADS = 5000, 100, 4
BULK_TARGET, HTTP_TARGET = 0.40, 10_000.0
BASE = datetime(2024, 1, 1, tzinfo=UTC)
CHANNELS = ("web", "app", "email", "store", "chat", "phone")
TYPES = ("page_view", "purchase")
DEPARTMENTS = ("sales", "support", "billing", None)
COLUMNS = ", ".join(EVENT_COLUMNS)
CUSTOMERS_SQL = (
    "INSERT INTO customers (id, traits, preferences, consent, created_at, updated_at)"
    " VALUES (?, '{}', '{}', '{}', ?, ?)"
)
Work = Callable[[str, Engine], float]


def workload(count: int, customers: int, prefix: str) -> list[EventIn]:
    """`count` events in time order; event i belongs to customer i % customers."""
    return [
        EventIn(
            message_id=f"{prefix}-{i}", kind="track", type=TYPES[i % 7 == 0],
            occurred_at=BASE + timedelta(seconds=i), identities=[("user_id", f"u{i % customers}")],
            channel=CHANNELS[i % 6], source="import", department=DEPARTMENTS[i % 4],
            value=round(5 + (i % 200) * 0.75, 2) if i % 7 == 0 else None,
            currency="EUR" if i % 7 == 0 else None,
            properties={"path": f"/p/{i % 97}", "referrer": f"r{i % 13}", "step": i % 5},
        )
        for i in range(count)
    ]  # fmt: skip


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def raw_sqlite(url: str, events: list[EventIn], customers: int) -> float:
    """sqlite3 executemany of pre-built rows, with the pragmas hxpulse's engine sets."""
    stamp = sqlite_timestamp(datetime.now(UTC))
    rows = [_row(e, i % customers + 1, sqlite_timestamp(e.occurred_at), stamp)
            for i, e in enumerate(events)]  # fmt: skip
    con = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    for pragma in sqlite_pragmas("FULL"):
        con.execute(f"PRAGMA {pragma}")
    with con:
        con.executemany(CUSTOMERS_SQL, [(c + 1, stamp, stamp) for c in range(customers)])
    insert = f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"

    def run() -> None:
        for start in range(0, len(rows), BATCH):
            con.execute("BEGIN")
            con.executemany(insert, rows[start : start + BATCH])
            con.execute("COMMIT")

    try:
        return timed(run)
    finally:
        con.close()


def raw_postgres(url: str, events: list[EventIn], customers: int) -> float:
    """psycopg COPY of pre-built rows, one transaction per 5000."""
    now = datetime.now(UTC)
    rows = [_row(e, i % customers + 1, e.occurred_at, now) for i, e in enumerate(events)]
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        with conn.transaction(), conn.cursor() as cur:
            sql = CUSTOMERS_SQL.replace("?", "%s")
            cur.executemany(sql, [(c + 1, now, now) for c in range(customers)])

        def run() -> None:
            for start in range(0, len(rows), BATCH):
                with conn.transaction(), conn.cursor() as cur:
                    with cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
                        for row in rows[start : start + BATCH]:
                            copy.write_row(row)

        return timed(run)


def bulk(engine: Engine, events: list[EventIn], live: Live | None) -> float:
    return timed(
        lambda: [
            ingest(engine, events[s : s + BATCH], live=live) for s in range(0, len(events), BATCH)
        ]
    )


def bulk_after_erasures(engine: Engine, events: list[EventIn], live: Live) -> float:
    """`bulk` with 10,000 erased identities on file: every batch hashes its identities and
    looks them up among the tombstones (before any erasure it only looks for the key)."""
    gone = [("email", f"gone{i}@example.com") for i in range(10_000)]
    run_write(engine, lambda conn: tombstones.bury(conn, gone, now=datetime.now(UTC)))
    return bulk(engine, events, live)


def csv_import(engine: Engine, events: list[EventIn], path: Path) -> float:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["type", "occurred_at", "user_id", "channel", "department", "value",
                      "currency", "properties.path"])  # fmt: skip
        out.writerows([e.type, e.occurred_at.isoformat(), e.identities[0][1], e.channel,
                       e.department, e.value, e.currency, e.properties["path"]]
                      for e in events)  # fmt: skip
    summary: list[Any] = []
    seconds = timed(lambda: summary.append(import_events(engine, path)))
    if summary[0].stored != len(events) or summary[0].rejected:
        raise RuntimeError(f"CSV import: {summary[0]}")
    return seconds


def http_bodies(count: int, customers: int) -> list[bytes]:
    bodies = []
    for first in range(0, count, HTTP_BATCH):
        batch = []
        for i in range(first, min(first + HTTP_BATCH, count)):
            props: dict[str, Any] = {"path": f"/p/{i % 97}", "channel": CHANNELS[i % 6]}
            if i % 7 == 0:
                props.update(value=round(5 + (i % 200) * 0.75, 2), currency="EUR")
            batch.append({"type": "track", "messageId": f"http-{i}", "userId": f"u{i % customers}",
                          "event": "page_view", "properties": props,
                          "timestamp": (BASE + timedelta(seconds=i)).isoformat()})  # fmt: skip
        bodies.append(orjson.dumps({"batch": batch}))
    return bodies


def http_batch(url: str, engine: Engine, count: int, log: Path) -> float:
    """POST Segment batches to a real `hxpulse serve`; every answer must be 200."""
    with engine.begin() as conn:
        _, key = create_key(conn, name="bench", scopes=["track"])
    bodies = http_bodies(count, max(count // 10, 1))
    failures: list[str] = []
    server = ServerProcess(url, log=log).start()

    def client(part: int) -> None:
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=server.url, auth=(key, ""), timeout=60) as http:
            for body in bodies[part::HTTP_THREADS]:
                try:
                    answer = http.post("/v1/batch", content=body, headers=headers)
                    if answer.status_code != 200:
                        failures.append(f"HTTP {answer.status_code} {answer.text[:300]}")
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")

    def run() -> None:
        threads = [threading.Thread(target=client, args=(p,)) for p in range(HTTP_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    try:
        seconds = timed(run)
    finally:
        server.stop()
    if failures:
        errors = [line for line in log.read_text().splitlines() if "Error:" in line[:80]]
        cause = f"; server log: {errors[0]}" if errors else ""
        raise RuntimeError(f"{len(failures)}/{len(bodies)} requests failed, first: {failures[0]}"
                           f"{cause}")  # fmt: skip
    return seconds


class Report:
    def __init__(self, tmp: Path, pg: TemporaryPostgres | None) -> None:
        self.tmp, self.pg, self.ceiling, self.failed = tmp, pg, 0.0, False
        self.db = "postgresql" if pg else "sqlite"

    def measure(self, path: str, events: int, work: Work, target: str = "") -> None:
        """Run `work` on a fresh database, check the event count, print one line."""
        name = "".join(ch if ch.isalnum() else "_" for ch in path.lower())
        url = f"sqlite:///{self.tmp}/{name}.db"
        url = self.pg.create_database(f"bench_{name}") if self.pg else url
        engine = make_engine(Settings(database_url=url))
        try:
            upgrade(engine)
            seconds = work(url, engine)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
            if stored != events:
                raise RuntimeError(f"{events:,} events sent, the database holds {stored:,}")
        except Exception as exc:  # noqa: BLE001 - reported, and the run goes on
            self.failed = True
            print(f"{self.db:<11}{path:<22}ERROR {type(exc).__name__}: {exc}", flush=True)
            return
        finally:
            engine.dispose()
        rate = events / seconds
        self.ceiling = self.ceiling or rate
        ratio, verdict = rate / self.ceiling, ""
        if target:
            bulk = target == "bulk"
            ok = ratio >= BULK_TARGET if bulk else rate >= HTTP_TARGET
            goal = f"{BULK_TARGET:.0%} of raw" if bulk else f"{HTTP_TARGET:,.0f}/s"
            verdict = f"{'PASS' if ok else 'FAIL'} (>= {goal})"
            self.failed |= not ok
        numbers = f"{events:>9,}{seconds:>9.2f}{rate:>11,.0f}{ratio:>8.1%}"
        print(f"{self.db:<11}{path:<22}{numbers}  {verdict}", flush=True)


def run_database(db: str, n: int, customers: int, http_n: int) -> bool:
    """Measure every path on `db`; return True when all passed."""
    with tempfile.TemporaryDirectory(prefix=f"hxbench-{db}-") as folder:
        tmp = Path(folder)
        pg = TemporaryPostgres(fsync=True).start() if db == "postgresql" else None
        r, raw = Report(tmp, pg), raw_postgres if pg else raw_sqlite

        def events(prefix: str) -> list[EventIn]:
            return workload(n, customers, prefix)

        try:
            r.measure("raw ceiling", n, lambda u, e: raw(u, events("raw"), customers))
            r.measure("bulk import", n, lambda u, e: bulk(e, events("b"), None), "bulk")
            live = Live()
            r.measure("bulk import + live", n, lambda u, e: bulk(e, events("p"), live))
            r.measure("  + 10k tombstones", n,
                      lambda u, e: bulk_after_erasures(e, events("t"), live))  # fmt: skip
            r.measure("CSV import", n, lambda u, e: csv_import(e, events("c"), tmp / "e.csv"))
            http = lambda u, e: http_batch(u, e, http_n, tmp / "server.log")  # noqa: E731
            r.measure("HTTP /v1/batch", http_n, http, "" if pg else "http")
        finally:
            if pg is not None:
                pg.stop()
    return not r.failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    n, customers, http_n = (20_000, 2_000, 5_000) if args.quick else (200_000, 20_000, 50_000)
    http = f"{http_n:,} events for {http_n // 10:,}, {HTTP_BATCH} a request, {HTTP_THREADS} threads"
    print(f"HX Pulse ingestion: {n:,} events for {customers:,} customers; HTTP: {http}")
    print(f"targets: bulk import >= {BULK_TARGET:.0%} of raw; HTTP batch >= {HTTP_TARGET:,.0f}"
          " events/s on SQLite")  # fmt: skip
    print(f"{'database':<11}{'path':<22}{'events':>9}{'seconds':>9}{'events/s':>11}{'ratio':>8}")
    dbs = [db for db in ("sqlite", "postgresql") if args.only in (None, db)]
    return 0 if all([run_database(db, n, customers, http_n) for db in dbs]) else 1


if __name__ == "__main__":
    sys.exit(main())
