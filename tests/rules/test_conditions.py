"""Conditions on the event, the customer's traits, stage, band, pulse, consent and segments."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, update

from hxpulse.customers.service import customers_t
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.rules.evaluate import Trigger
from hxpulse.rules.service import explain, fire
from hxpulse.segments import service as segments
from tests.rules.helpers import T, customer, event, fired, live_with

HOOK = [{"webhook": "ops"}]


def _fires(engine: Engine, when: list[dict[str, Any]], **fields: Any) -> bool:
    """Whether a rule with `when` fires for u1's `flag` event (each call a fresh cause)."""
    live = live_with({"name": "probe", "trigger": {"event": "flag"}, "when": when,
                      "actions": HOOK})  # fmt: skip
    cid = customer(engine, "u1")
    data = {"event": {"type": "flag", "channel": "web", "department": None, "value": None,
                      "properties": {}} | fields}  # fmt: skip
    before = len(fired(engine))
    trigger = Trigger("event", "flag", cid, f"probe-{before}-{id(when)}", data)
    run_write(engine, lambda c: fire(c, live, trigger, now=T))
    return len(fired(engine)) > before


@pytest.fixture
def ann(engine: Engine) -> int:
    """u1: a customer (one purchase), traits plan=gold and tags, surveys denied."""
    identify = EventIn(message_id="i1", kind="identify", type="identify", occurred_at=T,
                       identities=[("user_id", "u1")],
                       traits={"plan": "gold", "tags": ["vip", "eu"], "age": 41})  # fmt: skip
    ingest(engine, [identify, event("p1", "u1", "purchase", value=50.0)], now=T)
    cid = customer(engine, "u1")
    with engine.begin() as conn:
        conn.execute(update(customers_t).where(customers_t.c.id == cid).values(
            consent={"surveys": {"status": "denied", "via": "api", "source": "t",
                                 "at": T.isoformat()}}))  # fmt: skip
    return cid


def cond(field: str, op: str = "eq", value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def test_event_conditions(engine: Engine, ann: int) -> None:
    assert _fires(engine, [cond("event.channel", "eq", "phone")], channel="phone")
    assert not _fires(engine, [cond("event.channel", "eq", "phone")], channel="web")
    assert _fires(engine, [cond("event.value", "gte", 100)], value=150.0)
    assert not _fires(engine, [cond("event.value", "gt", 100)], value=50.0)
    assert _fires(engine, [cond("event.properties.sku", "in", ["a", "b"])],
                  properties={"sku": "b"})  # fmt: skip
    assert _fires(engine, [cond("event.properties.note", "contains", "LATE")],
                  properties={"note": "arrived late"})  # fmt: skip
    assert _fires(engine, [cond("event.properties.order", "exists")], properties={"order": 1})
    assert _fires(engine, [cond("event.properties.order", "exists", False)])
    assert _fires(engine, [cond("event.department", "ne", "billing")], department="sales")


def test_customer_conditions(engine: Engine, ann: int) -> None:
    assert _fires(engine, [cond("traits.plan", "eq", "gold")])
    assert not _fires(engine, [cond("traits.plan", "eq", "silver")])
    assert _fires(engine, [cond("traits.tags", "contains", "vip")])
    assert _fires(engine, [cond("traits.age", "lt", 50), cond("traits.age", "gt", 40)])
    assert not _fires(engine, [cond("traits.missing", "exists")])
    assert _fires(engine, [cond("stage", "eq", "customer")])
    assert _fires(engine, [cond("stage", "in", ["customer", "repeat_customer"])])
    assert _fires(engine, [cond("pulse", "gt", 10), cond("pulse", "lt", 30)])
    assert _fires(engine, [cond("band", "eq", "steady")])
    assert not _fires(engine, [cond("band", "eq", "at_risk")])
    assert _fires(engine, [cond("consent.surveys", "eq", False)])
    assert _fires(engine, [cond("consent.personalisation", "eq", True)])
    assert not _fires(engine, [cond("consent.email_marketing", "eq", True)])  # opt-in


def test_segment_membership(engine: Engine, ann: int) -> None:
    live = live_with()
    with engine.begin() as conn:
        segments.create(
            conn,
            live,
            name="Buyers",
            description=None,
            now=T,
            definition={"field": "stage", "op": "eq", "value": "customer"},
        )
        segments.create(conn, live, name="Leads", description=None, now=T,
                        definition={"field": "stage", "op": "eq", "value": "lead"})  # fmt: skip
    assert _fires(engine, [cond("segment", "eq", "Buyers")])
    assert not _fires(engine, [cond("segment", "eq", "Leads")])
    assert _fires(engine, [cond("segment", "ne", "Leads")])
    assert not _fires(engine, [cond("segment", "eq", "No such segment")])


def test_explain_says_why(engine: Engine, ann: int) -> None:
    live = live_with({"name": "gold-flags", "trigger": {"event": "flag"},
                      "when": [cond("traits.plan", "eq", "gold"), cond("pulse", "gt", 1000)],
                      "actions": HOOK})  # fmt: skip
    rule = live.rules.get("gold-flags")
    assert rule is not None
    trigger = Trigger("event", "flag", ann, "dry", {"event": {"type": "flag"}})
    with engine.connect() as conn:
        said = explain(conn, live, rule, trigger, now=T)
    assert said["matched"] and not said["fires"]
    assert [r["held"] for r in said["reasons"]] == [True, False]
    assert said["reasons"][1]["condition"] == "pulse gt 1000"
