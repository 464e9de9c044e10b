"""`hxpulse fit text` and `hxpulse fit`: both AUCs, the counts and the choice, on SQLite and
PostgreSQL."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine
from typer.testing import CliRunner

from hxpulse.cli.main import app
from hxpulse.config import Settings
from hxpulse.surveys import textfit
from tests.conftest import T0
from tests.surveys.helpers import answer, make_survey
from tests.surveys.slang import rows

runner = CliRunner()


def test_fit_text_reports_the_aucs_and_the_choice(
    engine: Engine, settings: Settings, database_url: str
) -> None:
    make_survey(engine, settings, T0)
    answer(engine, settings, T0, *rows(50))
    few = runner.invoke(app, ["--db", database_url, "fit", "text"])
    assert few.exit_code == 0, few.output
    assert "50 answers with a why" in few.stdout and "VADER" in few.stdout
    assert "held-out AUC: model —, VADER —" in few.stdout
    # VADER stays, as it scored them: each answer is read again, none changes
    assert "stored answers re-scored with it: 50 read, 0 changed (0 follow-up" in few.stdout
    answer(engine, settings, T0, *rows(200, seed=1))
    got = runner.invoke(app, ["--db", database_url, "fit", "text", "--json"])
    assert got.exit_code == 0, got.output
    meta = orjson.loads(got.stdout)
    assert (meta["answers"], meta["negatives"], meta["held_out"], meta["used"]) == (
        250, 125, 63, "model")  # fmt: skip
    assert meta["model_auc"] > meta["vader_auc"]
    assert meta["rescored"]["answers"] == 250 and meta["rescored"]["changed"] == 250
    with engine.connect() as conn:
        assert textfit.status(conn)["used"] == "model"


def test_fit_alone_fits_the_text_model_too(
    engine: Engine, settings: Settings, database_url: str
) -> None:
    make_survey(engine, settings, T0)
    answer(engine, settings, T0, *rows(240))
    got = runner.invoke(app, ["--db", database_url, "fit"])
    assert got.exit_code == 0, got.output
    assert "fitting text" in got.output
    assert "sentiment of answers: the fitted model" in got.stdout
    assert "stored answers re-scored with it: 240 read, 240 changed" in got.stdout
    # no purchase at all: lifetime value is skipped with its reason, the fit goes on and passes
    assert "clv: not fitted: not enough purchases" in got.output
    with engine.connect() as conn:
        assert textfit.status(conn)["used"] == "model"
