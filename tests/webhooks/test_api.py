"""The webhooks and deliveries API and pages, through the application, with roles."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from hxpulse.app import create_app
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.outbox import service as outbox
from hxpulse.outbox.service import Action
from tests.auth.helpers import csrf_token, person, sign_in

URL = "https://8.8.8.8/hook"


@pytest.fixture
def admin(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, str]]:
    person(engine, "admin@example.com", "admin")
    with TestClient(create_app(settings)) as client:
        yield client, sign_in(client, "admin@example.com")


def test_endpoints_through_the_api(admin: tuple[TestClient, str], engine: Engine) -> None:
    client, token = admin
    headers = {"x-csrf-token": token}
    made = client.post("/api/webhooks", json={"name": "ops", "url": URL,
                                              "event_types": ["case.opened"]}, headers=headers)  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["event_types"] == ["case.opened"]
    listed = client.get("/api/webhooks").json()["items"]
    assert [e["name"] for e in listed] == ["ops"] and "secret" not in listed[0]
    hook = body["id"]
    bad = client.post("/api/webhooks", json={"name": "meta", "url": "http://169.254.169.254/"},
                      headers=headers)  # fmt: skip
    assert bad.status_code == 400 and "url" in bad.json()["message"]
    assert client.post("/api/webhooks", json={"name": "ops", "url": URL},
                       headers=headers).status_code == 409  # fmt: skip
    rotated = client.post(f"/api/webhooks/{hook}/rotate", headers=headers).json()
    assert rotated["secret"] != body["secret"] and rotated["previous_until"]
    patched = client.patch(f"/api/webhooks/{hook}", json={"enabled": False}, headers=headers)
    assert patched.json()["enabled"] is False
    queued = client.post(f"/api/webhooks/{hook}/test", headers=headers)
    assert queued.status_code == 202 and queued.json()["key"].startswith("test:")
    items = client.get("/api/deliveries", params={"endpoint": "ops"}).json()
    assert items["counts"]["pending"] == 1 and items["items"][0]["type"] == "webhook.test"
    assert client.delete(f"/api/webhooks/{hook}", headers=headers).status_code == 204
    assert client.get(f"/api/webhooks/{hook}").status_code == 404
    with engine.connect() as conn:
        actions = conn.execute(text("SELECT action FROM audit_log WHERE action LIKE 'webhook.%'"
                                    " ORDER BY id")).scalars().all()  # fmt: skip
    assert actions == ["webhook.create", "webhook.rotate", "webhook.update", "webhook.delete"]


def _dead(engine: Engine, key: str = "dead-1") -> int:
    now = datetime.now(UTC)

    def work(conn: Connection) -> int:
        outbox.enqueue(conn, [Action("nonesuch", key, {"n": 1})], now=now)
        conn.execute(text("UPDATE outbox SET status = 'dead', last_status = 502,"
                          " last_response = 'bad gateway' WHERE key = :k"), {"k": key})  # fmt: skip
        found = conn.execute(text("SELECT id FROM outbox WHERE key = :k"), {"k": key})
        return int(found.scalar_one())

    return run_write(engine, work)


def test_deliveries_and_replay_through_the_api(
    admin: tuple[TestClient, str], engine: Engine
) -> None:
    client, token = admin
    one, _two = _dead(engine, "d1"), _dead(engine, "d2")
    listed = client.get("/api/deliveries", params={"status": "dead"}).json()
    assert listed["counts"] == {"pending": 0, "done": 0, "dead": 2}
    assert listed["items"][0]["last_response"] == "bad gateway"
    found = client.get(f"/api/deliveries/{one}").json()
    assert found["payload"] == {"n": 1} and found["tries"] == []
    replayed = client.post(f"/api/deliveries/{one}/replay", headers={"x-csrf-token": token})
    assert replayed.json() == {"replayed": 1}
    bulk = client.post("/api/deliveries/replay", json={}, headers={"x-csrf-token": token})
    assert bulk.json() == {"replayed": 1}
    assert client.get("/api/deliveries").json()["counts"]["pending"] == 2
    assert client.get("/api/deliveries/999999").status_code == 404


def test_pages_show_the_secret_once_and_replay_dead_letters(
    admin: tuple[TestClient, str], engine: Engine
) -> None:
    client, _token = admin
    form = {"name": "ops", "url": URL, "event_types": "case.opened, rule.fired",
            "csrf_token": csrf_token(client, "/webhooks")}  # fmt: skip
    made = client.post("/webhooks", data=form)
    assert made.status_code == 201
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', made.text)
    assert secret is not None
    again = client.get("/webhooks").text
    assert secret.group(1) not in again and "case.opened, rule.fired" in again
    _dead(engine)
    page = html.unescape(client.get("/deliveries?status=dead").text)
    assert "dead-1" in page and "502 bad gateway" in page and 'id="replay-dead"' in page
    replay = client.post("/deliveries/replay", data={"csrf_token": csrf_token(client, "/deliveries")},
                         follow_redirects=False)  # fmt: skip
    assert replay.status_code == 303 and replay.headers["location"].endswith("replayed=1")
    forged = client.post("/deliveries/replay", data={"csrf_token": "forged"})
    assert forged.status_code in (400, 403)


def test_an_analyst_reads_deliveries_but_neither_replays_nor_manages_webhooks(
    settings: Settings, engine: Engine
) -> None:
    person(engine, "analyst@example.com", "analyst")
    with TestClient(create_app(settings)) as client:
        token = sign_in(client, "analyst@example.com")
        page = client.get("/deliveries", headers={"accept": "text/html"})
        assert page.status_code == 200 and 'href="/webhooks"' not in page.text
        assert client.get("/api/webhooks").status_code == 403
        answer = client.post("/api/deliveries/replay", json={}, headers={"x-csrf-token": token})
        assert answer.status_code == 403 and "deliveries:replay" in answer.json()["message"]
