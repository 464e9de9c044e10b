"""Identity resolution, merges and profile rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import Engine, func, select

from hxpulse.customers import queries
from hxpulse.customers.models import Customer, CustomerMerge, Identity
from hxpulse.events.models import Event
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.conftest import T0


def event(mid: str, *keys: tuple[str, str], minutes: int = 0, **extra: object) -> EventIn:
    return EventIn(message_id=mid, kind="track", type="page_view",
                   occurred_at=T0 + timedelta(minutes=minutes), identities=list(keys),
                   **extra)  # type: ignore[arg-type]  # fmt: skip


def count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_known_identity_lands_on_the_same_customer(engine: Engine) -> None:
    ingest(engine, [event("a1", ("email", "ann@example.com"))])
    ingest(engine, [event("a2", ("email", "ann@example.com"), ("user_id", "42"))])
    result = ingest(engine, [event("a3", ("user_id", "42"))])
    assert result.customers_created == 0
    with engine.connect() as conn:
        cid = queries.find(conn, "ann@example.com")
        assert queries.find(conn, "42") == cid
        assert queries.profile(conn, customer_id=cid)["event_count"] == 3
    assert count(engine, Customer.__table__) == 1


def test_unknown_identity_creates_a_customer(engine: Engine) -> None:
    result = ingest(
        engine, [event("b1", ("anonymous_id", "anon-1")), event("b2", ("user_id", "u9"))]
    )
    assert result.customers_created == 2
    assert result.stored == 2


def test_same_message_id_twice_stores_one_event(engine: Engine) -> None:
    batch = [
        event("c1", ("user_id", "u1")),
        event("c1", ("user_id", "u1")),
        event("c2", ("user_id", "u1")),
    ]
    first = ingest(engine, batch)
    again = ingest(engine, batch)
    assert (first.stored, first.duplicates) == (2, 1)
    assert (again.stored, again.duplicates) == (0, 3)
    assert count(engine, Event.__table__) == 2


def test_identify_connecting_two_customers_merges_them(engine: Engine) -> None:
    ingest(engine, [
        event("d1", ("anonymous_id", "anon-7"), minutes=1),
        event("d2", ("anonymous_id", "anon-7"), minutes=2,
              traits={"plan": "free", "consent": {"email": True}}),
        event("d3", ("user_id", "u7"), minutes=3, traits={"name": "Bea Lund", "plan": "pro"}),
    ])  # fmt: skip
    with engine.connect() as conn:
        anon, known = queries.find(conn, "anon-7"), queries.find(conn, "u7")
    assert anon != known
    ingest(engine, [event("d4", ("user_id", "u7"), ("anonymous_id", "anon-7"), minutes=4,
                          traits={"consent": {"email": "denied"}})])  # fmt: skip
    with engine.connect() as conn:
        survivor = queries.find(conn, "u7")
        assert queries.find(conn, "anon-7") == survivor == min(anon, known)
        loser = max(anon, known)
        assert queries.live_id(conn, loser) == survivor  # old id still leads to the profile
        profile = queries.profile(conn, customer_id=survivor)
    assert profile["event_count"] == 4
    assert {i["value"] for i in profile["identities"]} == {"anon-7", "u7"}
    assert profile["name"] == "Bea Lund"
    assert profile["traits"]["plan"] == "pro"
    assert profile["consent"]["email"]["status"] == "denied"
    assert count(engine, CustomerMerge.__table__) == 1
    assert count(engine, Customer.__table__, Customer.__table__.c.merged_into_id.is_(None)) == 1


def test_merge_keeps_the_more_restrictive_consent_and_its_source(engine: Engine) -> None:
    ingest(engine, [event("e1", ("user_id", "e-a"), traits={"consent": {"sms": False}})])
    ingest(engine, [event("e2", ("email", "e@example.com"), minutes=5,
                          traits={"consent": {"sms": True, "email": True}})])  # fmt: skip
    ingest(engine, [event("e3", ("user_id", "e-a"), ("email", "e@example.com"), minutes=9)])
    with engine.connect() as conn:
        profile = queries.profile(conn, customer_id=queries.find(conn, "e-a"))
    assert profile["consent"]["sms"]["status"] == "denied"
    assert profile["consent"]["sms"]["source"] == "e1"
    assert profile["consent"]["email"]["status"] == "granted"
    assert profile["merged_from"][0]["message_id"] == "e3"


def test_merge_records_the_event_that_caused_it(engine: Engine) -> None:
    ingest(engine, [event("h1", ("user_id", "h-a")), event("h2", ("user_id", "h-b"))])
    ingest(engine, [event("h3", ("user_id", "h-a")), event("h4", ("user_id", "h-b"), ("user_id", "h-a")),
                    event("h5", ("user_id", "h-b"))])  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(select(CustomerMerge.__table__.c.message_id)).scalar_one() == "h4"


def test_merge_snapshot_keeps_the_merged_profile(engine: Engine) -> None:
    ingest(engine, [event("f1", ("user_id", "f-a")), event("f2", ("user_id", "f-b"))])
    ingest(engine, [event("f3", ("user_id", "f-a"), ("user_id", "f-b"))])
    with engine.connect() as conn:
        snapshot = conn.execute(select(CustomerMerge.__table__.c.snapshot)).scalar_one()
    assert snapshot["identities"] == [{"kind": "user_id", "value": "f-b"}]


def test_concurrent_requests_for_a_new_identity_create_one_customer(engine: Engine) -> None:
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            ingest(engine, [event(f"g{n}-{k}", ("email", "new@example.com"), ("user_id", f"g{n}"))
                            for k in range(3)])  # fmt: skip
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(engine, Customer.__table__, Customer.__table__.c.merged_into_id.is_(None)) == 1
    assert count(engine, Identity.__table__) == 9
    assert count(engine, Event.__table__) == 24


def test_concurrent_merging_batches_leave_one_consistent_profile_per_person(engine: Engine) -> None:
    """Eight writers link the same people in different orders; merges must not lose anything."""
    people = 12
    errors: list[BaseException] = []
    expected: Counter[int] = Counter()
    for worker in range(8):
        for round_no in range(4):
            expected.update((p * (worker + 1) + round_no) % people for p in range(people))

    def send(worker: int) -> None:
        try:
            for round_no in range(4):
                batch = []
                for p in range(people):
                    person = (p * (worker + 1) + round_no) % people
                    keys = [
                        ("anonymous_id", f"anon-{person}-{worker % 3}"),
                        ("user_id", f"user-{person}"),
                    ]
                    if (worker + round_no) % 2:
                        keys.reverse()
                    batch.append(event(f"w{worker}-r{round_no}-p{p}", *keys))
                ingest(engine, batch)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    c, e = Customer.__table__.c, Event.__table__.c
    assert count(engine, Customer.__table__, c.merged_into_id.is_(None)) == len(expected)
    assert count(engine, Event.__table__) == 8 * 4 * people
    with engine.connect() as conn:
        on_merged = conn.execute(
            select(func.count())
            .select_from(Event.__table__.join(Customer.__table__, e.customer_id == c.id))
            .where(c.merged_into_id.is_not(None))
        ).scalar_one()
        assert on_merged == 0
        for person in range(people):
            cid = queries.find(conn, f"user-{person}")
            assert {queries.find(conn, f"anon-{person}-{k}") for k in range(3)} == {cid}
            assert queries.profile(conn, customer_id=cid)["event_count"] == expected[person]
