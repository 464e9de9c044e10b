"""The tracking and event APIs: good batches, bad input, keys; on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip

import orjson
from fastapi.testclient import TestClient

BASIC = ("", "")


def track(n: int, **extra: object) -> dict[str, object]:
    return {"type": "track", "messageId": f"m{n}", "userId": f"u{n % 3}", "event": "Order Completed",
            "properties": {"revenue": 10.5, "currency": "eur"},
            "timestamp": "2026-01-01T10:00:00Z", **extra}  # fmt: skip


def post(client: TestClient, key: str, path: str, body: object, **kw: object) -> object:
    return client.post(path, content=orjson.dumps(body), auth=(key, ""),  # type: ignore[arg-type]
                       headers={"content-type": "application/json"}, **kw)  # fmt: skip


def test_batch_is_stored_once_and_resend_adds_nothing(
    client: TestClient, write_key: str, api_key: str
) -> None:
    body = {"batch": [track(n) for n in range(20)], "sentAt": "2026-01-01T10:00:01Z"}
    first = post(client, write_key, "/v1/batch", body)
    again = post(client, write_key, "/v1/batch", body)
    assert first.status_code == 200, first.text  # type: ignore[attr-defined]
    assert first.json()["stored"] == 20  # type: ignore[attr-defined]
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 20  # type: ignore[attr-defined]
    profile = client.get("/api/customers/u1", headers={"authorization": f"Bearer {api_key}"}).json()
    assert profile["event_count"] == 7
    assert profile["events"][0]["value"] == 10.5 and profile["events"][0]["currency"] == "EUR"


def test_single_calls_and_gzip(client: TestClient, write_key: str, api_key: str) -> None:
    ok = post(
        client,
        write_key,
        "/v1/identify",
        {"userId": "u5", "traits": {"email": "Five@Example.com ", "name": "Five"}},
    )
    assert ok.status_code == 200, ok.text  # type: ignore[attr-defined]
    alias = post(client, write_key, "/v1/alias", {"previousId": "anon-5", "userId": "u5"})
    assert alias.status_code == 200  # type: ignore[attr-defined]
    page = post(client, write_key, "/v1/page", {"anonymousId": "anon-5", "name": "Home"})
    assert page.status_code == 200  # type: ignore[attr-defined]
    packed = gzip.compress(
        orjson.dumps({"batch": [{"type": "screen", "userId": "u5", "name": "Cart"}]})
    )
    zipped = client.post("/v1/batch", content=packed, auth=(write_key, ""),
                         headers={"content-encoding": "gzip", "content-type": "application/json"})  # fmt: skip
    assert zipped.status_code == 200, zipped.text
    profile = client.get(
        "/api/customers/five@example.com", headers={"authorization": f"Bearer {api_key}"}
    ).json()
    assert profile["name"] == "Five"
    assert {e["channel"] for e in profile["events"]} >= {"web", "app"}
    assert {i["kind"] for i in profile["identities"]} == {"user_id", "email", "anonymous_id"}


def test_missing_and_bad_keys_get_401(client: TestClient, write_key: str) -> None:
    body = {"batch": [track(1)]}
    none = client.post("/v1/batch", content=orjson.dumps(body))
    wrong = post(client, "nope", "/v1/batch", body)
    assert none.status_code == 401 and "missing key" in none.json()["message"]
    assert wrong.status_code == 401 and "not valid" in wrong.json()["message"]  # type: ignore[attr-defined]
    assert client.post("/api/events", json={"events": []}).status_code == 401
    scoped = client.post(
        "/api/events", json={"events": [{}]}, headers={"authorization": f"Bearer {write_key}"}
    )
    assert scoped.status_code == 403 and "write" in scoped.json()["message"]


def test_bad_json_missing_fields_wrong_types_get_4xx_with_reasons(
    client: TestClient, write_key: str
) -> None:
    bad_json = client.post("/v1/batch", content=b'{"batch": [', auth=(write_key, ""))
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["message"]
    not_list = post(client, write_key, "/v1/batch", {"batch": "x"})
    assert not_list.status_code == 400 and "batch" in not_list.json()["message"]  # type: ignore[attr-defined]
    no_event = post(client, write_key, "/v1/track", {"userId": "u1"})
    assert no_event.status_code == 400 and "event" in no_event.json()["message"]  # type: ignore[attr-defined]
    no_id = post(client, write_key, "/v1/track", {"event": "x"})
    assert no_id.status_code == 400 and "userId" in no_id.json()["message"]  # type: ignore[attr-defined]
    wrong_type = post(
        client, write_key, "/v1/track", {"event": "x", "userId": "u", "timestamp": "yesterday"}
    )
    assert wrong_type.status_code == 400 and "timestamp" in wrong_type.json()["message"]  # type: ignore[attr-defined]
    bad_email = post(
        client, write_key, "/v1/identify", {"userId": "u", "traits": {"email": "no-at"}}
    )
    assert bad_email.status_code == 400 and "traits.email" in bad_email.json()["message"]  # type: ignore[attr-defined]


def test_partly_bad_batch_keeps_good_messages_and_reports_bad_ones(
    client: TestClient, write_key: str
) -> None:
    body = {
        "batch": [
            track(1),
            {"type": "track", "userId": "u"},
            track(2),
            {"type": "nonsense", "userId": "u"},
        ]
    }
    answer = post(client, write_key, "/v1/batch", body)
    assert answer.status_code == 200  # type: ignore[attr-defined]
    data = answer.json()  # type: ignore[attr-defined]
    assert data["stored"] == 2
    assert [r["index"] for r in data["rejected"]] == [1, 3]
    assert "event" in data["rejected"][0]["message"] and "type" in data["rejected"][1]["message"]


def test_oversized_batch_and_message_are_refused(client: TestClient, write_key: str) -> None:
    huge = {"batch": [track(n, properties={"pad": "x" * 30_000}) for n in range(20)]}
    too_big = post(client, write_key, "/v1/batch", huge)
    assert too_big.status_code == 413 and "limit" in too_big.json()["message"]  # type: ignore[attr-defined]
    one_big = post(
        client, write_key, "/v1/batch", {"batch": [track(1, properties={"pad": "x" * 40_000})]}
    )
    assert one_big.status_code == 400 and "32768 bytes" in one_big.json()["message"]  # type: ignore[attr-defined]
    bomb = gzip.compress(b'{"batch": [' + b" " * 2_000_000 + b"]}")
    zipped = client.post(
        "/v1/batch", content=bomb, auth=(write_key, ""), headers={"content-encoding": "gzip"}
    )
    assert zipped.status_code == 413


def test_api_events_validates_each_event(client: TestClient, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    body = {"events": [
        {"type": "purchase", "occurred_at": "2026-02-01T09:00:00+01:00", "email": "a@example.com", "value": 5, "channel": "store"},
        {"type": "purchase", "occurred_at": "2026-02-01", "value": "lots", "email": "b@example.com"},
        {"type": "purchase", "occurred_at": "2026-02-01", "channel": "fax", "email": "c@example.com"},
        {"type": "purchase", "occurred_at": "2026-02-01"},
    ]}  # fmt: skip
    answer = client.post("/api/events", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    rejected = {r["index"]: r["message"] for r in answer.json()["rejected"]}
    assert answer.json()["stored"] == 1
    assert "value" in rejected[1] and "channel" in rejected[2] and "identity" in rejected[3]
    profile = client.get("/api/customers/a@example.com", headers=headers).json()
    assert profile["events"][0]["occurred_at"].startswith("2026-02-01T08:00:00")
    missing = client.get("/api/customers/nobody@example.com", headers=headers)
    assert missing.status_code == 404 and "nobody@example.com" in missing.json()["message"]
