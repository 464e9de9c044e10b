"""The privacy parts of the staff pages: the customer page's consent card and its forms by
role, the erasure form, the audit log page with filters and paging, the erasure requests."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.audit import service as audit
from hxpulse.audit.service import Who
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.privacy import service
from tests.conftest import T0
from tests.privacy.helpers import HTML, key, sign_in

EMAIL = "ann.page@example.com"


def _customer(engine: Engine) -> None:
    ingest(engine, [EventIn(message_id="i1", kind="identify", type="identify", occurred_at=T0,
                            identities=[("email", EMAIL)],
                            traits={"consent": {"surveys": "denied", "sms": "opt_out"}})])  # fmt: skip


@pytest.mark.parametrize(
    ("role", "forms"),
    [("agent", {"consent-form"}), ("analyst", set()),
     ("admin", {"consent-form", "export-link", "erase-form"})],
)  # fmt: skip
def test_the_consent_card_by_role(
    client: TestClient, engine: Engine, role: str, forms: set[str]
) -> None:
    _customer(engine)
    sign_in(client, engine, role)
    page = client.get("/customers/1")
    assert page.status_code == 200
    row = re.search(r'<tr data-purpose="surveys">(.*?)</tr>', page.text, re.S)
    assert row is not None and "denied" in row.group(1) and "event i1" in row.group(1)
    assert re.search(
        r'data-purpose="email_marketing">.*?not asked.*?only when granted', page.text, re.S
    )
    assert "sms" in page.text  # other answers are shown as they came
    shown = {f for f in ("consent-form", "export-link", "erase-form") if f'id="{f}"' in page.text}
    assert shown == forms
    assert ('href="/admin/audit"' in page.text) == (role == "admin")


def test_an_agent_records_consent_with_the_form(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    token = sign_in(client, engine, "agent")
    refused = client.post("/customers/1/consent", data={"surveys": "granted", "csrf_token": "x"},
                          headers=HTML)  # fmt: skip
    assert refused.status_code == 403
    done = client.post("/customers/1/consent", data={"surveys": "granted", "profiling": "",
                                                     "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/customers/1#privacy"
    page = client.get("/customers/1").text
    row = re.search(r'<tr data-purpose="surveys">(.*?)</tr>', page, re.S)
    assert row is not None and "granted" in row.group(1) and "agent." in row.group(1)
    assert client.post("/customers/1/erase", data={"confirm": "erase", "csrf_token": token},
                       headers=HTML).status_code == 403  # fmt: skip
    with engine.connect() as conn:
        assert service.allows(conn, 1, "surveys")
        assert [e["action"] for e in audit.entries(conn, action="customer.")][:2] == [
            "customer.view", "customer.consent"]  # fmt: skip


def test_an_admin_erases_from_the_customer_page(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    token = sign_in(client, engine, "admin")
    unconfirmed = client.post("/customers/1/erase", data={"csrf_token": token}, headers=HTML)
    assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.text
    done = client.post("/customers/1/erase", data={"confirm": "erase", "csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    page = client.get("/customers/1").text
    assert 'id="erased"' in page and EMAIL not in page
    assert 'id="consent-form"' not in page and 'id="erase-form"' not in page


def test_the_audit_page_filters_and_pages(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    reader = key(engine, "read")
    for _ in range(3):
        client.get(f"/api/customers/{EMAIL}", headers=reader)
    sign_in(client, engine, "admin")
    page = client.get("/admin/audit", params={"limit": 2, "action": "customer."})
    assert page.status_code == 200 and page.text.count("<tr data-id") == 2
    older = re.search(r'href="(/admin/audit\?[^"]+)" id="older"', page.text)
    assert older is not None and "limit=2" in older.group(1) and "customer." in older.group(1)
    rest = client.get(older.group(1).replace("&amp;", "&"))
    assert rest.text.count("<tr data-id") == 1 and 'id="older"' not in rest.text
    filtered = client.get("/admin/audit", params={"action": "customer.consent"})
    assert "No entries match" in filtered.text
    bad = client.get("/admin/audit", params={"since": "soon"}, headers=HTML)
    assert bad.status_code == 400 and "since" in bad.text


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_only_admins_see_the_audit_and_requests_pages(
    client: TestClient, engine: Engine, role: str
) -> None:
    sign_in(client, engine, role)
    assert client.get("/admin/audit", headers=HTML).status_code == 403
    assert client.get("/admin/requests", headers=HTML).status_code == 403


def test_the_requests_page_lists_what_customers_asked(client: TestClient, engine: Engine) -> None:
    _customer(engine)
    sign_in(client, engine, "admin")
    assert "No erasure requests are waiting" in client.get("/admin/requests").text
    who = Who("customer", 1, "customer 1")
    run_write(engine, lambda c: service.request_erasure(c, 1, who=who, now=T0, due_days=30))
    page = client.get("/admin/requests").text
    assert 'href="/customers/1#privacy"' in page and "2026-01-31" in page
    assert 'id="erasure-requested"' in client.get("/customers/1").text
    assert client.get("/admin/audit", follow_redirects=False, headers=HTML).status_code == 200


def test_signed_out_the_admin_pages_lead_to_sign_in(client: TestClient) -> None:
    got = client.get("/admin/audit", headers=HTML, follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"].startswith("/login")
