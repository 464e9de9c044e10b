"""Negative experiences and their resolution, live and rebuilt, against a replay of the log.

Property test (hypothesis): random event sequences with complaints and resolutions, anywhere
from 1970 to now, at half-lives from a day to ten years, arriving in random order and random
batches, on SQLite and PostgreSQL; the stored sums (log-added in SQL) must equal the sums
replayed from the log in time order, and `rebuild` must write the same sums again.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from hxpulse.config import Live
from hxpulse.customers import queries
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse import service
from hxpulse.pulse.live import negatives_t
from hxpulse.pulse.rebuild import rebuild
from hxpulse.pulse.replay import LoggedEvent, replay

LIVE = Live()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
LAW = service.model(LIVE.pulse)
counter = itertools.count()


def event(mid: str, user: str, kind: str, days_ago: float, **props: str) -> EventIn:
    return EventIn(message_id=mid, kind="track", type=kind, identities=[("user_id", user)],
                   occurred_at=NOW - timedelta(days=days_ago), properties=dict(props))  # fmt: skip


def stored(engine: Engine, user: str, live: Live = LIVE) -> dict[str, float]:
    with engine.connect() as conn:
        got = service.explain(conn, live, customer_id=queries.find(conn, user), now=NOW)
    return {k: got[k] for k in ("pulse", "investments", "returns", "open_negatives")}


def replayed(events: list[EventIn], live: Live = LIVE) -> dict[str, float]:
    log = [LoggedEvent(e.message_id, e.type, e.occurred_at, e.value, e.properties.get("resolves"))
           for e in events]  # fmt: skip
    law = service.model(live.pulse)
    result = replay(live.pulse, law, log, NOW)
    parts = result.state.at(law, NOW)
    return {"pulse": parts.pulse, "investments": parts.investments, "returns": parts.returns,
            "open_negatives": result.open_negatives}  # fmt: skip


def close(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-7) for k in a)


def with_half_life(days: float) -> Live:
    return Live(type(LIVE.pulse).model_validate({"half_life_days": days}))


def test_a_resolution_lifts_exactly_the_extra_parts(engine: Engine) -> None:
    ingest(engine, [event("p", "ann", "purchase", 50), event("c", "ann", "complaint", 20)], now=NOW)
    before = stored(engine, "ann")
    assert before["open_negatives"] == 1
    ingest(engine, [event("r", "ann", "resolution", 0, resolves="c")], now=NOW)
    after = stored(engine, "ann")
    # the complaint weighed 12 x -5 until now; resolved, it weighs -5 as if always so, and the
    # resolution itself adds its own weight 2 at NOW
    lifted = 11 * 5 * math.exp(-LAW.rate * 20)
    assert after["pulse"] - before["pulse"] == pytest.approx(lifted + 2, rel=1e-9)
    assert after["returns"] - before["returns"] == pytest.approx(11 * 5 + 2)
    assert after["open_negatives"] == 0
    with engine.connect() as conn:
        row = conn.execute(select(negatives_t).where(negatives_t.c.message_id == "c")).one()
    assert row.resolved_by == "r" and row.resolved_at == NOW


def test_an_unnamed_resolution_resolves_the_oldest_open_negative(engine: Engine) -> None:
    first, second = event("c1", "bo", "complaint", 30), event("c2", "bo", "failed_delivery", 10)
    ingest(engine, [first, second, event("r", "bo", "resolution", 5)], now=NOW)
    with engine.connect() as conn:
        rows = {r.message_id: r.resolved_by for r in conn.execute(select(negatives_t))}
    assert rows == {"c1": "r", "c2": None}
    assert stored(engine, "bo")["open_negatives"] == 1


def test_a_resolution_that_arrives_before_its_complaint_still_resolves_it(engine: Engine) -> None:
    events = [event("r", "cy", "resolution", 1, resolves="c"), event("c", "cy", "complaint", 3)]
    ingest(engine, events[:1], now=NOW)
    ingest(engine, events[1:], now=NOW)
    assert close(stored(engine, "cy"), replayed(events))
    assert stored(engine, "cy")["open_negatives"] == 0


KINDS = ["purchase", "page_view", "email_sent", "review", "complaint", "failed_delivery",
         "resolution", "detractor", "webinar"]  # fmt: skip


SINCE_1970 = (NOW - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86_400


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[EventIn], list[list[EventIn]]]:
    user = f"h{next(counter)}"
    n = draw(st.integers(1, 25))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    # the newest event up to 56 years ago (1970), the others within days or decades of it
    newest = draw(st.one_of(st.just(0.0), st.floats(0, 30), st.floats(0, SINCE_1970)))
    spread = draw(st.sampled_from([1.0, 500.0, SINCE_1970]))
    days = [
        min(SINCE_1970, newest + spread * share)
        for share in draw(st.lists(st.floats(0, 1), min_size=n, max_size=n, unique=True))
    ]
    days[0] = newest  # fmt: skip
    in_order = draw(st.booleans())
    events: list[EventIn] = []
    negatives = [
        f"{user}-{i}"
        for i, k in enumerate(kinds)
        if k in ("complaint", "failed_delivery", "detractor")
    ]
    for i, (kind, ago) in enumerate(zip(kinds, days, strict=True)):
        props = {}
        # out-of-order arrival is exact when resolutions name what they resolve
        if kind == "resolution" and negatives and (not in_order or draw(st.booleans())):
            props["resolves"] = draw(st.sampled_from(negatives))
        events.append(event(f"{user}-{i}", user, kind, ago, **props))
    # in time order, resolutions last at one moment, then by message id: the order the replay
    # reads them in (an unnamed resolution resolves what is open when it arrives, so two at one
    # instant arriving in another order may resolve different complaints)
    arrival = sorted(events, key=lambda e: (e.occurred_at, e.type == "resolution",
                                            e.message_id)) if (
        in_order) else draw(st.permutations(events))  # fmt: skip
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    batches = [arrival[a:b] for a, b in itertools.pairwise([0, *cuts, n]) if arrival[a:b]]
    return events, batches


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=histories(), half_life=st.one_of(st.just(90.0), st.floats(1, 3652.5)))
def test_live_sums_equal_the_replayed_log(
    engine: Engine, case: tuple[list[EventIn], list[list[EventIn]]], half_life: float
) -> None:
    events, batches = case
    live = with_half_life(half_life)
    for batch in batches:
        ingest(engine, batch, now=NOW, live=live)
    user = events[0].identities[0][1]
    assert close(stored(engine, user, live), replayed(events, live))


def test_rebuild_writes_the_same_sums_and_follows_new_weights(engine: Engine) -> None:
    events = [event("a1", "ra", "purchase", 40), event("a2", "ra", "complaint", 30),
              event("a3", "ra", "resolution", 10, resolves="a2"), event("a4", "ra", "webinar", 5),
              event("b1", "rb", "complaint", 3), event("b2", "rb", "page_view", 1)]  # fmt: skip
    ingest(engine, events[::-1], now=NOW)
    live = {u: stored(engine, u) for u in ("ra", "rb")}
    with engine.connect() as conn:
        before = {
            r.message_id: (r.resolved_by, r.customer_id) for r in conn.execute(select(negatives_t))
        }
    done = rebuild(engine, LIVE, now=NOW, chunk=1)
    assert done["events"] == len(events) and done["customers"] >= 2
    assert all(close(stored(engine, u), live[u]) for u in live)
    with engine.connect() as conn:
        after = {
            r.message_id: (r.resolved_by, r.customer_id) for r in conn.execute(select(negatives_t))
        }
    assert after == before
    # a new weight for an unmapped type changes the pulse only after a rebuild
    heavier = Live(
        type(LIVE.pulse).model_validate(
            {"weights": {"webinar": {"component": "investment", "weight": 5}}}
        )
    )
    rebuild(engine, heavier, now=NOW)
    with engine.connect() as conn:
        got = service.explain(conn, heavier, customer_id=queries.find(conn, "ra"), now=NOW)
    assert got["investments"] == pytest.approx(live["ra"]["investments"] + 5)
    assert got["pulse"] == pytest.approx(live["ra"]["pulse"] + 5 * math.exp(-LAW.rate * 5))
