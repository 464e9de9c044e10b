"""`hxpulse advocacy`: the same figures as the API, as a table or JSON; bad filters exit 1."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.config import Settings
from tests.advocacy.test_service import build

runner = CliRunner()


def test_the_report_as_json_and_table(
    engine: Engine, settings: Settings, database_url: str
) -> None:
    build(engine, settings)
    shown = runner.invoke(app, ["--db", database_url, "advocacy", "--json"])
    assert shown.exit_code == 0, shown.output
    got = orjson.loads(shown.stdout)
    assert (got["promoters"], got["asked"], got["asks"], got["referrals"]) == (3, 2, 5, 2)
    table = runner.invoke(app, ["--db", database_url, "advocacy", "--until", "2026-03-31"])
    assert table.exit_code == 0 and "66.7%" in table.output and "Top advocates" in table.output
    bad = runner.invoke(app, ["--db", database_url, "advocacy", "--channel", "fax"])
    assert bad.exit_code != 0 and "channel" in bad.output and "Traceback" not in bad.output
