"""The rule action "send next best offer": a rule writes `offer.send`; delivered, it picks the
offer then (recorded as shown) and passes it to the customer's channels (notify) or a webhook,
once per delivery."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func, select

from hxpulse.config import Settings
from hxpulse.events.schemas import EventIn
from hxpulse.handlers import HANDLERS
from hxpulse.ingest import ingest
from hxpulse.offers.models import Exposure
from hxpulse.outbox.dispatch import Context, Delivery
from hxpulse.outbox.models import OutboxRow
from tests.conftest import T0
from tests.offers.helpers import catalogue

RULE = {"name": "signup-offer", "trigger": {"event": "signup"},
        "actions": [{"send_offer": True},
                    {"send_offer": {"via": "webhook", "webhook": "crm"}}]}  # fmt: skip


def _rows(engine: Engine, kind: str) -> list[tuple[str, int, dict[str, object]]]:
    o = OutboxRow.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(o.key, o.customer_id, o.payload).where(o.kind == kind)
                            .order_by(o.id)).all()  # fmt: skip
    return [(str(k), int(c), dict(p)) for k, c, p in rows]


def test_a_rule_sends_the_offer_picked_at_delivery(engine: Engine, settings: Settings) -> None:
    config = settings.model_copy(update={"rules": Settings(rules=[RULE]).rules,
                                         "offers_holdout": 0.0})  # fmt: skip
    catalogue(engine, T0, {"key": "welcome", "name": "Welcome gift", "kind": "incentive",
                           "description": "10% off your first order"})  # fmt: skip
    ingest(engine, [EventIn(message_id="s1", kind="track", type="signup", occurred_at=T0,
                            identities=[("email", "new@example.com")])],
           now=T0, live=config.live)  # fmt: skip
    sends = _rows(engine, "offer.send")
    assert len(sends) == 2 and sends[0][2]["context"] == "signup"
    context = Context(engine, config, T0)
    for key, cid, payload in sends:
        delivery = Delivery(id=1, key=key, kind="offer.send", customer_id=cid, cause="s1",
                            payload=payload, attempt=1, created_at=T0)  # fmt: skip
        done = HANDLERS["offer.send"](context, delivery)
        assert done.ok and "offer welcome" in done.response, done.response
        again = HANDLERS["offer.send"](context, delivery)
        assert again.ok and again.response == "already sent"
    ((_, _, notify),) = _rows(engine, "notify")
    assert notify["title"] == "An offer for you" and notify["message"] == "10% off your first order"
    assert notify["data"]["offer"] == "welcome" and notify["data"]["rule"] == "signup-offer"
    ((_, _, hook),) = _rows(engine, "webhook")
    assert hook["endpoint"] == "crm" and hook["type"] == "offer.sent"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Exposure)).scalar_one() == 2


def test_nothing_eligible_is_done_not_retried(engine: Engine, settings: Settings) -> None:
    ingest(engine, [EventIn(message_id="s1", kind="track", type="signup", occurred_at=T0,
                            identities=[("email", "new@example.com")])], now=T0)  # fmt: skip
    delivery = Delivery(id=1, key="k", kind="offer.send", customer_id=1, cause="s1",
                        payload={"via": "notify"}, attempt=1, created_at=T0)  # fmt: skip
    done = HANDLERS["offer.send"](Context(engine, settings, T0), delivery)
    assert done.ok and done.response == "no eligible offer"


def test_the_action_is_checked_when_the_rules_load() -> None:
    for action, words in (({"send_offer": {"via": "webhook"}}, "webhook endpoint"),
                          ({"send_offer": {"via": "sms"}}, "via"),
                          ({"send_offer": {"title": ""}}, "title")):  # fmt: skip
        with pytest.raises(ValidationError, match=words):
            Settings(rules=[{**RULE, "actions": [action]}])
