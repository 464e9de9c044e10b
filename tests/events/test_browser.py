"""The browser path: CORS on the tracking paths only, the short paths analytics.js posts to, the
origins a write key accepts, and the settings documents the SDKs load; SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from itertools import count

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.app import create_app
from hxpulse.auth import service as auth
from hxpulse.config import Settings

SHOP = "https://shop.example"
IDS = count()
PREFLIGHT = {"origin": "https://anyone.example", "access-control-request-method": "POST",
             "access-control-request-headers": "authorization,content-type,anonymousid"}  # fmt: skip


@pytest.fixture
def shop_key(engine: Engine) -> str:
    with engine.begin() as conn:
        return auth.create_key(
            conn, name="shop", scopes=["track"], origins=[SHOP, "http://localhost:3000"]
        )[1]


def call(client: TestClient, key: str | None, origin: str | None, path: str = "/v1/t",
         **body: object) -> object:  # fmt: skip
    headers = {"content-type": "text/plain"}  # what analytics.js sends
    if origin is not None:
        headers["origin"] = origin
    message = {"userId": "web-1", "event": "Order Completed", "messageId": f"m{next(IDS)}", **body}
    return client.post(path, content=orjson.dumps(message), headers=headers,
                       auth=(key, "") if key else None)  # type: ignore[arg-type]  # fmt: skip


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def test_preflight_is_answered_for_any_origin_on_the_tracking_paths_only(
    client: TestClient, api_key: str
) -> None:
    for path in ("/v1/t", "/v1/track", "/v1/b", "/v1/batch", "/v1/projects/k/settings",
                 "/sourceConfig/"):  # fmt: skip
        got = client.options(path, headers=PREFLIGHT)
        assert got.status_code == 204, (path, got.text)
        assert got.headers["access-control-allow-origin"] == "https://anyone.example"
        assert got.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
        allowed = {
            h.strip().lower() for h in got.headers["access-control-allow-headers"].split(",")
        }
        assert {"authorization", "content-type", "anonymousid", "x-retry-count"} <= allowed
        assert "access-control-allow-credentials" not in got.headers  # never cookies
        assert "origin" in got.headers["vary"].lower()
    for path in ("/api/events", "/api/segments", "/customers", "/login", "/healthz"):
        preflight = client.options(path, headers=PREFLIGHT)
        assert preflight.status_code == 405, path
        assert "access-control-allow-origin" not in preflight.headers
        plain = client.get(path, headers={"origin": SHOP, "authorization": f"Bearer {api_key}"})
        assert "access-control-allow-origin" not in plain.headers, path


def test_the_short_paths_record_each_kind_of_call(
    client: TestClient, engine: Engine, write_key: str
) -> None:
    common = {"anonymousId": "anon-9", "timestamp": "2026-11-01T10:00:00Z"}
    calls = {
        "/v1/t": {"event": "Product Viewed"}, "/v1/p": {"name": "Home"},
        "/v1/s": {"name": "Cart"}, "/v1/i": {"userId": "u9", "traits": {"name": "Nine"}},
        "/v1/a": {"userId": "u9", "previousId": "anon-9"}, "/v1/g": {"groupId": "acme"},
        "/v1/b": {"batch": [{"type": "track", "event": "Order Completed", **common,
                             "properties": {"revenue": 5}}]},
    }  # fmt: skip
    for path, body in calls.items():
        got = client.post(path, content=orjson.dumps({**common, **body}), auth=(write_key, ""),
                          headers={"content-type": "text/plain"})  # fmt: skip
        assert got.status_code == 200 and got.json()["stored"] == 1, (path, got.text)
    with engine.connect() as conn:
        kinds = Counter(conn.execute(text("SELECT kind FROM events")).scalars())
        owners = conn.execute(text("SELECT count(DISTINCT customer_id) FROM events")).scalar()
    assert kinds == {"track": 2, "page": 1, "screen": 1, "identify": 1, "alias": 1, "group": 1}
    assert owners == 1


def test_a_browser_key_accepts_only_its_origins(
    client: TestClient, engine: Engine, shop_key: str, write_key: str
) -> None:
    ok = call(client, shop_key, SHOP)
    assert ok.status_code == 200, ok.text  # type: ignore[attr-defined]
    assert ok.headers["access-control-allow-origin"] == SHOP  # type: ignore[attr-defined]
    assert "origin" in ok.headers["vary"].lower()  # type: ignore[attr-defined]
    assert call(client, shop_key, "http://localhost:3000").status_code == 200  # type: ignore[attr-defined]
    assert event_count(engine) == 2

    refused = call(client, shop_key, "https://evil.example")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "'https://evil.example'" in refused.json()["message"]  # type: ignore[attr-defined]
    # the page may read the refusal, so that the SDK drops the call instead of retrying it
    assert refused.headers["access-control-allow-origin"] == "https://evil.example"  # type: ignore[attr-defined]
    for origin in ("https://shop.example:8443", "http://shop.example", "null"):
        assert call(client, shop_key, origin).status_code == 403, origin  # type: ignore[attr-defined]
    # a key without origins (a server's) is refused to every web page
    assert call(client, write_key, SHOP).status_code == 403  # type: ignore[attr-defined]
    # from a page, the key must be in the Authorization header: a body-only key is refused
    assert call(client, None, SHOP, writeKey=shop_key).status_code == 401  # type: ignore[attr-defined]
    assert call(client, "hxw_unknown", SHOP).status_code == 401  # type: ignore[attr-defined]
    refused_batch = call(client, shop_key, "https://evil.example", "/v1/batch", batch=[])
    assert refused_batch.status_code == 403  # type: ignore[attr-defined]
    assert event_count(engine) == 2  # nothing refused was stored

    # without an Origin (servers, SDKs outside browsers) everything works as before
    assert call(client, shop_key, None).status_code == 200  # type: ignore[attr-defined]
    assert call(client, None, None, writeKey=write_key).status_code == 200  # type: ignore[attr-defined]
    assert event_count(engine) == 4


def test_segment_settings_point_analytics_js_back_here(
    client: TestClient, shop_key: str, write_key: str
) -> None:
    got = client.get(f"/v1/projects/{shop_key}/settings", headers={"origin": SHOP})
    assert got.status_code == 200, got.text
    assert got.headers["access-control-allow-origin"] == SHOP
    found = got.json()
    assert list(found["integrations"]) == ["Segment.io"]  # no other destination to load
    segment_io = found["integrations"]["Segment.io"]
    assert segment_io["apiKey"] == shop_key
    assert (segment_io["protocol"], segment_io["apiHost"]) == ("http", "testserver/v1")
    assert found["metrics"]["sampleRate"] == 0 and found["remotePlugins"] == []
    refused = client.get(
        f"/v1/projects/{shop_key}/settings", headers={"origin": "https://x.example"}
    )
    assert refused.status_code == 403 and "https://x.example" in refused.json()["message"]
    assert client.get("/v1/projects/hxw_nope/settings").status_code == 401
    assert client.get(f"/v1/projects/{write_key}/settings").status_code == 200  # a server's


def test_the_public_url_is_where_browsers_send(settings: Settings, engine: Engine,
                                               shop_key: str) -> None:  # fmt: skip
    public = Settings(database_url=settings.database_url, environment="test",
                      public_url="https://hx.example/pulse/")  # fmt: skip
    with TestClient(create_app(public)) as client:
        found = client.get(f"/v1/projects/{shop_key}/settings").json()
    segment_io = found["integrations"]["Segment.io"]
    assert (segment_io["protocol"], segment_io["apiHost"]) == ("https", "hx.example/pulse/v1")


def test_rudderstack_source_config(client: TestClient, engine: Engine, shop_key: str) -> None:
    query = f"/sourceConfig/?p=npm&v=3.34.1&writeKey={shop_key}"
    got = client.get(query, auth=(shop_key, ""), headers={"origin": SHOP})
    assert got.status_code == 200, got.text
    assert got.headers["access-control-allow-origin"] == SHOP
    source = got.json()["source"]
    # what the SDK checks before it starts: an id, a config object, a list of destinations
    assert source["id"] and isinstance(source["config"], dict) and source["destinations"] == []
    assert source["enabled"] is True and source["writeKey"] == shop_key
    assert source["config"]["statsCollection"] == {"errors": {"enabled": False},
                                                   "metrics": {"enabled": False}}  # fmt: skip
    assert client.get("/sourceConfig", params={"writeKey": shop_key}).status_code == 200
    assert client.get("/sourceConfig/").status_code == 401
    assert client.get(query, headers={"origin": "https://x.example"}).status_code == 403
    with engine.begin() as conn:
        key_id = auth.check_key(conn, shop_key).id  # type: ignore[union-attr]
        auth.revoke_key(conn, key_id=key_id)
    client.app.state.key_cache.forget(key_id)  # type: ignore[attr-defined]
    assert client.get("/sourceConfig/", params={"writeKey": shop_key}).status_code == 401
