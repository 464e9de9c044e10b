"""Answers and survey filters take the same range of moments and the same NUL rule as events:
a bad answer is refused on its own naming its field, a bad filter is a 4xx naming it; on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.customers.test_pages import sign_in
from tests.surveys.invites import HTML, answers, invite, link

NOW = datetime.now(UTC)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def answer(i: int, **extra: Any) -> dict[str, Any]:
    return {"survey": "Relationship NPS", "score": 9, "email": f"c{i}@example.com",
            "answered_at": (NOW - timedelta(days=1)).isoformat(), **extra}  # fmt: skip


@pytest.fixture
def survey(client: TestClient, api_key: str) -> None:
    made = client.post("/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key))
    assert made.status_code == 201, made.text


def test_99_good_answers_and_one_bad_store_99(
    client: TestClient, api_key: str, survey: None
) -> None:
    rows = [answer(i) for i in range(99)]
    rows.insert(50, answer(500, answered_at="0001-01-01T00:00:00+14:00"))
    got = client.post("/api/responses", json={"responses": rows}, headers=auth(api_key))
    assert got.status_code == 200, got.text
    assert got.json()["stored"] == 99
    assert got.json()["errors"] == [{
        "index": 50, "field": "responses[50].answered_at",
        "message": "answered_at: 0001-01-01T00:00:00+14:00 is before 1970-01-01, the earliest "
                   "moment accepted",
    }]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ({"answered_at": "9999-12-31T23:59:59-14:00"}, "answered_at", "is after year 9999"),
        ({"answered_at": "0001-01-01T00:00:00Z"}, "answered_at", "is before 1970-01-01"),
        ({"why": "slow\u0000delivery"}, "why", "why: text contains a NUL character"),
        ({"department": "\u0000"}, "department", "department: text contains a NUL"),
        ({"email": "a" * 5000 + "@example.com"}, "email", "at most 320 characters"),
        ({"message_id": "m" * 200}, "message_id", "at most 180 characters"),
    ],
)
def test_a_bad_answer_is_refused_naming_its_field(
    client: TestClient, api_key: str, survey: None, extra: dict[str, Any], field: str,
    expected: str,
) -> None:  # fmt: skip
    rows = [answer(1), answer(2, **extra), answer(3)]
    got = client.post("/api/responses", json={"responses": rows}, headers=auth(api_key))
    assert got.status_code == 200, got.text
    assert got.json()["stored"] == 2
    [error] = got.json()["errors"]
    assert error["field"] == f"responses[1].{field}" and expected in error["message"], error
    single = client.post("/api/responses", json=answer(4, **extra), headers=auth(api_key))
    assert single.status_code == 400 and expected in single.json()["message"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/responses?until=9999-12-31", "until"),
        ("/api/responses?since=0001-01-01", "since"),
        ("/api/nps?since=0001-01-01", "since"),
        ("/api/nps?until=9999-12-31&by=department", "until"),
        ("/api/journey/funnel?start=0001-01-01", "start"),
        ("/api/journey/funnel?end=9999-12-31", "end"),
        ("/api/journey/funnel?end=9999-12-31T23:59:59-14:00", "end"),
        ("/api/customers/c1@example.com/pulse/history?start=0001-01-01T00:00:00%2B14:00", "start"),
        ("/api/customers/c1@example.com/pulse/history?end=9999-12-31T23:59:59-14:00", "end"),
    ],
)
def test_filters_outside_the_range_are_4xx_naming_them(
    client: TestClient, api_key: str, survey: None, path: str, field: str
) -> None:
    client.post("/api/responses", json=answer(1), headers=auth(api_key))
    got = client.get(path, headers=auth(api_key))
    assert got.status_code in (400, 422), (path, got.status_code, got.text)
    assert field in got.json()["message"] and (
        "1970-01-01" in got.json()["message"]
        or "latest" in got.json()["message"]
        or "later" in got.json()["message"]
    ), got.json()


def test_the_nps_page_refuses_days_outside_the_range(client: TestClient, engine: Engine) -> None:
    sign_in(client, engine, role="analyst")
    early = client.get("/nps?since=0001-01-01", headers=HTML)
    assert early.status_code == 400 and "before 1970-01-01" in early.text
    late = client.get("/nps?until=9999-12-31", headers=HTML)
    assert late.status_code == 400 and "the latest day accepted" in late.text
    assert client.get("/nps?since=1970-01-01", headers=HTML).status_code == 200


def test_a_nul_in_the_public_survey_form_is_refused(
    client: TestClient, engine: Engine, settings: Any
) -> None:
    url = link(client, invite(engine, settings))
    refused = client.post(url, data={"score": "2", "step": "why", "why": "late\u0000"},
                          headers=HTML)  # fmt: skip
    assert refused.status_code == 400 and "why: text contains a NUL character" in refused.text
    assert answers(engine) == []
    kept = client.post(url, data={"score": "2", "step": "why", "why": "late"}, headers=HTML)
    assert kept.status_code == 200 and [a.why for a in answers(engine)] == ["late"]
