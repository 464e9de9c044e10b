"""Caps hold; an action exists iff its cause committed; a resent batch writes nothing twice;
a bad rule is refused at load, naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from hxpulse import ingest as ingesting
from hxpulse.config import Settings
from hxpulse.events.batch import Batch
from hxpulse.ingest import ingest
from tests.rules.helpers import T, event, fired, live_with, outbox

HOOK = [{"webhook": "ops"}]


def test_caps_hold(engine: Engine) -> None:
    """Two firings per customer a day, then capped (recorded, nothing sent), then again."""
    live = live_with({"name": "flags", "trigger": {"event": "flag"}, "actions": HOOK,
                      "cap": {"per_customer": 2, "within_hours": 24}})  # fmt: skip
    for n in range(4):
        ingest(engine, [event(f"f{n}", "u1", "flag", n)], now=T + timedelta(hours=n), live=live)
    ingest(engine, [event("g0", "u2", "flag")], now=T, live=live)  # another customer: own count
    ingest(engine, [event("f9", "u1", "flag", 60 * 30)], now=T + timedelta(hours=30), live=live)
    rows = [(f["cause"], f["capped"]) for f in fired(engine)]
    assert rows == [("f0", False), ("f1", False), ("f2", True), ("f3", True), ("g0", False),
                    ("f9", False)]  # fmt: skip
    assert [r["cause"] for r in outbox(engine)] == ["f0", "f1", "g0", "f9"]


def test_a_cap_counts_within_one_batch(engine: Engine) -> None:
    live = live_with({"name": "flags", "trigger": {"event": "flag"}, "actions": HOOK,
                      "cap": {"per_customer": 1, "within_hours": 1}})  # fmt: skip
    ingest(engine, [event(f"f{n}", "u1", "flag", n) for n in range(3)], now=T, live=live)
    assert [r["cause"] for r in outbox(engine)] == ["f0"]


def test_an_action_cap_holds_back_that_action_only(engine: Engine) -> None:
    live = live_with(
        {
            "name": "flags",
            "trigger": {"event": "flag"},
            "actions": [
                {"webhook": "ops"},
                {"email": {"template": "sorry"}, "cap": {"per_customer": 1, "within_hours": 24}},
            ],
        }
    )
    for n in range(2):
        ingest(engine, [event(f"f{n}", "u1", "flag", n)], now=T + timedelta(hours=n), live=live)
    assert [(r["kind"], r["cause"]) for r in outbox(engine)] == [
        ("webhook", "f0"), ("email", "f0"), ("webhook", "f1")]  # fmt: skip


def test_the_outbox_row_exists_iff_the_ingest_committed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(batch: Batch) -> None:
        raise RuntimeError("a later step fails")

    monkeypatch.setattr(ingesting, "STEPS", (*ingesting.STEPS, boom))
    with pytest.raises(RuntimeError):
        ingest(engine, [event("c1", "u1", "complaint")], now=T)
    assert outbox(engine) == [] and fired(engine) == []
    monkeypatch.undo()
    ingest(engine, [event("c1", "u1", "complaint")], now=T)
    assert [r["kind"] for r in outbox(engine)] == ["case.open"]


def test_a_resent_batch_writes_nothing_twice(engine: Engine) -> None:
    live = live_with({"name": "flags", "trigger": {"event": "flag"}, "actions": HOOK})
    batch = [event("f1", "u1", "flag"), event("c1", "u1", "complaint")]
    for _ in range(3):
        ingest(engine, batch, now=T, live=live)
    assert len(outbox(engine)) == 2 and len(fired(engine)) == 2


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({"trigger": {"event": "x"}, "actions": [{"webhook": ""}]}, "rules.0.actions.0.webhook"),
        ({"trigger": {"event": "x"}, "actions": [{"webhook": "a", "email": {"template": "t"}}]},
         "rules.0.actions.0"),
        ({"trigger": {"event": "x"}, "actions": [{"sms": "a"}]}, "rules.0.actions.0.sms"),
        ({"trigger": {"event": "x", "stage": "lead"}, "actions": HOOK}, "rules.0.trigger"),
        ({"trigger": {"pulse_below": -1}, "actions": HOOK}, "rules.0.trigger.pulse_below"),
        ({"trigger": {"event": "x"}, "when": [{"field": "colour", "value": 1}], "actions": HOOK},
         "rules.0.when.0.field"),
        ({"trigger": {"event": "x"}, "when": [{"field": "pulse", "op": "gt", "value": "a"}],
          "actions": HOOK}, "rules.0.when.0"),
        ({"trigger": {"event": "x"}, "actions": HOOK, "colour": "red"}, "rules.0.colour"),
        ({"trigger": {"event": "x"}, "actions": HOOK, "cap": {"per_customer": 0,
                                                               "within_hours": 1}},
         "rules.0.cap.per_customer"),
        ({"trigger": {"stage": "vip"}, "actions": HOOK}, "rules[0].trigger.stage"),
        ({"trigger": {"band": "glowing"}, "actions": HOOK}, "rules[0].trigger.band"),
        ({"trigger": {"event": "x"}, "actions": [{"record_investment": {"type": "purchase"}}]},
         "rules[0].actions[0].record_investment.type"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_refused_naming_the_field(rule: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(rules=[{"name": "bad", **rule}])
    errors = caught.value.errors()
    named = [".".join(map(str, e["loc"])) + ": " + e["msg"] for e in errors]
    assert any(n.startswith(where) or where in n for n in named), named


def test_rule_names_are_unique_and_defaults_can_be_turned_off() -> None:
    with pytest.raises(ValidationError, match=r"rules\[1\].name: 'a' is given twice"):
        Settings(rules=[{"name": "a", "trigger": {"event": "x"}, "actions": HOOK}] * 2)
    off = Settings(rules=[{"name": "complaint-opens-case", "enabled": False,
                           "trigger": {"event": "complaint"}, "actions": HOOK}])  # fmt: skip
    assert [r.name for r in off.live.rules.of("event")] == [
        "detractor-opens-case",
        "promoter-asks-referral",
    ]


def test_history_arriving_late_triggers_nothing(engine: Engine) -> None:
    """An import of old complaints opens no cases today; a complaint of yesterday does, and so
    does an old one under a longer `rules_max_age_hours`."""
    now = T + timedelta(days=30)
    old, recent = event("old", "u1", "complaint"), event("new", "u2", "complaint", 29 * 24 * 60)
    ingest(engine, [old, recent], now=now, live=Settings().live)
    assert [(r["kind"], r["cause"]) for r in outbox(engine)] == [("case.open", "new")]
    patient = Settings(rules_max_age_hours=24 * 40).live
    ingest(engine, [event("older", "u3", "complaint")], now=now, live=patient)
    assert sorted(r["cause"] for r in outbox(engine)) == ["new", "older"]
