"""The funnel's entries when customers skip stages, fall back and come back; by hand.

Days after T (channel, department):
  fay: page_view 0 (web), purchase 6 (store, sales), purchase 8 (web, sales)
       -> prospect 0, customer 6 (lead and qualified lead skipped), repeat_customer 8
  gus: purchase 0 (web, sales), purchase 2 (web, sales), complaint 3 (phone),
       resolution 7 (phone), review 8 (web), review 9 (web)
       -> customer 0, repeat_customer 2, down to customer 3, back up to repeat_customer 7,
          advocate 9
  hal: signup 1 (email), add_to_cart 4 (web) -> lead 1 (enters there), qualified_lead 4
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.journey import service
from tests.journey.test_funnel import NOW, T, column, run

LOG = [
    ("fay", "page_view", 0, "web"), ("fay", "purchase", 6, "store"), ("fay", "purchase", 8, "web"),
    ("gus", "purchase", 0, "web"), ("gus", "purchase", 2, "web"), ("gus", "complaint", 3, "phone"),
    ("gus", "resolution", 7, "phone"), ("gus", "review", 8, "web"), ("gus", "review", 9, "web"),
    ("hal", "signup", 1, "email"), ("hal", "add_to_cart", 4, "web"),
]  # fmt: skip


@pytest.fixture
def returns(engine: Engine) -> Engine:
    ingest(engine, [EventIn(message_id=f"{u}-{k}-{d}", kind="track", type=k,
                            identities=[("user_id", u)], occurred_at=T + timedelta(days=d),
                            channel=ch, department="sales" if k == "purchase" else None)
                    for u, k, d, ch in LOG], now=NOW)  # fmt: skip
    return engine


def moves(engine: Engine, user: str) -> list[tuple[str, float]]:
    with engine.connect() as conn:
        found = text("SELECT customer_id FROM identities WHERE kind = 'user_id' AND value = :v")
        customer = int(conn.execute(found, {"v": user}).scalar_one())
        return [(step["to_stage"], (step["changed_at"] - T) / timedelta(days=1))
                for step in service.history(conn, customer)]  # fmt: skip


def test_the_histories_are_those_of_the_docstring(returns: Engine) -> None:
    assert moves(returns, "fay") == [("prospect", 0), ("customer", 6), ("repeat_customer", 8)]
    assert moves(returns, "gus") == [("customer", 0), ("repeat_customer", 2), ("customer", 3),
                                     ("repeat_customer", 7), ("advocate", 9)]  # fmt: skip
    assert moves(returns, "hal") == [("lead", 1), ("qualified_lead", 4)]


def test_all_time_counts_each_customer_once_from_their_first_entry(returns: Engine) -> None:
    got = run(returns)
    # fay's skip from prospect to customer is going on from prospect (in 6 days), and no
    # entry into lead or qualified lead; gus entered repeat_customer twice and counts once,
    # from day 2 (7 days to advocate), the fall back into customer is no entry
    assert column(got, "entered") == [1, 1, 1, 2, 2, 1]
    assert column(got, "went_on") == [1, 1, 0, 2, 1, 0]
    assert column(got, "conversion") == [1.0, 1.0, 0.0, 1.0, 0.5, None]  # none above advocate
    assert column(got, "median_days_to_next") == [pytest.approx(6), pytest.approx(3), None,
                                                  pytest.approx(2), pytest.approx(7), None]  # fmt: skip
    assert column(got, "current") == [0, 0, 1, 0, 1, 1]


def test_a_range_counts_entries_in_it_and_going_on_up_to_now(returns: Engine) -> None:
    got = run(returns, start=T + timedelta(days=3), end=T + timedelta(days=8))
    # in [3, 8): hal's qualified lead 4; fay's customer 6 (gone on on day 8, after the end);
    # gus's return to repeat_customer on day 7 (his fall on day 3 is no entry, his first
    # entry on day 2 is before the range); fay's repeat_customer on day 8 is out
    assert column(got, "entered") == [0, 0, 1, 1, 1, 0]
    assert column(got, "went_on") == [0, 0, 0, 1, 1, 0]
    assert column(got, "conversion") == [None, None, 0.0, 1.0, 1.0, None]
    assert column(got, "median_days_to_next") == [None, None, None, pytest.approx(2),
                                                  pytest.approx(2), None]  # fmt: skip


def test_a_channel_takes_the_first_entry_through_it(returns: Engine) -> None:
    got = run(returns, channel="phone")
    # gus's entry into repeat_customer through the phone is his return on day 7 (his first,
    # on day 2, was on the web): 2 days to advocate, which he reached on the web
    assert column(got, "entered") == [0, 0, 0, 0, 1, 0]
    assert column(got, "went_on") == [0, 0, 0, 0, 1, 0]
    assert column(got, "median_days_to_next")[4] == pytest.approx(2)


def test_a_department_and_a_range(returns: Engine) -> None:
    got = run(returns, department="sales")
    # purchases: customer fay 6 (2 days on), gus 0 (2 days on); repeat_customer fay 8 (not
    # gone on), gus 2 (7 days to advocate)
    assert column(got, "entered") == [0, 0, 0, 2, 2, 0]
    assert column(got, "went_on") == [0, 0, 0, 2, 1, 0]
    assert column(got, "median_days_to_next") == [None, None, None, pytest.approx(2),
                                                  pytest.approx(7), None]  # fmt: skip
    ranged = run(returns, department="sales", start=T + timedelta(days=1),
                 end=T + timedelta(days=7))  # fmt: skip
    # in [1, 7): fay's customer 6 and gus's repeat_customer 2
    assert column(ranged, "entered") == [0, 0, 0, 1, 1, 0]
    assert column(ranged, "median_days_to_next") == [None, None, None, pytest.approx(2),
                                                     pytest.approx(7), None]  # fmt: skip
