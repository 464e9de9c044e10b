"""Ingestion throughput on SQLite and PostgreSQL, each path against a raw-driver ceiling.

Run: `.venv/bin/python bench/ingest.py [--quick] [--only sqlite|postgresql]`. Every measurement
uses a freshly migrated database. The raw ceiling inserts the same `events` rows with the
driver alone (sqlite3 executemany / psycopg COPY, 5000 rows a transaction, customers created
before the clock starts); the other paths go through HX Pulse's own code.
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
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.db.raw import sqlite_timestamp
from hxpulse.events.importer import import_events
from hxpulse.events.models import EVENT_COLUMNS
from hxpulse.events.schemas import EventIn
from hxpulse.events.service import _row, ingest
from hxpulse.testing.postgres import TemporaryPostgres
from hxpulse.testing.server import ServerProcess

BATCH = 5000
HTTP_BATCH = 100
HTTP_THREADS = 4
BULK_TARGET = 0.40
HTTP_TARGET = 10_000.0
BASE = datetime(2024, 1, 1, tzinfo=UTC)
CHANNELS = ("web", "app", "email", "store", "chat", "phone")
TYPES = ("page_view", "purchase")
DEPARTMENTS = ("sales", "support", "billing", None)
COLUMNS = ", ".join(EVENT_COLUMNS)


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


def fresh(name: str, tmp: Path, pg: TemporaryPostgres | None) -> tuple[str, Engine]:
    """Create and migrate a new database; return its URL and an engine on it."""
    url = pg.create_database(f"bench_{name}") if pg else f"sqlite:///{tmp / name}.db"
    engine = make_engine(Settings(database_url=url))
    upgrade(engine)
    return url, engine


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def raw_ceiling(url: str, events: list[EventIn], customers: int, sqlite: bool) -> float:
    """Driver-only insert of the same rows (customers exist before the clock starts)."""
    now = datetime.now(UTC)
    ids = [i % customers + 1 for i in range(len(events))]
    if sqlite:
        stamp = sqlite_timestamp(now)
        rows = [_row(e, c, sqlite_timestamp(e.occurred_at), stamp) for e, c in zip(events, ids)]  # noqa: B905
        con = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            con.execute(f"PRAGMA {pragma}")  # the same settings as hxpulse's engine
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO customers (id, traits, preferences, consent, created_at, updated_at)"
            " VALUES (?, '{}', '{}', '{}', ?, ?)",
            [(c + 1, stamp, stamp) for c in range(customers)],
        )
        con.execute("COMMIT")
        marks = ", ".join("?" * len(EVENT_COLUMNS))

        def run_sqlite() -> None:
            for start in range(0, len(rows), BATCH):
                con.execute("BEGIN")
                con.executemany(
                    f"INSERT INTO events ({COLUMNS}) VALUES ({marks})", rows[start : start + BATCH]
                )
                con.execute("COMMIT")

        seconds = timed(run_sqlite)
        con.close()
        return seconds
    rows = [_row(e, c, e.occurred_at, now) for e, c in zip(events, ids, strict=True)]
    with psycopg.connect(url.replace("+psycopg", "")) as pgc:
        with pgc.cursor() as cur:
            cur.executemany(
                "INSERT INTO customers (id, traits, preferences, consent, created_at, updated_at)"
                " VALUES (%s, '{}', '{}', '{}', %s, %s)",
                [(c + 1, now, now) for c in range(customers)],
            )
        pgc.commit()

        def run_pg() -> None:
            for start in range(0, len(rows), BATCH):
                with pgc.transaction(), pgc.cursor() as cur:
                    with cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
                        for row in rows[start : start + BATCH]:
                            copy.write_row(row)

        return timed(run_pg)


def bulk(engine: Engine, events: list[EventIn]) -> float:
    def run() -> None:
        for start in range(0, len(events), BATCH):
            ingest(engine, events[start : start + BATCH])

    return timed(run)


def write_csv(path: Path, events: list[EventIn]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["type", "occurred_at", "user_id", "channel", "department", "value",
                      "currency", "properties.path"])  # fmt: skip
        for e in events:
            out.writerow([e.type, e.occurred_at.isoformat(), e.identities[0][1], e.channel,
                          e.department or "", "" if e.value is None else e.value,
                          e.currency or "", e.properties["path"]])  # fmt: skip


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


def http_batch(url: str, engine: Engine, count: int, customers: int, tmp: Path) -> float:
    """POST Segment batches to a real `hxpulse serve`; every answer must be 200."""
    with engine.begin() as conn:
        _, key = create_key(conn, name="bench", scopes=["track"])
    bodies = http_bodies(count, customers)
    failures: list[str] = []
    server = ServerProcess(url, log=tmp / "server.log").start()

    def client(part: int) -> None:
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=server.url, auth=(key, ""), timeout=60) as http:
            for body in bodies[part::HTTP_THREADS]:
                answer = http.post("/v1/batch", content=body, headers=headers)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code}: {answer.text[:500]}")

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
        raise RuntimeError(f"{len(failures)} requests failed, first: {failures[0]}")
    return seconds


class Report:
    def __init__(self) -> None:
        self.failed = False
        self.ceiling = 0.0

    def line(self, db: str, path: str, events: int, seconds: float, target: str = "") -> None:
        rate = events / seconds
        self.ceiling = self.ceiling or rate
        ratio = rate / self.ceiling
        verdict = ""
        if target:
            bulk = target == "bulk"
            ok = ratio >= BULK_TARGET if bulk else rate >= HTTP_TARGET
            goal = f"{BULK_TARGET:.0%} of raw" if bulk else f"{HTTP_TARGET:,.0f}/s"
            verdict = f"{'PASS' if ok else 'FAIL'} (>= {goal})"
            self.failed |= not ok
        numbers = f"{events:>9,}{seconds:>9.2f}{rate:>11,.0f}{ratio:>8.1%}"
        print(f"{db:<11}{path:<22}{numbers}  {verdict}", flush=True)


def run_database(db: str, n: int, customers: int, http_n: int, report: Report) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"hxbench-{db}-"))
    pg = TemporaryPostgres(fsync=True).start() if db == "postgresql" else None
    sqlite = pg is None
    report.ceiling = 0.0
    try:
        url, engine = fresh("raw", tmp, pg)
        seconds = raw_ceiling(url, workload(n, customers, "raw"), customers, sqlite)
        assert count_events(engine) == n
        engine.dispose()
        report.line(db, "raw ceiling", n, seconds)

        url, engine = fresh("bulk", tmp, pg)
        seconds = bulk(engine, workload(n, customers, "bulk"))
        assert count_events(engine) == n
        engine.dispose()
        report.line(db, "bulk import (ingest)", n, seconds, "bulk")

        url, engine = fresh("csv", tmp, pg)
        path = tmp / "events.csv"
        write_csv(path, workload(n, customers, "csv"))
        start = time.perf_counter()
        summary = import_events(engine, path)
        seconds = time.perf_counter() - start
        assert summary.stored == n and summary.rejected == 0, summary
        engine.dispose()
        report.line(db, "CSV import", n, seconds)

        url, engine = fresh("http", tmp, pg)
        seconds = http_batch(url, engine, http_n, max(http_n // 10, 1), tmp)
        stored = count_events(engine)
        engine.dispose()
        if stored != http_n:
            raise RuntimeError(f"HTTP: sent {http_n} events, the database holds {stored}")
        report.line(db, "HTTP /v1/batch", http_n, seconds, "http" if sqlite else "")
    finally:
        if pg is not None:
            pg.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    n, customers, http_n = (20_000, 2_000, 5_000) if args.quick else (200_000, 20_000, 50_000)
    print(f"HX Pulse ingestion: {n:,} events for {customers:,} customers (HTTP: {http_n:,},"
          f" {HTTP_BATCH} per request, {HTTP_THREADS} client threads)")  # fmt: skip
    print(f"targets: bulk import >= {BULK_TARGET:.0%} of raw; HTTP batch >= {HTTP_TARGET:,.0f}"
          " events/s on SQLite")  # fmt: skip
    print(f"{'database':<11}{'path':<22}{'events':>9}{'seconds':>9}{'events/s':>11}{'ratio':>8}")
    report = Report()
    for db in ("sqlite", "postgresql"):
        if args.only in (None, db):
            run_database(db, n, customers, http_n, report)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
