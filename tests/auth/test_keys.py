"""Keys: revocation takes effect at once where it happens and within a second elsewhere;
`last_used_at` is written at most once a minute; the keys page, API and `keys list`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.audit import service as audit
from hxpulse.auth import service as auth
from hxpulse.cli.main import app as cli
from hxpulse.config import Settings
from tests.auth.helpers import Clock, app_with, person, sign_in

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
EVENT = {"userId": "u1", "event": "Order Completed", "properties": {"revenue": 10}}


def make_key(engine: Engine, scopes: list[str], name: str = "shop") -> tuple[int, str]:
    with engine.begin() as conn:
        info, secret = auth.create_key(conn, name=name, scopes=scopes)
    return info.id, secret


def test_a_key_revoked_here_is_refused_at_once(client: TestClient, engine: Engine) -> None:
    key_id, secret = make_key(engine, ["track"])
    _, admin = make_key(engine, ["admin"], "ops")
    assert client.post("/v1/track", json=EVENT, auth=(secret, "")).status_code == 200  # cached
    revoked = client.delete(f"/api/keys/{key_id}", headers={"authorization": f"Bearer {admin}"})
    assert revoked.status_code == 204
    refused = client.post("/v1/track", json=EVENT, auth=(secret, ""))
    assert refused.status_code == 401 and "unknown or revoked" in refused.json()["message"]
    again = client.delete(f"/api/keys/{key_id}", headers={"authorization": f"Bearer {admin}"})
    assert again.status_code == 404
    with engine.connect() as conn:
        [entry] = audit.entries(conn, action="key.revoke")
    assert (
        entry["subject_id"] == str(key_id)
        and entry["actor_label"] == f"key {entry['actor_id']} (ops)"
    )


def test_a_key_revoked_elsewhere_is_refused_within_a_second(
    settings: Settings, engine: Engine
) -> None:
    key_id, secret = make_key(engine, ["read"])
    with app_with(settings) as app, TestClient(app) as client:
        ticks = [100.0]
        app.state.key_cache.clock = lambda: ticks[0]
        headers = {"authorization": f"Bearer {secret}"}
        assert client.get("/api/customers", headers=headers).status_code == 200
        with engine.begin() as conn:  # as `hxpulse keys revoke` does from another process
            auth.revoke_key(conn, key_id=key_id)
        ticks[0] += 0.9
        assert client.get("/api/customers", headers=headers).status_code == 200  # remembered
        ticks[0] += 0.1
        assert client.get("/api/customers", headers=headers).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(settings: Settings, engine: Engine) -> None:
    key_id, secret = make_key(engine, ["track"])
    clock = Clock(T0)
    with app_with(settings, clock) as app, TestClient(app) as client:
        ticks = [0.0]
        app.state.key_cache.clock = lambda: ticks[0]

        def use(seconds: float) -> datetime | None:
            clock.advance(seconds=seconds)
            ticks[0] += seconds  # the cache's clock moves on too: every use reads the key
            assert client.post("/v1/track", json=EVENT, auth=(secret, "")).status_code == 200
            with engine.connect() as conn:
                [row] = [r for r in auth.list_keys(conn) if r["id"] == key_id]
            return row["last_used_at"]

        assert use(1) == clock.now
        first = clock.now
        assert use(30) == first and use(29) == first  # within the minute: not written
        assert use(1) == clock.now  # a minute after the last write


def test_the_keys_page_shows_a_new_secret_once(client: TestClient, engine: Engine) -> None:
    person(engine, "boss@example.com", role="admin")
    sign_in(client, "boss@example.com")
    page = client.get("/admin/keys")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    made = client.post("/admin/keys", data={"csrf_token": token, "name": "Web shop",
                                            "scope": ["track"]})  # fmt: skip
    assert made.status_code == 201
    secret = re.search(r'<code id="key-secret">([^<]+)</code>', made.text).group(1)  # type: ignore[union-attr]
    assert secret.startswith("hxw_")
    assert client.post("/v1/track", json=EVENT, auth=(secret, "")).status_code == 200
    listing = client.get("/admin/keys").text
    assert secret not in listing and "Web shop" in listing and secret[:10] in listing
    key_id = re.search(r'action="/admin/keys/(\d+)/revoke"', listing).group(1)  # type: ignore[union-attr]
    revoked = client.post(f"/admin/keys/{key_id}/revoke", data={"csrf_token": token},
                          follow_redirects=False)  # fmt: skip
    assert revoked.status_code == 303
    assert client.post("/v1/track", json=EVENT, auth=(secret, "")).status_code == 401
    bad = client.post("/admin/keys", data={"csrf_token": token, "name": "x", "scope": ["root"]})
    assert bad.status_code == 400 and "unknown scope root" in bad.text


def test_the_keys_api_creates_and_lists(client: TestClient, engine: Engine) -> None:
    _, admin = make_key(engine, ["admin"], "ops")
    headers = {"authorization": f"Bearer {admin}"}
    made = client.post("/api/keys", json={"name": "BI", "scopes": ["read"]}, headers=headers)
    assert made.status_code == 201 and made.json()["secret"].startswith("hxk_")
    listed = client.get("/api/keys", headers=headers).json()["items"]
    assert [k["name"] for k in listed] == ["ops", "BI"]
    assert all("key_hash" not in k and "secret" not in k for k in listed)
    bad = client.post("/api/keys", json={"name": "x", "scopes": ["root"]}, headers=headers)
    assert bad.status_code == 422 and "scopes" in bad.json()["message"]


def test_keys_list_has_a_header_scopes_and_last_use(database_url: str, engine: Engine) -> None:
    runner = CliRunner()
    key_id, _ = make_key(engine, ["read", "write"], "warehouse")
    with engine.begin() as conn:
        auth.touch_key(conn, key_id=key_id, now=T0)
    shown = runner.invoke(cli, ["--db", database_url, "keys", "list"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    header = next(line for line in lines if "scopes" in line)
    assert "last used" in header and "state" in header
    row = next(line for line in lines if "warehouse" in line)
    assert "read, write" in row and "2026-05-04" in row and "active" in row
    listed = orjson.loads(
        runner.invoke(cli, ["--db", database_url, "keys", "list", "--json"]).stdout
    )
    assert (
        listed[0]["last_used_at"].startswith("2026-05-04") and listed[0]["scopes"] == "read,write"
    )
    revoked = runner.invoke(cli, ["--db", database_url, "keys", "revoke", str(key_id)])
    assert revoked.exit_code == 0
    with engine.connect() as conn:
        [entry] = audit.entries(conn, action="key.revoke")
    assert entry["actor_label"] == "command line"
    missing = runner.invoke(cli, ["--db", database_url, "keys", "revoke", str(key_id)])
    assert missing.exit_code == 1 and "no active key" in missing.output
