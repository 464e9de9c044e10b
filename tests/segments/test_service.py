"""Every condition kind against hand-made customers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from hxpulse.config import Live
from hxpulse.customers.service import customers_t, identities_t
from hxpulse.errors import Conflict, Invalid, NotFound
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse.service import model
from hxpulse.segments import service

LIVE = Live()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def ev(mid: str, who: str, kind: str, at: datetime, channel: str = "web", **extra: Any) -> EventIn:
    return EventIn(message_id=mid, kind="track", type=kind, occurred_at=at, channel=channel,
                   identities=[("user_id", who)], **extra)  # fmt: skip


def ident(mid: str, who: str, traits: dict[str, Any], *more: tuple[str, str]) -> EventIn:
    return EventIn(message_id=mid, kind="identify", type="identify", occurred_at=NOW - 400 * DAY,
                   identities=[("user_id", who), *more], traits=traits)  # fmt: skip


PEOPLE = ("ann", "bob", "cy", "dee")


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """Four customers with traits, consent, identities, events and profile fields set by hand."""
    ingest(engine, [
        ident("i1", "ann", {"name": "Ann Lee", "plan": "gold", "age": 41, "tags": ["vip", "beta"],
                            "address": {"city": "Lyon"}, "newsletter": True,
                            "consent": {"email_marketing": True}}, ("email", "ann@example.com")),
        ident("i2", "bob", {"name": "Bob Ray", "plan": "silver", "age": "41", "tags": "vip list",
                            "newsletter": False, "consent": {"email_marketing": "opt_out"}},
              ("email", "bob@other.org"), ("phone", "+33612345678")),
        ident("i3", "cy", {"plan": "gold", "age": 19.5}),
        ident("i4", "dee", {"name": "=cmd 100% off"}),
        # ann: two app purchases in the last 90 days, one web purchase before, support 3 days ago
        ev("a1", "ann", "purchase", NOW - 10 * DAY, "app", value=30.0),
        ev("a2", "ann", "purchase", NOW - 80 * DAY, "app", value=80.0),
        ev("a3", "ann", "purchase", NOW - 100 * DAY, "web", value=5.0),
        ev("a4", "ann", "support_contact", NOW - 3 * DAY, "phone", department="support"),
        # bob: one app purchase exactly 90 days ago (inside) and one a second earlier (outside)
        ev("b1", "bob", "purchase", NOW - 90 * DAY, "app", value=10.0),
        ev("b2", "bob", "purchase", NOW - 90 * DAY - timedelta(seconds=1), "app", value=10.0),
        ev("b3", "bob", "support_contact", NOW - 7 * DAY - timedelta(seconds=1), "chat",
           department="support"),
        ev("c1", "cy", "page_view", NOW - 1 * DAY, "web"),
    ], now=NOW)  # fmt: skip
    with engine.begin() as conn:
        rows = conn.execute(
            select(identities_t.c.value, identities_t.c.customer_id).where(
                identities_t.c.kind == "user_id"
            )
        )
        ids = {value: cid for value, cid in rows}
        law = model(LIVE.pulse)
        fields = {
            "ann": dict(stage="repeat_customer", pulse=45.0, open_negatives=0, detractor=False,
                        last_return_at=NOW - 10 * DAY, created_at=NOW - 400 * DAY),
            "bob": dict(stage="customer", pulse=12.0, open_negatives=2, detractor=False,
                        last_return_at=NOW - 200 * DAY, created_at=NOW - 300 * DAY),
            "cy": dict(stage="lead", pulse=5.0, open_negatives=0, detractor=True,
                       last_return_at=None, created_at=NOW - 20 * DAY),
            "dee": dict(stage="prospect", pulse=0.5, open_negatives=0, detractor=False,
                        last_return_at=None, created_at=NOW - 5 * DAY),
        }  # fmt: skip
        for who, values in fields.items():
            key = law.key_threshold(values.pop("pulse"), NOW)
            conn.execute(
                update(customers_t)
                .where(customers_t.c.id == ids[who])
                .values(pulse_key=key, **values)
            )
    return ids


def who(engine: Engine, people: dict[str, int], definition: Any) -> set[str]:
    names = {cid: name for name, cid in people.items()}
    with engine.connect() as conn:
        found = service.members(conn, LIVE, definition, NOW, limit=100)
        total = service.count(conn, LIVE, definition, NOW)
    assert total == len(found)
    return {names[m["id"]] for m in found}


def f(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


CASES: list[tuple[str, Any, set[str]]] = [
    ("stage eq", f("stage", "eq", "customer"), {"bob"}),
    ("stage ne", f("stage", "ne", "customer"), {"ann", "cy", "dee"}),
    ("stage in", f("stage", "in", ["lead", "prospect"]), {"cy", "dee"}),
    ("stage gte (journey order)", f("stage", "gte", "customer"), {"ann", "bob"}),
    ("stage lt", f("stage", "lt", "lead"), {"dee"}),
    ("band thriving (a quarter of one healthy customer: nobody)", f("band", "eq", "thriving"),
     set()),
    ("band steady", f("band", "eq", "steady"), {"ann"}),
    ("band in", f("band", "in", ["lapsed", "warm"]), {"bob", "cy", "dee"}),
    ("band ne", f("band", "ne", "warm"), {"ann", "bob"}),
    ("pulse lt", f("pulse", "lt", 12), {"cy", "dee"}),
    ("pulse gte", f("pulse", "gte", 5), {"ann", "bob", "cy"}),
    ("open negatives", f("open_negatives", "gt", 0), {"bob"}),
    ("detractor", f("detractor", "eq", True), {"cy"}),
    ("at risk overlay (bob's negatives: but lapsed; cy a lead)", f("at_risk", "eq", True),
     set()),
    ("not at risk", f("at_risk", "eq", False), {"ann", "bob", "cy", "dee"}),
    ("lapsed (180 days without a return)", f("lapsed", "eq", True), {"bob"}),
    ("created in the last 30 days", f("created_at", "gte", {"days_ago": 30}), {"cy", "dee"}),
    ("created before a date", f("created_at", "lt", "2025-09-01"), {"ann", "bob"}),
    ("never returned", f("last_return_at", "exists", False), {"cy", "dee"}),
    ("name contains (case, %)", f("name", "contains", "0% OFF"), {"dee"}),
    ("name eq", f("name", "eq", "Ann Lee"), {"ann"}),
    ("name ne keeps missing names", f("name", "ne", "Ann Lee"), {"bob", "cy", "dee"}),
    ("name exists", f("name", "exists"), {"ann", "bob", "dee"}),
    ("trait eq text", {"trait": "plan", "op": "eq", "value": "gold"}, {"ann", "cy"}),
    ("trait eq number is not text", {"trait": "age", "op": "eq", "value": 41}, {"ann"}),
    ("trait eq text is not number", {"trait": "age", "op": "eq", "value": "41"}, {"bob"}),
    ("trait numeric gt", {"trait": "age", "op": "gt", "value": 19}, {"ann", "cy"}),
    ("trait numeric lte", {"trait": "age", "op": "lte", "value": 19.5}, {"cy"}),
    ("trait bool", {"trait": "newsletter", "op": "eq", "value": False}, {"bob"}),
    ("trait nested", {"trait": "address.city", "op": "eq", "value": "Lyon"}, {"ann"}),
    ("trait in", {"trait": "plan", "op": "in", "value": ["silver", "bronze"]}, {"bob"}),
    ("trait ne", {"trait": "plan", "op": "ne", "value": "gold"}, {"bob", "dee"}),
    ("trait contains: array or text", {"trait": "tags", "op": "contains", "value": "vip"},
     {"ann", "bob"}),
    ("trait exists", {"trait": "tags", "op": "exists"}, {"ann", "bob"}),
    ("trait missing", {"trait": "tags", "op": "exists", "value": False}, {"cy", "dee"}),
    ("consent granted", {"consent": "email_marketing", "status": "granted"}, {"ann"}),
    ("consent denied", {"consent": "email_marketing", "status": "denied"}, {"bob"}),
    ("consent unknown", {"consent": "email_marketing", "status": "unknown"}, {"cy", "dee"}),
    ("identity exists", {"identity": "phone"}, {"bob"}),
    ("identity missing", {"identity": "email", "op": "exists", "value": False}, {"cy", "dee"}),
    ("identity eq (normalised)", {"identity": "email", "op": "eq", "value": " ANN@example.com"},
     {"ann"}),
    ("identity ends_with", {"identity": "email", "op": "ends_with", "value": "@OTHER.org"}, {"bob"}),
    ("bought twice in 90 days via the app",
     {"event": {"type": "purchase", "channel": "app", "within_days": 90, "min_count": 2}}, {"ann"}),
    ("90-day window includes its first instant",
     {"event": {"type": "purchase", "within_days": 90}}, {"ann", "bob"}),
    ("bought at most once in 90 days (none counts)",
     {"event": {"type": "purchase", "within_days": 90, "min_count": 0, "max_count": 1}},
     {"bob", "cy", "dee"}),
    ("no purchase ever", {"event": {"type": "purchase", "min_count": 0, "max_count": 0}},
     {"cy", "dee"}),
    ("exactly two purchases ever", {"event": {"type": "purchase", "min_count": 2, "max_count": 2}},
     {"bob"}),
    ("support in the last 7 days (department)",
     {"event": {"department": "support", "within_days": 7}}, {"ann"}),
    ("any event in the last 2 days", {"event": {"within_days": 2}}, {"cy"}),
    ("several types and channels",
     {"event": {"type": ["page_view", "support_contact"], "channel": ["web", "chat"]}},
     {"bob", "cy"}),
    ("purchase worth at least 50", {"event": {"type": "purchase", "min_value": 50}}, {"ann"}),
    ("spent at least 100 in total", {"event": {"type": "purchase", "min_total": 100}}, {"ann"}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "definition", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_condition(
    engine: Engine, people: dict[str, int], case: str, definition: Any, expected: set[str]
) -> None:
    assert who(engine, people, definition) == expected, case
    # a NOT is the exact complement, whatever NULLs the condition meets
    assert who(engine, people, {"not": definition}) == set(PEOPLE) - expected, case


def test_and_or_not_nest(engine: Engine, people: dict[str, int]) -> None:
    gold = {"trait": "plan", "op": "eq", "value": "gold"}
    app_twice = {"event": {"type": "purchase", "channel": "app", "within_days": 90, "min_count": 2}}
    assert who(engine, people, {"all": [gold, {"not": app_twice}]}) == {"cy"}
    assert who(engine, people, {"any": [app_twice, f("stage", "eq", "customer")]}) == {"ann", "bob"}
    nested = {"all": [{"any": [gold, {"identity": "phone"}]}, {"not": f("detractor", "eq", True)}]}
    assert who(engine, people, nested) == {"ann", "bob"}


def test_support_in_7_days_and_customer(engine: Engine, people: dict[str, int]) -> None:
    support = {"event": {"type": "support_contact", "within_days": 7}}
    assert who(engine, people, support) == {"ann"}  # bob's was a second too early
    assert who(engine, people, {"all": [support, f("stage", "gte", "customer")]}) == {"ann"}
    assert who(engine, people, {"all": [support, f("stage", "eq", "customer")]}) == set()


def test_windows_move_with_now(engine: Engine, people: dict[str, int]) -> None:
    window = {"event": {"type": "purchase", "within_days": 90, "channel": "app"}}
    with engine.connect() as conn:
        assert service.count(conn, LIVE, window, NOW) == 2
        assert service.count(conn, LIVE, window, NOW + timedelta(seconds=1)) == 1
        assert service.count(conn, LIVE, window, NOW + 81 * DAY) == 0
        # the bands move with time: ann (last return 10 days ago) is at risk 80 days later
        steady = f("band", "eq", "steady")
        assert service.count(conn, LIVE, steady, NOW) == 1
        assert service.count(conn, LIVE, steady, NOW + 81 * DAY) == 0
        assert service.count(conn, LIVE, f("band", "eq", "at-risk"), NOW + 81 * DAY) == 1


def test_merged_customers_are_not_members(engine: Engine, people: dict[str, int]) -> None:
    ingest(engine, [EventIn(message_id="m1", kind="alias", type="alias", occurred_at=NOW,
                            identities=[("user_id", "dee"), ("user_id", "cy")])], now=NOW)  # fmt: skip
    with engine.connect() as conn:
        assert service.count(conn, LIVE, {"trait": "plan", "op": "exists"}, NOW) == 3
        everyone = {"event": {"min_count": 0, "max_count": 1_000_000}}
        assert service.count(conn, LIVE, everyone, NOW) == 3


def test_members_page_and_csv(engine: Engine, people: dict[str, int]) -> None:
    with engine.connect() as conn:
        first = service.members(conn, LIVE, f("pulse", "gte", 0), NOW, limit=2)
        rest = service.members(conn, LIVE, f("pulse", "gte", 0), NOW, limit=2, offset=2)
    assert [m["id"] for m in first + rest] == sorted(people.values())
    ann = next(m for m in first if m["id"] == people["ann"])
    assert ann["email"] == "ann@example.com" and ann["stage"] == "repeat_customer"
    assert ann["pulse"] == pytest.approx(45.0) and ann["band"] == "steady"
    text = b"".join(service.export_csv(engine, LIVE, f("pulse", "gte", 0), NOW, chunk=1)).decode()
    lines = text.splitlines()
    assert lines[0] == "id,name,email,phone,stage,pulse,band,created_at"
    assert len(lines) == 5
    assert f"{people['bob']},Bob Ray,bob@other.org,+33612345678,customer,12.000,lapsed," in text
    assert f"{people['dee']},'=cmd 100% off,,,prospect," in text  # no formula for spreadsheets


def test_crud(engine: Engine, people: dict[str, int]) -> None:
    definition = {"all": [f("stage", "gte", "customer")]}
    with engine.begin() as conn:
        made = service.create(conn, LIVE, name=" Buyers ", definition=definition, now=NOW)
    assert made["name"] == "Buyers" and made["definition"] == definition
    with engine.begin() as conn, pytest.raises(Conflict):
        service.create(conn, LIVE, name="buyers", definition=definition)
    with engine.begin() as conn:
        other = service.create(conn, LIVE, name="Gold", definition=f("band", "eq", "steady"))
        listed = service.list_segments(conn, LIVE, NOW)
        assert [(s["name"], s["count"]) for s in listed] == [("Buyers", 2), ("Gold", 1)]
        assert service.find(conn, "GOLD")["id"] == other["id"]
        assert service.find(conn, str(other["id"]))["name"] == "Gold"
        with pytest.raises(Conflict):
            service.update(conn, LIVE, other["id"], name="Buyers", definition=definition)
        changed = service.update(conn, LIVE, other["id"], name="Gold 2", description="d",
                                 definition=f("band", "eq", "lapsed"))  # fmt: skip
        assert changed["description"] == "d" and changed["definition"]["value"] == "lapsed"
        service.remove(conn, made["id"])
        with pytest.raises(NotFound):
            service.get(conn, made["id"])
        with pytest.raises(NotFound):
            service.find(conn, "nobody")


def test_is_member(engine: Engine, people: dict[str, int]) -> None:
    with engine.connect() as conn:
        assert service.is_member(conn, LIVE, f("stage", "eq", "lead"), people["cy"], NOW)
        assert not service.is_member(conn, LIVE, f("stage", "eq", "lead"), people["ann"], NOW)


BAD: list[tuple[Any, str, str]] = [
    ({"all": [f("stage", "eq", "customer"), f("pulse", "eq", 3)]}, "definition.all[1].op", "lt, lte"),
    ({"all": [f("stage", "eq", "vip")]}, "definition.all[0].value", "unknown stage 'vip'"),
    ({"any": [{"not": f("band", "in", ["hot"])}]}, "definition.any[0].not.value", "unknown band"),
    ({"field": "ltv", "op": "gt", "value": 3}, "definition.field", "stage"),
    ({"event": {"type": "purchase", "channel": "fax"}}, "definition.event.channel", "unknown channel"),
    ({"event": {"type": "purchase", "min_count": 0}}, "definition.event", "max_count"),
    ({"event": {"type": "purchase", "within_days": -1}}, "definition.event.within_days", "greater than"),
    ({"event": {"type": "purchase", "since": 3}}, "definition.event.since", "Extra"),
    ({"trait": "a..b", "op": "eq", "value": 1}, "definition.trait", "dots"),
    ({"trait": "age", "op": "gt", "value": True}, "definition.value", "number"),
    ({"consent": "email", "status": "maybe"}, "definition.status", "granted"),
    ({"identity": "fax", "op": "exists"}, "definition.identity", "email"),
    ({"all": []}, "definition.all", "at least 1"),
    ({"all": [{"field": "stage", "trait": "x"}]}, "definition.all[0]", "exactly one of"),
    ([], "definition", "exactly one of"),
    ({"field": "stage", "op": "eq"}, "definition.value", "a value is required"),
    ({"trait": "age", "op": "gt"}, "definition.value", "a value is required"),
    ({"identity": "email", "op": "ends_with"}, "definition.value", "a value is required"),
    ({"field": "created_at", "op": "gt", "value": "yesterday"}, "definition.value", "ISO 8601"),
]  # fmt: skip


@pytest.mark.parametrize(("definition", "where", "says"), BAD)
def test_validation_names_the_place(engine: Engine, definition: Any, where: str, says: str) -> None:
    with engine.connect() as conn, pytest.raises(Invalid) as caught:
        service.count(conn, LIVE, definition, NOW)
    places = {e["field"]: e["message"] for e in caught.value.errors}
    assert where in places, places
    assert says in places[where]
    assert where in caught.value.message


def test_too_deep_is_refused() -> None:
    deep: Any = f("stage", "eq", "lead")
    for _ in range(10):
        deep = {"not": deep}
    from hxpulse.segments.schemas import parse

    with pytest.raises(Invalid, match="too large"):
        parse(deep, LIVE)
