"""Sign-in, CSRF, the customer list and the customer page, through the HTTP interface."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.conftest import T0

PASSWORD = "correct horse battery"


def sign_in(client: TestClient, engine: Engine, role: str = "agent") -> None:
    """Create a person with `role` (email `ROLE@example.com`) and sign `client` in as them."""
    with engine.begin() as conn:
        auth.create_user(conn, email=f"{role}@example.com", password=PASSWORD, role=role)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"email": f"{role.title()}@Example.com",
                                         "password": PASSWORD, "csrf_token": token,
                                         "next": "/customers"},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/customers"


def test_pages_need_a_signed_in_person(client: TestClient) -> None:
    page = client.get("/customers", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    api = client.get("/api/customers")
    assert api.status_code == 401 and "sign in, or send an API key" in api.json()["message"]


def test_wrong_password_and_missing_csrf_are_refused(client: TestClient, engine: Engine) -> None:
    with engine.begin() as conn:
        auth.create_user(conn, email="a@example.com", password=PASSWORD, role="admin")
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    wrong = client.post(
        "/login", data={"email": "a@example.com", "password": "nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == 400 and "Wrong email or password" in wrong.text
    forged = client.post("/login", data={"email": "a@example.com", "password": PASSWORD, "csrf_token": "x"},
                         headers={"accept": "text/html"})  # fmt: skip
    assert forged.status_code == 403 and "form has expired" in forged.text


def test_list_search_and_profile_escape_untrusted_text(client: TestClient, engine: Engine) -> None:
    ingest(engine, [
        EventIn(message_id="p1", kind="identify", type="identify", occurred_at=T0,
                identities=[("email", "zed@example.com")], traits={"name": "<script>alert(1)</script>"}),
        EventIn(message_id="p2", kind="track", type="purchase", occurred_at=T0, channel="store",
                identities=[("email", "zed@example.com")], value=12.5, currency="EUR"),
        EventIn(message_id="p3", kind="track", type="page_view", occurred_at=T0,
                identities=[("user_id", "other")]),
    ])  # fmt: skip
    sign_in(client, engine)
    listing = client.get("/customers", params={"q": "zed@"})
    assert listing.status_code == 200
    assert "zed@example.com" in listing.text and "other" not in listing.text
    assert "<script>alert(1)</script>" not in listing.text and "&lt;script&gt;" in listing.text
    customer_id = re.search(r'href="/customers/(\d+)"', listing.text).group(1)  # type: ignore[union-attr]
    page = client.get(f"/customers/{customer_id}")
    assert page.status_code == 200 and 'id="timeline"' in page.text
    assert "12.50 EUR" in page.text and "ch-store" in page.text
    twin = client.get(f"/api/customers/{customer_id}").json()  # the page's JSON twin, same session
    assert [e["type"] for e in twin["events"]] == ["purchase", "identify"] or len(
        twin["events"]
    ) == 2
    missing = client.get("/customers/999999", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "does not exist" in missing.text
