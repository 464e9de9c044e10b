"""Rule-based invitations: after each trigger event (only events after the rule was set), and
recurring relationship surveys staggered over their period; the fatigue guard still applies."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.segments import service as segments
from hxpulse.surveys import sending, service
from tests.conftest import T0
from tests.surveys.helpers import make_survey

SECRET = "x" * 40


def purchase(n: int, who: str, days: int, department: str = "Sales") -> EventIn:
    return EventIn(
        message_id=f"p{n}",
        kind="track",
        type="purchase",
        department=department,
        occurred_at=T0 + timedelta(days=days),
        identities=[("email", who)],
        value=20.0,
    )


def test_after_purchase_invites_buyers_once(engine: Engine, settings: Settings) -> None:
    ingest(engine, [purchase(0, "old@example.com", 0)], now=T0)
    make_survey(
        engine, settings, T0, name="After purchase", trigger_event="purchase", department="Sales"
    )
    ingest(
        engine,
        [
            purchase(1, "ann@example.com", 1),
            purchase(2, "bob@example.com", 1),
            purchase(3, "ann@example.com", 1),
            purchase(4, "cy@example.com", 1, "Store"),
        ],
        now=T0 + timedelta(days=1),
    )
    got = sending.run_due(engine, settings, SECRET, now=T0 + timedelta(days=1))
    result = got["After purchase"]
    assert len(result.invited) == 2 and result.skipped == []
    emails = {i.link.rsplit("/", 1)[0] for i in result.invited}
    assert emails == {f"{settings.public_url}/s"}
    with engine.connect() as conn:
        invited = set(
            conn.execute(
                text(
                    "SELECT i.value FROM survey_invitations s JOIN identities i ON i.customer_id = s.customer_id"
                )
            ).scalars()
        )
    assert invited == {"ann@example.com", "bob@example.com"}  # not the earlier buyer, not Store
    assert sending.run_due(engine, settings, SECRET, now=T0 + timedelta(days=1)) == {}
    ingest(engine, [purchase(5, "ann@example.com", 3)], now=T0 + timedelta(days=3))
    again = sending.run_due(engine, settings, SECRET, now=T0 + timedelta(days=3))["After purchase"]
    assert again.invited == [] and "at most once per 30 days" in again.skipped[0]["reason"]


def test_a_recurring_survey_spreads_its_segment_over_the_period(
    engine: Engine, settings: Settings
) -> None:
    ingest(engine, [purchase(n, f"c{n}@example.com", 0) for n in range(40)], now=T0)
    with engine.begin() as conn:
        seg = segments.create(
            conn,
            settings.live,
            name="Buyers",
            description=None,
            definition={"event": {"type": "purchase"}},
            now=T0,
        )
    make_survey(engine, settings, T0, name="Relationship NPS", segment_id=seg["id"], every_days=10)
    per_day = []
    everyone: set[int] = set()
    for day in range(10):
        moment = T0 + timedelta(days=day)
        got = sending.run_due(engine, settings, SECRET, now=moment)
        ids = [i.customer_id for i in got["Relationship NPS"].invited] if got else []
        per_day.append(len(ids))
        everyone |= set(ids)
    assert len(everyone) == 40  # each member once over the period
    assert max(per_day) - min(per_day) <= 1  # and evenly spread: 4 a day
    with engine.connect() as conn:
        survey = service.find(conn, "Relationship NPS")
    ids = run_write(
        engine, lambda conn: sending.due(conn, settings, survey, T0 + timedelta(days=10))
    )
    assert len(ids) == 4  # the next period starts over
