"""The demo fits lifetime value at the end of its load, so the Value page has data."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select

from hxpulse.clv import report, service
from hxpulse.config import Settings
from hxpulse.demo.cdnow import read_purchases
from hxpulse.demo.load import load


def test_the_demo_fits_lifetime_value(engine: Engine, settings: Settings) -> None:
    purchases = [p for p in read_purchases() if int(p.customer) <= 400]
    loaded = load(engine, live=settings.live, survey_settings=settings.surveys,
                  today=date(2026, 11, 23), purchases=purchases)  # fmt: skip
    buyers = len({p.customer for p in purchases})
    assert loaded.value is not None
    fitted = loaded.value["customers"]  # the CDNOW buyers and the referred who bought
    assert buyers <= fitted < buyers * 1.1
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(service.values_t)).scalar_one()
        shown = report.report(conn, settings.live, service.model(conn)["fitted_at"])  # type: ignore[index]
    assert rows == fitted
    assert shown["fitted"] and shown["top"] and sum(shown["histogram"]["counts"]) == fitted
