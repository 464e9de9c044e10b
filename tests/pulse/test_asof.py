"""The pulse as of a moment (`--as-of`, `as_of=`), and old history at a short half-life, through
the service, the CLI and the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from hxpulse.app import create_app
from hxpulse.auth import service as auth
from hxpulse.cli.main import app
from hxpulse.config import Live, PulseSettings, Settings
from hxpulse.customers import queries
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse import bands, service

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)
WEEKLY = Live(PulseSettings(half_life_days=7))
CDNOW = "cd@example.com"


def event(mid: str, user: str, kind: str, at: datetime, **props: str) -> EventIn:
    return EventIn(message_id=mid, kind="track", type=kind, identities=[("email", user)],
                   occurred_at=at, properties=dict(props))  # fmt: skip


def cli(database_url: str, *args: str, weekly: bool = False) -> Result:
    env = {"HXPULSE_PULSE": '{"half_life_days": 7}'} if weekly else None
    return runner.invoke(app, ["--db", database_url, "pulse", *args], env=env)


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


# -- 1997 history at a 7-day half-life -------------------------------------------------------

DEC_1997 = [("p", "purchase", datetime(1997, 12, 3, tzinfo=UTC)),
            ("r", "review", datetime(1997, 12, 24, tzinfo=UTC))]  # fmt: skip
# as of the end of 1997-12-31: the purchase is 29 days old, the review 8
PULSE_1997 = 10 * 2 ** (-29 / 7) + 6 * 2 ** (-8 / 7)


@pytest.fixture
def history_1997(engine: Engine) -> None:
    ingest(engine, [event(m, CDNOW, k, at) for m, k, at in DEC_1997], now=NOW, live=WEEKLY)


def test_1997_events_keep_their_pulse_at_a_seven_day_half_life(
    engine: Engine, history_1997: None
) -> None:
    asked = datetime(1998, 1, 1, tzinfo=UTC)
    with engine.connect() as conn:
        cid = queries.find(conn, CDNOW)
        found = service.explain(conn, WEEKLY, customer_id=cid, now=asked)  # the clock in 1998
        listed = bands.at_risk_list(conn, WEEKLY, asked, limit=5)["items"]
        counts = bands.counts(conn, WEEKLY, asked)
    assert found["pulse"] == pytest.approx(PULSE_1997, rel=1e-9) and not found["replayed"]
    assert found["decay"] == pytest.approx(16 - PULSE_1997, rel=1e-9)
    assert listed[0]["pulse"] == pytest.approx(PULSE_1997, rel=1e-9)
    assert counts["at-risk"] == 1  # 9 days without a return: more than a 7-day half-life


def test_1997_pulse_from_the_cli_and_the_api(
    database_url: str, settings: Settings, engine: Engine, history_1997: None
) -> None:
    found = as_json(cli(database_url, CDNOW, "--as-of", "1997-12-31", "--json", weekly=True))
    assert found["pulse"] == pytest.approx(PULSE_1997, rel=1e-9)
    assert found["as_of"].startswith("1998-01-01T00:00:00")
    text = cli(database_url, CDNOW, "--as-of", "1997-12-31", weekly=True)
    assert text.exit_code == 0 and "as of 1998-01-01 00:00 UTC: pulse 3.3" in text.output
    listed = as_json(cli(database_url, "--at-risk", "3", "--as-of", "1998-01-01", "--json",
                         weekly=True))  # fmt: skip
    assert listed["items"][0]["pulse"] == pytest.approx(10 * 2 ** (-30 / 7) + 6 * 2 ** (-9 / 7))
    weekly = settings.model_copy(update={"pulse": WEEKLY.pulse})
    with engine.begin() as conn:
        key = auth.create_key(conn, name="reader", scopes=["read"])[1]
    with TestClient(create_app(weekly)) as client:
        headers = {"authorization": f"Bearer {key}"}
        got = client.get(f"/api/customers/{CDNOW}/pulse", params={"as_of": "1997-12-31"},
                         headers=headers).json()  # fmt: skip
        assert got["pulse"] == pytest.approx(PULSE_1997, rel=1e-9)
        bands = client.get("/api/pulse/bands", params={"as_of": "1997-12-31"}, headers=headers)
        assert bands.status_code == 200 and bands.json()["bands"]["at-risk"] == 1
        assert sum(bands.json()["distribution"]["counts"]) == 1
        curve = client.get(f"/api/customers/{CDNOW}/pulse/history", headers=headers, params={
            "end": "1998-01-01T00:00:00Z", "points": 5}).json()["points"]  # fmt: skip
        assert curve[-1]["pulse"] == pytest.approx(PULSE_1997, rel=1e-9)


# -- a past moment with later events ----------------------------------------------------------


@pytest.fixture
def shop(engine: Engine) -> None:
    ingest(engine, [
        event("a1", "ann@example.com", "purchase", NOW - timedelta(days=40)),
        event("a2", "ann@example.com", "complaint", NOW - timedelta(days=20)),
        event("a3", "ann@example.com", "resolution", NOW - timedelta(days=5), resolves="a2"),
        event("b1", "bob@example.com", "review", NOW - timedelta(days=1)),
    ], now=NOW)  # fmt: skip


def ann_at(days_ago: float) -> float:
    """By hand, at the default 90-day half-life: as of `days_ago` days ago (after the
    complaint, before its resolution), the purchase and the complaint at 12 times."""
    decay = 0.5 ** (1 / 90)
    return 10 * decay ** (40 - days_ago) - 60 * decay ** (20 - days_ago)


def test_one_customer_as_of_a_past_moment_is_replayed_exactly(
    database_url: str, client: TestClient, api_key: str, shop: None
) -> None:
    then = (NOW - timedelta(days=10)).isoformat()
    found = as_json(cli(database_url, "ann@example.com", "--as-of", then, "--json"))
    assert found["pulse"] == pytest.approx(ann_at(10), rel=1e-9)
    assert found["replayed"] and found["open_negatives"] == 1 and found["at_risk"]
    assert found["returns"] == pytest.approx(10 - 60)
    assert [e["message_id"] for e in found["top_events"]] == ["a2", "a1"]
    assert found["stage"] == "customer"
    headers = {"authorization": f"Bearer {api_key}"}
    got = client.get("/api/customers/ann@example.com/pulse", params={"as_of": then},
                     headers=headers).json()  # fmt: skip
    assert got["pulse"] == pytest.approx(ann_at(10), rel=1e-9) and got["open_negatives"] == 1
    before = client.get("/api/customers/ann@example.com/pulse",
                        params={"as_of": (NOW - timedelta(days=50)).isoformat()}, headers=headers)  # fmt: skip
    assert before.json()["pulse"] == 0 and before.json()["stage"] is None
    current = client.get("/api/customers/ann@example.com/pulse", headers=headers).json()
    assert not current["replayed"] and current["open_negatives"] == 0
    # the curve up to 10 days ago does not count the resolution 5 days ago
    curve = client.get("/api/customers/ann@example.com/pulse/history", headers=headers,
                       params={"end": then, "points": 3}).json()["points"]  # fmt: skip
    assert curve[-1]["pulse"] == pytest.approx(ann_at(10), rel=1e-9)
    moved = client.get("/api/pulse/movers", headers=headers, params={
        "as_of": (NOW - timedelta(days=15)).isoformat(), "days": 7}).json()  # fmt: skip
    assert [m["change"] < 0 for m in moved["falls"]] == [True] and moved["rises"] == []
    assert moved["falls"][0]["pulse"] == pytest.approx(ann_at(15), rel=1e-9)


def test_lists_as_of_a_moment_before_the_latest_event_are_refused(
    database_url: str, client: TestClient, api_key: str, shop: None
) -> None:
    then = (NOW - timedelta(days=3)).isoformat()
    headers = {"authorization": f"Bearer {api_key}"}
    for route in ("/api/pulse/at-risk", "/api/pulse/bands"):
        got = client.get(route, params={"as_of": then}, headers=headers)
        assert got.status_code == 400, got.text
        assert got.json()["errors"][0]["field"] == "as_of"
        assert "latest event" in got.json()["message"]
    refused = cli(database_url, "--at-risk", "5", "--as-of", then)
    assert refused.exit_code == 1 and "--as-of" in refused.output
    later = (NOW + timedelta(hours=2)).isoformat()  # after every event: from the key
    listed = client.get("/api/pulse/at-risk", params={"as_of": later}, headers=headers).json()
    assert listed["total"] == 0 and listed["items"] == []  # ann's complaint was resolved
    counted = client.get("/api/pulse/bands", params={"as_of": later}, headers=headers).json()
    assert (counted["bands"]["steady"], counted["bands"]["warm"]) == (1, 1)  # ann; bob a prospect


BAD = ["1969-12-30", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "0001-01-01",
       "yesterday", "2026-13-01", (NOW + timedelta(days=2)).isoformat()]  # fmt: skip


def test_a_moment_outside_the_accepted_range_names_the_option(
    database_url: str, client: TestClient, api_key: str, shop: None
) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    for bad in BAD:
        for route in ("/api/customers/ann@example.com/pulse", "/api/pulse/at-risk",
                      "/api/pulse/bands", "/api/pulse/movers"):  # fmt: skip
            got = client.get(route, params={"as_of": bad}, headers=headers)
            assert got.status_code == 400, (route, bad, got.text)
            assert got.json()["errors"][0]["field"] == "as_of"
        for args in (["ann@example.com"], ["--at-risk", "2"]):
            result = cli(database_url, *args, "--as-of", bad)
            assert result.exit_code == 1 and "--as-of" in result.output, (args, bad)
    for field in ("end", "start"):
        got = client.get("/api/customers/ann@example.com/pulse/history", headers=headers,
                         params={field: "1969-06-01T00:00:00Z"})  # fmt: skip
        # the window's bounds are the query's own Moment type: 422 naming the parameter
        assert got.status_code == 422 and got.json()["errors"][0]["field"] == f"query.{field}"
    result = cli(database_url, "--unmapped", "--as-of", "2020-01-01")
    assert result.exit_code == 1 and "--as-of goes with" in result.output


def test_a_list_as_of_before_an_event_under_a_segment_name_is_refused(engine: Engine) -> None:
    """Events keep the name their source sent (`Order Completed`): the latest counted event is
    found under every name of a counted type."""
    bought = NOW - timedelta(days=1)
    ingest(engine, [event("oc", "shop@example.com", "Order Completed", bought)], now=NOW)
    live = Settings(database_url="sqlite://").live
    with engine.connect() as conn:
        with pytest.raises(Exception, match="latest event"):
            bands.at_risk_list(conn, live, NOW, limit=5, as_of=bought - timedelta(hours=1))
        assert bands.at_risk_list(conn, live, NOW, limit=5, as_of=bought + timedelta(hours=1))
