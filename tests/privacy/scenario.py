"""A shop's data with one person to erase (Ann: two profiles merged, purchases, a complaint
and its resolution, survey answers with whys, an emailed invitation) and one who stays (Bob);
the aggregates that erasure must leave exactly as they were; a search for Ann's data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, select

from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.journey import funnel as funnels
from hxpulse.pulse import bands
from hxpulse.surveys import report
from hxpulse.surveys import service as surveys
from tests.surveys.helpers import answer, make_survey

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
EMAIL, USER_ID, ANON, PHONE = "ann.erase@example.com", "u-ann-7", "anon-ann-3", "+14155550142"
NAME, WHY, IP = "Annabel Quist", "Annabel here: the courier lost my parcel", "203.0.113.77"
ANN = (EMAIL, USER_ID, ANON, PHONE, NAME, "Annabel", "courier lost my parcel", IP, "Quist")


def _event(mid: str, kind: str, type_: str, ids: list[tuple[str, str]], day: float,
           **kw: Any) -> EventIn:  # fmt: skip
    return EventIn(message_id=mid, kind=kind, type=type_, occurred_at=T0 + timedelta(days=day),
                   identities=ids, **kw)  # fmt: skip


def load(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Store the shop's data; returns Ann's and Bob's ids and the survey."""
    # the resolution names the later of two complaints, so only a kept `resolves` rebuilds the same
    # her first visit, anonymous: a profile of its own until the alias merges it into hers
    ingest(engine, [
        _event("m1", "page", "page", [("anonymous_id", ANON)], 0, channel="web", name="Welcome Annabel",
               properties={"path": "/hello", "search": EMAIL}, context={"ip": IP}),
    ], now=T0)  # fmt: skip
    ingest(engine, [
        _event("m2", "identify", "identify", [("user_id", USER_ID), ("email", EMAIL), ("phone", PHONE)], 1,
               traits={"name": NAME, "city": "Ghent", "consent": {"email_marketing": True}}),
        _event("m3", "track", "purchase", [("user_id", USER_ID)], 2, channel="store",
               department="sales", value=80.0, currency="EUR", properties={"note": "gift for Quist"}),
        _event("m4a", "track", "complaint", [("user_id", USER_ID)], 2.5, channel="chat",
               department="support", properties={"text": "late again"}),
        _event("m4", "track", "complaint", [("user_id", USER_ID)], 3, channel="phone",
               department="support", properties={"text": WHY}),
        _event("m5", "track", "resolution", [("user_id", USER_ID)], 4, channel="phone",
               department="support", properties={"resolves": "m4", "agent_note": "called Annabel"}),
    ], now=T0 + timedelta(days=4))  # fmt: skip
    ingest(engine, [  # the alias links the two profiles: a merge
        _event("m6", "alias", "alias", [("anonymous_id", ANON), ("user_id", USER_ID)], 5),
        _event("m7", "track", "purchase", [("user_id", USER_ID)], 6, channel="web", value=20.0,
               currency="EUR"),
        _event("b1", "track", "purchase", [("email", "bob.stays@example.com")], 2, channel="web",
               department="sales", value=15.0, currency="EUR"),
        _event("b2", "track", "referral", [("email", "bob.stays@example.com")], 3),
    ], now=T0 + timedelta(days=7))  # fmt: skip
    survey = make_survey(engine, settings, T0, department="support")
    answer(engine, settings, T0 + timedelta(days=8),
           {"survey": survey["name"], "email": EMAIL, "score": 3, "why": WHY,
            "answered_at": (T0 + timedelta(days=8)).isoformat(), "channel": "email"},
           {"survey": survey["name"], "email": "bob.stays@example.com", "score": 10,
            "why": "Great", "answered_at": (T0 + timedelta(days=8)).isoformat()})  # fmt: skip
    with engine.connect() as conn:
        ann, bob = queries.find(conn, EMAIL), queries.find(conn, "bob.stays@example.com")
    run_write(engine, lambda conn: surveys.invite(conn, survey, [ann, bob], settings=settings.surveys,
                                                  now=T0 + timedelta(days=9), via="email"))  # fmt: skip
    return {"ann": ann, "bob": bob, "survey": survey}


def aggregates(conn: Connection, settings: Settings, survey: dict[str, Any]) -> dict[str, Any]:
    """Every anonymous figure the product reports, as of NOW."""
    nps = report.report(conn, settings.live, kind="nps", by="department", now=NOW)
    listed = [
        {k: s[k] for k in ("name", "invited", "answered_invitations", "responses")}
        for s in surveys.list_surveys(conn)
    ]
    funnel = funnels.funnel(conn, settings.live, now=NOW)
    counts = [
        tuple(r) for r in conn.execute(select(surveys.counts_t).order_by(*surveys.counts_t.c))
    ]
    return {"nps": nps, "surveys": listed, "funnel": funnel, "counts": counts,
            "bands": bands.counts(conn, settings.live, NOW),
            "at_risk": [(r["customer_id"], round(r["pulse"], 9)) for r in
                        bands.at_risk_list(conn, settings.live, NOW, limit=10)["items"]]}  # fmt: skip


def leftovers(conn: Connection, needles: tuple[str, ...] = ANN) -> list[str]:
    """Every cell of every table that still holds one of Ann's values."""
    meta = MetaData()
    meta.reflect(conn)
    found = []
    for table in meta.sorted_tables:
        for row in conn.execute(select(table)):
            for column, value in row._mapping.items():
                text = str(value).lower()
                for needle in needles:
                    if needle.lower() in text:
                        found.append(f"{table.name}.{column}: {needle}")
    return found
