"""CLV and P(alive) as a segment field and a rule condition; no stored value: false."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from hxpulse.clv.service import values_t
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid
from hxpulse.ingest import ingest
from hxpulse.rules.evaluate import Trigger
from hxpulse.rules.service import fire
from hxpulse.segments import service as segments
from tests.rules.helpers import T, customer, event, fired, live_with


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """rich (CLV 500, P(alive) 0.9), modest (CLV 20, P(alive) 0.3), none (no stored value)."""
    ingest(engine, [event(f"p-{u}", u, "purchase", value=10.0) for u in ("rich", "modest", "none")],
           now=T)  # fmt: skip
    ids = {u: customer(engine, u) for u in ("rich", "modest", "none")}
    with engine.begin() as conn:
        for name, clv, alive in (("rich", 500.0, 0.9), ("modest", 20.0, 0.3)):
            conn.execute(insert(values_t).values(
                customer_id=ids[name], expected_purchases=2.0, p_alive=alive, expected_spend=5.0,
                clv=clv, first_purchase=10.0, fitted_at=T))  # fmt: skip
    return ids


def members(engine: Engine, settings: Settings, definition: Any) -> set[int]:
    with engine.connect() as conn:
        where = segments.condition(conn, settings.live, definition, T + timedelta(hours=1))
        return {r[0] for r in conn.execute(select(segments.c.id).where(where))}


def test_clv_segment_field(engine: Engine, settings: Settings, people: dict[str, int]) -> None:
    rich, modest, none = people["rich"], people["modest"], people["none"]
    assert members(engine, settings, {"field": "clv", "op": "gt", "value": 100}) == {rich}
    assert members(engine, settings, {"field": "clv", "op": "lte", "value": 500}) == {rich, modest}
    assert members(engine, settings, {"field": "p_alive", "op": "lt", "value": 0.5}) == {modest}
    assert members(engine, settings, {"field": "clv", "op": "exists"}) == {rich, modest}
    assert members(engine, settings, {"field": "clv", "op": "exists", "value": False}) == {none}
    # the complement of "clv > 100" is everyone else, the customer without a value included
    assert members(engine, settings, {"not": {"field": "clv", "op": "gt", "value": 100}}) == {
        modest, none}  # fmt: skip


def test_bad_clv_conditions_are_refused(engine: Engine, settings: Settings) -> None:
    with engine.connect() as conn:
        for bad in ({"field": "clv", "op": "eq", "value": 5},
                    {"field": "clv", "op": "gt", "value": "lots"},
                    {"field": "p_alive", "op": "gt"}):  # fmt: skip
            with pytest.raises(Invalid):
                segments.count(conn, settings.live, bad, T)


def _fires(engine: Engine, who: int, when: list[dict[str, Any]]) -> bool:
    live = live_with({"name": "valuable", "trigger": {"event": "flag"}, "when": when,
                      "actions": [{"webhook": "ops"}]})  # fmt: skip
    before = len(fired(engine))
    data = {"event": {"type": "flag", "channel": "web", "properties": {}}}
    trigger = Trigger("event", "flag", who, f"probe-{before}-{who}", data)
    run_write(engine, lambda c: fire(c, live, trigger, now=T))
    return len(fired(engine)) > before


def test_clv_rule_condition(engine: Engine, people: dict[str, int]) -> None:
    rich, modest, none = people["rich"], people["modest"], people["none"]
    high = [{"field": "clv", "op": "gte", "value": 100}]
    assert _fires(engine, rich, high)
    assert not _fires(engine, modest, high)
    assert not _fires(engine, none, high)  # no fitted value: the condition is false
    assert not _fires(engine, none, [{"field": "clv", "op": "ne", "value": 1}])
    assert not _fires(engine, none, [{"field": "clv", "op": "lt", "value": 1e9}])
    assert _fires(engine, none, [{"field": "clv", "op": "exists", "value": False}])
    fading = [{"field": "p_alive", "op": "lt", "value": 0.5}, {"field": "clv", "op": "gt",
              "value": 10}]  # fmt: skip
    assert _fires(engine, modest, fading) and not _fires(engine, rich, fading)
