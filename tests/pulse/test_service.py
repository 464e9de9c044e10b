"""Live pulse sums in the database against brute force over the event log; both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from hxpulse.analytics.pulse import Contribution, brute_force
from hxpulse.config import Live
from hxpulse.customers import queries
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse import service

LIVE = Live()
SETTINGS = LIVE.pulse
NOW = datetime(2026, 6, 1, tzinfo=UTC)
TYPES = [
    "purchase",
    "page_view",
    "email_sent",
    "personal_outreach",
    "review",
    "complaint",
    "unknown_thing",
]


def make(mid: str, user: str, kind: str, days_ago: float, value: float | None = None) -> EventIn:
    return EventIn(message_id=mid, kind="track", type=kind, occurred_at=NOW - timedelta(days=days_ago),
                   identities=[("user_id", user)], value=value)  # fmt: skip


def reference(events: list[EventIn]) -> float:
    contributions = []
    for e in events:
        found = service.event_weight(SETTINGS, e)
        if found:
            mapped, weight = found
            contributions.append(Contribution(mapped.component, weight, e.occurred_at,
                                              False if mapped.negative else None))  # fmt: skip
    return brute_force(service.model(SETTINGS), contributions, NOW).pulse


def test_live_sums_match_brute_force_with_late_events(engine: Engine) -> None:
    rng = random.Random(7)
    events = [make(f"e{n}", "u1", rng.choice(TYPES), rng.uniform(0, 400), rng.choice([None, 5, 80]))
              for n in range(60)]  # fmt: skip
    shuffled = events[:]
    rng.shuffle(shuffled)  # late events: arrival order is not time order
    for start in range(0, 60, 7):
        ingest(engine, shuffled[start : start + 7], now=NOW)
    ingest(engine, shuffled[:10], now=NOW)  # a resend changes nothing
    with engine.connect() as conn:
        got = service.explain(conn, LIVE, customer_id=queries.find(conn, "u1"), now=NOW)
    assert got["pulse"] == pytest.approx(reference(events), rel=1e-9, abs=1e-9)
    assert got["investments"] + got["returns"] - got["decay"] == pytest.approx(got["pulse"])


def test_merged_profiles_add_their_pulse(engine: Engine) -> None:
    a = [make("a1", "ua", "purchase", 10, 30), make("a2", "ua", "review", 3)]
    b = [make("b1", "ub", "complaint", 20), make("b2", "ub", "page_view", 1)]
    ingest(engine, a + b, now=NOW)
    link = EventIn(message_id="link", kind="identify", type="identify", occurred_at=NOW,
                   identities=[("user_id", "ua"), ("user_id", "ub")])  # fmt: skip
    ingest(engine, [link], now=NOW)
    with engine.connect() as conn:
        got = service.explain(conn, LIVE, customer_id=queries.find(conn, "ub"), now=NOW)
    assert got["pulse"] == pytest.approx(reference(a + b))
    assert got["pulse"] < reference(a)  # the unresolved complaint weighs 12 times


def test_the_spread_bins_every_pulse_where_its_value_falls(engine: Engine) -> None:
    rng = random.Random(11)
    events = [make(f"s{n}", f"s{n % 40}", rng.choice(TYPES), rng.uniform(0, 300),
                   rng.choice([None, 5, 80])) for n in range(200)]  # fmt: skip
    ingest(engine, events, now=NOW)
    with engine.connect() as conn:
        spread = service.distribution(conn, SETTINGS, NOW, bins=8)
        ids = [queries.find(conn, f"s{n}") for n in range(40) if any(
            e.identities[0][1] == f"s{n}" for e in events)]  # fmt: skip
        pulses = [service.explain(conn, LIVE, customer_id=cid, now=NOW)["pulse"] for cid in ids]
    edges = spread["edges"]
    assert spread["total"] == len(ids) == sum(spread["counts"])
    assert edges[0] == pytest.approx(min(pulses))
    expected = [0] * 8
    for pulse in pulses:  # bin n from edge n on; the top 1% and above in the last bin
        expected[min(7, max(n for n in range(8) if pulse >= edges[n] - 1e-9))] += 1
    assert spread["counts"] == expected
