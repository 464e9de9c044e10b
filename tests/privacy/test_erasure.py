"""Erasure: personal data goes everywhere it was (merged profiles too), the aggregates stay
exact, a pulse rebuild gives the same sums, the identities are tombstoned, and the audit
entry has counts, not data; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from hxpulse.audit import service as audit
from hxpulse.audit.service import Who
from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.customers.service import customers_t, merges_t
from hxpulse.db.engine import run_write
from hxpulse.errors import NotFound
from hxpulse.events.service import events_t
from hxpulse.privacy import service, tombstones
from hxpulse.pulse.rebuild import rebuild
from hxpulse.surveys.service import invitations_t, responses_t
from tests.privacy import scenario
from tests.privacy.scenario import ANON, EMAIL, NOW, USER_ID

ADMIN = Who("user", 1, "user 1 (admin@example.com)", "10.0.0.1")
PULSE = ("pulse_key", "pulse_investments", "pulse_returns", "open_negatives", "last_return_at",
         "stage", "stage_at", "detractor")  # fmt: skip


def _pulse_row(engine: Engine, customer_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(select(customers_t).where(customers_t.c.id == customer_id)).one()
    return {k: getattr(row, k) for k in PULSE}


def test_erasure_removes_personal_data_and_keeps_the_aggregates(
    engine: Engine, settings: Settings
) -> None:
    data = scenario.load(engine, settings)
    ann = data["ann"]
    with engine.connect() as conn:
        before = scenario.aggregates(conn, settings, data["survey"])
        assert len(scenario.leftovers(conn)) > 10  # the search finds Ann's data while it is there
        merged = [r.id for r in conn.execute(select(customers_t.c.id).where(
            customers_t.c.merged_into_id == ann))]  # fmt: skip
        assert len(merged) == 1  # the anonymous profile merged into her account
        preview = service.preview(conn, ann)
    assert preview == {"customer_id": ann, "identities": 4, "events": 10, "survey_answers": 1,
                       "survey_invitations": 1, "merged_profiles": 1, "model_rows": 0,
                       "text_model_dropped": False}  # no fitted model: nothing to drop  # fmt: skip
    pulse_before = _pulse_row(engine, ann)

    done = run_write(engine, lambda conn: service.erase(conn, merged[0], who=ADMIN, now=NOW))

    assert done["customer_id"] == ann  # a merged id erases the survivor and all it merged
    assert {k: done[k] for k in ("identities", "tombstones", "merged_profiles", "events",
                                 "survey_answers", "survey_invitations", "merge_snapshots")} == {
        "identities": 4, "tombstones": 4, "merged_profiles": 1, "events": 10, "survey_answers": 1,
        "survey_invitations": 1, "merge_snapshots": 1}  # fmt: skip
    with engine.connect() as conn:
        assert scenario.leftovers(conn) == []
        assert scenario.aggregates(conn, settings, data["survey"]) == before
        shells = conn.execute(select(customers_t).where(customers_t.c.id.in_([ann, *merged])))
        for row in shells:
            assert row.name is None and row.traits == {} and row.preferences == {}
            assert row.erased_at is not None
        events = conn.execute(select(events_t.c.type, events_t.c.value, events_t.c.properties,
                                     events_t.c.context, events_t.c.name)
                              .where(events_t.c.customer_id == ann)
                              .order_by(events_t.c.occurred_at)).all()  # fmt: skip
        assert [(e.type, e.value) for e in events][:4] == [
            ("page", None),
            ("identify", None),
            ("purchase", 80.0),
            ("complaint", None),
        ]
        kept = {e.type: e.properties for e in events if e.properties}
        assert kept == {"resolution": {"resolves": "m4"}}  # what the pulse reads, nothing else
        assert all(e.context is None and e.name is None for e in events)
        answers = conn.execute(select(responses_t.c.score, responses_t.c.why,
                                      responses_t.c.sentiment)
                               .where(responses_t.c.customer_id == ann)).all()  # fmt: skip
        assert [tuple(a) for a in answers] == [(3, None, None)]  # the why's sentiment goes too
        invitation = conn.execute(select(invitations_t).where(
            invitations_t.c.customer_id == ann)).one()  # fmt: skip
        assert invitation.email is None and invitation.expires_at <= NOW
        assert conn.execute(select(merges_t.c.snapshot)).scalars().all() == [{}]
        for kind, value in (("email", EMAIL), ("user_id", USER_ID), ("anonymous_id", ANON)):
            assert tombstones.is_erased(conn, kind, value)
        assert not tombstones.is_erased(conn, "email", "bob.stays@example.com")
        entry = audit.entries(conn, action="customer.erase")[0]
        bob = queries.profile(conn, customer_id=data["bob"])
    assert entry["subject_id"] == str(ann) and entry["detail"]["identities"] == 4
    assert entry["actor_label"] == ADMIN.label and entry["address"] == "10.0.0.1"
    assert bob["identities"][0]["value"] == "bob.stays@example.com" and bob["events"]
    assert _pulse_row(engine, ann) == pulse_before

    # a rebuild from the log gives the same pulse and stage: the resolution still names the
    # complaint it resolves
    rebuild(engine, settings.live, now=NOW)
    rebuilt = _pulse_row(engine, ann)
    assert rebuilt == {k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v
                       for k, v in pulse_before.items()}  # fmt: skip


def test_erasing_twice_changes_nothing_more(engine: Engine, settings: Settings) -> None:
    data = scenario.load(engine, settings)
    first = run_write(engine, lambda conn: service.erase(conn, data["ann"], who=ADMIN, now=NOW))
    later = NOW.replace(year=NOW.year + 1)
    again = run_write(engine, lambda conn: service.erase(conn, data["ann"], who=ADMIN, now=later))
    assert again["identities"] == 0 and again["tombstones"] == 0
    with engine.connect() as conn:
        erased_at = conn.execute(select(customers_t.c.erased_at).where(
            customers_t.c.id == data["ann"])).scalar_one()  # fmt: skip
        assert erased_at == first["erased_at"]  # the first erasure's moment stays
        assert len(audit.entries(conn, action="customer.erase")) == 2


def test_an_erased_customer_is_found_only_by_internal_id(
    engine: Engine, settings: Settings
) -> None:
    data = scenario.load(engine, settings)
    run_write(engine, lambda conn: service.erase(conn, data["ann"], who=ADMIN, now=NOW))
    with engine.connect() as conn:
        assert queries.find(conn, f"id:{data['ann']}") == data["ann"]
        try:
            queries.find(conn, EMAIL)
        except NotFound as exc:
            assert EMAIL in exc.message  # the caller's own reference, not stored data
        else:
            raise AssertionError("an erased email still finds the customer")
