"""The rules API, the Rules page, firings on the customer page, and `hxpulse rules`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.app import create_app
from hxpulse.cli.main import app as cli
from hxpulse.config import Settings
from hxpulse.ingest import ingest
from tests.privacy.helpers import HTML, key, sign_in
from tests.rules.helpers import T, customer, event, fired, outbox

GOLD = {"name": "gold-flags", "trigger": {"event": "flag"},
        "when": [{"field": "traits.plan", "op": "eq", "value": "gold"}],
        "actions": [{"webhook": "ops"}], "cap": {"per_customer": 1, "within_hours": 24}}  # fmt: skip


@pytest.fixture
def ruled(database_url: str) -> Settings:
    return Settings(database_url=database_url, environment="test", rules=[GOLD])


@pytest.fixture
def app_client(ruled: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(ruled)) as client:
        yield client


def _seed(engine: Engine, ruled: Settings) -> None:
    ingest(engine, [event("c1", "ann", "complaint"), event("f1", "ann", "flag")], now=T,
           live=ruled.live)  # fmt: skip


def test_the_api_lists_rules_with_counts_and_firings(
    app_client: TestClient, engine: Engine, ruled: Settings
) -> None:
    _seed(engine, ruled)
    auth = key(engine, "read")
    items = app_client.get("/api/rules", headers=auth).json()["items"]
    by_name = {i["name"]: i for i in items}
    assert set(by_name) == {
        "gold-flags",
        "detractor-opens-case",
        "complaint-opens-case",
        "promoter-asks-referral",
    }
    assert by_name["complaint-opens-case"]["firings"] == 1
    assert by_name["gold-flags"]["firings"] == 0  # ann has no plan: it did not fire
    assert by_name["gold-flags"]["trigger"] == {"kind": "event", "name": "flag",
                                                "text": "event flag"}  # fmt: skip
    assert by_name["gold-flags"]["when"] == ["traits.plan eq 'gold'"]
    one = app_client.get("/api/rules/complaint-opens-case", headers=auth).json()
    assert [f["cause"] for f in one["recent"]] == ["c1"]
    assert app_client.get("/api/rules/nope", headers=auth).status_code == 404
    mine = app_client.get("/api/customers/user_id:ann/firings", headers=auth).json()["items"]
    assert [(f["rule"], f["cause"], f["actions"][0]["kind"]) for f in mine] == [
        ("complaint-opens-case", "c1", "case.open")]  # fmt: skip


def test_the_dry_run_says_why_and_writes_nothing(
    app_client: TestClient, engine: Engine, ruled: Settings
) -> None:
    _seed(engine, ruled)
    auth = key(engine, "read")
    before = (outbox(engine), fired(engine))
    url = "/api/rules/gold-flags/test"
    said = app_client.post(url, headers=auth, json={"event": {"type": "flag"},
                                                    "customer": "user_id:ann"}).json()  # fmt: skip
    assert said["matched"] and not said["fires"]
    assert said["reasons"] == [{"condition": "traits.plan eq 'gold'", "held": False,
                                "actual": None}]  # fmt: skip
    other = app_client.post(url, headers=auth, json={"event": {"type": "page_view"}}).json()
    assert not other["matched"]
    hit = app_client.post("/api/rules/complaint-opens-case/test", headers=auth,
                          json={"event": {"type": "complaint"}}).json()  # fmt: skip
    assert hit["fires"] and [a["kind"] for a in hit["actions"]] == ["case.open"]
    bad = app_client.post(url, headers=auth, json={"event": {"kind": "x"}})
    assert bad.status_code == 400 and "event.type" in bad.json()["message"]
    assert (outbox(engine), fired(engine)) == before


def test_the_rules_page_and_the_customer_page(
    app_client: TestClient, engine: Engine, ruled: Settings
) -> None:
    _seed(engine, ruled)
    token = sign_in(app_client, engine, "analyst")
    page = app_client.get("/rules", headers=HTML)
    assert page.status_code == 200 and "complaint-opens-case" in page.text
    assert 'href="/rules"' in page.text and "event complaint" in page.text
    tried = app_client.post("/rules/complaint-opens-case/test", headers=HTML,
                            data={"csrf_token": token, "type": "complaint"})  # fmt: skip
    assert tried.status_code == 200 and "Would fire" in tried.text
    wrong = app_client.post("/rules/complaint-opens-case/test", headers=HTML,
                            data={"csrf_token": token, "type": "complaint",
                                  "properties": "{oops"})  # fmt: skip
    assert wrong.status_code == 400 and "properties must be a JSON object" in wrong.text
    cid = customer(engine, "ann")
    profile = app_client.get(f"/customers/{cid}", headers=HTML).text
    assert "Rules fired" in profile and "complaint-opens-case" in profile


def test_an_agent_sees_firings_but_not_the_rules_page(
    app_client: TestClient, engine: Engine, ruled: Settings
) -> None:
    _seed(engine, ruled)
    sign_in(app_client, engine, "agent")
    assert app_client.get("/rules", headers=HTML).status_code == 403
    profile = app_client.get(f"/customers/{customer(engine, 'ann')}", headers=HTML).text
    assert "Rules fired" in profile and 'href="/rules' not in profile


def test_the_cli_lists_and_dry_runs(
    engine: Engine, ruled: Settings, database_url: str, tmp_path: Path
) -> None:
    _seed(engine, ruled)
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", database_url, "rules", "--json"])
    assert listed.exit_code == 0, listed.output
    assert "complaint-opens-case" in [r["name"] for r in orjson.loads(listed.stdout)]
    path = tmp_path / "event.json"
    path.write_bytes(orjson.dumps({"type": "complaint", "department": "billing"}))
    before = (outbox(engine), fired(engine))
    tried = runner.invoke(
        cli,
        [
            "--db",
            database_url,
            "rules",
            "test",
            "complaint-opens-case",
            "--event",
            str(path),
            "--customer",
            "user_id:ann",
            "--json",
        ],
    )
    assert tried.exit_code == 0, tried.output
    said = orjson.loads(tried.stdout)
    assert said["fires"] and said["actions"][0]["payload"]["department"] == "billing"
    human = runner.invoke(cli, ["--db", database_url, "rules", "test", "complaint-opens-case",
                                "--event", str(path)])  # fmt: skip
    assert human.exit_code == 0 and "would fire" in human.stdout
    missing = runner.invoke(cli, ["--db", database_url, "rules", "test", "nope", "--event",
                                  str(path)])  # fmt: skip
    assert missing.exit_code == 1
    assert (outbox(engine), fired(engine)) == before
