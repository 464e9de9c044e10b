"""The cases and teams API with roles, on a frozen clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hxpulse.config import Settings
from tests.auth.helpers import Clock, app_with, person, sign_in
from tests.cases.helpers import WED, world


def test_open_list_reply_and_resolve_a_case(engine: Engine, settings: Settings,
                                            api_key: str) -> None:  # fmt: skip
    w = world(engine, settings)
    clock = Clock(WED)
    bearer = {"authorization": f"Bearer {api_key}"}
    with app_with(settings, clock) as app, TestClient(app) as client:
        body = {"customer": "ann@example.com", "reason": "Parcel damaged", "team": "Support",
                "source_event": w.detractor, "idempotency_key": "ticket-1"}  # fmt: skip
        made = client.post("/api/cases", json=body, headers=bearer)
        assert made.status_code == 201, made.text
        case = made.json()
        assert case["status"] == "open" and case["owner"] == "agent0@example.com"
        assert case["first_response_due"] == "2026-02-04T15:30:00Z"
        again = client.post("/api/cases", json=body, headers=bearer)
        assert again.status_code == 200 and again.json()["id"] == case["id"]
        listed = client.get("/api/cases", params={"customer": "ann@example.com",
                                                  "status": "open"}, headers=bearer).json()  # fmt: skip
        item = listed["items"][0]
        for key in ("id", "customer_id", "status", "reason", "owner", "priority",
                    "first_response_due", "resolution_due"):  # fmt: skip
            assert key in item
        assert item["seconds_left"] == 5 * 3600  # 10:30 → 15:30 UTC
        clock.advance(minutes=10)
        replied = client.post(f"/api/cases/{case['id']}/reply", json={"body": "On it"},
                              headers=bearer).json()  # fmt: skip
        assert replied["first_response"] == "met" and replied["status"] == "in_progress"
        clock.advance(hours=1)
        done = client.post(f"/api/cases/{case['id']}/resolve", json={"message": "Replaced"},
                           headers=bearer)  # fmt: skip
        assert done.status_code == 200 and done.json()["status"] == "resolved"
        detail = client.get(f"/api/cases/{case['id']}", headers=bearer).json()
        assert [e["kind"] for e in detail["thread"]] == ["status", "assign", "message_out",
                                                         "status"]  # fmt: skip
        report = client.get("/api/cases/sla", params={"since": "2026-02-01T00:00:00Z"},
                            headers=bearer).json()["items"]  # fmt: skip
        assert {r["metric"]: r["share_met"] for r in report} == {"first_response": 1.0,
                                                                 "resolution": 1.0}  # fmt: skip


def test_bad_input_names_the_field(engine: Engine, settings: Settings, api_key: str) -> None:
    world(engine, settings)
    bearer = {"authorization": f"Bearer {api_key}"}
    with app_with(settings, Clock(WED)) as app, TestClient(app) as client:
        bad = client.get("/api/cases", params={"status": "done"}, headers=bearer)
        assert bad.status_code == 400 and bad.json()["message"].startswith("status:")
        me = client.get("/api/cases", params={"owner": "me"}, headers=bearer)
        assert me.status_code == 400 and me.json()["message"].startswith("owner:")
        team = client.post("/api/cases", json={"customer": "ann@example.com", "reason": "x",
                                               "team": "Nobody"}, headers=bearer)  # fmt: skip
        assert team.status_code == 404 and "Nobody" in team.json()["message"]
        owner = client.post("/api/cases", json={"customer": "ann@example.com", "reason": "x",
                                                "owner": "nobody@example.com"}, headers=bearer)  # fmt: skip
        assert owner.status_code == 400 and owner.json()["message"].startswith("owner:")
        hours = client.post("/api/teams", json={"name": "X", "hours": {"mon": [["9", "5"]]}},
                            headers=bearer)  # fmt: skip
        assert hours.status_code == 403  # a write key may not manage teams


def test_agents_work_cases_and_admins_manage_teams(engine: Engine, settings: Settings) -> None:
    w = world(engine, settings)
    person(engine, "boss@example.com", role="admin")
    person(engine, "analyst@example.com", role="analyst")
    with app_with(settings, Clock(WED + timedelta(hours=1))) as app:
        with TestClient(app) as agent:
            token = sign_in(agent, "agent0@example.com", "agent password 1")
            headers = {"x-csrf-token": token}
            made = agent.post("/api/cases", json={"customer": f"id:{w.customer_id}",
                                                  "reason": "Call back", "team": "Support"},
                              headers=headers)  # fmt: skip
            assert made.status_code == 201, made.text
            mine = agent.get("/api/cases", params={"owner": "me"}).json()["items"]
            assert [c["id"] for c in mine] == [made.json()["id"]]
            refused = agent.post("/api/teams", json={"name": "Mine"}, headers=headers)
            assert refused.status_code == 403
        with TestClient(app) as analyst:
            token = sign_in(analyst, "analyst@example.com")
            assert analyst.get("/api/cases").status_code == 200
            no = analyst.post("/api/cases/1/note", json={"body": "x"},
                              headers={"x-csrf-token": token})  # fmt: skip
            assert no.status_code == 403
        with TestClient(app) as admin:
            token = sign_in(admin, "boss@example.com")
            headers = {"x-csrf-token": token}
            team = admin.post("/api/teams", json={"name": "Social", "zone": "Europe/Paris",
                                                  "hours": {"sat": [["10:00", "14:00"]]},
                                                  "holiday_country": "FR"}, headers=headers)  # fmt: skip
            assert team.status_code == 201, team.text
            assert team.json()["hours_text"] == "sat 10:00-14:00"
            joined = admin.post(f"/api/teams/{team.json()['id']}/members",
                                json={"user": "agent1@example.com"}, headers=headers)  # fmt: skip
            assert [m["email"] for m in joined.json()["members"]] == ["agent1@example.com"]
            bad = admin.put(f"/api/teams/{team.json()['id']}/hours",
                            json={"zone": "Nowhere/Land"}, headers=headers)  # fmt: skip
            assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "zone"
