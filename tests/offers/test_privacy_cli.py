"""The offers shown to a customer are in their export and go with their erasure; the CLI
serves offers and fits the model."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from hxpulse.audit.service import SYSTEM
from hxpulse.cli.main import app
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.offers import service
from hxpulse.offers.models import Exposure, OfferArm
from hxpulse.privacy import erasure, export
from tests.conftest import T0
from tests.offers.helpers import catalogue, customers

runner = CliRunner()


def test_export_holds_the_exposures_and_erasure_removes_them(
    engine: Engine, settings: Settings
) -> None:
    catalogue(engine, T0, {"key": "a", "name": "A", "kind": "content"})
    first, second = customers(engine, settings, 2, T0)
    for cid in (first, second):
        run_write(engine, lambda c, cid=cid: service.recommend(c, settings, cid, now=T0))
    with engine.connect() as conn:
        doc = export.document(conn, first, now=T0)
    assert [x["offer"] for x in doc["offer_exposures"]] == ["a"]
    done = run_write(engine, lambda c: erasure.erase(c, first, who=SYSTEM, now=T0))
    assert done["offer_exposures"] == 1
    x = Exposure.__table__.c
    with engine.connect() as conn:
        left = conn.execute(select(x.customer_id)).scalars().all()
        arms = conn.execute(select(func.sum(OfferArm.__table__.c.shown))).scalar_one()
    assert left == [second] and arms == 2  # the bandit's anonymous counts stay


def test_the_commands(engine: Engine, settings: Settings, database_url: str) -> None:
    catalogue(engine, T0, {"key": "hot", "name": "Hot", "kind": "product", "item": "hot"},
              {"key": "guide", "name": "Guide", "kind": "content"})  # fmt: skip
    customers(engine, settings, 3, T0, properties={"product_id": "hot"})
    customers_new = runner.invoke(app, ["--db", database_url, "offers", "c0@example.com",
                                        "--json"])  # fmt: skip
    assert customers_new.exit_code == 0, customers_new.output
    got = orjson.loads(customers_new.stdout)
    assert [o["key"] for o in got["offers"]] == ["guide"]  # bought hot already
    assert got["offers"][0]["exposure_id"] is None  # a look: nothing logged without --record
    fitted = runner.invoke(app, ["--db", database_url, "fit", "offers", "--json"])
    assert fitted.exit_code == 0, fitted.output
    assert orjson.loads(fitted.stdout)["interactions"] == 3
    everything = runner.invoke(app, ["--db", database_url, "fit"])
    assert everything.exit_code == 0 and "Fitted the offers model" in everything.output
    table = runner.invoke(app, ["--db", database_url, "offers", "id:1", "--record"])
    assert table.exit_code == 0 and "Guide (guide)" in table.output, table.output
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Exposure)).scalar_one() == 1
    missing = runner.invoke(app, ["--db", database_url, "offers", "nobody@example.com"])
    assert missing.exit_code != 0 and "Traceback" not in missing.output
    bad = runner.invoke(app, ["--db", database_url, "offers", "c0@example.com", "--n", "0"])
    assert bad.exit_code != 0 and "--n" in bad.output
