"""A small world whose dashboard figures are worked out by hand (see EXPECTED's comments).

NOW is Friday 2026-03-20 12:00 UTC: the 90-day window is 2025-12-21 to 2026-03-20, the window
before it 2025-09-22 to 2025-12-20, the movers' week from 2026-03-13 12:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from hxpulse.advocacy import service as advocacy
from hxpulse.audit.service import SYSTEM
from hxpulse.cases import service as cases
from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.surveys.helpers import answer, make_survey

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ev(mid: str, who: str, kind: str, when: str, value: float | None = None,
       **props: Any) -> EventIn:  # fmt: skip
    return EventIn(message_id=mid, kind="track", type=kind, occurred_at=at(when),
                   identities=[("email", f"{who}@example.com")], channel="web", value=value,
                   properties=props)  # fmt: skip


def cid(engine: Engine, who: str) -> int:
    with engine.connect() as conn:
        return queries.find(conn, f"{who}@example.com")


def build(engine: Engine, settings: Settings) -> dict[str, int]:
    """The world; returns each person's customer id."""
    live = settings.live
    named = EventIn(message_id="ann-id", kind="identify", type="identify",
                    occurred_at=at("2025-01-01T10:00"), identities=[("email", "ann@example.com")],
                    traits={"name": "Ann <b>Example</b>"})  # fmt: skip
    ingest(engine, [
        named,
        ev("ann-p0", "ann", "purchase", "2025-01-01T10:00", 999.0),  # over 365 days ago
        ev("ann-p1", "ann", "purchase", "2026-03-10T10:00", 100.0),
        *[ev(f"{w}-p", w, "purchase", "2026-03-01T10:00", 50.0)
          for w in ("bob", "fay", "gus", "hal", "ivy", "jon", "kim")],
        ev("cat-p", "cat", "purchase", "2025-06-01T00:00", 40.0),  # decayed to ~1.7: at risk
        ev("dan-p", "dan", "purchase", "2026-03-05T10:00", 20.0),
        ev("dan-c", "dan", "complaint", "2026-03-18T10:00"),  # an open negative: at risk
        ev("eve-v", "eve", "page_view", "2026-03-19T10:00"),  # pulse 0.2: at risk
    ], now=NOW, live=live)  # fmt: skip
    make_survey(engine, settings, at("2025-01-01T00:00"))

    def nps(who: str, score: int, when: str, why: str | None = None) -> dict[str, Any]:
        row = {"survey": "Relationship NPS", "score": score, "answered_at": when,
               "email": f"{who}@example.com"}  # fmt: skip
        return row | ({"why": why} if why else {})

    answer(engine, settings, NOW,
           nps("bob", 10, "2026-03-02T10:00Z", "Great service"), nps("fay", 9, "2026-03-02T11:00Z"),
           nps("gus", 9, "2026-03-02T12:00Z"),
           nps("ann", 3, "2026-03-16T09:00Z", "Parcel late again"),
           nps("ivy", 7, "2026-03-16T12:00Z", "Fine"),
           nps("hal", 6, "2026-03-16T15:00Z", "Too expensive"),
           nps("jon", 9, "2025-11-03T10:00Z"), nps("kim", 2, "2025-11-03T11:00Z", "Never again"),
           nps("lee", 0, "2025-06-02T10:00Z", "Old complaint"),
           nps("mia", 1, "2025-05-01T10:00Z", "Older complaint"),
           nps("ned", 4, "2025-04-01T10:00Z", "Oldest complaint"))  # fmt: skip
    ids = {w: cid(engine, w) for w in ("ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal",
                                       "ivy", "jon", "kim", "lee", "mia", "ned")}  # fmt: skip

    def asks(conn: Connection) -> str:
        for who, when in (("bob", "2026-03-05T10:00"), ("ivy", "2026-03-06T10:00")):
            advocacy.record_ask(conn, settings, customer_id=ids[who], channel="email",
                                by="tests", now=at(when))  # fmt: skip
        return advocacy.code_for(conn, customer_id=ids["bob"], now=NOW)

    code = run_write(engine, asks)
    ingest(engine, [ev("zed-p", "zed", "purchase", "2026-03-08T10:00", 30.0, referral_code=code)],
           now=NOW, live=live)  # fmt: skip
    ids["zed"] = cid(engine, "zed")
    run_write(engine, lambda conn: _cases(conn, settings, ids))
    return ids


def _cases(conn: Connection, settings: Settings, ids: dict[str, int]) -> None:
    """Normal priority, no team (24/7): first response in 4 h, resolution in 24 h."""

    def case(who: str, key: str, opened: str) -> int:
        made, _ = cases.create(conn, settings, customer_id=ids[who], reason=f"Case {key}",
                               source_key=key, now=at(opened))  # fmt: skip
        return int(made["id"])

    def reply(case_id: int, when: str) -> None:
        cases.reply(conn, settings, case_id=case_id, body="On it", who=SYSTEM, now=at(when))

    def status(case_id: int, to: str, when: str) -> None:
        cases.set_status(conn, settings, case_id=case_id, status=to, who=SYSTEM, now=at(when))

    old = case("bob", "c0", "2025-12-01T10:00")  # opened before the window: not in the SLA
    reply(old, "2025-12-01T11:00")
    status(old, "resolved", "2025-12-01T12:00")
    met = case("bob", "c1", "2026-03-01T10:00")  # both targets met
    reply(met, "2026-03-01T11:00")
    status(met, "resolved", "2026-03-01T20:00")
    missed = case("fay", "c2", "2026-03-05T10:00")  # both missed: 6 h, then 48 h
    reply(missed, "2026-03-05T16:00")
    status(missed, "resolved", "2026-03-07T10:00")
    case("gus", "c3", "2026-03-20T10:00")  # open, both clocks running: nothing decided
    case("jon", "c4", "2026-03-18T09:00")  # open, both targets overdue: late
    waiting = case("dan", "c5", "2026-03-19T08:00")  # waiting on the customer: paused
    status(waiting, "waiting", "2026-03-19T09:00")
