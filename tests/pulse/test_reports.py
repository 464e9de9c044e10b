"""`hxpulse pulse` and the pulse JSON routes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest

runner = CliRunner()
NOW = datetime.now(UTC)


def event(mid: str, user: str, kind: str, days_ago: float, value: float | None = None) -> EventIn:
    return EventIn(message_id=mid, kind="track", type=kind, identities=[("email", user)],
                   occurred_at=NOW - timedelta(days=days_ago), value=value)  # fmt: skip


@pytest.fixture
def shop(engine: Engine) -> None:
    ingest(engine, [
        event("a1", "ann@example.com", "purchase", 60, 80), event("a2", "ann@example.com", "review", 3),
        event("a3", "ann@example.com", "purchase", 2, 30),
        event("b1", "bob@example.com", "purchase", 100, 10), event("b2", "bob@example.com", "complaint", 4),
        event("c1", "cy@example.com", "page_view", 1), event("c2", "cy@example.com", "webinar", 1),
        event("c3", "cy@example.com", "webinar", 9), event("c4", "cy@example.com", "coupon_clip", 9),
    ])  # fmt: skip


def cli(database_url: str, *args: str) -> object:
    result = runner.invoke(app, ["--db", database_url, "pulse", *args])
    assert result.exit_code == 0, result.output
    return result


def test_one_customer_as_json_has_the_promised_keys(database_url: str, shop: None) -> None:
    found = orjson.loads(cli(database_url, "ann@example.com", "--json").stdout)  # type: ignore[attr-defined]
    assert set(found) >= {
        "pulse",
        "investments",
        "returns",
        "decay",
        "band",
        "trend",
        "stage",
        "as_of",
    }
    assert found["pulse"] == pytest.approx(found["investments"] + found["returns"] - found["decay"])
    # two recent returns: the pulse rose over the last 30 days; the top event is the newest purchase
    assert found["trend"] > 0 and found["band"] in {"thriving", "steady"}
    assert found["top_events"][0]["message_id"] == "a3"
    text = cli(database_url, "ann@example.com").stdout  # type: ignore[attr-defined]
    assert "investments" in text and "purchase" in text


def test_at_risk_unmapped_and_bad_input(database_url: str, shop: None) -> None:
    found = orjson.loads(cli(database_url, "--at-risk", "2", "--json").stdout)  # type: ignore[attr-defined]
    assert found["total"] == 1 and len(found["items"]) == 1  # bob: a complaint, no return lately
    assert found["items"][0]["reasons"] == ["1 unresolved negative experience", "pulse below zero",
                                            "no return for 100 days"]  # fmt: skip
    text = cli(database_url, "--at-risk", "2").stdout  # type: ignore[attr-defined]
    assert "1 of 1 customers at risk" in text and "no return for 100 days" in text
    unmapped = orjson.loads(cli(database_url, "--unmapped", "--json").stdout)  # type: ignore[attr-defined]
    assert unmapped == [{"type": "webinar", "events": 2}, {"type": "coupon_clip", "events": 1}]
    for args in (["--at-risk", "0"], [], ["ann@example.com", "--unmapped"], ["nobody@example.com"]):
        result = runner.invoke(app, ["--db", database_url, "pulse", *args])
        assert result.exit_code == 1 and "Error" in result.output, args


def test_unmapped_table_and_its_hint_name_the_config_section(database_url: str, shop: None) -> None:
    text = cli(database_url, "--unmapped").stdout  # type: ignore[attr-defined]
    assert "webinar" in text and "coupon_clip" in text
    # Rich would take the section name for markup and print "under  in hxpulse.toml"
    assert "Give them a weight under [pulse.weights] in hxpulse.toml" in text


def test_rebuild_from_the_cli_keeps_the_sums(database_url: str, shop: None) -> None:
    before = orjson.loads(cli(database_url, "bob@example.com", "--json").stdout)  # type: ignore[attr-defined]
    done = orjson.loads(cli(database_url, "--rebuild", "--json").stdout)  # type: ignore[attr-defined]
    assert done["events"] == 9 and done["customers"] == 3
    after = orjson.loads(cli(database_url, "bob@example.com", "--json").stdout)  # type: ignore[attr-defined]
    assert after["investments"] == pytest.approx(before["investments"])
    assert after["returns"] == pytest.approx(before["returns"])
    assert after["pulse"] == pytest.approx(before["pulse"], rel=1e-6)


def test_routes_curve_bands_movers(client: TestClient, api_key: str, shop: None) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    curve = client.get("/api/customers/bob@example.com/pulse/history", params={"points": 50},
                       headers=headers).json()["points"]  # fmt: skip
    assert len(curve) == 50
    # the complaint 4 days ago makes the curve drop below zero
    assert curve[0]["pulse"] > 0 > curve[-1]["pulse"]
    one = client.get("/api/customers/bob@example.com/pulse", headers=headers).json()
    assert curve[-1]["pulse"] == pytest.approx(one["pulse"], rel=1e-3)
    bands = client.get("/api/pulse/bands", headers=headers).json()
    assert sum(bands["bands"].values()) == 3 == sum(bands["distribution"]["counts"])
    movers = client.get("/api/pulse/movers", headers=headers).json()
    assert [m["name"] or m["customer_id"] for m in movers["falls"]][:1] and movers["falls"][0][
        "change"
    ] < 0
    assert movers["rises"][0]["change"] > 0
    bad = client.get("/api/customers/bob@example.com/pulse/history",
                     params={"start": NOW.isoformat(), "end": (NOW - timedelta(days=1)).isoformat()},
                     headers=headers)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "start"
    assert client.get("/api/customers/nobody@example.com/pulse", headers=headers).status_code == 404
    assert client.get("/api/pulse/bands").status_code == 401
