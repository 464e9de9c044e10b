"""Cases with frozen clocks, on SQLite and PostgreSQL: business-hours breaches exactly at their
due times, pauses while waiting, round-robin, idempotent `case.open`, resolving lifts the pulse."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from hxpulse.audit.service import SYSTEM
from hxpulse.cases import jobs, service, sla
from hxpulse.cases import resolve as resolving
from hxpulse.config import CaseSettings, Settings
from hxpulse.db.engine import run_write
from hxpulse.outbox.dispatch import Context, Delivery
from hxpulse.outbox.service import outbox_t
from hxpulse.pulse import service as pulse
from tests.cases.helpers import WED, World, world

SECOND = timedelta(seconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def open_case(engine: Engine, settings: Settings, w: World, key: str = "k1",
              now: datetime = WED, **extra: Any) -> dict[str, Any]:  # fmt: skip
    extra.setdefault("source_event", w.detractor)
    return run_write(engine, lambda conn: service.create(
        conn, settings, customer_id=w.customer_id, reason="Late delivery", source_key=key,
        team="Support", now=now, **extra)[0])  # fmt: skip


def sweep(engine: Engine, settings: Settings, now: datetime) -> int:
    return run_write(engine, lambda conn: jobs.sweep(conn, settings, now))


def case(engine: Engine, case_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return service.get(conn, case_id)


def actions(engine: Engine, kind: str) -> list[Any]:
    o = outbox_t.c
    with engine.connect() as conn:
        query = select(o.key, o.payload, o.customer_id).where(o.kind == kind).order_by(o.id)
        return list(conn.execute(query))


def test_a_business_hours_sla_breaches_exactly_at_its_due_time(
    engine: Engine, settings: Settings
) -> None:
    w = world(engine, settings)
    made = open_case(engine, settings, w)
    # normal: 4 business hours from Wed 11:30 Berlin: 30 min before lunch, 3.5 h after it
    due = utc(2026, 2, 4, 15, 30)  # 16:30 in Berlin
    assert made["first_response_due"] == due
    # 24 business hours at 7 a day: Wed 4.5 h, Thu 7, Fri 7, Mon 3 + 2.5 → Mon 15:30 Berlin
    assert made["resolution_due"] == utc(2026, 2, 9, 14, 30)
    assert made["channel"] == "email" and made["department"] == "delivery"
    assert made["resolves"] == w.detractor
    assert sweep(engine, settings, due - SECOND) == 0
    assert case(engine, made["id"])["first_response_breached_at"] is None
    assert sweep(engine, settings, due) == 1
    got = case(engine, made["id"])
    assert got["first_response_breached_at"] == due and got["resolution_breached_at"] is None
    assert sweep(engine, settings, due + timedelta(minutes=5)) == 0  # marked once
    with engine.connect() as conn:
        entries = service.thread(conn, made["id"])
    assert entries[-1]["kind"] == "sla" and "first response" in entries[-1]["body"]
    feed = [a for a in actions(engine, "feed") if a.payload["type"] == "case.breached"]
    assert len(feed) == 1 and feed[0].payload["team"] == "Support"
    assert sla.state(got, "first_response", due) == "missed"


def test_waiting_on_the_customer_pauses_the_clocks(engine: Engine, settings: Settings) -> None:
    w = world(engine, settings)
    made = open_case(engine, settings, w)

    def status(value: str, now: datetime) -> dict[str, Any]:
        return run_write(engine, lambda conn: service.set_status(
            conn, settings, case_id=made["id"], status=value, who=SYSTEM, now=now))  # fmt: skip

    status("waiting", utc(2026, 2, 4, 10, 45))  # 11:45 Berlin
    assert sweep(engine, settings, utc(2026, 2, 4, 15, 30)) == 0  # the old due time: paused
    assert sweep(engine, settings, utc(2026, 2, 5, 8, 0)) == 0
    assert sla.state(case(engine, made["id"]), "first_response", utc(2026, 2, 5, 8)) == "paused"
    resumed = status("in_progress", utc(2026, 2, 5, 8, 30))  # Thu 09:30 Berlin
    # paused: 15 min Wed morning + 4 h Wed afternoon + 30 min Thu = 4 h 45 min of business
    assert resumed["paused_seconds"] == 285 * 60
    # 16:30 Wed + 4 h 45: 30 min Wed, 3 h Thu morning, 1 h 15 after lunch → Thu 14:15 Berlin
    due = utc(2026, 2, 5, 13, 15)
    assert resumed["first_response_due"] == due
    assert sweep(engine, settings, due - SECOND) == 0
    assert sweep(engine, settings, due) == 1
    assert case(engine, made["id"])["first_response_breached_at"] == due
    with engine.connect() as conn:
        bodies = [e["body"] for e in service.thread(conn, made["id"])]
    assert any("paused" in b for b in bodies) and any("resumed" in b for b in bodies)


def test_round_robin_gives_the_least_recently_assigned_agent(
    engine: Engine, settings: Settings
) -> None:
    w = world(engine, settings)
    owners = [open_case(engine, settings, w, key=f"rr{n}", now=WED + n * SECOND)["owner_id"]
              for n in range(4)]  # fmt: skip
    assert owners == [w.agents[0], w.agents[1], w.agents[2], w.agents[0]]
    run_write(engine, lambda conn: service.assign(conn, settings, case_id=1, owner=w.agents[2],
                                                  who=SYSTEM, now=WED + 10 * SECOND))  # fmt: skip
    # agent 1 is now the least recently assigned; then 0 (at +3 s) before 2 (at +10 s)
    nxt = [open_case(engine, settings, w, key=f"rr-next{n}", now=WED + (20 + n) * SECOND)
           for n in range(2)]  # fmt: skip
    assert [c["owner_id"] for c in nxt] == [w.agents[1], w.agents[0]]
    off = CaseSettings(round_robin=False)
    plain = open_case(engine, settings.model_copy(update={"cases": off}), w, key="none")
    assert plain["owner_id"] is None


def test_case_open_is_idempotent_by_its_outbox_key(engine: Engine, settings: Settings) -> None:
    w = world(engine, settings)
    delivery = Delivery(id=1, key="rule:detractors:m-det", kind="case.open",
                        customer_id=w.customer_id, cause="m-det:detractor",
                        payload={"reason": "Detractor: late delivery", "priority": "high",
                                 "source_event": w.detractor, "team": "Support", "owner": None,
                                 "department": None, "channel": None},
                        attempt=1, created_at=WED)  # fmt: skip
    context = Context(engine, settings, WED)
    first, again = jobs.open_case(context, delivery), jobs.open_case(context, delivery)
    assert first.ok and again.ok and "already open" in again.response
    with engine.connect() as conn:
        found = service.list_cases(conn, now=WED, customer_id=w.customer_id)
    assert len(found) == 1 and found[0]["priority"] == "high"
    assert found[0]["owner_id"] == w.agents[0]
    bad = jobs.open_case(context, Delivery(2, "k2", "case.open", w.customer_id, None,
                                           {"reason": "x", "team": "Nobody"}, 1, WED))  # fmt: skip
    assert not bad.ok and bad.final and "Nobody" in bad.response


def test_resolving_lifts_the_pulse_by_the_exact_twelvefold_extra(
    engine: Engine, settings: Settings
) -> None:
    settings = settings.model_copy(update={"cases": CaseSettings(resolve_survey="csat")})
    w = world(engine, settings)
    made = open_case(engine, settings, w)
    now = WED + timedelta(hours=2)
    with engine.connect() as conn:
        before = pulse.explain(conn, settings.live, customer_id=w.customer_id, now=now)
    assert before["open_negatives"] == 1
    done = run_write(engine, lambda conn: resolving.resolve(
        conn, settings, case_id=made["id"], who=SYSTEM, now=now, message="Refunded"))  # fmt: skip
    assert done["status"] == "resolved" and done["resolved_at"] == now
    with engine.connect() as conn:
        after = pulse.explain(conn, settings.live, customer_id=w.customer_id, now=now)
        row = conn.execute(text("SELECT resolved_by FROM pulse_negatives WHERE message_id = :m"),
                           {"m": w.detractor}).one()  # fmt: skip
    law = pulse.model(settings.pulse)
    detractor_at = WED - timedelta(days=2)
    extra = 4.0 * (12 - 1) * math.exp(-law.rate * (now - detractor_at).total_seconds() / 86400)
    assert after["open_negatives"] == 0
    assert math.isclose(after["pulse"] - before["pulse"], extra + 2.0, rel_tol=1e-9)
    assert row.resolved_by == f"case-{made['id']}-resolution-1"
    notify = actions(engine, "notify")
    assert notify[-1].payload["message"] == "Refunded"
    assert notify[-1].customer_id == w.customer_id
    assert [a.payload for a in actions(engine, "survey.invite")] == [{"survey": "csat"}]
    again = run_write(engine, lambda conn: resolving.resolve(
        conn, settings, case_id=made["id"], who=SYSTEM, now=now))  # fmt: skip
    assert again["resolutions"] == 1  # resolving twice changes nothing


def test_reply_fulfils_the_first_response_and_reopen_restarts_the_clock(
    engine: Engine, settings: Settings
) -> None:
    w = world(engine, settings)
    made = open_case(engine, settings, w)
    at = WED + timedelta(hours=1)
    replied = run_write(engine, lambda conn: service.reply(
        conn, settings, case_id=made["id"], body="Sorry! Checking.", who=SYSTEM, now=at))  # fmt: skip
    assert replied["first_responded_at"] == at and replied["status"] == "in_progress"
    assert sla.state(replied, "first_response", at) == "met"
    assert actions(engine, "notify")[-1].payload["message"] == "Sorry! Checking."
    late = utc(2026, 2, 10, 9, 0)  # after the resolution due time: missed
    run_write(engine, lambda conn: resolving.resolve(conn, settings, case_id=made["id"],
                                                     who=SYSTEM, now=late))  # fmt: skip
    got = case(engine, made["id"])
    assert got["resolution_breached_at"] == made["resolution_due"]
    again = run_write(engine, lambda conn: service.set_status(
        conn, settings, case_id=made["id"], status="open", who=SYSTEM, now=late))  # fmt: skip
    assert again["status"] == "open" and again["resolution_breached_at"] is None
    assert again["resolution_due"] > late
    with engine.connect() as conn:
        last = service.thread(conn, made["id"])[-1]
    assert "Re-opened" in last["body"] and "was missed" in last["body"]


def test_the_sla_report(engine: Engine, settings: Settings) -> None:
    w = world(engine, settings)
    met = open_case(engine, settings, w, key="a")
    open_case(engine, settings, w, key="b")
    run_write(engine, lambda conn: service.reply(conn, settings, case_id=met["id"], body="Hi",
                                                 who=SYSTEM, now=WED + timedelta(minutes=30)))  # fmt: skip
    sweep(engine, settings, utc(2026, 2, 4, 15, 30))
    from hxpulse.cases import report

    with engine.connect() as conn:
        rows = report.sla_report(conn, now=utc(2026, 2, 4, 16, 0))
    first = next(r for r in rows if r["metric"] == "first_response")
    assert (first["team"], first["priority"], first["channel"]) == ("Support", "normal", "email")
    assert first["count"] == 2 and first["met"] == 1 and first["share_met"] == 0.5
    assert first["median_seconds"] == 1800.0 and first["owner"] is None
    with engine.connect() as conn:
        per_agent = report.sla_report(conn, now=utc(2026, 2, 4, 16, 0), by_owner=True)
    firsts = [r for r in per_agent if r["metric"] == "first_response"]
    assert [(r["owner"], r["share_met"]) for r in firsts] == [("agent0@example.com", 1.0),
                                                             ("agent1@example.com", 0.0)]  # fmt: skip


def test_a_customer_message_ends_the_wait_and_the_next_breach_is_known(
    engine: Engine, settings: Settings
) -> None:
    w = world(engine, settings)
    made = open_case(engine, settings, w)
    with engine.connect() as conn:
        assert jobs.next_breach_at(conn) == made["first_response_due"]
    run_write(engine, lambda conn: service.set_status(
        conn, settings, case_id=made["id"], status="waiting", who=SYSTEM, now=WED))  # fmt: skip
    back = run_write(engine, lambda conn: service.receive(
        conn, settings, case_id=made["id"], body="Here is the photo", who=SYSTEM,
        now=WED + timedelta(minutes=20)))  # fmt: skip
    assert back["status"] == "open" and back["paused_seconds"] == 20 * 60
    assert back["first_response_due"] == made["first_response_due"] + timedelta(minutes=20)
    with engine.connect() as conn:
        kinds = [e["kind"] for e in service.thread(conn, made["id"])]
    assert kinds[-2:] == ["message_in", "status"]
