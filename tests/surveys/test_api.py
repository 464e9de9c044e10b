"""Surveys through HTTP: definitions, invitations (links and real email), answers posted in
batches with good rows kept, the NPS report and themes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.app import create_app
from hxpulse.config import Settings, SmtpSettings
from tests.surveys.smtp import Inbox, smtp_server  # noqa: F401

NOW = datetime.now(UTC)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_answers(client: TestClient, key: str, *rows: dict[str, Any], **params: str) -> Any:
    return client.post(
        "/api/responses", json={"responses": list(rows)}, headers=auth(key), params=params
    )


def answer(i: int, score: int, **extra: Any) -> dict[str, Any]:
    return {
        "survey": "Relationship NPS",
        "score": score,
        "email": f"c{i}@example.com",
        "answered_at": (NOW - timedelta(days=i % 20)).isoformat(),
        **extra,
    }


def test_define_a_survey_with_defaults_and_errors(client: TestClient, api_key: str) -> None:
    made = client.post("/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["kind"] == "nps"
    assert (
        body["question"] == "How likely are you to recommend our company to a friend or colleague?"
    )
    assert body["followups"] == {
        "detractor": "What could we do better?",
        "passive": "What would make it a 10?",
        "promoter": "What did we do well?",
    }
    again = client.post("/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key))
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "name"
    bad = client.post(
        "/api/surveys",
        json={"name": "X", "kind": "nps", "followups": {"happy": "?"}},
        headers=auth(api_key),
    )
    assert bad.status_code == 400 and "unknown band" in bad.json()["message"]
    bad = client.post("/api/surveys", json={"name": "X", "kind": "stars"}, headers=auth(api_key))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "kind"
    assert client.post("/api/surveys", json={"name": "X"}).status_code == 401
    listed = client.get("/api/surveys", headers=auth(api_key)).json()["items"]
    assert [s["name"] for s in listed] == ["Relationship NPS"]
    assert listed[0]["invited"] == 0 and listed[0]["response_rate"] is None


def test_a_partly_bad_batch_keeps_its_good_answers(client: TestClient, api_key: str) -> None:
    client.post("/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key))
    got = post_answers(
        client,
        api_key,
        answer(1, 10, why="Fast delivery"),
        answer(2, 11),
        {"survey": "Nope", "score": 3, "user_id": "u", "answered_at": NOW.isoformat()},
        answer(3, 4, channel="fax"),
        {"score": 3},
        answer(4, 6),
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["received"], body["stored"], body["rejected"]) == (6, 2, 4)
    fields = {e["index"]: e["field"] for e in body["errors"]}
    assert fields == {
        1: "responses[1].score",
        2: "responses[2].survey",
        3: "responses[3].channel",
        4: "responses[4].survey",
    }
    assert "0 to 10" in body["errors"][0]["message"]
    one = client.post("/api/responses", json=answer(5, 12), headers=auth(api_key))
    assert one.status_code == 400 and one.json()["errors"][0]["field"] == "responses[0].score"


def test_create_survey_on_the_fly(client: TestClient, api_key: str) -> None:
    got = post_answers(client, api_key, answer(1, 9), create_survey="nps")
    assert got.json()["stored"] == 1
    assert (
        client.get("/api/surveys/Relationship NPS", headers=auth(api_key)).json()["kind"] == "nps"
    )
    bad = post_answers(client, api_key, answer(1, 9), create_survey="stars")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "create_survey"


def test_nps_by_department_with_significance(client: TestClient, api_key: str) -> None:
    client.post("/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key))
    rows = []
    # Support: 20 promoters, 10 passives, 30 detractors → NPS −16.7; Sales: 40/10/10 → +50
    for i, (dept, score) in enumerate(
        [("Support", 10)] * 20
        + [("Support", 7)] * 10
        + [("Support", 2)] * 30
        + [("Sales", 9)] * 40
        + [("Sales", 8)] * 10
        + [("Sales", 0)] * 10
    ):
        rows.append(answer(i, score, department=dept, email=f"d{i}@example.com"))
    rows.append(answer(999, 10, department="Billing"))
    assert post_answers(client, api_key, *rows).json()["stored"] == 121
    got = client.get(
        "/api/nps", params={"by": "department", "compare": "Support,Sales"}, headers=auth(api_key)
    )
    assert got.status_code == 200, got.text
    body = got.json()
    groups = {g["department"]: g for g in body["groups"]}
    support, sales = groups["Support"], groups["Sales"]
    assert (support["promoters"], support["passives"], support["detractors"], support["n"]) == (
        20,
        10,
        30,
        60,
    )
    assert support["nps"] == pytest.approx(-100 / 6)
    # Var = (1/3 + 1/2 − (1/3 − 1/2)²)/60 = (0.8333 − 0.02778)/60 = 0.013426 → MoE 1.96·0.11587·100
    assert support["margin_of_error"] == pytest.approx(22.71, abs=0.01)
    assert sales["nps"] == pytest.approx(50.0)
    assert groups["Billing"]["too_small"] is True and support["too_small"] is False
    assert support["vs_rest"]["significant"] is True and support["vs_rest"]["difference"] < 0
    comparison = body["comparison"]
    assert comparison["difference"] == pytest.approx(-100 / 6 - 50)
    assert comparison["significant"] is True
    assert body["overall"]["n"] == 121
    monthly = client.get(
        "/api/nps", params={"by": "department", "period": "month"}, headers=auth(api_key)
    ).json()
    assert all(re.fullmatch(r"\d{4}-\d{2}", g["period"]) for g in monthly["groups"])
    assert sum(g["n"] for g in monthly["groups"]) == 121
    for params, field in [
        ({"by": "colour"}, "by"),
        ({"period": "year"}, "period"),
        ({"since": "yesterday"}, "since"),
        ({"compare": "Support"}, "compare"),
        ({"by": "department", "compare": "Support,Nowhere"}, "compare"),
    ]:
        bad = client.get("/api/nps", params=params, headers=auth(api_key))
        assert bad.status_code == 400, params
        assert bad.json()["errors"][0]["field"] == field


def test_invitations_as_links_with_the_fatigue_guard(
    client: TestClient, api_key: str, engine: Engine
) -> None:
    made = client.post(
        "/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key)
    ).json()
    other = client.post(
        "/api/surveys", json={"name": "Support CSAT", "kind": "csat"}, headers=auth(api_key)
    ).json()
    client.post(
        "/api/events",
        json={
            "events": [
                {"type": "signup", "occurred_at": NOW.isoformat(), "email": "ann@example.com"}
            ]
        },
        headers=auth(api_key),
    )
    first = client.post(
        f"/api/surveys/{made['id']}/invite",
        json={"customer": "ann@example.com"},
        headers=auth(api_key),
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["counts"] == {"invited": 1, "skipped": 0}
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/s/[\w.-]+", body["invited"][0]["link"])
    again = client.post(
        f"/api/surveys/{made['id']}/invite",
        json={"customer": "ann@example.com"},
        headers=auth(api_key),
    ).json()
    assert again["counts"] == {"invited": 0, "skipped": 1}
    assert (
        "invited to this survey today (at most once per 30 days)" in again["skipped"][0]["reason"]
    )
    across = client.post(
        f"/api/surveys/{other['id']}/invite",
        json={"customer": "ann@example.com"},
        headers=auth(api_key),
    ).json()
    assert "at most one survey per 7 days" in across["skipped"][0]["reason"]
    assert "'Relationship NPS'" in across["skipped"][0]["reason"]
    # eight days later the other survey may ask; the same survey still may not
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE survey_invitations SET sent_at = :t"), {"t": NOW - timedelta(days=8)}
        )
    later = client.post(
        f"/api/surveys/{other['id']}/invite",
        json={"customer": "ann@example.com"},
        headers=auth(api_key),
    ).json()
    assert later["counts"]["invited"] == 1
    still = client.post(
        f"/api/surveys/{made['id']}/invite",
        json={"customer": "ann@example.com"},
        headers=auth(api_key),
    ).json()
    assert "invited to this survey 8 days ago" in still["skipped"][0]["reason"]
    nobody = client.post(
        f"/api/surveys/{made['id']}/invite",
        json={"customer": "nobody@example.com"},
        headers=auth(api_key),
    )
    assert nobody.status_code == 404
    empty = client.post(f"/api/surveys/{made['id']}/invite", json={}, headers=auth(api_key))
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "customer"
    noemail = client.post(
        f"/api/surveys/{made['id']}/invite",
        json={"customer": "ann@example.com", "via": "email"},
        headers=auth(api_key),
    )
    assert noemail.status_code == 400 and "no SMTP server" in noemail.json()["message"]


def test_email_invitations_reach_a_real_smtp_server(
    settings: Settings,
    engine: Engine,
    api_key: str,
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp_server
    configured = settings.model_copy(
        update={"smtp": SmtpSettings(host="127.0.0.1", port=port, sender="Acme <cx@acme.test>")}
    )
    with TestClient(create_app(configured)) as client:
        survey = client.post(
            "/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key)
        ).json()
        for who in ("ann@example.com", "bob@example.com"):
            client.post(
                "/api/events",
                json={"events": [{"type": "signup", "occurred_at": NOW.isoformat(), "email": who}]},
                headers=auth(api_key),
            )
        client.post(
            "/api/events",
            json={
                "events": [{"type": "signup", "occurred_at": NOW.isoformat(), "user_id": "no-mail"}]
            },
            headers=auth(api_key),
        )
        client.post(
            "/api/events",
            json={
                "events": [
                    {
                        "type": "identify",
                        "occurred_at": NOW.isoformat(),
                        "email": "bob@example.com",
                        "traits": {"consent": {"email": "opt_out"}},
                    }
                ]
            },
            headers=auth(api_key),
        )
        got = client.post(
            f"/api/surveys/{survey['id']}/invite",
            json={"customers": ["ann@example.com", "bob@example.com", "no-mail"]},
            headers=auth(api_key),
        ).json()
    assert got["counts"] == {"invited": 1, "skipped": 2}
    reasons = sorted(s["reason"] for s in got["skipped"])
    assert reasons == ["no email address", "opted out of email"]
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "ann@example.com" and mail["From"] == "Acme <cx@acme.test>"
    assert got["invited"][0]["link"] in mail.get_payload()


def test_an_unreachable_mail_server_withdraws_the_invitations(
    settings: Settings, engine: Engine, api_key: str
) -> None:
    from tests.surveys.smtp import free_port

    configured = settings.model_copy(
        update={"smtp": SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)}
    )
    with TestClient(create_app(configured)) as client:
        survey = client.post(
            "/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key)
        ).json()
        client.post(
            "/api/events",
            json={
                "events": [
                    {"type": "signup", "occurred_at": NOW.isoformat(), "email": "ann@example.com"}
                ]
            },
            headers=auth(api_key),
        )
        got = client.post(
            f"/api/surveys/{survey['id']}/invite",
            json={"customer": "ann@example.com"},
            headers=auth(api_key),
        ).json()
    assert got["counts"] == {"invited": 0, "skipped": 1}
    assert "could not reach the mail server" in got["skipped"][0]["reason"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey_invitations")).scalar() == 0


def test_flagged_answers_for_follow_up(client: TestClient, api_key: str) -> None:
    client.post("/api/surveys", json={"name": "Relationship NPS"}, headers=auth(api_key))
    post_answers(
        client,
        api_key,
        answer(1, 10, why="Lovely people, quick delivery"),
        answer(2, 9, why="This is the worst, awful and useless service, I hate it"),
        answer(3, 3, why="Fine", department="Support"),
        answer(4, 8),
    )
    flagged = client.get("/api/responses", params={"flagged": "true"}, headers=auth(api_key)).json()
    whys = sorted(item["why"] for item in flagged["items"])
    # a detractor's score, or a strongly negative why, whatever the score
    assert whys == ["Fine", "This is the worst, awful and useless service, I hate it"]
    support = client.get(
        "/api/responses", params={"department": "Support"}, headers=auth(api_key)
    ).json()
    assert [i["why"] for i in support["items"]] == ["Fine"]
    bad = client.get("/api/responses", params={"since": "soon"}, headers=auth(api_key))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "since"
