"""Serving next best offers: p99 of one recommendation request with 100,000 customers and
5,000 offers, against ingesting one event in the same run.

Run: `.venv/bin/python bench/offers_serving.py [--only sqlite|postgresql] [--db URL]
[--customers N] [--offers N] [--requests N]`. On each database (SQLite in a temporary folder and
a throw-away PostgreSQL server; `--db` for an empty database of your own instead) builds: N
customers with one purchase each of an item drawn from a Zipf law over the offers' items, N
offers (products, content and incentives with eligibility by stage and band), and fits the
offers model (`offers.fitting.fit`); on PostgreSQL it then refreshes the planner's statistics
(`ANALYZE`, what autovacuum does on a live server after a big load). Then each of `--requests`
rounds (after 20 warm-up ones) asks `offers.service.recommend` for a random customer with
`record` on (eligibility, the model, the bandit, the exposures and their `offer_shown` events:
the whole write transaction of `GET /api/customers/{ref}/offers`), and, as the baseline, ingests
one `page_view` for another random customer (one tracking call's transaction). Prints p50 and
p99 of both and their ratio. Target: the recommendation's p99 under 20 ms; exit status 1 on a
miss.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hxpulse.config import Settings
from hxpulse.db.engine import make_engine, run_write
from hxpulse.db.migrate import upgrade
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.offers import fitting, service
from hxpulse.offers.settings import OfferIn
from hxpulse.testing.postgres import TemporaryPostgres

TARGET_MS = 20.0
STAGES = ["customer", "repeat customer", "advocate"]


def build(settings: Settings, customers: int, offers: int, now: datetime) -> None:
    engine = make_engine(settings)
    upgrade(engine)
    rng = random.Random(1)
    weights = [1 / (k + 1) for k in range(offers)]
    started = time.perf_counter()
    for start in range(0, customers, 5000):
        items = rng.choices(range(offers), weights=weights, k=min(5000, customers - start))
        ingest(engine, [EventIn(message_id=f"p{start + i}", kind="track", type="purchase",
                                occurred_at=now - timedelta(days=rng.uniform(1, 200)),
                                identities=[("user_id", f"u{start + i}")], value=30.0,
                                properties={"product_id": f"sku-{item}"})
                        for i, item in enumerate(items)], now=now, live=settings.live)  # fmt: skip
    print(f"{customers:,} customers ingested in {time.perf_counter() - started:.0f} s")
    kinds = ("product", "product", "content", "incentive")

    def catalogue(conn: object) -> None:
        for k in range(offers):
            kind = kinds[k % 4]
            rule = ({"stages": rng.sample(STAGES, 2)} if k % 5 == 0 else
                    {"bands": ["steady", "thriving"]} if k % 5 == 1 else {})  # fmt: skip
            service.create(conn, OfferIn(key=f"offer-{k}", name=f"Offer {k}", kind=kind,  # type: ignore[arg-type]
                                         item=f"sku-{k}" if kind == "product" else None,
                                         value=20.0, eligibility=rule), now=now)  # fmt: skip

    run_write(engine, catalogue)
    fitted = fitting.fit(engine, settings, now=now)
    if engine.dialect.name == "postgresql":
        # fresh statistics, as autovacuum gives a live server within a minute of a big load:
        # without them the planner reads a customer's purchases through the type index and
        # scans every purchase (10 ms a request instead of 0.04)
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    print(f"{offers:,} offers; model fitted on {fitted['interactions']:,} interactions")
    engine.dispose()


def percentile(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100)[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--db", help="an empty database's URL (instead of the throw-away ones)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=1_000)
    args = parser.parse_args()
    if args.db:
        return 0 if measure(args.db, args) else 1
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "sqlite"):
            ok &= measure(f"sqlite:///{Path(folder) / 'offers.db'}", args)
        if args.only in (None, "postgresql"):
            pg = TemporaryPostgres(fsync=True).start()
            try:
                ok &= measure(pg.create_database("bench_offers"), args)
            finally:
                pg.stop()
    return 0 if ok else 1


def measure(url: str, args: argparse.Namespace) -> bool:
    """Build the database at `url`, time the requests, print the figures; True on a pass."""
    now = datetime.now(UTC)
    settings = Settings(database_url=url)
    build(settings, args.customers, args.offers, now)
    engine = make_engine(settings)
    rng, chooser = random.Random(2), random.Random(3)
    served: list[float] = []
    tracked: list[float] = []
    sizes = []
    for round_no in range(args.requests + 20):
        cid = rng.randint(1, args.customers)
        started = time.perf_counter()
        got = run_write(engine, lambda conn, cid=cid: service.recommend(
            conn, settings, cid, now=now, rng=chooser))  # fmt: skip
        elapsed = (time.perf_counter() - started) * 1000
        event = EventIn(
            message_id=f"v{round_no}",
            kind="track",
            type="page_view",
            occurred_at=now,
            identities=[("user_id", f"u{rng.randrange(args.customers)}")],
        )
        started = time.perf_counter()
        ingest(engine, [event], now=now, live=settings.live)
        baseline = (time.perf_counter() - started) * 1000
        if round_no >= 20:
            served.append(elapsed)
            tracked.append(baseline)
            sizes.append(len(got["offers"]))
    engine.dispose()
    p99, base99 = percentile(served, 99), percentile(tracked, 99)
    print(f"{args.requests:,} requests ({engine.dialect.name}), {statistics.mean(sizes):.1f}"
          " offers served each:")  # fmt: skip
    print(f"  recommend + record   p50 {statistics.median(served):6.2f} ms   p99 {p99:6.2f} ms")
    print(f"  ingest one event     p50 {statistics.median(tracked):6.2f} ms   p99 {base99:6.2f} ms"
          "   (baseline)")  # fmt: skip
    print(f"  ratio at p99: {p99 / base99:.1f}x the baseline")
    verdict = "PASS" if p99 < TARGET_MS else "FAIL"
    print(f"target: p99 under {TARGET_MS:.0f} ms -> {verdict}")
    return verdict == "PASS"


if __name__ == "__main__":
    sys.exit(main())
