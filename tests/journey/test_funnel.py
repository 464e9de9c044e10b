"""The funnel on a small hand-made journey, every number worked out by hand.

Days after T (channel):
  ann: page_view 0 (web), signup 2 (email), purchase 5 (store), purchase 9 (web)
       -> prospect 0, lead 2, customer 5, repeat_customer 9
  bob: page_view 1 (app), signup 3 (web)            -> prospect 1, lead 3
  cat: purchase 4 (web)                             -> customer 4 (enters there)
  dan: page_view 10 (web)                           -> prospect 10
  eve: purchase 0, purchase 1, complaint 3 (all web) -> customer 0, repeat 1, down to customer 3
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from hxpulse.config import Live
from hxpulse.errors import Invalid
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.journey import funnel

LIVE = Live()
T = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T + timedelta(days=10, hours=1)
LOG = [
    ("ann", "page_view", 0, "web"), ("ann", "signup", 2, "email"), ("ann", "purchase", 5, "store"),
    ("ann", "purchase", 9, "web"), ("bob", "page_view", 1, "app"), ("bob", "signup", 3, "web"),
    ("cat", "purchase", 4, "web"), ("dan", "page_view", 10, "web"), ("eve", "purchase", 0, "web"),
    ("eve", "purchase", 1, "web"), ("eve", "complaint", 3, "web"),
]  # fmt: skip
STAGES = ["prospect", "lead", "qualified_lead", "customer", "repeat_customer", "advocate"]


@pytest.fixture
def journey(engine: Engine) -> Engine:
    batch = [EventIn(message_id=f"{u}-{k}-{d}", kind="track", type=k,
                     identities=[("user_id", u)], occurred_at=T + timedelta(days=d), channel=ch,
                     department="sales" if k == "purchase" else None)
             for u, k, d, ch in LOG]  # fmt: skip
    ingest(engine, batch[:5], now=NOW)
    ingest(engine, batch[5:], now=NOW)
    return engine


def column(result: dict[str, Any], key: str) -> list[Any]:
    assert [s["stage"] for s in result["stages"]] == STAGES
    return [s[key] for s in result["stages"]]


def run(engine: Engine, **kwargs: Any) -> dict[str, Any]:
    with engine.connect() as conn:
        return funnel.funnel(conn, LIVE, now=NOW, **kwargs)


def test_entered_went_on_and_median_days_in_a_range(journey: Engine) -> None:
    got = run(journey, start=T, end=T + timedelta(days=8))
    # entries (a first event or a move up) in [0, 8): prospect ann 0, bob 1 (dan's 10 is out);
    # lead ann 2, bob 3; customer eve 0, ann 5, cat 4 (cat enters there: she never entered
    # prospect); repeat_customer eve 1 (ann's 9 is out); eve's fall back on day 3 is no entry
    assert column(got, "entered") == [2, 2, 0, 3, 1, 0]
    # went on, up to now: ann and bob to lead; ann to customer; eve and ann to repeat_customer
    # (ann on day 9, after the range: going on is counted up to now)
    assert column(got, "went_on") == [2, 1, 0, 2, 0, 0]
    assert column(got, "conversion") == [1.0, 0.5, None, pytest.approx(2 / 3), 0.0, None]
    # days from entering to entering a higher stage: prospect 2 and 2; lead ann 3;
    # customer eve 1, ann 4
    assert column(got, "median_days_to_next") == [pytest.approx(2), pytest.approx(3), None,
                                                  pytest.approx(2.5), None, None]  # fmt: skip


def test_all_time(journey: Engine) -> None:
    got = run(journey)
    assert column(got, "entered") == [3, 2, 0, 3, 2, 0]
    assert column(got, "went_on") == [2, 1, 0, 2, 0, 0]
    assert column(got, "conversion") == [pytest.approx(2 / 3), 0.5, None, pytest.approx(2 / 3),
                                         0.0, None]  # fmt: skip
    # customer: eve 1 day, ann 4 days -> median 2.5
    assert column(got, "median_days_to_next")[3] == pytest.approx(2.5)
    assert column(got, "current") == [1, 1, 0, 2, 1, 0]
    assert got["now"]["customers"] == 5


def test_by_channel(journey: Engine) -> None:
    got = run(journey, start=T, end=T + timedelta(days=8), channel="web")
    # entries through the web: prospect ann (bob's was in the app); lead bob (ann's by email);
    # customer eve and cat (ann's in the store); repeat_customer eve
    assert column(got, "entered") == [1, 1, 0, 2, 1, 0]
    # ann went on to lead by email: going on counts through any channel
    assert column(got, "went_on") == [1, 0, 0, 1, 0, 0]
    assert column(got, "median_days_to_next") == [pytest.approx(2), None, None,
                                                  pytest.approx(1), None, None]  # fmt: skip


def test_by_department(journey: Engine) -> None:
    got = run(journey, department="sales")
    # entries caused by purchases: customer ann, cat, eve; repeat_customer ann, eve
    assert column(got, "entered") == [0, 0, 0, 3, 2, 0]
    assert column(got, "went_on") == [0, 0, 0, 2, 0, 0]
    assert column(got, "conversion") == [None, None, None, pytest.approx(2 / 3), 0.0, None]


def test_overlays_now(journey: Engine) -> None:
    got = run(journey)
    # at risk: eve (open complaint); prospects and leads are warm or cold, never at risk
    assert column(got, "at_risk") == [0, 0, 0, 1, 0, 0]
    assert got["now"] == {"customers": 5, "at_risk": 1, "lapsed": 0}
    with journey.connect() as conn:
        later = funnel.funnel(conn, LIVE, now=NOW + timedelta(days=200))
    customers = sum(column(later, "current")[3:])  # customer, repeat customer, advocate
    assert customers > 0 and later["now"]["lapsed"] == customers  # no return for 200 days
    assert later["now"]["at_risk"] == 0


def test_empty_database(engine: Engine) -> None:
    got = run(engine)
    assert column(got, "entered") == column(got, "went_on") == [0] * 6
    assert column(got, "conversion") == column(got, "median_days_to_next") == [None] * 6
    assert got["now"] == {"customers": 0, "at_risk": 0, "lapsed": 0}


def test_parse_range_and_filters() -> None:
    assert funnel.parse_range("2026-01-01", "2026-01-31") == (T, datetime(2026, 2, 1, tzinfo=UTC))
    assert funnel.parse_range("2026-01-01T06:00:00+02:00", None) == (
        datetime(2026, 1, 1, 4, tzinfo=UTC), None)  # fmt: skip
    assert funnel.parse_range("", " ") == (None, None)
    with pytest.raises(Invalid) as bad:
        funnel.parse_range("yesterday", "2026-13-01")
    assert [e["field"] for e in bad.value.errors] == ["start", "end"]
    with pytest.raises(Invalid) as bad:
        funnel.parse_range("2026-02-01", "2026-01-01")
    assert bad.value.errors[0]["field"] == "end"
    assert funnel.check_filters(" Web ", "") == ("web", None)
    with pytest.raises(Invalid) as bad:
        funnel.check_filters("fax", "x" * 101)
    assert [e["field"] for e in bad.value.errors] == ["channel", "department"]
