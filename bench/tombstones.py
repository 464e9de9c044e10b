"""What the erased-identity check costs on the ingest hot path, on SQLite and PostgreSQL.

Run: `.venv/bin/python bench/tombstones.py [--rounds N]`. Two freshly migrated databases get
the same batches of 5,000 events: one where no one was ever erased (the check at most looks
for the key), one with 10,000 tombstones. Two workloads: returning customers (user id and
email already stored: nothing to check) and new visitors (a new anonymous id each: each is
hashed and looked up). Batches alternate between the databases and each figure is the fastest
of its rounds, so a busy machine disturbs both alike. Also timed alone: the check
(`tombstones.drop_erased`, with the known identities given) on a batch of new visitors.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from hxpulse.config import Live, Settings
from hxpulse.customers import service as customers
from hxpulse.db.engine import make_engine, run_write
from hxpulse.db.migrate import upgrade
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.privacy import tombstones
from hxpulse.testing.postgres import TemporaryPostgres

BATCH, CUSTOMERS, ERASED = 5000, 20_000, 10_000
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def batch(round_no: int, workload: str) -> list[EventIn]:
    first = round_no * BATCH

    def ids(i: int) -> list[tuple[str, str]]:
        n = (first + i) % CUSTOMERS
        if workload == "new visitors":
            return [("anonymous_id", f"{workload[0]}{round_no}-{i}")]
        return [("user_id", f"u{n}"), ("email", f"u{n}@example.com")]

    return [
        EventIn(message_id=f"{workload[0]}{round_no}-{i}", kind="track", type="page_view",
                occurred_at=BASE + timedelta(seconds=first + i), channel="web",
                identities=ids(i), properties={"path": f"/p/{i % 97}"})
        for i in range(BATCH)
    ]  # fmt: skip


def fresh(url: str) -> Engine:
    engine = make_engine(Settings(database_url=url))
    upgrade(engine)
    return engine


def run(db: str, urls: tuple[str, str], rounds: int) -> None:
    plain, erased = fresh(urls[0]), fresh(urls[1])
    gone = [("email", f"gone{i}@example.com") for i in range(ERASED)]
    run_write(erased, lambda conn: tombstones.bury(conn, gone, now=BASE))
    live = Live()
    for workload in ("returning", "new visitors"):
        best = {"plain": float("inf"), "erased": float("inf"), "check": float("inf")}
        for round_no in range(rounds + 1):  # round 0 creates the returning customers
            for name, engine in (("plain", plain), ("erased", erased)):
                events = batch(round_no, workload)
                start = time.perf_counter()
                result = ingest(engine, events, live=live)
                seconds = time.perf_counter() - start
                assert result.stored == BATCH and result.erased == 0, result
                if round_no:
                    best[name] = min(best[name], seconds)
            with erased.connect() as conn:
                events = batch(rounds + 1 + round_no, "new visitors")
                known = customers.existing_identities(conn, tombstones.candidates(events))
                start = time.perf_counter()
                kept, dropped = tombstones.drop_erased(conn, events, known=known)
                best["check"] = min(best["check"], time.perf_counter() - start)
                assert len(kept) == BATCH and not dropped
        ratio = best["erased"] / best["plain"]
        print(f"{db:<11}{workload:<14}{best['plain'] * 1000:>11.1f}{best['erased'] * 1000:>12.1f}"
              f"{ratio:>8.1%}{best['check'] * 1000:>13.1f}", flush=True)  # fmt: skip
    for engine in (plain, erased):
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"ingest of {BATCH:,} events (pulse and journey on), fastest of {args.rounds} rounds;"
          f" ms a batch; {ERASED:,} tombstones in the second database")  # fmt: skip
    print(f"{'database':<11}{'workload':<14}{'no erasure':>11}{'10k erased':>12}{'ratio':>8}"
          f"{'check alone':>13}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hxbench-tomb-") as folder:
        tmp = Path(folder)
        run("sqlite", (f"sqlite:///{tmp}/a.db", f"sqlite:///{tmp}/b.db"), args.rounds)
    pg = TemporaryPostgres(fsync=True).start()
    try:
        urls = (pg.create_database("bench_tomb_a"), pg.create_database("bench_tomb_b"))
        run("postgresql", urls, args.rounds)
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
