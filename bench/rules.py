"""What the rules step costs the ingest transaction when no rule's trigger matches the batch.

Run: `.venv/bin/python bench/rules.py [--batches N] [--size N]`. In one process, on one freshly
migrated SQLite file, batches of events that no rule names (page views, carts, purchases of
known and new customers) are ingested alternately with `ingest.STEPS` as configured (the
default rules and a band-free set of event rules) and with the rules step removed (A/B, same
run); prints each side's median time per batch, their ratio, and the rules step's own time
(the ratio is noisy on a shared machine; the step's own time is not). Exit status 1 when the
step takes more than 2% of a batch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hxpulse import ingest as ingesting
from hxpulse.config import Settings
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.events.batch import Batch
from hxpulse.events.schemas import EventIn
from hxpulse.rules import service as rules

BASE = datetime(2026, 1, 1, tzinfo=UTC)
TYPES = ("page_view", "add_to_cart", "purchase", "email_opened")
EXTRA_RULES = [
    {"name": f"flag-{n}", "trigger": {"event": f"flag_{n}"}, "actions": [{"webhook": "ops"}]}
    for n in range(10)
]


def _batch(start: int, size: int) -> list[EventIn]:
    return [
        EventIn(message_id=f"b-{start + i}", kind="track", type=TYPES[i % len(TYPES)],
                occurred_at=BASE + timedelta(seconds=start + i),
                identities=[("user_id", f"u{(start + i) % 5000}")],
                value=20.0 if i % 4 == 2 else None)
        for i in range(size)
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}",
                            rules=EXTRA_RULES)  # fmt: skip
        engine = make_engine(settings)
        upgrade(engine)
        live = settings.live
        spent: list[float] = []

        def timed(batch: Batch) -> None:
            began = time.perf_counter()
            rules.step(batch)
            spent.append(time.perf_counter() - began)

        with_rules = tuple(timed if step is rules.step else step for step in ingesting.STEPS)
        without = tuple(step for step in ingesting.STEPS if step is not rules.step)
        assert len(without) == len(with_rules) - 1
        ingesting.ingest(engine, _batch(10**9, args.size), live=live)  # warm up
        times: dict[str, list[float]] = {"rules": [], "none": []}
        for n in range(args.batches * 2):
            side = "rules" if n % 2 == 0 else "none"
            ingesting.STEPS = with_rules if side == "rules" else without
            events = _batch(n * args.size, args.size)
            began = time.perf_counter()
            ingesting.ingest(engine, events, now=BASE + timedelta(days=1), live=live)
            times[side].append(time.perf_counter() - began)
        ingesting.STEPS = tuple(rules.step if step is timed else step for step in with_rules)
        engine.dispose()
    a, b = statistics.median(times["rules"]), statistics.median(times["none"])
    ratio = a / b
    print(f"{args.batches} x {args.size} events each side, rules: {len(live.rules.rules)}")  # noqa: T201
    print(f"with the rules step   : {a * 1000:.2f} ms per batch (median)")  # noqa: T201
    print(f"without the rules step: {b * 1000:.2f} ms per batch (median)")  # noqa: T201
    own = statistics.median(spent[1:])
    print(f"the rules step itself : {own * 1e6:.0f} µs per batch (median)")  # noqa: T201
    print(f"ratio: {ratio:.3f}")  # noqa: T201
    return 0 if own <= 0.02 * b else 1


if __name__ == "__main__":
    sys.exit(main())
