"""The advocacy routes: the report, a person's ask, the public referral link; bad input is 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from hxpulse.advocacy import service
from hxpulse.app import create_app
from hxpulse.config import AdvocacySettings, Settings
from hxpulse.events.models import Event
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest


def _seed(engine: Engine) -> None:
    now = datetime.now(UTC)
    ingest(engine, [EventIn(message_id=f"n{i}", kind="track", type=kind, channel="web",
                            occurred_at=now - timedelta(days=1),
                            identities=[("email", f"p{i}@example.com")])
                    for i, kind in enumerate(("promoter", "promoter", "passive"))])  # fmt: skip


def test_ask_then_report(client: TestClient, engine: Engine, api_key: str) -> None:
    _seed(engine)
    auth = {"authorization": f"Bearer {api_key}"}
    made = client.post("/api/customers/p0@example.com/asks", json={"channel": "phone",
                       "note": "asked at the till"}, headers=auth)  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["link"].endswith(f"/r/{body['code']}") and len(body["code"]) == 8
    again = client.post("/api/customers/p0@example.com/asks", json={}, headers=auth).json()
    assert again["code"] == body["code"]  # one code per customer
    got = client.get("/api/advocacy", headers=auth).json()
    assert (got["promoters"], got["asked"], got["asks"]) == (2, 1, 2)
    assert got["ask_rate"] == 0.5
    phone = client.get("/api/advocacy", params={"channel": "phone"}, headers=auth).json()
    assert (phone["promoters"], phone["asks"]) == (0, 1)


def test_bad_input_is_4xx(client: TestClient, engine: Engine, api_key: str) -> None:
    _seed(engine)
    auth = {"authorization": f"Bearer {api_key}"}
    bad = client.get("/api/advocacy", params={"since": "last week", "channel": "fax"},
                     headers=auth)  # fmt: skip
    assert bad.status_code in (400, 422), bad.text
    assert "since" in bad.text and "channel" in bad.text
    reversed_range = client.get("/api/advocacy", params={"since": "2026-05-02",
                                "until": "2026-05-01"}, headers=auth)  # fmt: skip
    assert reversed_range.status_code in (400, 422) and "until" in reversed_range.text
    for body in ({"channel": "fax"}, {"note": "x" * 501}, {"other": 1}, []):
        answer = client.post("/api/customers/p0@example.com/asks", json=body, headers=auth)
        assert answer.status_code == 422, (body, answer.text)
    missing = client.post("/api/customers/nobody@example.com/asks", json={}, headers=auth)
    assert missing.status_code == 404
    assert client.get("/r/NOPE", follow_redirects=False).status_code == 404
    assert client.get("/r/" + "Z" * 41, follow_redirects=False).status_code == 422


def test_referral_link_records_the_click(settings: Settings, engine: Engine) -> None:
    _seed(engine)
    landing = "https://shop.example/welcome?from=friend"
    app = create_app(settings.model_copy(update={
        "advocacy": AdvocacySettings(landing_url=landing)}))  # fmt: skip
    with engine.begin() as conn:
        from hxpulse.customers import queries

        referrer = queries.find(conn, "p1@example.com")
        code = service.code_for(conn, customer_id=referrer, now=datetime.now(UTC))
    with TestClient(app) as client:
        answer = client.get(f"/r/{code.lower()}", follow_redirects=False,
                            headers={"user-agent": "Visitor/1.0"})  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == landing
    assert answer.cookies.get(service.COOKIE) == code
    e = Event.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(e.customer_id, e.properties, e.context)
                            .where(e.type == "referral_click")).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [(referrer, {"code": code}, None)]  # nothing of the visitor


def test_landing_url_is_validated() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="landing_url"):
        AdvocacySettings(landing_url="javascript:alert(1)")
