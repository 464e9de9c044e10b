"""The customer list: the total matching, filters by text and stage, the four sorts, pages that
keep the filters, and 400s naming each bad parameter; through the service, the page and
`GET /api/customers`, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.customers import listing
from hxpulse.errors import Invalid
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.customers.test_last_seen import add_unseen
from tests.customers.test_pages import sign_in

NOW = datetime.now(UTC).replace(microsecond=0)
STAGES = ["prospect", "lead", "qualified_lead", "customer", "repeat_customer", "advocate"]


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def event(mid: str, kind: str, type_: str, days: float, ident: tuple[str, str],
          **more: Any) -> EventIn:  # fmt: skip
    return EventIn(message_id=mid, kind=kind, type=type_, occurred_at=ago(days),
                   identities=[ident], **more)  # fmt: skip


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """Four customers, ingested in an order (ids) that is not the order they were created in
    (`created_at` is the ingest's `now`): Bea a lead, ann a customer, a nameless prospect, Cy a
    repeat customer; each last seen on another day."""
    bea, ann = ("email", "bea@example.com"), ("email", "ann@shop.test")
    nameless, cy = ("user_id", "u-3"), ("email", "cy@example.com")
    ingest(engine, [event("b1", "identify", "identify", 10, bea, traits={"name": "Bea Brown"})],
           now=ago(2))  # fmt: skip
    ingest(engine, [event("a1", "identify", "identify", 20, ann, traits={"name": "ann archer"}),
                    event("a2", "track", "purchase", 1, ann, value=30.0)], now=ago(1.5))  # fmt: skip
    ingest(engine, [event("n1", "page", "page_view", 5, nameless)], now=ago(1))
    ingest(engine, [event("c1", "identify", "identify", 30, cy, traits={"name": "Cy Cole"}),
                    event("c2", "track", "purchase", 20, cy, value=10.0),
                    event("c3", "track", "purchase", 3, cy, value=90.0)], now=ago(3))  # fmt: skip
    with engine.connect() as conn:
        found = listing.search(conn, listing.ListQuery(sort="created"))
    return {item["name"] or "nameless": item["id"] for item in found["items"]}


def names(found: dict[str, Any]) -> list[str | None]:
    return [item["name"] for item in found["items"]]


def test_each_sort_orders_every_customer(engine: Engine, people: dict[str, int]) -> None:
    expected = {
        "name": ["ann archer", "Bea Brown", "Cy Cole", None],  # no name: last either way
        "-name": ["Cy Cole", "Bea Brown", "ann archer", None],
        "created": ["Cy Cole", "Bea Brown", "ann archer", None],
        "-created": [None, "ann archer", "Bea Brown", "Cy Cole"],
        "last_activity": ["Bea Brown", None, "Cy Cole", "ann archer"],
        "-last_activity": ["ann archer", "Cy Cole", None, "Bea Brown"],
    }
    with engine.connect() as conn:
        for sort, wanted in expected.items():
            assert names(listing.search(conn, listing.ListQuery(sort=sort))) == wanted, sort
        keys = {}
        for sort in ("pulse", "-pulse"):
            items = listing.search(conn, listing.ListQuery(sort=sort))["items"]
            keys[sort] = [item["pulse_key"] for item in items]
    assert len(set(keys["pulse"])) == 4  # four different pulses, so the order means something
    assert keys["pulse"] == sorted(keys["pulse"]) and keys["-pulse"] == keys["pulse"][::-1]
    assert people["Cy Cole"] > people["nameless"]  # ingested last, created first: not id order


def test_last_activity_after_late_and_early_events_a_merge_and_customers_never_seen(
    engine: Engine, people: dict[str, int]
) -> None:
    """Every page, both ways: customers by the latest moment of their events, the id breaking
    ties, then those without events by id."""
    ann, bea = ("email", "ann@shop.test"), ("email", "bea@example.com")
    cy = ("email", "cy@example.com")
    ingest(engine, [event("a3", "track", "purchase", 40, ann, value=5.0)], now=NOW)  # late
    ingest(engine, [event("b2", "page", "page_view", -0.5, bea)], now=NOW)  # ahead, in the day
    # one event naming Cy and the nameless one: merged, the survivor last seen 3 days ago
    both = EventIn(message_id="m1", kind="identify", type="identify", occurred_at=ago(60),
                   identities=[cy, ("user_id", "u-3")])  # fmt: skip
    ingest(engine, [both], now=NOW)
    with engine.begin() as conn:
        add_unseen(conn, NOW)
        add_unseen(conn, NOW)
    survivor = min(people["Cy Cole"], people["nameless"])
    unseen = sorted(set(everyone(engine)) - {people["ann archer"], people["Bea Brown"], survivor})
    assert len(unseen) == 2
    latest = [people["Bea Brown"], people["ann archer"], survivor]
    expected = {"-last_activity": latest + unseen[::-1], "last_activity": latest[::-1] + unseen}
    for sort, wanted in expected.items():
        for size in range(1, 6):
            pages = [everyone(engine, sort=sort, per_page=size, page=n) for n in range(1, 7)]
            assert [cid for page in pages for cid in page] == wanted, (sort, size)
    with engine.connect() as conn:
        items = listing.search(conn, listing.ListQuery(sort="-last_activity"))["items"]
    assert [(i["name"], i["last_seen_at"], i["event_count"]) for i in items] == [
        ("Bea Brown", ago(-0.5), 2), ("ann archer", ago(1), 3), ("Cy Cole", ago(3), 5),
        (None, None, 0), (None, None, 0)]  # fmt: skip


def everyone(engine: Engine, **wanted: Any) -> list[int]:
    with engine.connect() as conn:
        return [item["id"] for item in listing.search(conn, listing.ListQuery(**wanted))["items"]]


def test_filters_count_every_match_and_pages_split_them(
    engine: Engine, people: dict[str, int]
) -> None:
    def search(**wanted: Any) -> dict[str, Any]:
        with engine.connect() as conn:
            return listing.search(conn, listing.ListQuery(**wanted))

    everyone = search()
    assert everyone["total"] == 4 and everyone["pages"] == 1 and not everyone["has_next"]
    by_domain = search(q="EXAMPLE.com", sort="name")
    assert names(by_domain) == ["Bea Brown", "Cy Cole"] and by_domain["total"] == 2
    assert names(search(q="ann")) == ["ann archer"]  # the name and the email both match
    assert search(q="%")["total"] == 0 and search(q="u_3")["total"] == 0  # no wildcards
    assert names(search(q="u-3")) == [None]
    leads = search(stage="lead")
    assert names(leads) == ["Bea Brown"] and leads["total"] == 1 and leads["stage"] == "lead"
    assert names(search(stage="repeat_customer", q="cy@")) == ["Cy Cole"]
    assert search(stage="advocate")["total"] == 0

    pages = [search(sort="name", per_page=3, page=n) for n in (1, 2, 3)]
    assert [names(p) for p in pages] == [["ann archer", "Bea Brown", "Cy Cole"], [None], []]
    assert [p["has_next"] for p in pages] == [True, False, False]
    assert {(p["total"], p["pages"]) for p in pages} == {(4, 2)}


def test_parse_names_every_bad_parameter() -> None:
    query = listing.parse(stages=STAGES, q=" ann ", stage="lead", sort="-pulse", page="2",
                          per_page="50")  # fmt: skip
    assert query == listing.ListQuery(q="ann", stage="lead", sort="-pulse", page=2, per_page=50)
    assert listing.parse(stages=STAGES, stage="", sort="", page=" ") == listing.ListQuery()
    with pytest.raises(Invalid) as bad:
        listing.parse(stages=STAGES, q="x" * 321, stage="vip", sort="age", page="0",
                      per_page="201")  # fmt: skip
    fields = [e["field"] for e in bad.value.errors]
    assert fields == ["q", "stage", "sort", "page", "per_page"]
    assert "x" * 321 not in bad.value.message  # never echoed
    for page in ("abc", "-1", "1.5", "²", "100001", "9" * 30):
        with pytest.raises(Invalid) as bad:
            listing.parse(stages=STAGES, page=page)
        assert bad.value.errors == [{"field": "page", "message": "a whole number from 1 to 100000"}]


def test_the_api_filters_sorts_and_refuses_bad_values(
    client: TestClient, api_key: str, people: dict[str, int]
) -> None:
    bearer = {"Authorization": f"Bearer {api_key}"}
    got = client.get("/api/customers", params={"q": "example.com", "sort": "-last_activity",
                                                "per_page": "1"}, headers=bearer)  # fmt: skip
    assert got.status_code == 200, got.text
    body = got.json()
    assert [i["name"] for i in body["items"]] == ["Cy Cole"]
    assert (body["total"], body["pages"], body["has_next"]) == (2, 2, True)
    assert (body["q"], body["stage"], body["sort"]) == ("example.com", None, "-last_activity")
    second = client.get("/api/customers", params={"q": "example.com", "sort": "-last_activity",
                                                   "per_page": 1, "page": 2}, headers=bearer).json()  # fmt: skip
    assert [i["name"] for i in second["items"]] == ["Bea Brown"] and not second["has_next"]
    everybody = client.get("/api/customers", params={"sort": "last_activity"}, headers=bearer)
    seen = [(i["name"], i["last_seen_at"]) for i in everybody.json()["items"]]
    assert seen == [(name, ago(days).isoformat().replace("+00:00", "Z")) for name, days in
                    [("Bea Brown", 10), (None, 5), ("Cy Cole", 3), ("ann archer", 1)]]  # fmt: skip
    profile = client.get(f"/api/customers/id:{people['Cy Cole']}", headers=bearer).json()
    assert profile["last_seen_at"] == seen[2][1]
    assert client.get("/api/customers", params={"stage": "customer"},
                      headers=bearer).json()["total"] == 1  # fmt: skip
    for params, field in [({"sort": "pulse;drop"}, "sort"), ({"stage": "vip"}, "stage"),
                          ({"page": "abc"}, "page"), ({"page": "0"}, "page"),
                          ({"per_page": "201"}, "per_page"), ({"q": "a" * 400}, "q")]:  # fmt: skip
        refused = client.get("/api/customers", params=params, headers=bearer)
        assert refused.status_code == 400, (params, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == [field], params
        assert refused.json()["message"].startswith(f"{field}: ")


def test_the_page_shows_the_total_and_links_keep_the_filters(
    client: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    sign_in(client, engine)
    whole = client.get("/customers")
    assert whole.status_code == 200
    assert re.search(r'id="total"><strong>4</strong> customers</p>', whole.text)
    assert 'data-label="Customer"' in whole.text and 'data-label="Last seen"' in whole.text

    found = client.get("/customers", params={"q": "example.com", "sort": "name", "per_page": 1})
    assert re.search(r'id="total"><strong>2</strong> customers match “example.com”', found.text)
    assert "Bea Brown" in found.text and "Cy Cole" not in found.text
    assert "Page 1 of 2" in found.text
    following = link(found.text, 'rel="next"')
    assert following == {"q": ["example.com"], "sort": ["name"], "page": ["2"], "per_page": ["1"]}
    second = client.get("/customers", params={k: v[0] for k, v in following.items()})
    assert "Cy Cole" in second.text and "Bea Brown" not in second.text
    assert link(second.text, 'rel="prev"') == {"q": ["example.com"], "sort": ["name"],
                                               "per_page": ["1"]}  # fmt: skip
    # the column headers sort, keeping the filters and going back to the first page
    assert link(second.text, 'data-sort="name"') == {"q": ["example.com"], "sort": ["-name"],
                                                     "per_page": ["1"]}  # fmt: skip
    assert link(second.text, 'data-sort="pulse"')["sort"] == ["pulse"]
    assert 'aria-sort="ascending"' in second.text

    lead = client.get("/customers", params={"stage": "lead"})
    assert re.search(r"<strong>1</strong> customer matches at stage lead", lead.text)
    assert '<option value="lead" selected>' in lead.text
    past = client.get("/customers", params={"page": 7})
    assert past.status_code == 200 and 'id="past-the-end"' in past.text

    for params, field in [({"sort": "age"}, "sort"), ({"stage": "vip"}, "stage"),
                          ({"page": "x"}, "page"), ({"per_page": "0"}, "per_page")]:  # fmt: skip
        refused = client.get("/customers", params=params, headers={"accept": "text/html"})
        assert refused.status_code == 400, params
        assert f"{field}: " in html.unescape(refused.text), params


def link(text: str, marker: str) -> dict[str, list[str]]:
    """The query of the link in `text` whose tag holds `marker`."""
    tags = [tag for tag in re.findall(r"<a [^>]*>", text) if marker in tag]
    assert len(tags) == 1, (marker, tags)
    href = re.search(r'href="([^"]*)"', tags[0])
    assert href is not None
    return parse_qs(urlsplit(html.unescape(href.group(1))).query)
