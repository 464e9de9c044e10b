"""The live pulse and journey: their cost on ingestion, the at-risk query, and a full rebuild.

Run: `.venv/bin/python bench/pulse.py [--quick] [--only sqlite|postgresql]`.

1. The same 1,000,000 events for 100,000 customers (a mix of page views, emails, carts,
   purchases, reviews, referrals, complaints and resolutions, in time order, 5000 a batch) are
   ingested into two fresh databases: with the live steps switched off (the baseline) and on
   (pulse, stages, advocacy and the default rules), a batch into each in turn (so that the
   machine's ups and downs fall on both). Target: on >= 50% of the speed of off, in the same run.
2. `hxpulse pulse --rebuild` of those 1,000,000 events (pulse, negatives, stages and their
   transitions). Target: under 2 minutes.
3. "Top 100 at risk now" (the at-risk band, most to lose first) over 1,000,000 customers
   (900,000 more customers are added with raw inserts, their last return spread over 400
   days), median of 25 runs, against the same query forced to sort the whole table (the
   baseline). Target: under 50 ms. The count of all at-risk customers (a scan) is printed too.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, text

from hxpulse.config import Live, Settings
from hxpulse.customers.service import customers_t
from hxpulse.db import raw
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.journey import rebuild as journey
from hxpulse.pulse import bands
from hxpulse.pulse import service as pulse
from hxpulse.pulse.rebuild import rebuild
from hxpulse.testing.postgres import TemporaryPostgres

BATCH = 5000
RATIO_TARGET, REBUILD_TARGET, AT_RISK_TARGET = 0.50, 120.0, 0.050
AT_RISK_MS = round(AT_RISK_TARGET * 1000)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
CHANNELS = ("web", "app", "email", "store", "chat", "phone")
MIX = [("page_view", 45), ("email_sent", 10), ("email_opened", 5), ("app_open", 10),
       ("identify", 3), ("add_to_cart", 7), ("purchase", 12), ("review", 2), ("referral", 1),
       ("content_share", 2), ("complaint", 2), ("resolution", 1)]  # fmt: skip


def workload(count: int, customers: int) -> list[EventIn]:
    """`count` events over the 400 days before NOW, in time order; customer i % customers."""
    rng = random.Random(20261123)
    kinds = [k for k, share in MIX for _ in range(share)]
    start, step = NOW - timedelta(days=400), timedelta(days=400) / count
    events = []
    for i in range(count):
        kind = rng.choice(kinds)
        purchase = kind == "purchase"
        events.append(EventIn(
            message_id=f"m{i}", kind="identify" if kind == "identify" else "track", type=kind,
            occurred_at=start + step * i, identities=[("user_id", f"u{i % customers}")],
            channel=CHANNELS[i % 6], source="import", department="support" if kind in (
                "complaint", "resolution") else None,
            value=round(rng.uniform(5, 200), 2) if purchase else None,
            currency="EUR" if purchase else None, properties={"step": i % 5},
        ))  # fmt: skip
    return events


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def fresh(url: str) -> Engine:
    engine = make_engine(Settings(database_url=url))
    upgrade(engine)
    return engine


def line(db: str, what: str, figure: str, ratio: str, verdict: str = "") -> None:
    print(f"{db:<11}{what:<34}{figure:>16}  {ratio:<28}  {verdict}", flush=True)


def verdict(ok: bool, goal: str) -> str:
    return f"{'PASS' if ok else 'FAIL'} ({goal})"


def add_customers(engine: Engine, total: int) -> None:
    """Add plain customers with random pulse keys until there are `total` of them."""
    law = pulse.model(Live().pulse)
    rng = random.Random(7)
    with engine.begin() as conn:
        have = conn.execute(text("SELECT max(id) FROM customers")).scalar_one() or 0
        ts = raw.timestamp_writer(conn)
        stamp = ts(NOW)
        columns = ("id", "traits", "preferences", "consent", "created_at", "updated_at",
                   "pulse_key", "pulse_investments", "pulse_returns", "stage", "last_return_at",
                   "open_negatives")  # fmt: skip
        rows = [(cid, "{}", "{}", "{}", stamp, stamp,
                 law.key_threshold(rng.lognormvariate(2.5, 1.4) - 4, NOW), 10.0, 20.0,
                 "customer", ts(NOW - timedelta(days=rng.uniform(0, 400))),
                 int(rng.random() < 0.05)) for cid in range(have + 1, total + 1)]  # fmt: skip
        for s in range(0, len(rows), 50_000):
            raw.insert_rows(conn, "customers", columns, rows[s : s + 50_000])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def at_risk_times(engine: Engine, runs: int = 25) -> tuple[float, float, float, int]:
    """Medians of the at-risk page (index scan), of the same query sorting the whole table,
    and of the count of every at-risk customer; and that count."""
    live = Live()
    c = customers_t.c
    naive = (select(c.id).where(c.merged_into_id.is_(None),
                                bands.band_sql(bands.edges(live, NOW), "at-risk"))
             .order_by((c.pulse_key + 0).desc(), c.id).limit(100))  # fmt: skip
    index, full, counted = [], [], []
    with engine.connect() as conn:
        for _ in range(runs):
            index.append(timed(lambda: bands.at_risk_list(conn, live, NOW, limit=100,
                                                          count=False)))  # fmt: skip
        for _ in range(max(3, runs // 5)):
            full.append(timed(lambda: conn.execute(naive).all()))
            counted.append(timed(lambda: bands.at_risk_list(conn, live, NOW, limit=1)))
        found = bands.at_risk_list(conn, live, NOW, limit=100)
        expected = conn.execute(naive).all()
    if [r["customer_id"] for r in found["items"]] != [r.id for r in expected]:
        raise RuntimeError("the index scan and the full sort disagree on the at-risk list")
    return (statistics.median(index), statistics.median(full), statistics.median(counted),
            found["total"])  # fmt: skip


def load_both(off: Engine, on: Engine, events: list[EventIn], live: Live) -> tuple[float, float]:
    """Ingest `events` into `off` (live steps off) and `on`, batch by batch in turn, and return
    the seconds each took: interleaved, so that a machine slowing down for a while slows both."""
    t_off = t_on = 0.0
    for s in range(0, len(events), BATCH):
        part = events[s : s + BATCH]
        t_off += timed(lambda part=part: ingest(off, part, now=NOW, live=None))
        t_on += timed(lambda part=part: ingest(on, part, now=NOW, live=live))
    return t_off, t_on


def run_database(db: str, events: list[EventIn], customers: int, total: int) -> bool:
    ok = True
    with tempfile.TemporaryDirectory(prefix=f"hxbench-pulse-{db}-") as folder:
        pg = TemporaryPostgres(fsync=True).start() if db == "postgresql" else None

        def url(name: str) -> str:
            return pg.create_database(f"bench_{name}") if pg else f"sqlite:///{folder}/{name}.db"

        try:
            off, on = fresh(url("off")), fresh(url("on"))
            live = Settings(database_url="sqlite://").live  # the default rules on

            t_off, t_on = load_both(off, on, events, live)
            off.dispose()
            n = len(events)
            line(db, "ingest, live off", f"{n / t_off:,.0f} ev/s", f"{t_off:.1f} s (baseline)")
            ratio = t_off / t_on
            line(db, "ingest, live pulse + stages", f"{n / t_on:,.0f} ev/s",
                 f"{t_on:.1f} s, {ratio:.1%} of off",
                 verdict(ratio >= RATIO_TARGET, f">= {RATIO_TARGET:.0%}"))  # fmt: skip
            ok &= ratio >= RATIO_TARGET

            def full_rebuild() -> None:
                rebuild(on, live, now=NOW)
                with on.begin() as conn:
                    journey.rebuild(conn, live)

            t_rebuild = timed(full_rebuild)
            line(db, f"rebuild {n:,} events", f"{t_rebuild:.1f} s",
                 f"{t_rebuild / t_on:.2f} x live ingest",
                 verdict(t_rebuild < REBUILD_TARGET, f"< {REBUILD_TARGET:.0f} s"))  # fmt: skip
            ok &= t_rebuild < REBUILD_TARGET
            with on.connect() as conn:
                stages = dict(conn.execute(text(
                    "SELECT stage, count(*) FROM customers GROUP BY stage")).all())  # fmt: skip
                counts = bands.counts(conn, live, NOW)
            print(f"{'':<11}  stages: {stages}\n{'':<11}  bands:  {counts}", flush=True)

            add_customers(on, total)
            t_index, t_naive, t_count, at_risk = at_risk_times(on)
            line(db, f"top 100 at risk of {total:,}", f"{t_index * 1000:.1f} ms",
                 f"full sort {t_naive * 1000:.0f} ms ({t_naive / t_index:.0f}x)",
                 verdict(t_index < AT_RISK_TARGET, f"< {AT_RISK_MS} ms"))  # fmt: skip
            line(db, f"count of the {at_risk:,} at risk", f"{t_count * 1000:.1f} ms",
                 "a scan of every customer")  # fmt: skip
            ok &= t_index < AT_RISK_TARGET
            on.dispose()
        finally:
            if pg is not None:
                pg.stop()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    n, customers, total = (100_000, 10_000, 100_000) if args.quick else (
        1_000_000, 100_000, 1_000_000)  # fmt: skip
    print(f"HX Pulse live pulse and journey: {n:,} events for {customers:,} customers; "
          f"at-risk over {total:,} customers")  # fmt: skip
    events = workload(n, customers)
    gc.collect()
    gc.freeze()  # a million long-lived events: keep the collector from re-scanning them
    print(f"{'database':<11}{'measure':<34}{'figure':>16}  {'against the baseline':<28}")
    dbs = [db for db in ("sqlite", "postgresql") if args.only in (None, db)]
    return 0 if all([run_database(db, events, customers, total) for db in dbs]) else 1


if __name__ == "__main__":
    sys.exit(main())
