"""Segment's standard event names count as the HX Pulse types they mean: in the pulse, the
journey, segments, survey triggers, `pulse --unmapped`, the rebuild and the funnel; on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.config import Live, PulseSettings, Settings
from hxpulse.events import segment
from hxpulse.events.names import STANDARD_NAMES
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.journey import funnel
from hxpulse.journey import rebuild as journey_rebuild
from hxpulse.journey import service as journey
from hxpulse.pulse import service as pulse
from hxpulse.pulse.rebuild import rebuild
from hxpulse.segments import service as segments
from hxpulse.surveys import sending
from tests.surveys.helpers import make_survey

NOW = datetime.now(UTC).replace(microsecond=0)
WHEN = NOW - timedelta(days=2)
LIVE = Live()
STATE = ("SELECT i.value, c.pulse_key, c.pulse_investments, c.pulse_returns, c.open_negatives,"
         " c.stage FROM customers c JOIN identities i ON i.customer_id = c.id"
         " WHERE i.kind = 'user_id'")  # fmt: skip


def states(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(text(STATE))}


def ev(mid: str, who: str, kind: str, days_ago: float, value: float | None = None) -> EventIn:
    return EventIn(message_id=mid, kind="track", type=kind, identities=[("user_id", who)],
                   occurred_at=NOW - timedelta(days=days_ago), value=value)  # fmt: skip


def test_each_standard_name_counts_exactly_as_its_type(
    client: TestClient, engine: Engine, write_key: str, api_key: str
) -> None:
    """Per name, one customer sends it through the Segment API with a `total` and another the
    type it means through HX Pulse's own API with the same value: their pulse sums and stage
    are the same, and not nothing (every standard type has a weight)."""
    names = sorted(STANDARD_NAMES)
    at = WHEN.isoformat()
    batch = [{"type": "track", "userId": f"seg-{n}", "event": name, "timestamp": at,
              "messageId": f"seg-{n}", "properties": {"total": 30.0, "currency": "EUR"}}
             for n, name in enumerate(names)]  # fmt: skip
    control = [{"type": STANDARD_NAMES[name], "user_id": f"canon-{n}", "occurred_at": at,
                "message_id": f"canon-{n}", "value": 30.0} for n, name in enumerate(names)]  # fmt: skip
    sent = client.post("/v1/batch", content=orjson.dumps({"batch": batch}), auth=(write_key, ""))
    assert sent.status_code == 200 and sent.json()["stored"] == len(names), sent.text
    own = client.post("/api/events", json={"events": control},
                      headers={"authorization": f"Bearer {api_key}"})  # fmt: skip
    assert own.status_code == 200 and own.json()["stored"] == len(names), own.text
    found = states(engine)
    for n, name in enumerate(names):
        seg, canon = found[f"seg-{n}"], found[f"canon-{n}"]
        assert seg[:4] == pytest.approx(canon[:4]) and seg[4] == canon[4], name
        assert seg[1] != 0 or seg[2] != 0 or STANDARD_NAMES[name] == "support_contact", name
    stage = {name: found[f"seg-{n}"][4] for n, name in enumerate(names)}
    assert stage["Order Completed"] == stage["order_completed"] == "customer"
    assert stage["Subscription Started"] == "customer"
    assert stage["Signed Up"] == stage["Account Created"] == "lead"
    assert {stage[n] for n in ("Product Added", "Checkout Started", "Trial Started")} == {
        "qualified_lead"
    }
    assert stage["Product Viewed"] == stage["Email Opened"] == "prospect"


def test_the_readme_example_makes_a_customer_with_the_purchase_counted(
    client: TestClient, engine: Engine, write_key: str, api_key: str
) -> None:
    call = {"userId": "readme-42", "event": "Order Completed",
            "properties": {"revenue": 19.9, "currency": "EUR"}}  # fmt: skip
    assert client.post("/v1/track", json=call, auth=(write_key, "")).status_code == 200
    got = client.get("/api/customers/user_id:readme-42/pulse",
                     headers={"authorization": f"Bearer {api_key}"}).json()  # fmt: skip
    expected = LIVE.pulse.weigh("purchase", 19.9)
    assert expected is not None
    assert got["stage"] == "customer"
    assert got["returns"] == pytest.approx(expected[1])
    assert got["top_events"][0]["type"] == "Order Completed"
    assert got["top_events"][0]["component"] == "return"


def test_journey_through_segment_names(engine: Engine) -> None:
    ingest(engine, [
        ev("a1", "ann", "Signed Up", 9), ev("a2", "ann", "Product Added", 8),
        ev("a3", "ann", "Order Completed", 7, 40), ev("a4", "ann", "Order Completed", 6, 25),
        ev("a5", "ann", "Product Reviewed", 5), ev("a6", "ann", "Product Shared", 4),
        ev("b1", "bob", "Signed Up", 3),
        ev("c1", "cy", "Order Completed", 3, 40), ev("c2", "cy", "Product Reviewed", 2),
        ev("c3", "cy", "Cart Shared", 1),
    ], now=NOW)  # fmt: skip
    with engine.connect() as conn:
        ann = journey.history(conn, _id(conn, "ann"))
    assert [step["to_stage"] for step in ann] == [  # the first event is already a lead's
        "lead", "qualified_lead", "customer", "repeat_customer", "advocate"
    ]  # fmt: skip
    stages = {who: row[4] for who, row in states(engine).items()}
    assert stages == {"ann": "advocate", "bob": "lead", "cy": "advocate"}


def _id(conn: Any, user: str) -> int:
    query = text("SELECT customer_id FROM identities WHERE kind = 'user_id' AND value = :v")
    return int(conn.execute(query, {"v": user}).scalar_one())


def test_a_refund_takes_back_the_purchase_and_the_customer_stays_a_customer(
    engine: Engine,
) -> None:
    ingest(engine, [
        ev("p1", "ann", "Order Completed", 3, 30), ev("r1", "ann", "Order Refunded", 3, 30),
        ev("p2", "bob", "purchase", 3, 30), ev("r2", "bob", "Order Cancelled", 3, 10),
        ev("r3", "cy", "Order Refunded", 3, 30),
    ], now=NOW)  # fmt: skip
    found = states(engine)
    assert found["ann"][1:3] == pytest.approx((0.0, 0.0))  # the same value at the same moment
    assert found["ann"][0] == pytest.approx(0.0, abs=1e-9)
    assert found["ann"][4] == "customer"  # the sale happened: the journey keeps it
    bought, back = LIVE.pulse.weigh("purchase", 30), LIVE.pulse.weigh("refund", 10)
    assert bought is not None and back is not None
    assert found["bob"][2] == pytest.approx(bought[1] + back[1])  # a partial refund
    assert found["cy"][2] < 0 and found["cy"][4] == "prospect"  # a refund alone counts against


def test_value_precedence_revenue_then_total_then_value() -> None:
    def value(properties: dict[str, Any]) -> float | None:
        msg = segment.SegmentMessage(userId="u", event="Order Completed", properties=properties)
        return segment.to_event(msg, kind="track", received_at=NOW, sent_at=None).value

    assert value({"revenue": 25.0, "total": 27.5, "value": 3.0, "subtotal": 22.5}) == 25.0
    assert value({"total": 27.5, "value": 3.0}) == 27.5
    assert value({"value": 3.0}) == 3.0
    assert value({"revenue": "25", "total": 27.5}) == 27.5  # a text is no number
    assert value({}) is None


@pytest.fixture
def shop(engine: Engine) -> None:
    ingest(engine, [
        ev("a1", "ann", "Order Completed", 5, 30), ev("b1", "bob", "purchase", 5, 30),
        ev("c1", "cy", "Order Updated", 5), ev("d1", "dee", "Product Viewed", 5),
        ev("d2", "dee", "page_view", 4), ev("e1", "eve", "Signed Up", 4),
    ], now=NOW)  # fmt: skip


def test_segments_match_a_type_by_any_of_its_names(engine: Engine, shop: None) -> None:
    def count(definition: dict[str, Any]) -> int:
        with engine.connect() as conn:
            return segments.count(conn, LIVE, definition, NOW)

    assert count({"event": {"type": "purchase"}}) == 2  # ann's Order Completed and bob's
    assert count({"event": {"type": "Order Completed"}}) == 1  # a name means only itself
    assert count({"event": {"type": ["signup", "Order Updated"]}}) == 2
    assert count({"event": {"type": "page_view", "min_count": 2}}) == 1
    assert count({"event": {"type": "purchase", "min_total": 60}}) == 0
    plain = Live(pulse=PulseSettings(standard_names=False))
    with engine.connect() as conn:
        assert segments.count(conn, plain, {"event": {"type": "purchase"}}, NOW) == 1


def test_unmapped_lists_only_names_without_a_meaning(engine: Engine, shop: None) -> None:
    with engine.connect() as conn:
        assert pulse.unmapped(conn, LIVE.pulse) == [{"type": "Order Updated", "events": 1}]
        plain = PulseSettings(standard_names=False)
        listed = {item["type"] for item in pulse.unmapped(conn, plain)}
    assert listed == {"Order Completed", "Order Updated", "Product Viewed", "Signed Up"}


def test_rebuild_and_funnel_agree_with_the_live_path(engine: Engine, shop: None) -> None:
    before = states(engine)
    done = rebuild(engine, LIVE, now=NOW)
    with engine.begin() as conn:
        journey_rebuild.rebuild(conn, LIVE)
    assert done["events"] == 6
    after = states(engine)
    assert set(after) == set(before)
    for who, row in before.items():
        assert after[who][:4] == pytest.approx(row[:4]) and after[who][4] == row[4], who
    with engine.connect() as conn:
        stages = funnel.funnel(conn, LIVE, now=NOW)["stages"]
    entered = {s["stage"]: s["entered"] for s in stages}
    assert entered["customer"] == 2 and entered["lead"] == 1  # ann and bob; eve's Signed Up


def test_a_survey_after_purchase_is_triggered_by_order_completed(
    engine: Engine, settings: Settings
) -> None:
    make_survey(engine, settings, NOW, name="After purchase", trigger_event="purchase")
    ingest(engine, [ev("a1", "ann", "Order Completed", 0, 30), ev("b1", "bob", "Signed Up", 0)],
           now=NOW)  # fmt: skip
    got = sending.run_due(engine, settings, "x" * 40, now=NOW)["After purchase"]
    with engine.connect() as conn:
        assert [i.customer_id for i in got.invited] == [_id(conn, "ann")]
