"""The offers routes: the catalogue, the report, a customer's offers and answers; who may do
what; bad input is a 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from hxpulse.auth import service as auth
from hxpulse.customers.models import Customer
from hxpulse.events.models import Event
from hxpulse.offers import fitting
from hxpulse.offers.models import Exposure
from tests.auth.helpers import person, sign_in
from tests.offers.helpers import customers

OFFER = {"key": "shoes", "name": "Running shoes", "kind": "product", "item": "sku-shoes",
         "value": 80.0, "cost": 5.0, "eligibility": {"bands": ["thriving", "steady"]}}  # fmt: skip


def _key(engine: Engine, *scopes: str) -> dict[str, str]:
    with engine.begin() as conn:
        return {
            "authorization": f"Bearer {auth.create_key(conn, name='k', scopes=list(scopes))[1]}"
        }


def test_the_catalogue_round_trip(client: TestClient, engine: Engine) -> None:
    admin = _key(engine, "admin")
    made = client.post("/api/offers", json=OFFER, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["eligibility"]["bands"] == ["thriving", "steady"]
    assert made.json()["eligibility"]["exclude_bought"] is True  # the defaults filled in
    again = client.post("/api/offers", json=OFFER, headers=admin)
    assert again.status_code == 409 and "key" in again.text
    changed = client.patch("/api/offers/shoes", json={"value": 90, "description": "Light."},
                           headers=admin)  # fmt: skip
    assert changed.status_code == 200 and changed.json()["value"] == 90
    assert changed.json()["name"] == "Running shoes"  # untouched
    off = client.post("/api/offers/shoes/deactivate", headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    listed = client.get("/api/offers", params={"active": "false"}, headers=admin).json()
    assert [o["key"] for o in listed] == ["shoes"]
    assert client.get("/api/offers", params={"active": "true"}, headers=admin).json() == []
    assert client.get("/api/offers/nope", headers=admin).status_code == 404


def test_bad_offers_are_refused_with_the_field(client: TestClient, engine: Engine) -> None:
    admin = _key(engine, "admin")
    for change, field in (({"kind": "gift"}, "kind"), ({"key": "Bad Key"}, "key"),
                          ({"eligibility": {"bands": ["gold"]}}, "bands"),
                          ({"eligibility": {"colour": "red"}}, "colour"),
                          ({"cost": -1}, "cost"), ({"value": "lots"}, "value"),
                          ({"valid_from": "2026-05-02T00:00:00Z",
                            "valid_until": "2026-05-01T00:00:00Z"}, "valid_until"),
                          ({"valid_from": "2026-05-02T00:00:00"}, "valid_from"),
                          ({"name": ""}, "name"), ({"surprise": 1}, "surprise")):  # fmt: skip
        answer = client.post("/api/offers", json={**OFFER, **change}, headers=admin)
        assert answer.status_code == 422, (change, answer.text)
        assert field in answer.text, (change, answer.text)
    assert client.post("/api/offers", json=[OFFER], headers=admin).status_code == 422
    client.post("/api/offers", json={**OFFER, "valid_from": "2026-05-02T00:00:00Z"},
                headers=admin)  # fmt: skip
    early = client.patch("/api/offers/shoes", json={"valid_until": "2026-05-01T00:00:00Z"},
                         headers=admin)  # fmt: skip
    assert early.status_code == 400 and "valid_until" in early.text
    assert client.patch("/api/offers/shoes", json={"active": "maybe"},
                        headers=admin).status_code == 422  # fmt: skip
    assert client.patch("/api/offers/BAD%20KEY", json={}, headers=admin).status_code == 422
    for change, field in (({"name": None}, "name"), ({"eligibility": None}, "eligibility"),
                          ({"valid_until": "0001-01-01T00:00:00+05:00"}, "valid_until")):  # fmt: skip
        answer = client.patch("/api/offers/shoes", json=change, headers=admin)
        assert answer.status_code == 422 and field in answer.text, (change, answer.text)
    cleared = client.patch("/api/offers/shoes", json={"item": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json()["item"] is None


def _seed(client: TestClient, engine: Engine, settings: Any) -> dict[int, str]:
    admin = _key(engine, "admin")
    for offer in (OFFER, {"key": "guide", "name": "Marathon guide", "kind": "content"}):
        assert client.post("/api/offers", json=offer, headers=admin).status_code == 201
    return customers(engine, settings, 3, datetime.now(UTC))


def test_serving_logs_exposures_and_answers_close_them(
    client: TestClient, engine: Engine, settings: Any
) -> None:
    _seed(client, engine, settings)
    serve = _key(engine, "write")
    got = client.get("/api/customers/c0@example.com/offers", params={"context": "purchase"},
                     headers=serve)  # fmt: skip
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["context"] == "purchase" and body["arm"] in ("model", "holdout")
    assert {o["key"] for o in body["offers"]} == {"shoes", "guide"}
    for o in body["offers"]:
        assert set(o) >= {"key", "name", "score", "reason", "arm", "exposure_id"}
        assert o["reason"] and o["exposure_id"] is not None and o["arm"] == body["arm"]
    x, e, c = Exposure.__table__.c, Event.__table__.c, Customer.__table__.c
    with engine.connect() as conn:
        assert conn.execute(select(x.id).where(x.customer_id == body["customer_id"])).all()
        shown = conn.execute(select(e.properties).where(e.type == "offer_shown")).scalars().all()
        before = conn.execute(select(c.pulse_investments, c.pulse_returns)
                              .where(c.id == body["customer_id"])).one()  # fmt: skip
    assert sorted(p["offer"] for p in shown) == ["guide", "shoes"]
    assert before.pulse_investments == 2.0  # two offer_shown investments of weight 1
    look = client.get("/api/customers/c0@example.com/offers", params={"record": "false"},
                      headers=serve).json()  # fmt: skip
    assert all(o["exposure_id"] is None for o in look["offers"])
    shoes = next(o for o in body["offers"] if o["key"] == "shoes")
    answered = client.post(
        "/api/customers/c0@example.com/offers/responses",
        headers=serve,
        json={"response": "accepted", "exposure_id": shoes["exposure_id"]},
    )
    assert answered.status_code == 201, answered.text
    assert answered.json() == {"customer_id": body["customer_id"],
                               "exposure_id": shoes["exposure_id"], "offer": "shoes",
                               "response": "accepted", "revenue": 80.0}  # fmt: skip
    declined = client.post(
        "/api/customers/c0@example.com/offers/responses",
        headers=serve,
        json={"response": "declined", "offer": "guide"},
    ).json()
    assert (declined["offer"], declined["response"]) == ("guide", "declined")
    with engine.connect() as conn:
        after = conn.execute(select(c.pulse_returns).where(c.id == body["customer_id"])).scalar()
    assert after > before.pulse_returns  # accepting is a return
    report = client.get("/api/offers/report", headers=_key(engine, "read")).json()
    arm = report["overall"][body["arm"]]
    assert (arm["shown"], arm["accepted"], arm["declined"], arm["revenue"]) == (2, 1, 1, 80.0)


def test_serving_bad_input(client: TestClient, engine: Engine, settings: Any) -> None:
    _seed(client, engine, settings)
    serve = _key(engine, "write")
    url = "/api/customers/c0@example.com/offers"
    assert client.get("/api/customers/nobody@example.com/offers", headers=serve).status_code == 404
    for params in ({"n": 0}, {"n": 21}, {"context": "x" * 201}, {"record": "perhaps"}):
        answer = client.get(url, params=params, headers=serve)
        assert answer.status_code == 422, (params, answer.text)
        assert next(iter(params)) in answer.text
    for body, field in (({"response": "maybe"}, "response"), ({}, "response"),
                        ({"response": "accepted", "exposure_id": 0}, "exposure_id"),
                        ({"response": "accepted", "revenue": -5}, "revenue"),
                        ({"response": "accepted", "extra": 1}, "extra")):  # fmt: skip
        answer = client.post(f"{url}/responses", json=body, headers=serve)
        assert answer.status_code == 422 and field in answer.text, (body, answer.text)
    other = client.get("/api/customers/c1@example.com/offers", headers=serve).json()
    theirs = other["offers"][0]["exposure_id"]
    stolen = client.post(f"{url}/responses", headers=serve,
                         json={"response": "accepted", "exposure_id": theirs})  # fmt: skip
    assert stolen.status_code == 404 and "exposure_id" in stolen.text
    unknown = client.post(f"{url}/responses", headers=serve,
                          json={"response": "accepted", "offer": "nope"})  # fmt: skip
    assert unknown.status_code == 404


def test_who_may_do_what(client: TestClient, engine: Engine, settings: Any) -> None:
    _seed(client, engine, settings)
    url = "/api/customers/c0@example.com/offers"
    read, write = _key(engine, "read"), _key(engine, "write")
    assert client.get("/api/offers", headers=read).status_code == 200
    assert client.get(url, headers=read).status_code == 403  # serving writes exposures
    assert client.get(url, headers=write).status_code == 200
    assert client.post("/api/offers", json={**OFFER, "key": "w"}, headers=write).status_code == 403
    assert client.get("/api/offers").status_code == 401
    for role, catalogue, serving, change in (("admin", 200, 200, 201), ("analyst", 200, 200, 201),
                                              ("agent", 403, 200, 403)):  # fmt: skip
        person(engine, f"{role}@example.com", role)
        token = sign_in(client, f"{role}@example.com")
        headers = {"x-csrf-token": token}
        assert client.get("/api/offers/report", headers=headers).status_code == catalogue, role
        assert client.get("/offers", headers={"accept": "text/html"}).status_code == catalogue
        assert client.get(url, headers=headers).status_code == serving, role
        made = client.post("/api/offers", json={**OFFER, "key": f"by-{role}"}, headers=headers)
        assert made.status_code == change, (role, made.text)
        client.cookies.clear()


def test_the_offers_page(client: TestClient, engine: Engine, settings: Any) -> None:
    _seed(client, engine, settings)
    client.get("/api/customers/c0@example.com/offers", headers=_key(engine, "write"))
    person(engine, "ana@example.com", "analyst")
    token = sign_in(client, "ana@example.com")
    html = {"accept": "text/html"}
    page = client.get("/offers", headers=html)
    assert page.status_code == 200
    assert 'href="/offers"' in page.text and "Running shoes" in page.text
    assert 'id="offers-chart-data"' in page.text and "<style" not in page.text
    assert "No model fitted yet" in page.text
    fitting.fit(engine, settings, now=datetime.now(UTC))
    assert (
        "found no purchase or engagement naming an item" in client.get("/offers", headers=html).text
    )
    customers(engine, settings, 3, datetime.now(UTC), message_prefix="shoes",
              properties={"product_id": "sku-shoes"})  # fmt: skip
    fitting.fit(engine, settings, now=datetime.now(UTC))
    fitted = client.get("/offers", headers=html).text
    model = fitted.split('id="offers-model">')[1].split("</p>")[0]
    assert "Ranked by the model fitted" in model and "on 3 customers and 1 item," in model
    bad = client.post("/offers", headers=html, data={"csrf_token": token, "key": "x",
                                                      "name": "X", "kind": "gift"})  # fmt: skip
    assert bad.status_code == 400 and "kind" in bad.text
    made = client.post("/offers", headers=html, follow_redirects=False,
                       data={"csrf_token": token, "key": "new-one", "name": "New",
                             "kind": "incentive", "value": "12.5"})  # fmt: skip
    assert made.status_code == 303
    off = client.post("/offers/new-one/deactivate", headers=html, follow_redirects=False,
                      data={"csrf_token": token})  # fmt: skip
    assert off.status_code == 303
    listed = {o["key"]: o for o in client.get("/api/offers", headers=_key(engine, "read")).json()}
    assert listed["new-one"]["value"] == 12.5 and listed["new-one"]["active"] is False


def test_the_file_s_offers_are_loaded_at_start(settings: Any, engine: Engine) -> None:
    from hxpulse.app import create_app
    from hxpulse.offers.settings import OfferIn

    window = {"valid_from": datetime(2026, 1, 1, tzinfo=UTC),
              "valid_until": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=30)}  # fmt: skip
    filed = settings.model_copy(update={"offers": [
        OfferIn.model_validate({**OFFER, **window})]})  # fmt: skip
    with TestClient(create_app(filed)) as app_client:
        got = app_client.get("/api/offers/shoes", headers=_key(engine, "read")).json()
    assert got["item"] == "sku-shoes" and got["valid_until"].startswith("2026-01-31")
