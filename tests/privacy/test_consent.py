"""Consent per purpose: defaults, the email channel, sources, newer answers winning, merges,
and `allows` on a connection or a profile; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM, Who
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.errors import Conflict, Invalid
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.privacy import service
from hxpulse.privacy.consent import allows_consent, email_allowed, view
from tests.conftest import T0

AGENT = Who("user", 7, "user 7 (agent@example.com)", "10.0.0.7")


def identify(mid: str, ident: tuple[str, str], consent: dict[str, object], **kw: object) -> EventIn:
    return EventIn(message_id=mid, kind="identify", type="identify", occurred_at=kw.pop("at", T0),  # type: ignore[arg-type]
                   identities=[ident], traits={"consent": consent}, **kw)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, {"email_marketing": False, "surveys": True, "personalisation": True, "profiling": True}),
        ({"email_marketing": {"status": "granted"}, "surveys": {"status": "denied"}},
         {"email_marketing": True, "surveys": False, "personalisation": True, "profiling": True}),
        ({"personalisation": "opt_out", "profiling": False},
         {"email_marketing": False, "surveys": True, "personalisation": False, "profiling": False}),
        # `email` stands in for email_marketing only while that has no answer of its own
        ({"email": {"status": "granted"}}, {"email_marketing": True, "surveys": True,
                                            "personalisation": True, "profiling": True}),
        ({"email": {"status": "granted"}, "email_marketing": {"status": "denied"}},
         {"email_marketing": False, "surveys": True, "personalisation": True, "profiling": True}),
    ],
)  # fmt: skip
def test_defaults_and_answers(answers: dict[str, object], expected: dict[str, bool]) -> None:
    assert {p: allows_consent(answers, p) for p in expected} == expected
    assert {p: service.allows({"consent": answers}, None, p) for p in expected} == expected


def test_the_email_channel_and_unknown_purposes() -> None:
    assert email_allowed({}) and email_allowed({"email": {"status": "granted"}})
    assert not email_allowed({"email": {"status": "denied"}})
    with pytest.raises(Invalid, match="unknown consent purpose 'sms'"):
        allows_consent({}, "sms")
    shown = view({"sms": {"status": "denied"}, "surveys": {"status": "denied", "via": "agent",
                                                            "source": "user 7", "at": "x"}})  # fmt: skip
    assert [p["purpose"] for p in shown["purposes"]] == [
        "email_marketing", "surveys", "personalisation", "profiling"]  # fmt: skip
    assert shown["other"] == {"sms": {"status": "denied"}}
    assert shown["purposes"][1]["via"] == "agent" and not shown["purposes"][1]["allowed"]


def test_identify_answers_keep_source_and_the_later_answer_wins(engine: Engine) -> None:
    ingest(engine, [identify("new", ("user_id", "c1"), {"surveys": False},
                             at=T0 + timedelta(days=2))])  # fmt: skip
    # an older answer arrives late: it does not overwrite the newer one
    ingest(engine, [identify("old", ("user_id", "c1"), {"surveys": True, "profiling": False},
                             at=T0)])  # fmt: skip
    with engine.connect() as conn:
        cid = queries.find(conn, "c1")
        consent = queries.profile(conn, customer_id=cid)["consent"]
        assert consent["surveys"]["status"] == "denied" and consent["surveys"]["source"] == "new"
        assert consent["surveys"]["via"] == "event"
        assert consent["profiling"]["status"] == "denied"
        assert not service.allows(conn, cid, "surveys")
        assert not service.allows(conn, cid, "profiling")
        assert service.allows(conn, cid, "personalisation")
    # a newer one does
    ingest(engine, [identify("newer", ("user_id", "c1"), {"surveys": "granted"}, source="import",
                             at=T0 + timedelta(days=3))])  # fmt: skip
    with engine.connect() as conn:
        answer = queries.profile(conn, customer_id=cid)["consent"]["surveys"]
        assert (answer["status"], answer["via"], answer["source"]) == ("granted", "import", "newer")


def test_an_event_from_the_future_counts_as_received_now(engine: Engine) -> None:
    ingest(engine, [identify("future", ("user_id", "f1"), {"surveys": True},
                             at=T0 + timedelta(days=400))], now=T0)  # fmt: skip
    later = T0 + timedelta(days=1)
    # a real answer a day later wins: the future date did not make the first one "newer"
    ingest(engine, [identify("real", ("user_id", "f1"), {"surveys": False}, at=later)], now=later)
    with engine.connect() as conn:
        cid = queries.find(conn, "f1")
        assert not service.allows(conn, cid, "surveys")
        assert queries.profile(conn, customer_id=cid)["consent"]["surveys"]["source"] == "real"


def test_set_consent_records_who_and_audits_only_changes(engine: Engine) -> None:
    ingest(engine, [identify("i1", ("email", "ann@example.com"), {"surveys": True})])
    with engine.connect() as conn:
        cid = queries.find(conn, "ann@example.com")
    later = T0 + timedelta(hours=1)
    done = run_write(engine, lambda c: service.set_consent(
        c, cid, {"surveys": "granted", "email_marketing": "granted"}, who=AGENT, now=later))  # fmt: skip
    assert done["changed"] == ["email_marketing"]  # surveys was granted already
    marketing = next(p for p in done["purposes"] if p["purpose"] == "email_marketing")
    assert (marketing["via"], marketing["source"]) == ("agent", AGENT.label)
    assert marketing["allowed"] and marketing["at"] == later.isoformat()
    again = run_write(engine, lambda c: service.set_consent(
        c, cid, {"email_marketing": "granted"}, who=AGENT, now=later))  # fmt: skip
    assert again["changed"] == []
    with engine.connect() as conn:
        entries = audit.entries(conn, action="customer.consent")
        assert service.allows(conn, cid, "email_marketing")
    assert len(entries) == 1
    assert entries[0]["detail"] == {"changes": {"email_marketing": {"from": None, "to": "granted"}},
                                    "via": "agent"}  # fmt: skip
    assert entries[0]["subject_id"] == str(cid) and entries[0]["address"] == "10.0.0.7"
    assert "ann@example.com" not in str(entries[0])


@pytest.mark.parametrize(
    ("changes", "message"),
    [({}, "say which purpose"), ({"sms": "denied"}, "unknown consent purpose"),
     ({"surveys": "maybe"}, "granted or denied")],
)  # fmt: skip
def test_bad_changes_are_refused(engine: Engine, changes: dict[str, str], message: str) -> None:
    ingest(engine, [identify("i1", ("user_id", "b1"), {})])
    with pytest.raises(Invalid, match=message):
        run_write(engine, lambda c: service.set_consent(c, 1, changes, who=AGENT, now=T0))


def test_a_merged_profile_answers_with_its_survivor(engine: Engine) -> None:
    ingest(
        engine,
        [identify("a", ("user_id", "m1"), {}), identify("b", ("email", "m@example.com"), {})],
    )
    ingest(engine, [EventIn(message_id="link", kind="identify", type="identify", occurred_at=T0,
                            identities=[("user_id", "m1"), ("email", "m@example.com")])])  # fmt: skip
    with engine.connect() as conn:
        survivor = queries.find(conn, "m1")
    merged = 2 if survivor == 1 else 1
    run_write(engine, lambda c: service.set_consent(c, merged, {"surveys": "denied"}, who=AGENT,
                                                    now=T0))  # fmt: skip
    with engine.connect() as conn:
        assert not service.allows(conn, survivor, "surveys")
        assert not service.allows(conn, merged, "surveys")
        assert service.allowed(conn, [survivor, merged, 999], "personalisation") == {
            survivor,
            merged,
        }


def test_an_erased_customer_allows_nothing_and_keeps_no_consent_to_change(engine: Engine) -> None:
    ingest(engine, [identify("i1", ("user_id", "gone"), {"email_marketing": True})])
    run_write(engine, lambda c: service.erase(c, 1, who=SYSTEM, now=T0))
    with engine.connect() as conn:
        assert not any(service.allows(conn, 1, p) for p in
                       ("email_marketing", "surveys", "personalisation", "profiling"))  # fmt: skip
    with pytest.raises(Conflict, match="was erased"):
        run_write(engine, lambda c: service.set_consent(c, 1, {"surveys": "granted"}, who=AGENT,
                                                        now=T0))  # fmt: skip
