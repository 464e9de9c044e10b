"""The CDNOW sample (2,357 customers, shipped in `lifetimes`) as purchase events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from hxpulse.demo.cdnow import cdnow_path, read_purchases
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest

NOW = datetime(1998, 7, 1, tzinfo=UTC)  # the day after the sample's last


def sample_events() -> list[EventIn]:
    events = [
        EventIn(message_id=f"cdnow-{p.line}", kind="track", type="purchase",
                occurred_at=datetime(p.day.year, p.day.month, p.day.day, 12, tzinfo=UTC),
                identities=[("user_id", p.customer)], value=p.amount, channel="web")
        for p in read_purchases(cdnow_path("CDNOW_sample.txt"))
    ]  # fmt: skip
    return sorted(events, key=lambda e: e.occurred_at)


def load_sample(engine: Engine) -> None:
    events = sample_events()
    for start in range(0, len(events), 5000):
        ingest(engine, events[start : start + 5000], now=NOW)
