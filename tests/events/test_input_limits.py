"""No input loses good data: every bad message of a tracking or event batch is refused on its
own, naming the field, and the good ones are stored; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx import Response

GOOD_AT = "2026-01-01T10:00:00Z"


def good(n: int) -> dict[str, Any]:
    return {"type": "track", "messageId": f"good-{n}", "userId": f"g{n}", "event": "purchase",
            "properties": {"revenue": 10.0}, "timestamp": GOOD_AT}  # fmt: skip


def bad(**fields: Any) -> dict[str, Any]:
    return {"type": "track", "messageId": "bad", "userId": "b", "event": "purchase", **fields}


def segment(client: TestClient, key: str, body: object, path: str = "/v1/batch") -> Response:
    return client.post(path, content=orjson.dumps(body), auth=(key, ""))


def events(client: TestClient, api_key: str, body: object) -> Response:
    return client.post("/api/events", content=orjson.dumps(body),
                       headers={"authorization": f"Bearer {api_key}"})  # fmt: skip


def one_bad(client: TestClient, key: str, message: dict[str, Any]) -> str:
    """Send two good messages around `message`; return why it was refused."""
    answer = segment(client, key, {"batch": [good(1), message, good(2)]})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["stored"] + data["duplicates"] == 2, data
    assert [r["index"] for r in data["rejected"]] == [1], data
    reason: str = data["rejected"][0]["message"]
    return reason


def stored_events(client: TestClient, api_key: str, ref: str) -> int:
    profile = client.get(f"/api/customers/{ref}", headers={"authorization": f"Bearer {api_key}"})
    assert profile.status_code == 200, profile.text
    count: int = profile.json()["event_count"]
    return count


def test_a_batch_of_99_good_messages_and_one_bad_stores_99(
    client: TestClient, write_key: str, api_key: str
) -> None:
    batch = [good(n) for n in range(99)]
    batch.insert(42, bad(timestamp="0001-01-01T00:00:00Z"))
    answer = segment(client, write_key, {"batch": batch})
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == 99
    assert answer.json()["rejected"] == [{"index": 42, "message": "timestamp: 0001-01-01T00:00:00Z"
                                          " is before 1970-01-01, the earliest moment accepted"}]  # fmt: skip
    own = [{"type": "purchase", "occurred_at": GOOD_AT, "user_id": f"e{n}"} for n in range(99)]
    own.insert(7, {"type": "purchase", "occurred_at": "9999-12-31T23:59:59-14:00", "user_id": "x"})
    answer = events(client, api_key, {"events": own})
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == 99
    [refused] = answer.json()["rejected"]
    assert refused["index"] == 7 and refused["message"].startswith(
        "occurred_at: 9999-12-31T23:59:59-14:00 is after year 9999"
    )
    assert stored_events(client, api_key, "e98") == 1


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"timestamp": "0001-01-01T00:00:00Z"}, "timestamp: 0001-01-01T00:00:00Z is before 1970"),
        ({"timestamp": "9999-12-31T23:59:59-14:00"}, "timestamp: 9999-12-31T23:59:59-14:00 is after year 9999"),
        ({"timestamp": "0001-01-01T00:00:00+14:00"}, "timestamp: 0001-01-01T00:00:00+14:00 is before 1970"),
        ({"timestamp": "2999-01-01T00:00:00Z"}, "timestamp: 2999-01-01T00:00:00Z is more than a day after"),
        ({"originalTimestamp": "0001-01-01T00:00:00Z"}, "originalTimestamp: 0001-01-01T00:00:00Z is before 1970"),
        ({"originalTimestamp": "9999-12-31T23:59:59-14:00"}, "originalTimestamp: 9999-12-31T23:59:59-14:00 is after year 9999"),
        ({"originalTimestamp": "0001-01-01T00:00:00Z", "sentAt": "9999-12-31T00:00:00Z"},
         "originalTimestamp, sentAt: 0001-01-01T00:00:00Z sent at 9999-12-31T00:00:00Z"),
        ({"originalTimestamp": "1970-01-01T00:00:00Z", "sentAt": "2999-01-01T00:00:00Z"},
         "originalTimestamp, sentAt: 1970-01-01T00:00:00Z sent at 2999-01-01T00:00:00Z"),
    ],
)  # fmt: skip
def test_moments_out_of_range_are_refused_per_message(
    client: TestClient, write_key: str, fields: dict[str, Any], expected: str
) -> None:
    assert one_bad(client, write_key, bad(**fields)).startswith(expected)


def test_a_skewed_sender_clock_is_corrected_within_the_range(
    client: TestClient, write_key: str, api_key: str
) -> None:
    """A device whose clock reads 1971 is corrected by its own sentAt (Segment's rule)."""
    skewed = bad(originalTimestamp="1971-01-01T00:00:00Z", sentAt="1971-01-01T00:00:10Z")
    answer = segment(client, write_key, {"batch": [skewed]})
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    profile = client.get("/api/customers/b", headers={"authorization": f"Bearer {api_key}"})
    assert profile.json()["events"][0]["occurred_at"] > "2026"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"properties": {"note": "a\u0000b"}}, "properties.note: text contains a NUL character"),
        ({"properties": {"deep": {"list": [1, {"x": "\u0000"}]}}}, "properties.deep.list[1].x: text contains a NUL"),
        ({"properties": {"k\u0000ey": 1}}, "properties.k\\u0000ey: a key contains a NUL character"),
        ({"event": "Order\u0000Completed"}, "event: text contains a NUL character"),
        ({"userId": "u\u0000"}, "userId: text contains a NUL character"),
        ({"context": {"page": {"title": "\u0000"}}}, "context.page.title: text contains a NUL"),
    ],
)  # fmt: skip
def test_a_nul_character_is_refused_naming_the_field(
    client: TestClient, write_key: str, fields: dict[str, Any], expected: str
) -> None:
    assert one_bad(client, write_key, bad(**fields)).startswith(expected)


def test_nul_in_traits_and_in_the_event_api(
    client: TestClient, write_key: str, api_key: str
) -> None:
    identify = {"type": "identify", "userId": "b", "traits": {"name": "Ann\u0000"}}
    assert one_bad(client, write_key, identify).startswith("traits.name: text contains a NUL")
    body = {"events": [
        {"type": "purchase", "occurred_at": GOOD_AT, "user_id": "e1"},
        {"type": "purchase", "occurred_at": GOOD_AT, "user_id": "e2", "properties": {"why": "\u0000"}},
    ]}  # fmt: skip
    answer = events(client, api_key, body)
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    assert answer.json()["rejected"][0]["message"].startswith("properties.why: text contains a NUL")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"userId": "x" * 5000}, "userId: user_id is longer than 320 characters"),
        ({"anonymousId": "x" * 5000}, "anonymousId: anonymous_id is longer than 320"),
        ({"context": {"externalIds": [{"id": "x" * 5000, "type": "crm"}]}},
         "context.externalIds[0].id: external_id is longer than 320"),
        ({"context": {"externalIds": [{"id": "x" * 300, "type": "y" * 300}]}},
         "context.externalIds[0]: external_id is longer than 320"),
        ({"event": "x" * 5000}, "event: String should have at most 200 characters"),
        ({"messageId": "m" * 5000}, "messageId: String should have at most 200 characters"),
    ],
)  # fmt: skip
def test_long_identities_and_names_are_refused_naming_the_field(
    client: TestClient, write_key: str, fields: dict[str, Any], expected: str
) -> None:
    assert one_bad(client, write_key, bad(**fields)).startswith(expected)


def test_long_fields_in_the_event_api(client: TestClient, api_key: str) -> None:
    body = {"events": [
        {"type": "purchase", "occurred_at": GOOD_AT, "user_id": "e1"},
        {"type": "purchase", "occurred_at": GOOD_AT, "user_id": "x" * 5000},
        {"type": "purchase", "occurred_at": GOOD_AT, "email": "a" * 5000 + "@example.com"},
    ]}  # fmt: skip
    answer = events(client, api_key, body)
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    reasons = [r["message"] for r in answer.json()["rejected"]]
    assert reasons[0].startswith("user_id:") and reasons[1].startswith("email:")


@pytest.mark.parametrize("depth", [65, 300, 1000, 1100])
def test_json_nested_too_deep_is_400(
    client: TestClient, write_key: str, api_key: str, depth: int
) -> None:
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    body = b'{"batch":[{"type":"track","userId":"u","event":"e","properties":' + nested + b"}]}"
    answer = client.post("/v1/batch", content=body, auth=(write_key, ""))
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == "body nests deeper than 64 levels"
    lists = b"[" * depth + b"]" * depth
    answer = client.post("/api/events", content=b'{"events":' + lists + b"}",
                         headers={"authorization": f"Bearer {api_key}"})  # fmt: skip
    assert answer.status_code == 400 and "nests deeper than 64" in answer.json()["message"]


def test_json_nested_within_the_limit_is_stored(
    client: TestClient, write_key: str, api_key: str
) -> None:
    # the body, the batch list, the message and its properties are 4 levels
    nested: Any = "deep"
    for _ in range(60):
        nested = {"a": nested, "s": '[{\\"}]'}  # brackets inside strings do not count
    answer = segment(client, write_key, {"batch": [bad(properties=nested)]})
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    assert stored_events(client, api_key, "b") == 1


def test_gzip_must_be_one_whole_member(client: TestClient, write_key: str) -> None:
    packed = gzip.compress(orjson.dumps({"batch": [good(1)]}))

    def send(content: bytes) -> Response:
        return client.post("/v1/batch", content=content, auth=(write_key, ""),
                           headers={"content-encoding": "gzip"})  # fmt: skip

    truncated = send(packed[:-8])
    assert truncated.status_code == 400
    assert "ends before the compressed data does" in truncated.json()["message"]
    assert send(packed[: len(packed) // 2]).status_code == 400
    twice = send(packed + packed)
    assert twice.status_code == 400 and "follow the compressed data" in twice.json()["message"]
    garbage = send(packed + b"garbage")
    assert garbage.status_code == 400 and "7 bytes follow" in garbage.json()["message"]
    assert send(packed).json()["stored"] == 1


def test_the_key_is_checked_before_the_body_is_read(client: TestClient, write_key: str) -> None:
    for path in ("/v1/batch", "/v1/track"):
        no_key = client.post(path, content=b'{"batch": [')
        assert no_key.status_code == 401 and "missing key" in no_key.json()["message"]
        wrong = client.post(path, content=b"{not json", auth=("hxw_wrong", ""))
        assert wrong.status_code == 401 and "not valid" in wrong.json()["message"]
        bearer = client.post(path, content=b"\x1f\x8b garbage",
                             headers={"authorization": "Bearer nope", "content-encoding": "gzip"})  # fmt: skip
        assert bearer.status_code == 401
        unreadable = client.post(path, content=b"\x1f\x8b", headers={"content-encoding": "gzip"})
        assert unreadable.status_code == 401
    with_key = client.post("/v1/batch", content=b"{not json", auth=(write_key, ""))
    assert with_key.status_code == 400 and "not valid JSON" in with_key.json()["message"]
    in_body = {"writeKey": write_key, "batch": [good(1)]}
    assert client.post("/v1/batch", content=orjson.dumps(in_body)).json()["stored"] == 1


def test_absurd_amounts_are_refused_naming_the_field(
    client: TestClient, write_key: str, api_key: str
) -> None:
    reason = one_bad(client, write_key, bad(properties={"revenue": 1e308}))
    assert reason == "properties.revenue: 1e+308 is beyond the largest amount accepted, ±1e+12"
    reason = one_bad(client, write_key, bad(properties={"revenue": 5, "total": -2e12}))
    assert reason.startswith("properties.total: -2e+12 is beyond")
    body = {"events": [
        {"type": "purchase", "occurred_at": GOOD_AT, "user_id": "e1", "value": 1e12},
        {"type": "purchase", "occurred_at": GOOD_AT, "user_id": "e2", "value": 1e13},
    ]}  # fmt: skip
    answer = events(client, api_key, body)
    assert answer.json()["stored"] == 1
    assert answer.json()["rejected"][0]["message"].startswith("value: 1e+13 is beyond")
    missing = client.get("/api/customers/b", headers={"authorization": f"Bearer {api_key}"})
    assert missing.status_code == 404  # the customer of the absurd purchase was never made
