"""The journey funnel (`journey.funnel.funnel`) on the demo data, on SQLite and PostgreSQL.

Run: `.venv/bin/python bench/funnel.py [--db URL] [--only sqlite|postgresql] [--runs N]`.
Without `--db` the demo data (`hxpulse demo`: the CDNOW history and its simulated touchpoints,
about 200,000 events and 62,000 changes of stage) is loaded into a fresh SQLite file and a
fresh PostgreSQL database (a few minutes); with it, that database is measured as it is. For
all time and for the last 90 days of the data: the median and fastest wall time and the
median CPU time of this process (SQLite runs in it; PostgreSQL's server does not) over `--runs`
calls after one warm-up, and the figures per stage; next to the baseline measured in the same
run: reading every change of stage once, in (customer, time) order, through SQLAlchemy.
Target: the all-time funnel in under 0.3 s on SQLite (the fastest call: a shared machine's
load only ever adds to it). Exit status 1 when it is not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.demo.load import load
from hxpulse.journey import funnel
from hxpulse.testing.postgres import TemporaryPostgres

TARGET_SECONDS = 0.3
SCAN = ("SELECT customer_id, from_stage, to_stage, changed_at, channel, department"
        " FROM stage_changes ORDER BY customer_id, changed_at")  # fmt: skip


def measure(engine: Engine, settings: Settings, runs: int) -> dict[str, float]:
    """Print the funnel's figures and times for all time and the last 90 days."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        latest = conn.execute(text("SELECT MAX(changed_at) FROM stage_changes")).scalar()
        changes = conn.execute(text("SELECT COUNT(*) FROM stage_changes")).scalar_one()
    if isinstance(latest, str):  # SQLite
        latest = datetime.fromisoformat(latest).replace(tzinfo=UTC)
    end = latest + timedelta(seconds=1) if latest is not None else now
    print(f"{engine.dialect.name}: {changes:,} changes of stage")
    fastest: dict[str, float] = {}
    baseline = []
    with engine.connect() as conn:
        for _ in range(runs + 1):
            started = time.perf_counter()
            conn.execute(text(SCAN)).all()
            baseline.append(time.perf_counter() - started)
    print(f"  baseline (every change read once): {statistics.median(baseline[1:]):.3f} s median,"
          f" fastest {min(baseline[1:]):.3f} s")  # fmt: skip
    for label, bounds in (("all time", {}), ("last 90 days", {"start": end - timedelta(90)})):
        walls: list[float] = []
        cpus: list[float] = []
        with engine.connect() as conn:
            result = funnel.funnel(conn, settings.live, now=now, **bounds)  # warm-up
            for _ in range(runs):
                wall, cpu = time.perf_counter(), time.process_time()
                result = funnel.funnel(conn, settings.live, now=now, **bounds)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
        fastest[label] = min(walls)
        print(f"  {label}: {statistics.median(walls):.3f} s median wall (fastest"
              f" {fastest[label]:.3f} s, {fastest[label] / min(baseline[1:]):.1f}x the baseline),"
              f" {statistics.median(cpus):.3f} s CPU here")  # fmt: skip
        show(result["stages"])
    return fastest


def show(stages: list[dict[str, Any]]) -> None:
    print(f"    {'stage':<17}{'entered':>9}{'went on':>9}{'conversion':>12}{'days to next':>14}")
    for s in stages:
        conversion = "—" if s["conversion"] is None else f"{100 * s['conversion']:.1f}%"
        days = "—" if s["median_days_to_next"] is None else f"{s['median_days_to_next']:.1f}"
        print(f"    {s['label']:<17}{s['entered']:>9,}{s['went_on']:>9,}{conversion:>12}"
              f"{days:>14}")  # fmt: skip


def demo(url: str) -> tuple[Engine, Settings]:
    settings = Settings(database_url=url)
    engine = make_engine(settings)
    upgrade(engine)
    started = time.perf_counter()
    loaded = load(engine, live=settings.live, survey_settings=settings.surveys)
    print(f"loaded {loaded.events:,} demo events in {time.perf_counter() - started:.0f} s")
    return engine, settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="Measure this database instead of loading the demo.")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    if args.db:
        settings = Settings(database_url=args.db)
        engine = make_engine(settings)
        results[engine.dialect.name] = measure(engine, settings, args.runs)
        engine.dispose()
    else:
        if args.only != "postgresql":
            with tempfile.TemporaryDirectory(prefix="hxbench-funnel-") as folder:
                engine, settings = demo(f"sqlite:///{Path(folder) / 'demo.db'}")
                results["sqlite"] = measure(engine, settings, args.runs)
                engine.dispose()
        if args.only != "sqlite":
            pg = TemporaryPostgres().start()
            try:
                engine, settings = demo(pg.create_database("bench_funnel"))
                results["postgresql"] = measure(engine, settings, args.runs)
                engine.dispose()
            finally:
                pg.stop()
    seconds = results.get("sqlite", {}).get("all time")
    if seconds is not None and seconds >= TARGET_SECONDS:
        print(f"FAIL: the all-time funnel took at best {seconds:.3f} s on SQLite (target"
              f" {TARGET_SECONDS} s)")  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
