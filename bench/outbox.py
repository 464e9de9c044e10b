"""Outbox latency: from an action's commit to a webhook's arrival at a receiver on 127.0.0.1,
with the in-process dispatcher, on SQLite and PostgreSQL.

Run: `.venv/bin/python bench/outbox.py [--rate 100] [--seconds 10] [--only sqlite|postgresql]`.
A writer thread commits one `fan_out` a tick (`rate` a second, each in its own transaction,
as ingestion does); the receiver notes when each `webhook-id` arrives. Prints p50, p99 and the
largest latency per database, and the ratio of p99 to the 250 ms target; exit status 1 when
a delivery is missing or p99 misses it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import receiver as hooks
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine, run_write
from hxpulse.db.migrate import upgrade
from hxpulse.outbox.dispatcher import Dispatcher
from hxpulse.testing.postgres import TemporaryPostgres
from hxpulse.webhooks import service

TARGET_P99 = 0.250


def measure(url: str, rate: float, seconds: float) -> dict[str, float]:
    from datetime import UTC, datetime

    settings = Settings(database_url=url, environment="test")
    settings = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"allow_private_networks": True})})  # fmt: skip
    engine = make_engine(settings)
    upgrade(engine)
    arrivals = hooks.Arrivals()
    server = hooks.start(arrivals, lambda headers, _body: [headers["webhook-id"]])
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    run_write(engine, lambda conn: service.create(conn, name="bench", url=hook,
                                                  settings=settings.webhooks,
                                                  now=datetime.now(UTC)))  # fmt: skip
    committed: dict[str, float] = {}
    dispatcher = Dispatcher(engine, settings).start()
    try:
        count, start = int(rate * seconds), time.perf_counter()
        for n in range(count):
            key = f"e{n}"
            run_write(
                engine,
                lambda conn, key=key: service.fan_out(  # type: ignore[misc]
                    conn, event_type="bench", data={"n": key}, key=key, now=datetime.now(UTC)
                ),
            )
            committed[f"{key}:bench"] = time.perf_counter()
            pause = start + (n + 1) / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        deadline = time.perf_counter() + 10
        while len(arrivals.at) < count and time.perf_counter() < deadline:
            time.sleep(0.01)
    finally:
        dispatcher.stop()
        server.shutdown()
        server.server_close()
        engine.dispose()
    latencies = sorted(arrivals.at[k] - committed[k] for k in committed if k in arrivals.at)
    missing = len(committed) - len(latencies)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"sent": len(committed), "missing": missing, "p50": q[49], "p99": q[98],
            "max": latencies[-1] if latencies else float("nan")}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for name in ("sqlite", "postgresql"):
            if args.only and args.only != name:
                continue
            postgres = TemporaryPostgres().start() if name == "postgresql" else None
            try:
                url = (postgres.create_database("bench_outbox") if postgres is not None
                       else f"sqlite:///{Path(folder) / 'outbox.db'}")  # fmt: skip
                r = measure(url, args.rate, args.seconds)
            finally:
                if postgres is not None:
                    postgres.stop()
            print(f"{name:>10}: {r['sent']:.0f} webhooks at {args.rate:.0f}/s, "  # noqa: T201
                  f"missing {r['missing']:.0f}; commit -> arrival p50 {r['p50'] * 1000:.1f} ms,"
                  f" p99 {r['p99'] * 1000:.1f} ms, max {r['max'] * 1000:.1f} ms"
                  f" (p99 / target {r['p99'] / TARGET_P99:.2f})")  # fmt: skip
            failed |= r["missing"] > 0 or r["p99"] > TARGET_P99
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
