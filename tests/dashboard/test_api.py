"""`GET /api/dashboard` on the hand-built world of tests/dashboard/helpers.py, on SQLite and
PostgreSQL: every figure against the one worked out by hand; who may read it."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import Engine

from hxpulse.analytics.nps import Z95
from hxpulse.config import Settings
from hxpulse.dashboard import service
from hxpulse.dashboard.schemas import Dashboard
from hxpulse.journey import funnel
from tests.auth.helpers import person, sign_in
from tests.dashboard.helpers import NOW, at, build


@pytest.fixture
def world(client: TestClient, engine: Engine, settings: Settings) -> dict[str, int]:
    client.app.state.clock = lambda: NOW  # type: ignore[attr-defined]
    return build(engine, settings)


def figures(client: TestClient, api_key: str) -> dict[str, Any]:
    answer = client.get("/api/dashboard", headers={"authorization": f"Bearer {api_key}"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert Dashboard.model_validate(body).model_dump(mode="json") == body  # nothing outside it
    return body


def test_nps_with_its_margin_and_trend(client: TestClient, world: dict[str, int],
                                       api_key: str) -> None:  # fmt: skip
    nps = figures(client, api_key)["nps"]
    # in the window: bob 10, fay 9, gus 9 (week of Monday 2 March); ann 3, ivy 7, hal 6 (week
    # of Monday 16 March); before it: jon 9, kim 2; lee, mia and ned answered even earlier
    assert (nps["since"], nps["until"]) == ("2025-12-21", "2026-03-20")
    assert (nps["n"], nps["promoters"], nps["passives"], nps["detractors"]) == (6, 3, 1, 2)
    assert nps["nps"] == pytest.approx(100 * (3 - 2) / 6)
    p, d = 3 / 6, 2 / 6
    assert nps["margin_of_error"] == pytest.approx(
        100 * Z95 * math.sqrt((p + d - (p - d) ** 2) / 6)
    )
    assert nps["too_small"] is True  # fewer than 30 answers
    assert nps["previous"] == 0.0 and nps["change"] == pytest.approx(100 / 6)
    assert [(w["period"], w["n"]) for w in nps["trend"]] == [("2026-03-02", 3), ("2026-03-16", 3)]
    assert [w["nps"] for w in nps["trend"]] == pytest.approx([100.0, -200 / 3])  # 0 − 2 of 3
    assert nps["link"] == "/nps?since=2025-12-21&until=2026-03-20&period=week"


def test_stages_and_the_funnels_conversions(client: TestClient, engine: Engine,
                                            settings: Settings, world: dict[str, int],
                                            api_key: str) -> None:  # fmt: skip
    journey = figures(client, api_key)["journey"]
    current = {s["stage"]: s["current"] for s in journey["stages"]}
    # prospects: eve (a page view), lee, mia, ned (an answer each); everyone else bought once
    # (ann twice, but her last answer is a detractor's: not a satisfied repeat customer)
    assert current == {"prospect": 4, "lead": 0, "qualified_lead": 0, "customer": 11,
                       "repeat_customer": 0, "advocate": 0}  # fmt: skip
    assert journey["customers"] == 15
    with engine.connect() as conn:  # the conversions are the journey page's for the same days
        same = funnel.funnel(conn, settings.live, start=at("2025-12-21T00:00"),
                             end=at("2026-03-21T00:00"), now=NOW)  # fmt: skip
    assert [s["conversion"] for s in journey["stages"]] == [s["conversion"] for s in same["stages"]]
    assert journey["stages"][0]["conversion"] == same["stages"][0]["conversion"]  # went on
    assert journey["link"] == "/journey?start=2025-12-21&end=2026-03-20"


def test_at_risk_and_the_value_at_risk(client: TestClient, world: dict[str, int],
                                       api_key: str) -> None:  # fmt: skip
    tile = figures(client, api_key)["at_risk"]
    # customers who are detractors: ann, hal, kim; dan (an open complaint). Not cat (no return
    # since 2025-06-01: lapsed), nor the prospects eve, lee, mia, ned (warm or cold). Their
    # purchases in the last 365 days: ann 100 (not her 999 of 2025-01-01), hal 50, kim 50, dan 20
    assert tile["count"] == 4 and tile["lapsed"] == 1
    assert tile["value"] == pytest.approx(220.0)
    assert tile["value_days"] == 365 and "365 days" in tile["caption"]
    assert tile["link"] == "/pulse/at-risk"


def test_cases_and_the_sla(client: TestClient, world: dict[str, int], api_key: str) -> None:
    tile = figures(client, api_key)["cases"]
    # open: gus's (running), jon's (overdue), dan's (waiting); late: jon's
    assert (tile["open"], tile["breached"]) == (3, 1)
    # opened in the window: bob's 2 met, fay's 2 missed, jon's 2 overdue; gus's and dan's
    # clocks still run or are paused; bob's case of December is before the window
    assert (tile["decided"], tile["met"], tile["missed"]) == (6, 2, 4)
    assert tile["share_met"] == pytest.approx(1 / 3)
    assert tile["since"] == "2025-12-21"
    assert tile["link"] == "/cases?tab=all" and tile["sla_link"] == "/cases/sla?since=2025-12-21"


def test_advocacy_ask_rate(client: TestClient, world: dict[str, int], api_key: str) -> None:
    tile = figures(client, api_key)["advocacy"]
    # promoters of the last 90 days: bob, fay, gus (jon's answer is older); bob was asked
    # (ivy too, a passive); zed bought with bob's code
    assert (tile["promoters"], tile["asked"], tile["referrals"]) == (3, 1, 1)
    assert tile["ask_rate"] == pytest.approx(1 / 3)
    assert tile["link"] == "/advocacy?since=2025-12-20&until=2026-03-20"


def test_movers_and_detractor_whys(client: TestClient, world: dict[str, int],
                                   api_key: str) -> None:  # fmt: skip
    body = figures(client, api_key)
    movers, ids = body["movers"], world
    # the week's events: ivy's answer (+2 for answering), eve's page view (+0.2); dan's
    # complaint (−5 × 12 while open), ann's and hal's detractor answers (−4 × 12, +2)
    assert [m["customer_id"] for m in movers["rises"]] == [ids["ivy"], ids["eve"]]
    assert movers["falls"][0]["customer_id"] == ids["dan"]
    assert {m["customer_id"] for m in movers["falls"]} == {ids["dan"], ids["ann"], ids["hal"]}
    assert all(m["link"] == f"/customers/{m['customer_id']}"
               for m in movers["rises"] + movers["falls"])  # fmt: skip
    assert movers["days"] == 7 and movers["link"].startswith("/pulse")
    whys = body["detractor_whys"]
    # detractors' whys newest first, five of them (ned's is the sixth); no passive or promoter
    assert [w["why"] for w in whys["items"]] == ["Too expensive", "Parcel late again",
                                                 "Never again", "Old complaint",
                                                 "Older complaint"]  # fmt: skip
    ann = whys["items"][1]
    assert ann["name"] == "Ann <b>Example</b>" and ann["score"] == 3
    assert ann["link"] == f"/customers/{ids['ann']}"
    assert whys["items"][0]["name"] is None


def test_the_model_keeps_everything_the_service_builds(engine: Engine, settings: Settings,
                                                       world: dict[str, int]) -> None:  # fmt: skip
    with engine.connect() as conn:
        built = service.dashboard(conn, settings, now=NOW)
    before = TypeAdapter(Any).dump_python(built, mode="json")
    assert Dashboard.model_validate(built).model_dump(mode="json") == before


def test_an_empty_database_answers_zeros(client: TestClient, api_key: str) -> None:
    body = figures(client, api_key)
    assert body["nps"]["nps"] is None and body["nps"]["trend"] == []
    assert body["at_risk"]["count"] == 0 and body["at_risk"]["value"] == 0.0
    assert body["cases"]["share_met"] is None and body["advocacy"]["ask_rate"] is None
    assert body["movers"]["rises"] == [] and body["detractor_whys"]["items"] == []


def test_who_may_read_it(client: TestClient, engine: Engine) -> None:
    assert client.get("/api/dashboard").status_code == 401
    person(engine, "agent@example.com", role="agent")
    person(engine, "analyst@example.com", role="analyst")
    sign_in(client, "agent@example.com")
    refused = client.get("/api/dashboard")
    assert refused.status_code == 403 and "dashboard:read" in refused.json()["message"]
    client.cookies.clear()
    sign_in(client, "analyst@example.com")
    assert client.get("/api/dashboard").status_code == 200
