"""The actions the rules domain delivers itself (survey invitations, investments), the decay
job as the dispatcher runs it, and the default rules on a real survey answer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from hxpulse.config import Settings
from hxpulse.events.models import Event
from hxpulse.handlers import HANDLERS, JOBS
from hxpulse.ingest import ingest
from hxpulse.outbox.dispatch import Context, Delivery
from hxpulse.pulse import service as pulse
from hxpulse.surveys.models import Invitation
from tests.rules.helpers import T, customer, event, fired, outbox
from tests.surveys.helpers import answer, make_survey


def _delivery(kind: str, key: str, customer_id: int, payload: dict[str, object]) -> Delivery:
    return Delivery(id=1, key=key, kind=kind, customer_id=customer_id, cause="m1",
                    payload=payload, attempt=1, created_at=T)  # fmt: skip


def test_a_survey_invitation_keeps_the_fatigue_guard(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T)
    ingest(engine, [event("m1", "u1", "page_view")], now=T)
    cid = customer(engine, "u1")
    handler, context = HANDLERS["survey.invite"], Context(engine, settings, T)
    first = handler(context, _delivery("survey.invite", "k1", cid, {"survey": "Relationship NPS"}))
    again = handler(context, _delivery("survey.invite", "k2", cid, {"survey": "Relationship NPS"}))
    assert first.ok and first.response.startswith("invited")
    assert again.ok and "not invited" in again.response  # the guard said no: done, no retry
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Invitation)).scalar_one() == 1
    missing = handler(context, _delivery("survey.invite", "k3", cid, {"survey": "Nope"}))
    assert not missing.ok and missing.final


def test_an_investment_counts_in_the_pulse_once(engine: Engine, settings: Settings) -> None:
    ingest(engine, [event("m1", "u1", "page_view")], now=T)
    cid = customer(engine, "u1")
    with engine.connect() as conn:
        before = pulse.explain(conn, settings.live, customer_id=cid, now=T)["investments"]
    delivery = _delivery(
        "investment",
        "rule:care:0:1:m1",
        cid,
        {"type": "personal_outreach", "name": "care", "properties": {}},
    )
    handler, context = HANDLERS["investment"], Context(engine, settings, T)
    assert handler(context, delivery).response == "recorded"
    assert handler(context, delivery).response == "already recorded"
    with engine.connect() as conn:
        after = pulse.explain(conn, settings.live, customer_id=cid, now=T)["investments"]
        stored = conn.execute(select(Event.message_id).where(Event.type == "personal_outreach"))
        assert [r[0] for r in stored] == ["investment:rule:care:0:1:m1"]
    assert after == before + 3  # personal_outreach weighs 3


def test_the_decay_job_runs_with_the_dispatchers_clock(database_url: str, engine: Engine) -> None:
    settings = Settings(
        database_url=database_url,
        rules=[
            {"name": "fading", "trigger": {"pulse_below": 5.0}, "actions": [{"webhook": "ops"}]}
        ],
    )
    ingest(engine, [event("p1", "u1", "purchase", value=50.0)], now=T, live=settings.live)
    _, seconds, job = next(j for j in JOBS if j[0] == "rules.decay")
    assert seconds <= 60
    for days in (0, 90, 225, 226):
        job(Context(engine, settings, T + timedelta(days=days)))
    assert [(f["rule"], f["trigger_kind"]) for f in fired(engine)] == [("fading", "pulse")]


def test_a_detractor_answer_opens_a_case_by_default(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T)
    answer(engine, settings, T, {"survey": "Relationship NPS", "score": 3, "email": "a@ex.com",
                                 "answered_at": T.isoformat(), "why": "slow"},
           {"survey": "Relationship NPS", "score": 10, "email": "b@ex.com",
            "answered_at": T.isoformat()})  # fmt: skip
    rows = outbox(engine)
    # the detractor gets a case; the promoter the default ask (advocacy): an email and its record
    assert [r["kind"] for r in rows] == ["case.open", "email", "investment"]
    assert rows[1]["payload"]["template"] == "referral_ask"
    assert rows[2]["payload"]["type"] == "referral_ask"
    assert rows[0]["payload"]["reason"] == "Detractor answer"
    assert rows[0]["payload"]["source_event"].endswith(":detractor")
