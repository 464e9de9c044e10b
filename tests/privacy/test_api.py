"""The privacy JSON routes: consent, export, erasure, erasure requests and the audit log, with
who may use them, what bad input gets, and that profile views are audited once per view."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.audit import service as audit
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.conftest import T0
from tests.privacy.helpers import key, sign_in

EMAIL = "ann.api@example.com"


def _customer(engine: Engine) -> None:
    ingest(engine, [EventIn(message_id="i1", kind="identify", type="identify", occurred_at=T0,
                            identities=[("email", EMAIL)], traits={"name": "Ann Api"},
                            properties={"plan": "gold"})])  # fmt: skip


@pytest.mark.parametrize(
    ("scopes", "consent", "export", "erase", "audit_log"),
    # the read scope carries the `:read` permissions, not the audit log's (it is for admins)
    [(("read",), 403, 403, 403, 403), (("write",), 200, 403, 403, 403),
     (("track",), 403, 403, 403, 403), (("admin",), 200, 200, 200, 200)],
)  # fmt: skip
def test_keys_by_scope(
    client: TestClient, engine: Engine, scopes: tuple[str, ...], consent: int, export: int,
    erase: int, audit_log: int,
) -> None:  # fmt: skip
    _customer(engine)
    headers = key(engine, *scopes)
    got = client.put(f"/api/customers/{EMAIL}/consent", json={"surveys": "denied"}, headers=headers)
    assert got.status_code == consent, got.text
    assert client.get(f"/api/customers/{EMAIL}/export", headers=headers).status_code == export
    assert client.post(f"/api/customers/{EMAIL}/erase", headers=headers).status_code == erase
    assert client.get("/api/audit", headers=headers).status_code == audit_log
    assert client.get("/api/privacy/requests", headers=headers).status_code == erase


@pytest.mark.parametrize(
    ("role", "consent", "export", "erase", "audit_log"),
    [("agent", 200, 403, 403, 403), ("analyst", 403, 403, 403, 403), ("admin", 200, 200, 200, 200)],
)  # fmt: skip
def test_people_by_role_and_the_csrf_token(
    client: TestClient, engine: Engine, role: str, consent: int, export: int, erase: int,
    audit_log: int,
) -> None:  # fmt: skip
    _customer(engine)
    token = sign_in(client, engine, role)
    body = {"email_marketing": "granted"}
    assert client.put(f"/api/customers/{EMAIL}/consent", json=body).status_code == 403  # no token
    csrf = {"x-csrf-token": token}
    assert (
        client.put(f"/api/customers/{EMAIL}/consent", json=body, headers=csrf).status_code
        == consent
    )
    assert client.get(f"/api/customers/{EMAIL}/export").status_code == export
    if erase == 200:
        assert client.post(f"/api/customers/{EMAIL}/erase").status_code == 403  # no token
    assert client.post(f"/api/customers/{EMAIL}/erase", headers=csrf).status_code == erase
    assert client.get("/api/audit").status_code == audit_log


def test_nobody_signed_in_gets_401(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    assert (
        client.put(f"/api/customers/{EMAIL}/consent", json={"surveys": "denied"}).status_code == 401
    )
    assert client.get(f"/api/customers/{EMAIL}/export").status_code == 401
    assert client.post(f"/api/customers/{EMAIL}/erase").status_code == 401
    assert client.get("/api/audit", params={"customer": EMAIL}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [({"sms": "denied"}, "body.sms"), ({"surveys": "maybe"}, "body.surveys"),
     ({"surveys": "denied\u0000"}, "surveys"), ({"surveys": "x" * 100_000}, "body.surveys"),
     ([], "body"), ({}, "consent")],
)  # fmt: skip
def test_bad_consent_bodies_get_4xx_naming_the_field(
    client: TestClient, engine: Engine, body: object, field: str
) -> None:
    _customer(engine)
    got = client.put(f"/api/customers/{EMAIL}/consent", json=body, headers=key(engine, "write"))
    assert 400 <= got.status_code < 500, got.text
    assert field in {e["field"] for e in got.json()["errors"]}


@pytest.mark.parametrize(
    "ref", ["nobody@example.com", "id:99999", "a%00b", "x" * 401, "%00", "id:99999999999999999999"]
)
def test_bad_references_get_4xx(client: TestClient, engine: Engine, ref: str) -> None:
    _customer(engine)
    headers = key(engine, "admin")
    for method, path in (("GET", "export"), ("POST", "erase"), ("GET", "consent")):
        got = client.request(method, f"/api/customers/{ref}/{path}", headers=headers)
        assert got.status_code in (400, 404, 422), (ref, path, got.text)
        assert "\u0000" not in got.text


def test_put_consent_answers_with_every_purpose_and_its_source(
    client: TestClient, engine: Engine
) -> None:
    _customer(engine)
    headers = key(engine, "write")
    got = client.put(f"/api/customers/{EMAIL}/consent",
                     json={"surveys": "denied", "email_marketing": "granted"}, headers=headers).json()  # fmt: skip
    assert got["changed"] == ["email_marketing", "surveys"]
    by = {p["purpose"]: p for p in got["purposes"]}
    assert (by["surveys"]["status"], by["surveys"]["allowed"]) == ("denied", False)
    assert by["surveys"]["via"] == "api" and by["surveys"]["source"].startswith("key ")
    assert by["profiling"]["status"] is None and by["profiling"]["allowed"]
    assert client.get(f"/api/customers/{EMAIL}/consent", headers=key(engine, "read")).json() == {
        **got, "changed": []}  # fmt: skip


def test_export_is_one_document_and_audited(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    got = client.get(f"/api/customers/{EMAIL}/export", headers=key(engine, "admin"))
    assert got.status_code == 200
    assert got.headers["content-disposition"] == 'attachment; filename="customer-1.json"'
    doc = got.json()
    assert doc["format"] == "hxpulse.customer-export" and doc["customer_id"] == 1
    assert doc["identities"][0]["value"] == EMAIL and doc["profile"]["name"] == "Ann Api"
    assert doc["events"][0]["properties"] == {"plan": "gold"}
    with engine.connect() as conn:
        [entry] = audit.entries(conn, action="customer.export")
    assert entry["subject_id"] == "1" and entry["detail"]["events"] == 1
    assert entry["detail"]["via"] == "api" and EMAIL not in str(entry)


def test_erase_then_the_profile_is_an_anonymous_shell(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    headers = key(engine, "admin")
    done = client.post(f"/api/customers/{EMAIL}/erase", headers=headers)
    assert done.status_code == 200 and done.json()["identities"] == 1
    assert client.get(f"/api/customers/{EMAIL}", headers=headers).status_code == 404
    shell = client.get("/api/customers/1", headers=headers).json()
    assert shell["identities"] == [] and shell["name"] is None and shell["erased_at"]
    assert shell["events"][0]["properties"] == {}


def test_each_profile_view_is_one_audit_entry(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    headers = key(engine, "read")
    client.get(f"/api/customers/{EMAIL}", headers=headers)
    client.get(f"/api/customers/{EMAIL}/pulse", headers=headers)  # numbers only: not a view
    client.get(f"/api/customers/{EMAIL}/journey", headers=headers)
    client.get("/api/customers", params={"q": "ann"}, headers=headers)  # a search: not a view
    client.get("/api/customers/nobody@example.com", headers=headers)  # not found: nothing seen
    sign_in(client, engine, "agent")
    assert client.get("/customers/1").status_code == 200
    with engine.connect() as conn:
        views = audit.entries(conn, action="customer.view")
    assert [(v["actor_kind"], v["detail"]["via"], v["subject_id"]) for v in views] == [
        ("user", "page", "1"), ("key", "api", "1")]  # fmt: skip
    assert views[0]["actor_label"].startswith("user ") and views[0]["address"] == "testclient"


def test_the_audit_log_filters_and_pages(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    reader, admin = key(engine, "read"), key(engine, "admin")
    for _ in range(3):
        client.get(f"/api/customers/{EMAIL}", headers=reader)
    client.put(f"/api/customers/{EMAIL}/consent", json={"surveys": "denied"}, headers=admin)
    # (making the keys is audited too: key.create; these pages look at customers only)
    page = client.get("/api/audit", params={"limit": 2, "action": "customer."},
                      headers=admin).json()  # fmt: skip
    assert [e["action"] for e in page["items"]] == ["customer.consent", "customer.view"]
    rest = client.get("/api/audit", params={"limit": 2, "before": page["next_before"],
                                            "action": "customer."}, headers=admin).json()  # fmt: skip
    assert [e["action"] for e in rest["items"]] == ["customer.view", "customer.view"]
    assert rest["next_before"] is None
    views = client.get("/api/audit", params={"action": "customer.view", "customer": EMAIL,
                                             "since": T0.date().isoformat()}, headers=admin).json()  # fmt: skip
    assert len(views["items"]) == 3
    by_key = client.get("/api/audit", params={"actor": f"key:{views['items'][0]['actor_id']}"},
                        headers=admin).json()  # fmt: skip
    assert {e["action"] for e in by_key["items"]} == {"customer.view"}
    prefix = client.get("/api/audit", params={"action": "customer."}, headers=admin).json()
    assert len(prefix["items"]) == 4
    old = client.get("/api/audit", params={"until": "2020-01-01"}, headers=admin).json()
    assert old["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"action": "DROP TABLE"}, "action"), ({"actor": "boss"}, "actor"),
     ({"since": "yesterday"}, "since"), ({"until": "0001-01-01"}, "until"),
     ({"since": "9999-12-31"}, "since"), ({"limit": "0"}, "query.limit"),
     ({"before": "99999999999999999999"}, "query.before"), ({"customer": "a\u0000"}, "customer")],
)  # fmt: skip
def test_bad_audit_filters_get_4xx_naming_the_field(
    client: TestClient, engine: Engine, params: dict[str, str], field: str
) -> None:
    got = client.get("/api/audit", params=params, headers=key(engine, "admin"))
    assert got.status_code in (400, 422), got.text
    assert field in {e["field"] for e in got.json()["errors"]}
