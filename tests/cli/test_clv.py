"""`hxpulse fit clv` and `hxpulse clv CUSTOMER` on the CDNOW sample, SQLite and PostgreSQL."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cli.main import app
from tests.clv.conftest import load_sample

runner = CliRunner()
PARAMETERS = {"r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood"}


def run(database_url: str, *args: str) -> object:
    return runner.invoke(app, ["--db", database_url, *args])


def test_fit_clv_prints_the_parameters(database_url: str, engine: Engine) -> None:
    load_sample(engine)
    result = run(database_url, "fit", "clv", "--calibration-end", "1997-09-30", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    got = orjson.loads(result.stdout)  # type: ignore[attr-defined]
    assert set(got) == PARAMETERS
    assert got["r"] == pytest.approx(0.243, rel=0.01)
    assert got["gamma"] == pytest.approx(15.44, rel=0.01)
    assert got["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    shown = run(database_url, "fit", "clv", "--calibration-end", "1997-09-30")
    assert shown.exit_code == 0, shown.output  # type: ignore[attr-defined]
    assert "BG/NBD alpha" in shown.stdout and "4.41" in shown.stdout  # type: ignore[attr-defined]
    assert "1997-09-30" in shown.stdout and "2,357" in shown.stdout  # type: ignore[attr-defined]
    one = run(database_url, "clv", "user_id:00004", "--json")
    assert one.exit_code == 0, one.output  # type: ignore[attr-defined]
    value = orjson.loads(one.stdout)  # type: ignore[attr-defined]
    assert value["fitted"] is True and value["first_purchase"] == pytest.approx(29.33)
    assert value["clv"] == pytest.approx(value["expected_purchases"] * value["expected_spend"])
    table = run(database_url, "clv", "00004")
    assert "P(alive)" in table.stdout and "CLV ÷ first purchase" in table.stdout  # type: ignore[attr-defined]


def test_fit_alone_fits_clv(database_url: str, engine: Engine) -> None:
    load_sample(engine)
    result = run(database_url, "fit")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    one = orjson.loads(run(database_url, "clv", "00004", "--json").stdout)  # type: ignore[attr-defined]
    assert one["fitted"] is True and one["calibration_end"] > "1998-06-30"  # today


def test_bad_input_is_a_clean_error(database_url: str, engine: Engine) -> None:
    bad_day = run(database_url, "fit", "clv", "--calibration-end", "30/09/1997")
    assert bad_day.exit_code == 1 and "--calibration-end" in bad_day.output  # type: ignore[attr-defined]
    nothing = run(database_url, "fit", "clv", "--json")
    assert nothing.exit_code == 1 and "repeat buyers" in nothing.output  # type: ignore[attr-defined]
    nobody = run(database_url, "clv", "nobody@example.com")
    assert nobody.exit_code == 1 and "Traceback" not in nobody.output  # type: ignore[attr-defined]
