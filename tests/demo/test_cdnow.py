"""The demo data: the real CDNOW history, shifted to end yesterday, plus a fixed simulation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from sqlalchemy import Engine

from hxpulse.customers import queries
from hxpulse.demo.cdnow import demo_events, read_purchases
from hxpulse.ingest import ingest

TODAY = date(2026, 11, 23)


def test_reads_every_cdnow_purchase() -> None:
    purchases = read_purchases()
    assert len(purchases) == 69_659
    assert len({p.customer for p in purchases}) == 23_570
    assert min(p.day for p in purchases) == date(1997, 1, 1)
    assert round(sum(p.amount for p in purchases), 2) == 2_500_315.63


def test_events_are_deterministic_and_never_in_the_future() -> None:
    first = list(islice(demo_events(TODAY), 3000))
    again = list(islice(demo_events(TODAY), 3000))
    assert [(e.message_id, e.occurred_at) for e in first] == [
        (e.message_id, e.occurred_at) for e in again
    ]
    everything = list(demo_events(TODAY))
    assert max(e.occurred_at for e in everything) < datetime(2026, 11, 23, tzinfo=UTC)
    kinds = Counter(e.type for e in everything)
    assert kinds["purchase"] == 69_659
    buyers = {e.identities[0] for e in everything if e.type == "identify"
              and e.identities[0][0] == "user_id"}  # fmt: skip
    assert len(buyers) == 23_570
    assert {"page_view", "email_sent", "support_contact", "social_mention", "app_open",
            "complaint", "resolution", "review", "referral", "content_share",
            "add_to_cart"} <= set(kinds)  # fmt: skip
    # most complaints are resolved, and each resolution names its complaint
    resolutions = [e for e in everything if e.type == "resolution"]
    assert 0.5 * kinds["complaint"] < len(resolutions) < kinds["complaint"]
    complaints = {e.message_id for e in everything if e.type == "complaint"}
    assert all(e.properties["resolves"] in complaints for e in resolutions)
    # visitors who never bought: prospects, some of them leads
    visitors = {e.identities[0] for e in everything if e.identities[0][0] == "anonymous_id"}
    assert len(visitors) == 3000
    assert {e.channel for e in everything} >= {
        "web",
        "email",
        "phone",
        "chat",
        "social",
        "app",
        "store",
    }


def test_a_slice_of_the_demo_loads_onto_one_profile_per_customer(engine: Engine) -> None:
    events = list(islice(demo_events(TODAY), 2000))
    ingest(engine, events)
    with engine.connect() as conn:
        counts = queries.counts(conn)
        first = queries.profile(conn, customer_id=queries.find(conn, "cdnow-00001"))
    assert counts["customers"] == len({e.identities[0] for e in events})
    assert first["name"] and first["event_count"] >= 2
    assert first["last_seen_at"] < datetime.now(UTC) + timedelta(days=1)
