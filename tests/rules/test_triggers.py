"""Each kind of trigger fires its rule, in the ingest transaction, into the outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from hxpulse.db.engine import run_write
from hxpulse.ingest import ingest
from hxpulse.rules import decay
from hxpulse.rules.service import Trigger, fire
from tests.rules.helpers import T, customer, event, fired, live_with, outbox

HOOK = [{"webhook": "ops"}]


def test_an_event_fires_its_rule_and_the_default_rules_open_cases(engine: Engine) -> None:
    live = live_with({"name": "flagged", "trigger": {"event": "order_flagged"}, "actions": HOOK})
    ingest(engine, [event("m1", "u1", "order_flagged"), event("m2", "u1", "page_view"),
                    event("m3", "u2", "complaint", department="billing", channel="phone")],
           now=T, live=live)  # fmt: skip
    rows = outbox(engine)
    assert [(r["kind"], r["cause"]) for r in rows] == [("webhook", "m1"), ("case.open", "m3")]
    hook, case = rows[0]["payload"], rows[1]["payload"]
    assert hook["endpoint"] == "ops" and hook["type"] == "rule.fired"
    assert hook["data"]["rule"] == "flagged" and hook["data"]["trigger"]["cause"] == "m1"
    assert case["reason"] == "Complaint" and case["source_event"] == "m3"
    assert (case["department"], case["channel"]) == ("billing", "phone")
    assert [(f["rule"], f["cause"]) for f in fired(engine)] == [
        ("flagged", "m1"), ("complaint-opens-case", "m3")]  # fmt: skip


def test_a_survey_band_trigger_reads_the_answer_band(engine: Engine) -> None:
    live = live_with(
        {
            "name": "unhappy",
            "trigger": {"event": "survey_response", "band": "unsatisfied"},
            "actions": HOOK,
        }
    )
    ingest(engine, [event("a1", "u1", "survey_response", properties={"band": "satisfied"}),
                    event("a2", "u2", "survey_response", properties={"band": "unsatisfied"})],
           now=T, live=live)  # fmt: skip
    assert [r["cause"] for r in outbox(engine)] == ["a2"]


def test_entering_a_stage_fires(engine: Engine) -> None:
    live = live_with(
        {"name": "first-sale", "trigger": {"stage": "customer"}, "actions": HOOK},
        {
            "name": "second",
            "trigger": {"stage": "repeat_customer", "from": "lead"},
            "actions": HOOK,
        },
    )
    ingest(engine, [event("p1", "u1", "purchase", value=20.0)], now=T, live=live)
    ingest(engine, [event("p2", "u1", "purchase", 5, value=20.0)], now=T + timedelta(hours=1),
           live=live)  # fmt: skip
    assert [(f["rule"], f["trigger_name"], f["cause"]) for f in fired(engine)] == [
        ("first-sale", "customer", "p1")]  # fmt: skip


def test_entering_a_band_fires_once(engine: Engine) -> None:
    live = live_with(
        {"name": "steady", "trigger": {"band": "steady"}, "actions": HOOK},
        {"name": "at-risk", "trigger": {"band": "at_risk"}, "actions": HOOK},
    )
    batch = [event(f"p{n}", "u1", "purchase", n, value=50.0) for n in range(3)]
    ingest(engine, batch, now=T + timedelta(hours=1), live=live)  # a new prospect: steady
    ingest(
        engine,
        [event("x", "u1", "purchase", 10, value=50.0)],
        now=T + timedelta(hours=1),
        live=live,
    )  # still steady: nothing new
    ingest(engine, [event("c1", "u1", "complaint", 20), event("c2", "u1", "complaint", 21)],
           now=T + timedelta(hours=1), live=live)  # fmt: skip
    rows = [f for f in fired(engine) if f["trigger_kind"] == "band"]
    assert [(f["rule"], f["trigger_name"]) for f in rows] == [
        ("steady", "steady"), ("at-risk", "at-risk")]  # fmt: skip
    assert [f["cause"] for f in rows] == ["band:steady@p2", "band:at-risk@c2"]


def test_a_decay_only_crossing_fires_once(engine: Engine) -> None:
    """No event: time passes, the pulse decays below 5, and the check fires exactly once."""
    live = live_with({"name": "fading", "trigger": {"pulse_below": 5.0}, "actions": HOOK})
    ingest(engine, [event("p1", "u1", "purchase", value=50.0)], now=T, live=live)  # ~17
    many = [event(f"q{n}", "u2", "purchase", value=50.0) for n in range(20)]
    ingest(engine, many, now=T, live=live)  # ~340: above 5 for six half-lives
    check = decay.check
    assert run_write(engine, lambda c: check(c, live, now=T)) == []  # notes the moment only
    half_life = timedelta(days=90)
    assert run_write(engine, lambda c: check(c, live, now=T + half_life)) == []  # ~8.5
    crossed = run_write(engine, lambda c: check(c, live, now=T + half_life * 2.5))  # ~3
    assert [v.trigger.customer_id for v in crossed] == [customer(engine, "u1")]
    for later in (3, 4, 6):  # below already: no second firing
        moment = T + half_life * later
        assert run_write(engine, lambda c, at=moment: check(c, live, now=at)) == []
    rows = fired(engine)
    assert [(f["rule"], f["trigger_kind"]) for f in rows] == [("fading", "pulse")]
    assert rows[0]["cause"] == f"decay@{(T + half_life * 2.5).isoformat()}"
    assert [r["kind"] for r in outbox(engine)] == ["webhook"]


def test_a_case_trigger_fires_through_fire(engine: Engine) -> None:
    live = live_with(
        {
            "name": "resolved",
            "trigger": {"case": "resolved"},
            "when": [{"field": "trigger.priority", "op": "eq", "value": "high"}],
            "actions": [{"notify_customer": {"title": "Fixed", "message": "Sorted."}}],
        }
    )
    ingest(engine, [event("m1", "u1", "page_view")], now=T, live=live)
    cid = customer(engine, "u1")
    for n, priority in ((7, "high"), (8, "low"), (7, "high")):
        trigger = Trigger("case", "resolved", cid, f"case:{n}", {"priority": priority})
        run_write(engine, lambda c, t=trigger: fire(c, live, t, now=T))
    rows = outbox(engine)
    assert [(r["kind"], r["cause"]) for r in rows] == [("notify", "case:7")]
    assert rows[0]["payload"]["title"] == "Fixed"


def test_decaying_into_a_band_fires_from_the_check(engine: Engine) -> None:
    """Time alone takes a customer from steady into at-risk (no return for a half-life) and
    into lapsed (two half-lives)."""
    live = live_with(
        {"name": "lapsed", "trigger": {"band": "lapsed"}, "actions": HOOK},
        {"name": "at-risk", "trigger": {"band": "at_risk"}, "actions": HOOK},
    )
    ingest(engine, [event("p1", "u1", "purchase", value=50.0)], now=T, live=live)  # steady
    half_life = timedelta(days=90)
    for halves in (0, 0.25, 1, 1.5, 2, 3, 4):  # at risk after 1, lapsed after 2
        moment = T + half_life * halves
        run_write(engine, lambda c, at=moment: decay.check(c, live, now=at))
    rows = fired(engine)
    assert [(f["rule"], f["trigger_kind"], f["trigger_name"]) for f in rows] == [
        ("at-risk", "band", "at-risk"), ("lapsed", "band", "lapsed")]  # fmt: skip
    assert rows[0]["cause"] == f"decay@{(T + half_life * 1.5).isoformat()}"
    assert rows[1]["cause"] == f"decay@{(T + half_life * 3).isoformat()}"


def test_a_band_entered_by_an_event_does_not_fire_again_from_the_check(engine: Engine) -> None:
    live = live_with({"name": "at-risk", "trigger": {"band": "at_risk"}, "actions": HOOK})
    check = decay.check
    ingest(engine, [event("p1", "u1", "purchase", value=50.0)], now=T, live=live)
    run_write(engine, lambda c: check(c, live, now=T))
    later = T + timedelta(days=30)
    ingest(engine, [event("r1", "u1", "complaint", 30 * 24 * 60)], now=later,
           live=live)  # an open complaint: at risk, fired by the ingest  # fmt: skip
    # 100 days without a return: at risk by time too, but it was at risk already
    run_write(engine, lambda c: check(c, live, now=T + timedelta(days=100)))
    assert [(f["rule"], f["cause"]) for f in fired(engine)] == [("at-risk", "band:at-risk@r1")]
