"""The feed routes through the application (TestClient, no stream read): the token route's
description and answer, CORS for a shop's website, the feed page, and a customer's feed
messages in their export and gone with their erasure; SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from hxpulse.audit.service import Who
from hxpulse.db.engine import run_write
from hxpulse.feeds import service as feeds
from hxpulse.feeds.schemas import FeedTokenRead
from hxpulse.privacy import erasure, export
from hxpulse.privacy.export_schema import CustomerExport
from tests.feeds.helpers import NOW, customer, link
from tests.privacy.helpers import HTML, key, sign_in

SHOP = "https://shop.example.com"


def _publish(engine: Engine, key_: str, **kw: object) -> int:
    return run_write(engine, lambda conn: feeds.publish(conn, key=key_, now=NOW, **kw))  # type: ignore[arg-type]


def test_the_token_route_is_described_and_the_streams_are_not(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/customers/{ref}/feed-token"]["post"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert answer.endswith("/FeedTokenRead") and "400" in operation["responses"]
    listed = schema["paths"]["/api/feed/messages"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["$ref"].endswith("/FeedMessages")
    assert "/api/customers/{ref}/feed" not in schema["paths"] and "/api/feed" not in schema["paths"]


def test_a_token_answer_fits_its_model(client: TestClient, engine: Engine) -> None:
    cid = customer(engine, "ann@example.com")
    answer = client.post("/api/customers/ann@example.com/feed-token", headers=key(engine, "write"))
    assert answer.status_code == 200, answer.text
    issued = FeedTokenRead.model_validate(answer.json())
    assert issued.customer_id == cid
    checked = feeds.check(client.app.state.secret, issued.token, now=datetime.now(UTC))  # type: ignore[attr-defined]
    assert checked.customer_id == cid
    assert issued.url == f"http://127.0.0.1:8000/api/customers/id:{cid}/feed?token={issued.token}"


def test_a_shop_s_website_may_follow_the_feed_from_its_own_origin(client: TestClient) -> None:
    preflight = client.options("/api/customers/id:1/feed", headers={
        "origin": SHOP, "access-control-request-method": "GET",
        "access-control-request-headers": "last-event-id"})  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "Last-Event-ID" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in preflight.headers
    refused = client.get("/api/customers/id:1/feed?token=forged", headers={"origin": SHOP})
    assert refused.status_code == 401  # readable by the page, so it stops retrying
    assert refused.headers["access-control-allow-origin"] == SHOP
    others = client.get("/api/feed/messages", headers={"origin": SHOP})
    assert "access-control-allow-origin" not in others.headers  # the feed path only
    token_route = client.options("/api/customers/id:1/feed-token", headers={
        "origin": SHOP, "access-control-request-method": "POST"})  # fmt: skip
    assert "access-control-allow-origin" not in token_route.headers  # never from a browser


def test_a_bad_last_event_id_is_refused_naming_it(client: TestClient, engine: Engine) -> None:
    cid = customer(engine, "ann@example.com")
    token = feeds.token_for(client.app.state.secret, cid, now=datetime.now(UTC)).token  # type: ignore[attr-defined]
    answer = client.get(f"/api/customers/id:{cid}/feed?token={token}",
                        headers={"last-event-id": "twelve"})  # fmt: skip
    assert answer.status_code == 400 and "Last-Event-ID" in answer.json()["message"]
    answer = client.get(f"/api/customers/id:{cid}/feed?token={token}&last_event_id=-1")
    assert answer.status_code == 422 and "last_event_id" in answer.json()["message"]


def test_the_feed_page_lists_messages_and_follows_the_stream(
    client: TestClient, engine: Engine
) -> None:
    _publish(engine, "k1", scope="team", type="case.opened", data={"title": "Late parcel"})
    _publish(engine, "k2", scope="team", team="billing", type="case.opened", data={"title": "No"})
    sign_in(client, engine, "agent")
    page = client.get("/feed", headers=HTML)
    assert page.status_code == 200
    assert "Late parcel" in page.text and ">No<" not in page.text
    assert '<script src="http://testserver/static/feed.js"></script>' in page.text
    assert 'data-stream="/api/feed"' in page.text and 'href="/feed"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]


def test_feed_messages_are_exported_and_erased(engine: Engine) -> None:
    cid = customer(engine, "ann@example.com")
    other = customer(engine, "bob@example.com")
    _publish(engine, "a", scope="customer", customer_id=cid, type="notification",
             data={"title": "Resolved"})  # fmt: skip
    _publish(engine, "b", scope="customer", customer_id=other, type="notification", data={})
    with engine.connect() as conn:
        doc = export.document(conn, cid, now=NOW)
    CustomerExport.model_validate(doc)
    assert [(m["type"], m["data"]) for m in doc["feed_messages"]] == [
        ("notification", {"title": "Resolved"})
    ]
    who = Who("system", None, "test", None)
    done = run_write(engine, lambda conn: erasure.erase(conn, cid, who=who, now=NOW))
    assert done["feed_messages"] == 1
    with engine.connect() as conn:
        assert feeds.since(conn, scope="customer", customer_id=cid, after=0) == []
        assert len(feeds.since(conn, scope="customer", customer_id=other, after=0)) == 1


def test_an_erased_customer_has_no_feed(client: TestClient, engine: Engine) -> None:
    cid = customer(engine, "ann@example.com")
    token = feeds.token_for(client.app.state.secret, cid, now=datetime.now(UTC)).token  # type: ignore[attr-defined]
    who = Who("system", None, "test", None)
    run_write(engine, lambda conn: erasure.erase(conn, cid, who=who, now=NOW))
    asked = client.post(f"/api/customers/id:{cid}/feed-token", headers=key(engine, "write"))
    assert asked.status_code == 404 and "erased" in asked.json()["message"]
    followed = client.get(f"/api/customers/id:{cid}/feed?token={token}")
    assert followed.status_code == 403 and "erased" in followed.json()["message"]


def _links(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="/customers/([^"]+)">([^<]*)</a>', page)


def test_the_feed_names_each_customer_as_they_are_now(client: TestClient, engine: Engine) -> None:
    chloe = customer(engine, "chloe@example.com", user_id="chloe-1",
                     traits={"name": "Chloe Okafor"})  # fmt: skip
    dan = customer(engine, "dan@example.com", user_id="dan-1", traits={"name": "Dan Ruiz"})
    for n, cid in enumerate([chloe, dan]):
        _publish(engine, f"c{n}", scope="team", type="rule.fired",
                 data={"customer_id": cid, "message": f"at risk {n}"})  # fmt: skip
    _publish(engine, "c2", scope="team", type="case.opened", data={"title": "No one's"})
    sign_in(client, engine, "agent")
    page = client.get("/feed", headers=HTML).text
    assert _links(page) == [(str(dan), "Dan Ruiz"), (str(chloe), "Chloe Okafor")]
    listed = client.get("/api/feed/messages").json()["items"]
    assert [m["data"].get("customer_name") for m in listed] == [None, "Dan Ruiz", "Chloe Okafor"]
    link(engine, ("email", "dan@example.com"), ("user_id", "chloe-1"))  # Dan joins Chloe
    page = client.get("/feed", headers=HTML).text
    # both lead to the survivor, Chloe's older profile, named as it is now (Dan's name, the
    # more recent, won the merge)
    assert _links(page) == [(str(chloe), "Dan Ruiz")] * 2
    who = Who("system", None, "test", None)
    run_write(engine, lambda conn: erasure.erase(conn, chloe, who=who, now=NOW))
    page = client.get("/feed", headers=HTML).text
    assert _links(page) == [(str(chloe), f"Customer {chloe}")] * 2 and "Dan R" not in page
    with engine.connect() as conn:  # the messages themselves never held a name
        stored = feeds.since(conn, scope="team", after=0)
    assert [m["data"].get("customer_name") for m in stored] == [None, None, None]
    assert stored[1]["data"]["customer_id"] == dan


def test_names_are_read_in_one_query_and_only_for_those_who_see_customers(
    engine: Engine,
) -> None:
    ids = [customer(engine, f"p{n}@example.com", traits={"name": f"P {n}"}) for n in range(3)]
    for n, cid in enumerate([*ids, ids[0], 10**12]):
        _publish(engine, f"q{n}", scope="team", type="rule.fired", data={"customer_id": cid})
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with engine.connect() as conn:
        rows = feeds.recent(conn, limit=10)
        event.listen(conn, "before_cursor_execute", count)
        shown = feeds.named(conn, rows, sees_customers=True)
        event.remove(conn, "before_cursor_execute", count)
        hidden = feeds.named(conn, rows, sees_customers=False)
    assert len(statements) == 1, statements
    assert [m["data"].get("customer_name") for m in shown] == [None, "P 0", "P 2", "P 1", "P 0"]
    assert [m["data"] for m in hidden] == [{}] * 5  # no name and no link
    assert rows[0]["data"] == {"customer_id": 10**12}  # the rows read are left as they were
