"""A segment a survey is sent to cannot be deleted from under it: a 409 that names the survey,
through the API and the page alike, and both stay as they were."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.auth import service as auth
from tests.customers.test_pages import sign_in

DEFINITION = {"field": "stage", "op": "gte", "value": "customer"}


def test_a_segment_in_use_by_a_survey_is_kept(client: TestClient, engine: Engine) -> None:
    with engine.begin() as conn:
        key = auth.create_key(conn, name="in use", scopes=["read", "write"])[1]
    headers = {"authorization": f"Bearer {key}"}
    segment = client.post("/api/segments", json={"name": "Buyers", "definition": DEFINITION},
                          headers=headers).json()  # fmt: skip
    survey = {"name": "Quarterly", "kind": "nps", "segment_id": segment["id"], "every_days": 90}
    assert client.post("/api/surveys", json=survey, headers=headers).status_code == 201

    refused = client.delete(f"/api/segments/{segment['id']}", headers=headers)
    assert refused.status_code == 409, refused.text
    assert "'Quarterly'" in refused.json()["message"]
    assert client.get(f"/api/segments/{segment['id']}", headers=headers).status_code == 200

    sign_in(client, engine, role="analyst")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/segments").text)
    assert token is not None
    page = client.post(f"/segments/{segment['id']}/delete", data={"csrf_token": token.group(1)},
                       headers={"accept": "text/html"})  # fmt: skip
    assert page.status_code == 409 and "Quarterly" in page.text
    assert client.get(f"/api/segments/{segment['id']}", headers=headers).status_code == 200

    other = client.post("/api/segments", json={"name": "Unused", "definition": DEFINITION},
                        headers=headers).json()  # fmt: skip
    assert client.delete(f"/api/segments/{other['id']}", headers=headers).status_code == 204
