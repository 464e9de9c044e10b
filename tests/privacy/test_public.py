"""The preference centre /p/{token} without a browser: what it shows (and does not), consent
changes audited as the customer, the download, the erasure request with its confirmation,
one-click unsubscribe, and friendly pages for bad, expired and cross-site requests."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine

from hxpulse.audit import service as audit
from hxpulse.customers import queries
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.privacy import links, service
from hxpulse.surveys import links as survey_links
from tests.conftest import T0
from tests.privacy.helpers import HTML, key

EMAIL = "ann.prefs@example.com"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _setup(client: TestClient, engine: Engine) -> tuple[str, str]:
    ingest(engine, [
        EventIn(message_id="i1", kind="identify", type="identify", occurred_at=T0,
                identities=[("email", EMAIL), ("user_id", "ann-9")],
                traits={"name": "Ann <b>Prefs</b>", "city": "Ghent",
                        "consent": {"email_marketing": True}}),
        EventIn(message_id="o1", kind="identify", type="identify", occurred_at=T0,
                identities=[("email", "other.person@example.com")], traits={"name": "Otto"}),
    ])  # fmt: skip
    with engine.connect() as conn:
        cid = queries.find(conn, EMAIL)
    token = links.token_for(client.app.state.secret, cid)  # type: ignore[attr-defined]
    page = client.get(f"/p/{token}", headers=HTML)
    assert page.status_code == 200
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert form_token is not None
    return token, form_token.group(1)


def test_the_page_shows_what_is_held_and_no_one_else(client: TestClient, engine: Engine) -> None:
    token, _ = _setup(client, engine)
    page = client.get(f"/p/{token}", headers=HTML)
    assert EMAIL in page.text and "ann-9" in page.text and "Ghent" in page.text
    assert "Ann &lt;b&gt;Prefs&lt;/b&gt;" in page.text and "<b>Prefs" not in page.text
    assert "other.person" not in page.text and "Otto" not in page.text
    assert page.headers["cache-control"] == "no-store" and "set-cookie" not in page.headers
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.text  # nothing needs JavaScript
    # the one answer given is ticked; purposes never answered are not pre-ticked
    checked = re.findall(r'name="(\w+)" value="(\w+)" checked', page.text)
    assert checked == [("email_marketing", "granted")]
    twin = client.get(f"/api/preferences/{token}").json()
    assert [i["value"] for i in twin["identities"]] == [EMAIL, "ann-9"]
    assert {p["purpose"]: p["allowed"] for p in twin["consent"]} == {
        "email_marketing": True,
        "surveys": True,
        "personalisation": True,
        "profiling": True,
    }


def test_changing_consent_is_audited_as_the_customer(client: TestClient, engine: Engine) -> None:
    token, form_token = _setup(client, engine)
    saved = client.post(f"/p/{token}/consent", data={"form_token": form_token, "surveys": "denied",
                                                     "profiling": "denied", "sms": "granted"},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == f"/p/{token}?saved=1"
    assert "Your choices are saved" in client.get(saved.headers["location"]).text
    with engine.connect() as conn:
        cid = queries.find(conn, EMAIL)
        assert not service.allows(conn, cid, "surveys") and not service.allows(
            conn, cid, "profiling"
        )
        assert service.allows(conn, cid, "email_marketing")
        [entry] = audit.entries(conn, action="customer.consent")
    assert (entry["actor_kind"], entry["actor_id"], entry["actor_label"]) == (
        "customer", cid, f"customer {cid}")  # fmt: skip
    assert entry["detail"]["changes"] == {"surveys": {"from": None, "to": "denied"},
                                          "profiling": {"from": None, "to": "denied"}}  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "form_token"),
    [({}, "forged"), ({}, ""), ({"sec-fetch-site": "cross-site"}, None),
     ({"origin": "https://evil.example"}, None)],
)  # fmt: skip
def test_forms_posted_from_elsewhere_change_nothing(
    client: TestClient, engine: Engine, headers: dict[str, str], form_token: str | None
) -> None:
    token, real = _setup(client, engine)
    data = {"form_token": real if form_token is None else form_token, "surveys": "denied"}
    for path in ("consent", "erase", "export", "unsubscribe/surveys"):
        got = client.post(f"/p/{token}/{path}", data={**data, "confirm": "yes"},
                          headers={**HTML, **headers}, follow_redirects=False)  # fmt: skip
        assert got.status_code == 403 and "not sent from this page" in got.text, path
    with engine.connect() as conn:
        assert audit.entries(conn) == [] and service.allows(conn, 1, "surveys")
        assert service.pending_requests(conn, due_days=30) == []


def test_the_download_has_the_data_and_names_no_staff(client: TestClient, engine: Engine) -> None:
    token, form_token = _setup(client, engine)
    client.put(f"/api/customers/{EMAIL}/consent", json={"surveys": "denied"},
               headers=key(engine, "write"))  # fmt: skip
    got = client.post(f"/p/{token}/export", data={"form_token": form_token})
    assert got.status_code == 200
    assert got.headers["content-disposition"] == 'attachment; filename="my-data.json"'
    doc = got.json()
    assert doc["identities"][0]["value"] == EMAIL and doc["traits"]["city"] == "Ghent"
    assert doc["consent"]["surveys"]["source"] == "a program of the business"
    assert [(e["action"], e["actor_label"], e["address"]) for e in doc["audit"]] == [
        ("customer.consent", "a program of the business", None)]  # fmt: skip
    assert "other.person" not in got.text and "write key" not in got.text
    with engine.connect() as conn:
        [entry] = audit.entries(conn, action="customer.export")
    assert entry["actor_kind"] == "customer" and entry["detail"]["via"] == "preference_centre"


def test_erasure_is_confirmed_then_queued_for_an_admin(client: TestClient, engine: Engine) -> None:
    token, form_token = _setup(client, engine)
    ask = client.get(f"/p/{token}/erase")
    assert ask.status_code == 200 and 'name="confirm"' in ask.text
    unticked = client.post(f"/p/{token}/erase", data={"form_token": form_token})
    assert unticked.status_code == 400 and "tick the box" in unticked.text
    with engine.connect() as conn:
        assert service.pending_requests(conn, due_days=30) == []
    done = client.post(f"/p/{token}/erase", data={"form_token": form_token, "confirm": "yes"})
    assert done.status_code == 200 and "We have your request" in done.text
    again = client.post(f"/p/{token}/erase", data={"form_token": form_token, "confirm": "yes"})
    assert again.status_code == 200
    with engine.connect() as conn:
        [pending] = service.pending_requests(conn, due_days=30)
        cid = pending["customer_id"]
        assert not any(service.allows(conn, cid, p) for p in
                       ("email_marketing", "surveys", "personalisation", "profiling"))  # fmt: skip
        assert [e["action"] for e in audit.entries(conn)] == ["customer.erasure_request"]
        assert queries.profile(conn, customer_id=cid)["identities"]  # not erased yet
    assert "You asked us to erase your data" in client.get(f"/p/{token}").text
    listed = client.get("/api/privacy/requests", headers=key(engine, "admin")).json()["items"]
    assert [r["customer_id"] for r in listed] == [cid]
    client.post(f"/api/customers/{EMAIL}/erase", headers=key(engine, "admin"))
    assert client.get("/api/privacy/requests", headers=key(engine, "admin")).json()["items"] == []
    gone = client.get(f"/p/{token}")
    assert gone.status_code == 200 and "no longer hold your personal data" in gone.text
    assert EMAIL not in gone.text
    assert client.get(f"/api/preferences/{token}").json() == {"erased": True}


def test_one_click_unsubscribe_and_its_page(client: TestClient, engine: Engine) -> None:
    token, form_token = _setup(client, engine)
    page = client.get(f"/p/{token}/unsubscribe/surveys")
    assert page.status_code == 200 and "Unsubscribe" in page.text
    # RFC 8058: the mail provider posts this body, without the page's form value
    got = client.post(f"/p/{token}/unsubscribe/surveys", content="List-Unsubscribe=One-Click",
                      headers=FORM)  # fmt: skip
    assert got.status_code == 200 and "You are unsubscribed" in got.text
    with engine.connect() as conn:
        assert not service.allows(conn, 1, "surveys")
        [entry] = audit.entries(conn, action="customer.consent")
    assert entry["detail"]["changes"] == {"surveys": {"from": None, "to": "denied"}}
    assert client.get(f"/p/{token}/unsubscribe/sms").status_code == 404


def test_bad_and_expired_links_get_friendly_pages(client: TestClient, engine: Engine) -> None:
    token, _ = _setup(client, engine)
    secret: str = client.app.state.secret  # type: ignore[attr-defined]
    survey_token = survey_links.token_for(secret, 1)  # a survey link cannot open preferences
    wrong_salt = URLSafeTimedSerializer(secret, salt="hxpulse.survey-invitation").dumps(1)
    other_secret = links.token_for("another-secret-that-is-long-enough-000", 1)
    nul = client.get("/p/%00", headers=HTML)  # the NUL rule answers before the link is read
    assert nul.status_code == 400 and "NUL" in nul.text
    for bad in (survey_token, wrong_salt, other_secret, token[:-2] + "xx", "x" * 300,
                links.token_for(secret, 999)):  # fmt: skip
        got = client.get(f"/p/{bad}", headers=HTML)
        assert got.status_code == 404 and "This link is not valid" in got.text, bad
        assert client.post(f"/p/{bad}/consent", data={"surveys": "denied"}).status_code == 404
    settings = client.app.state.settings  # type: ignore[attr-defined]
    long_ago = time.time() - (settings.privacy.link_days * 86400 + 60)
    with mock.patch("time.time", return_value=long_ago):  # itsdangerous reads it when signing
        expired = links.token_for(secret, 1)
    got = client.get(f"/p/{expired}", headers=HTML)
    assert got.status_code == 410 and "This link has expired" in got.text
    assert EMAIL not in got.text
    assert client.get(f"/api/preferences/{expired}").status_code == 410
    assert client.get(f"/api/preferences/{token[:-2]}xx").status_code == 404
