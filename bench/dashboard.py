"""The home dashboard's speed on the demo database: `GET /api/dashboard` and the page `/`,
through the whole application, against a trivial signed-in page in the same run.

Run: `.venv/bin/python bench/dashboard.py [--db sqlite:///path] [--requests N]`. Without `--db`,
the demo database is built in a temporary folder by `hxpulse demo --no-serve` (the CDNOW
history, its touchpoints, survey answers, asks and cases: about 45 s on two CPUs); with it, an
existing demo database is used as it is. The demo admin signs in through the sign-in form; then
N rounds (default 20, after two warm-up rounds) each request, in turn, `/api/dashboard`, `/`,
and the baselines `/api/account` and `/account` (the signed-in person's account: one small read
and the same session, CSRF and header work as every page), so that a slow spell of a shared
machine falls on all of them. Prints each one's median and 90th percentile, the dashboard's
ratio to its baseline, and each tile's own median (`hxpulse.dashboard.service`, called
directly). Target: the dashboard's median under 300 ms, as JSON and as the page; exit status 1
when either misses it.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hxpulse.app import create_app
from hxpulse.config import Settings
from hxpulse.dashboard import service
from hxpulse.demo.load import DEMO_EMAIL, DEMO_PASSWORD

TARGET_MS = 300.0
PATHS = {"/api/dashboard": "/api/account", "/": "/account"}  # each with its baseline
HTML = {"accept": "text/html"}


def build_demo(folder: Path) -> str:
    url = f"sqlite:///{folder / 'hxpulse.db'}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hxpulse", "--db", url, "demo", "--no-serve"],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"demo database built in {time.perf_counter() - started:.0f} s")
    return url


def sign_in(client: TestClient) -> None:
    form = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert found is not None, "no CSRF token on the sign-in form"
    answer = client.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                                          "csrf_token": found.group(1)},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text


def timed(client: TestClient, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path, headers=HTML if not path.startswith("/api/") else {})
    elapsed = (time.perf_counter() - started) * 1000
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return elapsed


def summary(times: list[float]) -> str:
    p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
    return f"median {statistics.median(times):7.1f} ms   p90 {p90:7.1f} ms"


def tiles(settings: Settings, app: Any, rounds: int) -> dict[str, float]:
    """Each tile's median time, called directly on one connection."""
    now = datetime.now(UTC)
    days = service.window(now)
    calls: dict[str, Callable[[Any], object]] = {
        "nps": lambda c: service.nps_tile(c, settings.live, days, now),
        "journey": lambda c: service.journey_tile(c, settings.live, days, now),
        "at risk": lambda c: service.at_risk_tile(c, settings.live, now),
        "cases": lambda c: service.cases_tile(c, days, now),
        "advocacy": lambda c: service.advocacy_tile(c, settings, now),
        "movers": lambda c: service.movers_tile(c, settings.pulse, now),
        "detractor whys": lambda c: service.whys_tile(c),
    }
    found: dict[str, list[float]] = {name: [] for name in calls}
    with app.state.engine.connect() as conn:
        for _ in range(rounds):
            for name, call in calls.items():
                started = time.perf_counter()
                call(conn)
                found[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(times) for name, times in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing demo database's URL (default: build one)")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or build_demo(Path(folder))
        settings = Settings(database_url=url)
        app = create_app(settings)  # no lifespan is entered: no dispatcher runs beside it
        try:
            client = TestClient(app)
            sign_in(client)
            times: dict[str, list[float]] = {p: [] for pair in PATHS.items() for p in pair}
            for round_no in range(args.requests + 2):
                for path in times:
                    elapsed = timed(client, path)
                    if round_no >= 2:  # two warm-up rounds
                        times[path].append(elapsed)
            per_tile = tiles(settings, app, args.requests)
        finally:
            app.state.engine.dispose()
    print(f"{args.requests} requests each, through the application (SQLite demo database):")
    failed = False
    for path, baseline in PATHS.items():
        median = statistics.median(times[path])
        ratio = median / statistics.median(times[baseline])
        print(f"  {path:15} {summary(times[path])}   {ratio:5.1f}x the baseline")
        print(f"  {baseline:15} {summary(times[baseline])}   (baseline)")
        failed |= median >= TARGET_MS
    print("each tile, called directly (median):")
    for name, ms in per_tile.items():
        print(f"  {name:15} {ms:7.1f} ms")
    print(f"target: median under {TARGET_MS:.0f} ms -> {'MISSED' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
