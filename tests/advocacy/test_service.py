"""Referral codes, attribution in the ingest, and the report against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from hxpulse.advocacy import report, service
from hxpulse.advocacy.service import referrals_t
from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.customers.service import customers_t
from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid, NotFound
from hxpulse.events.models import Event
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest

T = datetime(2026, 3, 1, tzinfo=UTC)
NOW = T + timedelta(days=30)


def ev(mid: str, user: str, kind: str, day: float, value: float | None = None,
       context: dict[str, Any] | None = None, **props: Any) -> EventIn:  # fmt: skip
    return EventIn(message_id=mid, kind="track", type=kind, identities=[("user_id", user)],
                   occurred_at=T + timedelta(days=day), channel="web", value=value,
                   properties=props, context=context)  # fmt: skip


def cid(engine: Engine, user: str) -> int:
    with engine.connect() as conn:
        return queries.find(conn, f"user_id:{user}")


def code_of(engine: Engine, user: str) -> str:
    customer = cid(engine, user)
    return run_write(engine, lambda c: service.code_for(c, customer_id=customer, now=T))


def build(engine: Engine, settings: Settings) -> dict[str, str]:
    """The hand-built dataset of the module's figures (see test_report_exact)."""
    live = settings.live
    ingest(engine, [ev("a1", "u1", "promoter", 1), ev("a2", "u2", "promoter", 1),
                    ev("a3", "u3", "promoter", 1), ev("a4", "u4", "promoter", 1),
                    ev("a5", "u5", "passive", 1), ev("r1-old", "r1", "purchase", 0, 100)],
           now=NOW, live=live)  # fmt: skip
    codes = {u: code_of(engine, u) for u in ("u1", "u2", "u3", "u4")}
    for user, day in (("u1", 2), ("u2", 2), ("u3", 2), ("u5", 2), ("u5", 3)):
        customer = cid(engine, user)
        run_write(engine, lambda c, customer=customer, day=day: service.record_ask(
            c, settings, customer_id=customer, channel="email", by="tests",
            now=T + timedelta(days=day)))  # fmt: skip
    ingest(engine, [
        ev("d3", "u3", "detractor", 4),
        ev("p1", "r1", "purchase", 3, 30, referral_code=codes["u1"].lower()),
        ev("p1b", "r1", "purchase", 5, 20),
        ev("p1c", "r1", "purchase", 6, 25, referral_code=codes["u2"]),  # a second attribution
        ev("p2", "r2", "purchase", 6, 40, context={"campaign": {"content": codes["u3"]}}),
        ev("p4", "u4", "purchase", 6, 10, referral_code=codes["u4"]),  # self-referral
        ev("v1", "u1", "review", 7, platform="trustpilot", url="https://t.example/1"),
        ev("s1", "u1", "share", 7, platform="facebook", url="https://f.example/1"),
        ev("v2", "u2", "review", 8),
    ], now=NOW, live=live)  # fmt: skip
    return codes


def test_codes_are_short_unique_and_stable(engine: Engine) -> None:
    ingest(engine, [ev(f"m{i}", f"c{i}", "page", 0) for i in range(50)], now=NOW)
    codes = [code_of(engine, f"c{i}") for i in range(50)]
    assert len(set(codes)) == 50
    assert all(service.normal_code(c) == c and len(c) == 8 for c in codes)
    assert code_of(engine, "c7") == codes[7]
    assert service.normal_code("not a code") is None


def test_attribution_self_and_double_refused(engine: Engine, settings: Settings) -> None:
    build(engine, settings)
    r = referrals_t.c
    with engine.connect() as conn:
        rows = conn.execute(select(r.referrer_id, r.referred_id, r.status, r.reason, r.source,
                                   r.message_id).order_by(r.id)).all()  # fmt: skip
        u1, u2, u3, u4 = (cid(engine, u) for u in ("u1", "u2", "u3", "u4"))
        r1, r2 = cid(engine, "r1"), cid(engine, "r2")
        assert [tuple(x) for x in rows] == [
            (u1, r1, "attributed", None, "property", "p1"),
            (u2, r1, "refused", "already referred", "property", "p1c"),
            (u3, r2, "attributed", None, "campaign", "p2"),
            (u4, u4, "refused", "self-referral", "property", "p4"),
        ]
        e = Event.__table__.c
        referral_events = conn.execute(
            select(e.customer_id, e.message_id).where(e.type == "referral").order_by(e.id)
        ).all()
    assert [tuple(x) for x in referral_events] == [(u1, "referral:p1"), (u3, "referral:p2")]
    with engine.connect() as conn:
        c = customers_t.c
        pulse = dict(conn.execute(select(c.id, c.pulse_returns).where(c.id.in_([u1, u2]))).all())
    assert pulse[u1] > pulse[u2]  # the referral counts as a return on the referrer


def test_report_exact(engine: Engine, settings: Settings) -> None:
    build(engine, settings)
    with engine.connect() as conn:
        got = report.report(conn, settings, report.query(None, None, None, None))
        u1, u2, u3 = (cid(engine, u) for u in ("u1", "u2", "u3"))
        # promoters u1, u2, u4 (u3's last answer is a detractor's, u5 is passive)
        assert got["promoters"] == 3
        assert got["asked"] == 2 and got["ask_rate"] == pytest.approx(2 / 3)
        assert got["asks"] == 5 and got["asked_customers"] == 4
        assert got["referrals"] == 2 and got["conversion"] == pytest.approx(2 / 5)
        assert got["asked_who_referred"] == 2 and got["asked_who_referred_rate"] == 0.5
        assert got["referred_customers"] == 2
        assert got["referred_revenue"] == pytest.approx(30 + 20 + 25 + 40)
        assert got["reviews"] == {"total": 2, "per_platform": {"trustpilot": 1, "unknown": 1}}
        assert got["shares"] == {"total": 1, "per_platform": {"facebook": 1}}
        assert [(a["customer_id"], a["referrals"], a["reviews_and_shares"])
                for a in got["top_advocates"]] == [(u1, 1, 2), (u3, 1, 0), (u2, 0, 1)]  # fmt: skip
        early = report.report(conn, settings, report.query(None, "2026-03-02", None, None))
        # to the end of 2 March: u3 is still a promoter, and nobody was asked yet
        assert (early["promoters"], early["asks"], early["referrals"]) == (4, 0, 0)
        shop = report.report(conn, settings, report.query(None, None, None, "shop"))
        assert (shop["promoters"], shop["ask_rate"], shop["conversion"]) == (0, None, None)
        summary = service.summary(conn, settings, NOW)
    assert summary == {"promoters": 3, "asked": 2, "ask_rate": pytest.approx(2 / 3),
                       "referrals": 2}  # fmt: skip


def test_click_and_bad_filters(engine: Engine, settings: Settings) -> None:
    ingest(engine, [ev("m1", "u1", "page", 0)], now=NOW)
    code = code_of(engine, "u1")
    assert service.record_click(engine, settings, code=code.lower(), now=NOW) == cid(engine, "u1")
    with pytest.raises(NotFound):
        service.record_click(engine, settings, code="ZZZZZZZZ", now=NOW)
    with engine.connect() as conn:
        e = Event.__table__.c
        click = conn.execute(select(e.properties, e.context).where(e.type == "referral_click"))
        assert [tuple(x) for x in click] == [({"code": code}, None)]
    with pytest.raises(Invalid) as caught:
        report.query("yesterday", None, "fax", None)
    assert {e["field"] for e in caught.value.errors} == {"since", "channel"}


def test_erasure_deletes_the_code(engine: Engine, settings: Settings) -> None:
    from hxpulse.audit.service import Who
    from hxpulse.privacy import service as privacy

    ingest(engine, [ev("m1", "u1", "page", 0)], now=NOW)
    code, customer = code_of(engine, "u1"), cid(engine, "u1")
    done = run_write(engine, lambda c: privacy.erase(c, customer, who=Who("system", None, "tests"),
                                                     now=NOW))  # fmt: skip
    assert done["referral_codes"] == 1
    with pytest.raises(NotFound):
        service.record_click(engine, settings, code=code, now=NOW)
