"""`hxpulse teams` and `hxpulse cases` on SQLite and PostgreSQL."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cases import service
from hxpulse.cli.main import app
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from tests.cases.helpers import WED, world

runner = CliRunner()


def run(database_url: str, *args: str) -> object:
    return runner.invoke(app, ["--db", database_url, *args])


def test_teams_and_cases_from_the_command_line(
    database_url: str, engine: Engine, settings: Settings
) -> None:
    w = world(engine, settings)
    made = run(database_url, "teams", "create", "Billing", "--zone", "America/New_York",
               "--hours", "mon-fri 08:00-16:00", "--country", "US", "--json")  # fmt: skip
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    assert orjson.loads(made.stdout)["hours_text"] == "mon-fri 08:00-16:00"  # type: ignore[attr-defined]
    added = run(database_url, "teams", "add", "Billing", "agent1@example.com")
    assert "agent1@example.com" in added.stdout  # type: ignore[attr-defined]
    hours = run(database_url, "teams", "hours", "Billing", "--hours", "mon 25:00-26:00")
    assert hours.exit_code == 1 and "hours.mon" in hours.output  # type: ignore[attr-defined]
    listed = run(database_url, "teams", "list")
    assert "Billing" in listed.stdout and "Support" in listed.stdout  # type: ignore[attr-defined]
    case, _ = run_write(engine, lambda conn: service.create(
        conn, settings, customer_id=w.customer_id, reason="Charged twice", source_key="c1",
        team="Billing", now=WED))  # fmt: skip
    shown = run(database_url, "cases", "--json", "--status", "open",
                "--customer", "ann@example.com")  # fmt: skip
    assert shown.exit_code == 0, shown.output  # type: ignore[attr-defined]
    assert [c["id"] for c in orjson.loads(shown.stdout)] == [case["id"]]  # type: ignore[attr-defined]
    table = run(database_url, "cases")
    assert "Charged" in table.stdout  # type: ignore[attr-defined]
    report = run(database_url, "cases", "sla", "--by-owner", "--json")
    assert report.exit_code == 0, report.output  # type: ignore[attr-defined]
    rows = orjson.loads(report.stdout)  # type: ignore[attr-defined]
    assert {(r["owner"], r["metric"], r["share_met"]) for r in rows} == {  # overdue by now
        ("agent1@example.com", "first_response", 0.0),
        ("agent1@example.com", "resolution", 0.0),
    }
    done = run(database_url, "cases", "resolve", str(case["id"]), "--message", "Refunded")
    assert done.exit_code == 0 and "resolved" in done.stdout  # type: ignore[attr-defined]
    missing = run(database_url, "cases", "resolve", "999")
    assert missing.exit_code == 1 and "no case 999" in missing.output  # type: ignore[attr-defined]
