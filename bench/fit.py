"""`hxpulse fit` (offers, text, lifetime value) on 1,000,000 events, as a user runs it.

Run: `.venv/bin/python bench/fit.py [--quick]`. A fresh SQLite database gets 1,000,000 events of
100,000 customers over the two years before today (stored with the bare ingest: the fits read
the event log, not the live state): 30% purchases with a value, the rest product views, each
naming one of 5,000 products (`properties.product_id`), customers drawn to a few tastes and
products to a long tail. Then `hxpulse --db URL fit` runs as a separate process, exactly as a
user types it; its wall time is the figure. The baseline, in the same run, is one read of every
event's customer, type, value and properties with the driver alone (what any fit must at least
do). Target: under 3 minutes. Exit status 1 when missed or when the fit fails.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest

TARGET = 180.0
BATCH = 5000
NOW = datetime.now(UTC).replace(microsecond=0)
TASTES = 20


def events(count: int, customers: int, items: int) -> list[EventIn]:
    rng = random.Random(20261203)
    start, step = NOW - timedelta(days=730), timedelta(days=729) / count
    per_taste = items // TASTES
    out = []
    for i in range(count):
        customer = rng.randrange(customers)
        taste = customer % TASTES
        if rng.random() < 0.7:  # mostly their taste's products, a long tail within it
            item = taste * per_taste + min(int(rng.paretovariate(1.2)) - 1, per_taste - 1)
        else:
            item = min(int(rng.paretovariate(0.8)) - 1, items - 1)
        purchase = rng.random() < 0.3
        out.append(EventIn(
            message_id=f"f{i}", kind="track", type="purchase" if purchase else "product_viewed",
            occurred_at=start + step * i, identities=[("user_id", f"u{customer}")],
            channel="web", source="import", properties={"product_id": f"p{item}"},
            value=round(rng.uniform(5, 120), 2) if purchase else None,
            currency="EUR" if purchase else None,
        ))  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events, for a smoke run")
    args = parser.parse_args()
    n, customers, items = (100_000, 10_000, 1_000) if args.quick else (1_000_000, 100_000, 5_000)
    print(f"HX Pulse fit: {n:,} events of {customers:,} customers naming {items:,} products")
    with tempfile.TemporaryDirectory(prefix="hxbench-fit-") as folder:
        path = Path(folder) / "fit.db"
        url = f"sqlite:///{path}"
        engine = make_engine(Settings(database_url=url))
        upgrade(engine)
        made = events(n, customers, items)
        started = time.perf_counter()
        for s in range(0, n, BATCH):
            ingest(engine, made[s : s + BATCH], now=NOW, live=None)
        print(f"  stored in {time.perf_counter() - started:.1f} s")
        del made
        engine.dispose()

        con = sqlite3.connect(path)
        started = time.perf_counter()
        rows = sum(1 for _ in con.execute(
            "SELECT customer_id, type, value, properties FROM events"))  # fmt: skip
        baseline = time.perf_counter() - started
        con.close()

        env = {**os.environ, "HXPULSE_DATABASE_URL": url}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "hxpulse", "--db", url, "fit"], env=env,
                              capture_output=True, text=True)  # fmt: skip
        seconds = time.perf_counter() - started
    for line in (done.stdout + done.stderr).strip().splitlines():
        print(f"  | {line}")
    if done.returncode != 0:
        print(f"FAIL: hxpulse fit exited with {done.returncode}")
        return 1
    ok = seconds < TARGET
    print(f"baseline: read {rows:,} events with the driver in {baseline:.2f} s")
    print(f"hxpulse fit: {seconds:.1f} s, {seconds / baseline:.0f}x the read;"
          f" {'PASS' if ok else 'FAIL'} (< {TARGET:.0f} s)")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
