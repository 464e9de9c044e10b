"""Tombstones: keyed hashes, one lookup per batch, and every way in drops what names an erased
identity (service, group commit, survey answers), counting it as erased."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text

from hxpulse.audit.service import SYSTEM
from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.customers import service as customers
from hxpulse.customers.service import customers_t, identities_t
from hxpulse.db import raw
from hxpulse.db.engine import RetryTransaction, run_write
from hxpulse.events.group import GroupCommit, _Request
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.privacy import service, tombstones
from hxpulse.privacy.models import IdentityTombstone
from tests.conftest import T0
from tests.surveys.helpers import answer, make_survey


def ev(mid: str, *ids: tuple[str, str], kind: str = "track", type_: str = "page_view") -> EventIn:
    return EventIn(message_id=mid, kind=kind, type=type_, occurred_at=T0, identities=list(ids))


def _erase_first(engine: Engine) -> None:
    ingest(engine, [ev("a1", ("email", "gone@example.com"), ("user_id", "g-1"))])

    def work(conn: Any) -> None:
        service.erase(conn, queries.find(conn, "gone@example.com"), who=SYSTEM, now=T0)

    run_write(engine, work)


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [b"", b"short", b"k" * 64, b"long" * 40])
def test_the_fast_hmac_is_hmac(key: bytes) -> None:
    keyed = tombstones.Keyed(key)
    for kind, value in (("email", "a@x.io"), ("user_id", "Ünïcode-42"), ("phone", "+1")):
        assert keyed(kind, value) == tombstones.digest(key, kind, value)
        assert (
            keyed(kind, value) == hmac.new(key, f"{kind}\x00{value}".encode(), "sha256").hexdigest()
        )


def test_the_digest_is_keyed_and_stores_no_value(engine: Engine) -> None:
    assert tombstones.digest(b"k1", "email", "a@x.io") != tombstones.digest(
        b"k2", "email", "a@x.io"
    )
    assert tombstones.digest(b"k1", "email", "a@x.io") != tombstones.digest(
        b"k1", "user_id", "a@x.io"
    )
    _erase_first(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(IdentityTombstone.__table__)).all()
        key = conn.execute(text("SELECT value FROM meta WHERE key = 'tombstone_key'")).scalar_one()
        secret = conn.execute(text("SELECT value FROM meta WHERE key = 'secret_key'")).scalar()
    assert sorted(r.kind for r in rows) == ["email", "user_id"]
    assert all(len(r.digest) == 64 and "gone" not in r.digest for r in rows)
    assert tombstones.digest(key.encode(), "email", "gone@example.com") in {r.digest for r in rows}
    assert key != secret  # its own key: rotating the session secret keeps the tombstones working


def test_events_naming_an_erased_identity_are_dropped_and_counted(engine: Engine) -> None:
    _erase_first(engine)
    result = ingest(engine, [
        ev("b1", ("email", "gone@example.com")),                      # the erased email
        ev("b2", ("anonymous_id", "new-device"), ("user_id", "g-1")),  # with a new identity
        ev("b3", ("previous_id", "g-1"), ("user_id", "other"), kind="alias"),  # an alias of it
        ev("b4", ("email", "someone.else@example.com")),               # someone else: stored
        ev("b4", ("email", "someone.else@example.com")),               # a duplicate
    ])  # fmt: skip
    assert (result.stored, result.erased, result.duplicates) == (1, 3, 1)
    assert result.erased_message_ids == {"b1", "b2", "b3"}
    with engine.connect() as conn:
        values = set(conn.execute(select(identities_t.c.value)).scalars())
        live = conn.execute(select(func.count()).select_from(customers_t)).scalar_one()
    assert values == {"someone.else@example.com"}  # the new device was not linked to anyone
    assert live == 2  # the erased shell and the new person
    again = ingest(engine, [ev("b1", ("email", "gone@example.com"))])
    assert (again.stored, again.erased) == (0, 1)  # an SDK's retry: still dropped, not an error


def test_one_lookup_per_batch_and_none_before_any_erasure(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[int] = []
    real = raw.select_in

    def counting(conn: Any, sql: str, values: Any) -> Any:
        if "identity_tombstones" in sql:
            lookups.append(len(values))
        return real(conn, sql, values)

    monkeypatch.setattr(raw, "select_in", counting)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    batch = [ev(f"c{i}", ("user_id", f"u{i}"), ("email", f"u{i}@example.com")) for i in range(50)]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        ingest(engine, batch)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert lookups == []  # no one erased yet: only the key is looked for, once
    assert len([s for s in statements if "FROM meta" in s]) == 1
    _erase_first(engine)
    lookups.clear()
    ingest(engine, [ev(f"d{i}", ("user_id", f"u{i}"), ("email", f"u{i}@example.com"))
                    for i in range(50)] * 2)  # fmt: skip
    assert lookups == []  # returning customers: their identities are stored, so not erased
    ingest(engine, [ev(f"e{i}", ("user_id", f"u{i}"), ("anonymous_id", f"new-{i % 30}"))
                    for i in range(50)])  # fmt: skip
    assert lookups == [30]  # one statement for the batch's new identities


def test_the_group_commit_gives_each_request_its_erased_count(
    engine: Engine, settings: Settings
) -> None:
    _erase_first(engine)
    committer = GroupCommit(engine, live=settings.live)
    group = [_Request([ev("e1", ("user_id", "g-1")), ev("e2", ("user_id", "fine"))]),
             _Request([ev("e3", ("email", "gone@example.com"))])]  # fmt: skip
    committer._write(group)  # noqa: SLF001
    first, second = (r.result for r in group)
    assert first is not None and second is not None
    assert (first.stored, first.erased, first.duplicates) == (1, 1, 0)
    assert (second.stored, second.erased, second.duplicates) == (0, 1, 0)


def test_survey_answers_of_an_erased_person_are_not_recorded(
    engine: Engine, settings: Settings
) -> None:
    survey = make_survey(engine, settings, T0)
    _erase_first(engine)
    later = T0 + timedelta(days=1)
    recorded = answer(engine, settings, later, {"survey": survey["name"], "email": "gone@example.com",
                                                "score": 2, "why": "x", "answered_at": later.isoformat()})  # fmt: skip
    assert recorded.stored == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey_responses")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM survey_score_counts")).scalar_one() == 0


def test_a_batch_that_raced_an_erasure_is_retried(engine: Engine) -> None:
    """On PostgreSQL a batch that resolved the customer before the erasure committed finds
    it erased after its insert (or when locking it for a merge), and is retried; the retry
    then drops it. SQLite serialises writers, so no batch can race there."""
    _erase_first(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            customers.verify_live(conn, [1])
            return
        with pytest.raises(RetryTransaction, match="erased"):
            customers.verify_live(conn, [1])
    with engine.begin() as conn, pytest.raises(RetryTransaction, match="erased"):
        customers.lock_for_merge(conn, [1])
