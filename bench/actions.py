"""Acting within seconds: from an event's 200 to its webhook's arrival, over HTTP.

Run: `.venv/bin/python bench/actions.py [--rate 1000] [--seconds 10] [--per-request 10]
[--only sqlite|postgresql]`. A real `hxpulse serve` (in-process dispatcher) with one rule,
`{ event = "order_flagged" }` → `{ webhook = "bench" }`, takes `rate` events a second over
HTTP from sender threads for `seconds`, `per-request` events per `/v1/batch` call (1: one
`/v1/track` call each); every tenth event is an `order_flagged`. A receiver on 127.0.0.1 notes
when the webhook naming each flagged event's message id arrives. Prints the events' rate and,
for the webhooks, p50 and p99 from the 200 that acknowledged the event to the arrival; the
baseline is the same receiver's own round trip (a POST straight to it, in the same run), and
the ratio of p99 to the 250 ms target; exit status 1 when a webhook is missing or p99 misses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import receiver as hooks
from hxpulse.auth.service import create_key
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine, run_write
from hxpulse.db.migrate import upgrade
from hxpulse.testing.postgres import TemporaryPostgres
from hxpulse.testing.server import ServerProcess
from hxpulse.webhooks import service

TARGET_P99 = 0.250
SENDERS = 16
RULE = {"name": "flagged", "trigger": {"event": "order_flagged"}, "actions": [{"webhook": "bench"}]}
MESSAGE = re.compile(rb"bench-\d+")


def _named(_headers: dict[str, str], body: bytes) -> set[str]:
    """The flagged events a webhook names (by message id, in its body)."""
    return {m.decode() for m in MESSAGE.findall(body)}


def _event(n: int) -> dict[str, Any]:
    return {"type": "track", "userId": f"u{n % 5000}", "messageId": f"bench-{n}",
            "event": "order_flagged" if n % 10 == 0 else "page_view"}  # fmt: skip


def _send(url: str, key: str, firsts: list[int], per: int, start: float, rate: float,
          answered: dict[str, float], failures: list[str]) -> None:  # fmt: skip
    with httpx.Client(base_url=url, auth=(key, ""), timeout=30) as client:
        for first in firsts:
            pause = start + first / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            events = [_event(n) for n in range(first, first + per)]
            if per == 1:
                answer = client.post("/v1/track", json=events[0])
            else:
                answer = client.post("/v1/batch", json={"batch": events})
            if answer.status_code != 200:
                failures.append(f"{answer.status_code} {answer.text[:100]}")
                continue
            moment = time.perf_counter()
            for event in events:
                if event["event"] == "order_flagged":
                    answered[event["messageId"]] = moment


def _round_trips(url: str, count: int = 300) -> list[float]:
    """The baseline: POSTs straight to the receiver (what any webhook costs at best)."""
    took = []
    with httpx.Client(timeout=10) as client:
        for n in range(count):
            began = time.perf_counter()
            client.post(url, content=b'{"baseline": %d}' % n)
            took.append(time.perf_counter() - began)
    return sorted(took)


def measure(url: str, rate: float, seconds: float, per: int, folder: Path) -> dict[str, float]:
    settings = Settings(database_url=url, environment="test")
    settings = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"allow_private_networks": True})})  # fmt: skip
    engine = make_engine(settings)
    upgrade(engine)
    arrivals = hooks.Arrivals()
    receiver = hooks.start(arrivals, _named)
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    run_write(engine, lambda conn: service.create(conn, name="bench", url=hook,
                                                  settings=settings.webhooks,
                                                  now=datetime.now(UTC)))  # fmt: skip
    with engine.begin() as conn:
        key = create_key(conn, name="bench", scopes=["track"])[1]
    engine.dispose()
    os.environ["HXPULSE_WEBHOOKS"] = json.dumps({"allow_private_networks": True})
    os.environ["HXPULSE_RULES"] = json.dumps([RULE])
    os.environ["HXPULSE_TRACK_REQUESTS_PER_SECOND"] = "0"
    server = ServerProcess(url, log=folder / "server.log").start()
    answered: dict[str, float] = {}
    failures: list[str] = []
    try:
        count, start = int(rate * seconds) // per * per, time.perf_counter() + 0.2
        firsts = list(range(0, count, per))
        threads = [threading.Thread(target=_send, args=(server.url, key, firsts[i::SENDERS],
                                    per, start, rate, answered, failures))
                   for i in range(SENDERS)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - start
        deadline = time.perf_counter() + 10
        while len(arrivals.at) < len(answered) and time.perf_counter() < deadline:
            time.sleep(0.05)
        base = _round_trips(hook)
    finally:
        server.stop()
        receiver.shutdown()
        receiver.server_close()
    latencies = sorted(arrivals.at[m] - answered[m] for m in answered if m in arrivals.at)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {"events": count, "rate": count / took, "failures": len(failures),
            "webhooks": len(answered), "missing": len(answered) - len(latencies),
            "p50": q[49], "p99": q[98], "base_p50": statistics.median(base),
            "base_p99": statistics.quantiles(base, n=100)[98]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--per-request", type=int, default=10, choices=range(1, 501),
                        metavar="1..500")  # fmt: skip
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for db in ("sqlite", "postgresql"):
            if args.only and args.only != db:
                continue
            postgres = TemporaryPostgres().start() if db == "postgresql" else None
            try:
                url = (postgres.create_database("bench_actions") if postgres is not None
                       else f"sqlite:///{folder / 'actions.db'}")  # fmt: skip
                r = measure(url, args.rate, args.seconds, args.per_request, folder)
            finally:
                if postgres is not None:
                    postgres.stop()
            print(
                f"{db:>10}: {r['events']:.0f} events at {r['rate']:.0f}/s "  # noqa: T201
                f"({r['failures']:.0f} refused); {r['webhooks']:.0f} webhooks, "
                f"{r['missing']:.0f} missing; 200 -> arrival p50 {r['p50'] * 1000:.1f} ms, "
                f"p99 {r['p99'] * 1000:.1f} ms (p99 / target {r['p99'] / TARGET_P99:.2f}); "
                f"baseline (a POST straight to the receiver) p50 {r['base_p50'] * 1000:.2f} ms, "
                f"p99 {r['base_p99'] * 1000:.2f} ms (p99 / baseline p99 "
                f"{r['p99'] / r['base_p99']:.0f}x)"
            )
            failed |= bool(r["failures"] or r["missing"]) or not r["p99"] <= TARGET_P99
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
