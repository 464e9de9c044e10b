"""Demo advocacy: asks after some promoter answers, referral codes, and referred friends' first
purchases carrying the code (attributed by the ingest like any other)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from hxpulse.advocacy import service as advocacy
from hxpulse.config import Live
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn, as_utc
from hxpulse.ingest import ingest

ASK_SHARE = 0.3  # of promoters asked (the literature's salespeople: 11%)
REFERRAL_SHARE = 0.2  # of asks that bring a friend


def load(engine: Engine, *, live: Live, today: date) -> dict[str, int]:
    """Add the demo's asks and referrals (again: nothing twice); return how many."""
    rng = random.Random(11)
    end = datetime(today.year, today.month, today.day, tzinfo=UTC)
    with engine.connect() as conn:
        promoters = conn.execute(text(
            "SELECT e.customer_id, max(e.occurred_at), min(i.kind), min(i.value) FROM events e"
            " JOIN identities i ON i.customer_id = e.customer_id AND i.kind = 'user_id'"
            " WHERE e.type = 'promoter' GROUP BY e.customer_id ORDER BY e.customer_id"
        )).all()  # fmt: skip
    asks: list[EventIn] = []
    friends: list[tuple[int, datetime]] = []
    for cid, last, kind, value in promoters:
        at = _moment(last) + timedelta(days=1)
        if rng.random() >= ASK_SHARE or at >= end:
            continue
        asks.append(EventIn(message_id=f"demo-ask-{cid}", kind="track", type=advocacy.ASK,
                            occurred_at=at, identities=[(kind, value)], channel="email",
                            source="demo", properties={"by": "demo"}))  # fmt: skip
        if rng.random() < REFERRAL_SHARE:
            friends.append((int(cid), at + timedelta(days=rng.randrange(1, 21))))
    if asks:
        ingest(engine, asks, live=live)
    codes = run_write(engine, lambda conn: {
        cid: advocacy.code_for(conn, customer_id=cid, now=at) for cid, at in friends})  # fmt: skip
    purchases = [_purchase(rng, cid, codes[cid], at) for cid, at in friends if at < end]
    if purchases:
        ingest(engine, purchases, live=live)
    return {"asks": len(asks), "referrals": len(purchases)}


def _purchase(rng: random.Random, referrer: int, code: str, at: datetime) -> EventIn:
    properties: dict[str, Any] = {"referral_code": code, "simulated": True}
    return EventIn(message_id=f"demo-referred-{referrer}", kind="track", type="purchase",
                   occurred_at=at, identities=[("email", f"friend.{referrer}@demo.example")],
                   channel="web", source="demo", department="online",
                   value=round(rng.uniform(15, 80), 2), currency="USD",
                   properties=properties)  # fmt: skip


def _moment(value: Any) -> datetime:
    """A stored timestamp as an aware datetime (SQLite answers text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)
