"""Export, then erase, then send the same person again through the tracking API (Segment
batch), the product's event API, a survey answer and the CSV import: the person does not come
back, and the NPS report, survey counts, funnel and pulse figures are what they were."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.config import Settings
from hxpulse.customers.service import customers_t, identities_t
from hxpulse.events.service import events_t
from tests.privacy import scenario
from tests.privacy.helpers import key
from tests.privacy.scenario import ANON, EMAIL, USER_ID

runner = CliRunner()


def _state(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (customers_t, identities_t, events_t)
        )


def test_export_erase_and_reingest_through_every_way_in(
    client: TestClient, engine: Engine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    data = scenario.load(engine, settings)
    with engine.connect() as conn:
        before = scenario.aggregates(conn, settings, data["survey"])
    admin = key(engine, "admin")

    exported = client.get(f"/api/customers/{EMAIL}/export", headers=admin).json()
    assert {i["value"] for i in exported["identities"]} == {EMAIL, USER_ID, ANON, scenario.PHONE}
    assert len(exported["events"]) == 10 and exported["survey_answers"][0]["why"] == scenario.WHY
    assert [m["merged_id"] for m in exported["merged_profiles"]] and exported["stage_history"]
    assert exported["survey_invitations"][0]["email"] == EMAIL

    erased = client.post(f"/api/customers/{EMAIL}/erase", headers=admin).json()
    assert erased["identities"] == 4
    after_erasure = _state(engine)

    # the tracking API: an SDK resends her history and a new call with a new device
    batch = [{"type": "identify", "userId": USER_ID, "messageId": "m2",
              "traits": {"email": EMAIL, "name": scenario.NAME}},
             {"type": "track", "userId": USER_ID, "event": "purchase", "messageId": "new-1",
              "properties": {"revenue": 30}},
             {"type": "page", "anonymousId": "new-device", "userId": USER_ID, "messageId": "new-2"},
             {"type": "track", "anonymousId": ANON, "event": "page_view", "messageId": "new-3"}]  # fmt: skip
    writer = key(engine, "track")["authorization"].split()[1]
    got = client.post("/v1/batch", json={"batch": batch}, auth=(writer, ""))
    assert got.status_code == 200
    answer = got.json()  # m2 is stored already (a duplicate); the other three are hers
    assert (answer["stored"], answer["duplicates"], answer["erased"]) == (0, 1, 3)
    # the product's own API, by email and by phone
    events = [{"type": "signup", "occurred_at": "2026-04-01T10:00:00Z", "email": EMAIL.upper()},
              {"type": "store_visit", "occurred_at": "2026-04-01T10:00:00Z",
               "phone": "(415) 555-0142"}]  # fmt: skip
    got = client.post("/api/events", json={"events": events}, headers=key(engine, "write"))
    assert (got.json()["stored"], got.json()["erased"]) == (0, 2)
    # a survey answer in her name
    got = client.post("/api/responses", json={"responses": [
        {"survey": data["survey"]["name"], "email": EMAIL, "score": 0, "why": "again",
         "answered_at": "2026-04-02T10:00:00Z"}]}, headers=key(engine, "write"))  # fmt: skip
    assert got.status_code == 200, got.text
    # the CSV import
    source = tmp_path / "events.csv"
    source.write_text("type,occurred_at,user_id,email\n"
                      f"purchase,2026-04-03T10:00:00Z,{USER_ID},\n"
                      f"page_view,2026-04-03T10:00:00Z,,{EMAIL}\n")  # fmt: skip
    result = runner.invoke(app, ["--db", database_url, "import", "events", str(source), "--json"])
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert (summary["stored"], summary["erased"], summary["rejected"]) == (0, 2, 0)
    printed = runner.invoke(app, ["--db", database_url, "import", "events", str(source)]).output
    assert "2 dropped" in printed  # a second import drops them again

    assert _state(engine) == after_erasure  # no customer, identity or event came back
    with engine.connect() as conn:
        assert scenario.leftovers(conn) == []
        assert scenario.aggregates(conn, settings, data["survey"]) == before
        again = conn.execute(select(identities_t.c.value)).scalars().all()
    assert set(again) == {"bob.stays@example.com"}
    assert client.get(f"/api/customers/{EMAIL}", headers=admin).status_code == 404
