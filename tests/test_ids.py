"""Ids in paths, queries, forms and bodies: past 64 bits, or spelled in Unicode digits, they name
no row (404, or a 4xx naming the parameter), never a database error; on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from hxpulse.db.base import MAX_ID, parse_id

HUGE = "99999999999999999999"
JUST_PAST = str(2**63)
HTML = {"accept": "text/html"}


def test_parse_id_takes_ascii_digits_within_bigint() -> None:
    assert parse_id("42") == 42 and parse_id(" 0042 ") == 42
    assert parse_id(str(MAX_ID)) == MAX_ID
    for text in (JUST_PAST, HUGE, "0", "-1", "²", "٣", "1.0", "", "4a"):
        assert parse_id(text) is None, text


def sign_in_admin(client: TestClient, engine: Engine) -> str:
    """Sign in as an admin; return the page's CSRF token."""
    with engine.begin() as conn:
        auth.create_user(conn, email="ids@example.com", password="ids-password-1", role="admin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    client.post("/login", data={"email": "ids@example.com", "password": "ids-password-1",
                                "csrf_token": token.group(1)})  # fmt: skip
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/surveys/new").text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("ref", [HUGE, JUST_PAST, "%C2%B2", "0"])
def test_api_paths_with_ids_out_of_range(
    client: TestClient, engine: Engine, api_key: str, ref: str
) -> None:
    with engine.begin() as conn:
        admin_key = auth.create_key(conn, name="ids admin", scopes=["admin"])[1]
    headers = {"authorization": f"Bearer {api_key}"}
    reads = ["/api/segments/{}", "/api/segments/{}/members", "/api/segments/{}/export.csv",
             "/api/customers/{}", "/api/customers/{}/pulse", "/api/customers/{}/journey",
             "/api/customers/{}/pulse/history", "/api/surveys/{}"]  # fmt: skip
    for path in reads:
        got = client.get(path.format(ref), headers=headers)
        assert got.status_code in (404, 422), (path, got.status_code, got.text)
    for method, path in (("PUT", "/api/segments/{}"), ("DELETE", "/api/segments/{}"),
                         ("PUT", "/api/surveys/{}"), ("POST", "/api/surveys/{}/invite"),
                         ("PATCH", "/api/themes/{}"), ("POST", "/api/themes/{}/merge")):  # fmt: skip
        got = client.request(method, path.format(ref), headers=headers, json={"name": "x"})
        assert got.status_code in (400, 404, 422), (method, path, got.status_code, got.text)
    admin = {"authorization": f"Bearer {admin_key}"}
    for method, path in (("PATCH", "/api/users/{}"), ("POST", "/api/users/{}/password"),
                         ("POST", "/api/users/{}/sign-out"), ("DELETE", "/api/keys/{}")):  # fmt: skip
        got = client.request(method, path.format(ref), headers=admin, json={"role": "agent"})
        assert got.status_code in (404, 422), (method, path, got.status_code, got.text)
    segment = client.get(f"/api/segments/{ref}", headers=headers)
    if ref != "%C2%B2":
        assert segment.json()["errors"][0]["field"] == "path.segment_id"
    assert client.get(f"/api/customers/{ref}", headers=headers).status_code == 404


def test_ids_inside_bodies(client: TestClient, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    made = client.post("/api/surveys", json={"name": "S"}, headers=headers).json()
    recurring = client.post("/api/surveys", json={"name": "R", "segment_id": int(HUGE),
                                                  "every_days": 7}, headers=headers)  # fmt: skip
    assert recurring.status_code == 400 and "segment_id" in recurring.json()["message"]
    invite = client.post(f"/api/surveys/{made['id']}/invite", headers=headers,
                         json={"customers": [2**63, "²"], "via": "link"})  # fmt: skip
    assert invite.status_code in (200, 404), invite.text
    invite = client.post(f"/api/surveys/{made['id']}/invite", headers=headers,
                         json={"segment": 2**63, "via": "link"})  # fmt: skip
    assert invite.status_code == 404, invite.text
    merge = client.post("/api/themes/1/merge", headers=headers, json={"into": 2**64})
    assert merge.status_code == 400 and "into" in merge.json()["message"]
    nps = client.get("/api/nps", params={"survey": HUGE, "segment": "²"}, headers=headers)
    assert nps.status_code == 404


@pytest.mark.parametrize("ref", [HUGE, "%C2%B2"])
def test_pages_and_forms_with_ids_out_of_range(
    client: TestClient, engine: Engine, ref: str
) -> None:
    token = sign_in_admin(client, engine)
    for path in ("/segments/{}", "/surveys/{}", "/customers/{}", "/segments?from={}",
                 "/nps?survey={}", "/nps?segment={}"):  # fmt: skip
        got = client.get(path.format(ref), headers=HTML)
        assert got.status_code in (400, 404, 422), (path, got.status_code)
    for path in ("/segments/{}/delete", "/surveys/{}", "/surveys/{}/invite",
                 "/nps/themes/{}/rename", "/nps/themes/{}/merge", "/admin/users/{}/role",
                 "/admin/users/{}/disable", "/admin/users/{}/enable", "/admin/users/{}/password",
                 "/admin/users/{}/sign-out", "/admin/keys/{}/revoke"):  # fmt: skip
        got = client.post(path.format(ref), data={"csrf_token": token, "name": "x", "into": ref},
                          headers=HTML)  # fmt: skip
        assert got.status_code in (400, 404, 422), (path, got.status_code)
    into = "²" if ref == "%C2%B2" else ref
    merge = client.post("/nps/themes/1/merge", data={"csrf_token": token, "into": into},
                        headers=HTML)  # fmt: skip
    assert merge.status_code == 400 and "into: choose the theme" in merge.text
    form = {"csrf_token": token, "name": "Recurring", "kind": "nps", "segment_id": HUGE,
            "every_days": "7"}  # fmt: skip
    made = client.post("/surveys/new", data=form, headers=HTML)
    assert made.status_code == 400 and "9223372036854775807" in made.text


def test_numbers_past_64_bits_in_segment_conditions(client: TestClient, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}

    def count(condition: dict[str, object]) -> int:
        got = client.post("/api/segments/count", json={"definition": condition}, headers=headers)
        assert got.status_code in (200, 400), got.text
        return got.status_code

    assert count({"trait": "age", "op": "gt", "value": 2**63}) == 200
    assert count({"trait": "age", "op": "lt", "value": -(2**63) - 1}) == 200
    assert count({"field": "pulse", "op": "gt", "value": 10**23}) == 200
    assert count({"field": "open_negatives", "op": "gt", "value": 2**63}) == 400
