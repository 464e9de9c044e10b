"""The journey through its edges: JSON API (with 4xx on bad input), the Journey page, the CLI."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from tests.customers.test_pages import sign_in
from tests.journey.test_funnel import STAGES, T, journey  # noqa: F401  (fixture)

runner = CliRunner()


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_funnel_api(client: TestClient, journey: Engine, api_key: str) -> None:  # noqa: F811
    answer = client.get("/api/journey/funnel", headers=bearer(api_key))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [s["stage"] for s in body["stages"]] == STAGES
    assert [s["entered"] for s in body["stages"]] == [3, 2, 0, 3, 2, 0]
    assert [s["went_on"] for s in body["stages"]] == [2, 1, 0, 2, 0, 0]
    assert body["stages"][3]["median_days_to_next"] == pytest.approx(2.5)
    assert body["start"] is None and body["end"] is None
    ranged = client.get("/api/journey/funnel", headers=bearer(api_key),
                        params={"start": "2026-01-01", "end": "2026-01-08", "channel": "web"})  # fmt: skip
    assert ranged.status_code == 200
    # days 0 to 7 included = [0, 8): the by-channel numbers of test_funnel
    assert [s["entered"] for s in ranged.json()["stages"]] == [1, 1, 0, 2, 1, 0]
    assert [s["conversion"] for s in ranged.json()["stages"]] == [1.0, 0.0, None, 0.5, 0.0, None]
    assert ranged.json()["end"].startswith("2026-01-09")


def test_funnel_api_refuses_bad_input_naming_the_field(client: TestClient, api_key: str) -> None:
    cases = [({"start": "yesterday"}, "start"), ({"end": "2026-02-30"}, "end"),
             ({"start": "2026-02-01", "end": "2026-01-01"}, "end"), ({"channel": "fax"}, "channel")]  # fmt: skip
    for params, field in cases:
        answer = client.get("/api/journey/funnel", headers=bearer(api_key), params=params)
        assert answer.status_code == 400, (params, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    too_long = client.get("/api/journey/funnel", headers=bearer(api_key),
                          params={"department": "d" * 101})  # fmt: skip
    assert too_long.status_code == 422 and "department" in too_long.json()["message"]
    assert client.get("/api/journey/funnel").status_code == 401


def test_customer_journey_api(client: TestClient, journey: Engine, api_key: str) -> None:  # noqa: F811
    answer = client.get("/api/customers/eve/journey", headers=bearer(api_key))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stage"] == "customer" and body["stage_at"].startswith("2026-01-04")
    # January's events, read months later: eve is lapsed (not in the at-risk list a team works)
    assert body["lapsed"] is True and body["at_risk"] is False and body["open_negatives"] == 1
    assert [(h["from_stage"], h["to_stage"]) for h in body["history"]] == [
        (None, "customer"),
        ("customer", "repeat_customer"),
        ("repeat_customer", "customer"),
    ]
    assert body["history"][2]["message_id"] == "eve-complaint-3"
    assert client.get("/api/customers/nobody/journey", headers=bearer(api_key)).status_code == 404


def test_journey_page(client: TestClient, engine: Engine) -> None:
    ingest(engine, [
        EventIn(message_id="a", kind="track", type="purchase", occurred_at=T, channel="web",
                department="<b>sales</b>", identities=[("user_id", "u1")]),
        EventIn(message_id="b", kind="track", type="page_view", occurred_at=T, channel="app",
                identities=[("user_id", "u2")]),
    ])  # fmt: skip
    page = client.get("/journey", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/journey"
    sign_in(client, engine, role="analyst")
    page = client.get("/journey")
    assert page.status_code == 200
    assert 'id="journey-funnel-data"' in page.text and 'aria-current="page">Journey' in page.text
    assert '<tr data-stage="customer">' in page.text and '<th class="num">Went on</th>' in page.text
    customer = page.text.split('<tr data-stage="customer">')[1].split("</tr>")[0]
    assert '<td class="num entered">1</td>' in customer
    assert '<td class="num went-on">0</td>' in customer
    filtered = client.get("/journey", params={"department": "<b>sales</b>", "channel": "web",
                                              "start": "2026-01-01", "end": "2026-01-01"})  # fmt: skip
    assert filtered.status_code == 200
    assert "<b>sales</b>" not in filtered.text and "&lt;b&gt;sales&lt;/b&gt;" in filtered.text
    assert "2026-01-01 to 2026-01-01" in filtered.text
    bad = client.get("/journey", params={"start": "soon", "channel": "fax"})
    assert bad.status_code == 400
    assert 'id="journey-errors"' in bad.text and "<strong>start</strong>" in bad.text
    assert "<strong>channel</strong>" in bad.text and 'value="soon"' in bad.text


def test_cli_funnel(database_url: str, journey: Engine) -> None:  # noqa: F811
    result = runner.invoke(app, ["--db", database_url, "funnel", "--json"])
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.stdout)
    assert [s["entered"] for s in body["stages"]] == [3, 2, 0, 3, 2, 0]
    ranged = runner.invoke(app, ["--db", database_url, "funnel", "--start", "2026-01-01",
                                 "--end", "2026-01-07", "--department", "sales", "--json"])  # fmt: skip
    assert ranged.exit_code == 0, ranged.output
    # days 0 to 6 = [0, 7): purchases made customers of ann, cat and eve, a repeat of eve
    assert [s["entered"] for s in orjson.loads(ranged.stdout)["stages"]] == [0, 0, 0, 3, 1, 0]
    table = runner.invoke(app, ["--db", database_url, "funnel", "--channel", "web"])
    assert table.exit_code == 0, table.output
    assert "Advocate" in table.stdout and "Now: 5 customers" in table.stdout
    # entered through the web, all time: prospect ann and dan, ann went on; customer cat and eve,
    # eve went on
    prospect = next(line for line in table.stdout.splitlines() if "Prospect" in line)
    assert prospect.split()[1:4] == ["2", "1", "50.0%"]
    assert "days to" in table.stdout and "Went on: of" in table.stdout
    bad = runner.invoke(app, ["--db", database_url, "funnel", "--start", "nope"])
    assert bad.exit_code == 1 and "start" in bad.output
