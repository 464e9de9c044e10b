"""Lifetime value fitted from purchase events in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from hxpulse.audit.service import Who
from hxpulse.clv import report, service
from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.learn import store
from hxpulse.privacy import erasure, export
from tests.clv.conftest import NOW, load_sample

END = date(1997, 9, 30)


def _fit(engine: Engine, settings: Settings) -> dict[str, object]:
    return service.fit_and_store(engine, settings.pulse, now=NOW, calibration_end=END)


def test_fit_on_the_cdnow_sample_gives_the_published_estimates(
    engine: Engine, settings: Settings
) -> None:
    load_sample(engine)
    meta = _fit(engine, settings)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426,
                 "p": 6.25, "q": 3.74, "gamma": 15.44}  # fmt: skip
    for name, value in published.items():
        assert meta[name] == pytest.approx(value, rel=0.01), name
    assert meta["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert (meta["customers"], meta["repeat_buyers"]) == (2357, 946)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(service.values_t)).scalar_one()
        assert stored == 2357
        fitted = store.load(conn, "clv")
        assert fitted is not None and fitted.meta["calibration_end"] == "1997-09-30"
        # the paper's customer 1 (master id 00004): x = 2, t_x = 30.43, T = 38.86
        one = service.customer_value(conn, customer_id=queries.find(conn, "user_id:00004"))
    assert one["fitted"] and one["first_purchase"] == pytest.approx(29.33)
    year = service.MONTHS * 365.25 / 12 / 7
    assert year > 39 and one["expected_purchases"] > 1.226  # 1.226 in 39 weeks; a year is more
    assert 0 < one["p_alive"] < 1
    assert one["clv"] == pytest.approx(one["expected_purchases"] * one["expected_spend"])
    assert one["clv_per_first_purchase"] == pytest.approx(one["clv"] / 29.33)


def test_refit_replaces_every_row_and_later_purchases_count(
    engine: Engine, settings: Settings
) -> None:
    load_sample(engine)
    _fit(engine, settings)
    later = service.fit_and_store(engine, settings.pulse, now=NOW,
                                  calibration_end=date(1998, 6, 30))  # fmt: skip
    assert later["customers"] == 2357 and later["repeat_buyers"] > 946
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(service.values_t)).scalar_one()
        assert rows == 2357
        assert service.model(conn)["calibration_end"] == "1998-06-30"  # type: ignore[index]


def test_a_customer_without_purchases_has_no_value(engine: Engine, settings: Settings) -> None:
    load_sample(engine)
    ingest(engine, [EventIn(message_id="v1", kind="track", type="page_view", channel="web",
                            occurred_at=NOW - timedelta(days=3),
                            identities=[("email", "browser@example.com")])], now=NOW)  # fmt: skip
    _fit(engine, settings)
    with engine.connect() as conn:
        found = service.customer_value(conn, customer_id=queries.find(conn, "browser@example.com"))
    assert found["fitted"] is False and found["clv"] is None and found["p_alive"] is None
    assert found["calibration_end"] == "1997-09-30"


def test_too_little_to_fit_is_a_clear_400(engine: Engine, settings: Settings) -> None:
    now = datetime.now(UTC)
    ingest(engine, [EventIn(message_id="p1", kind="track", type="purchase", channel="web",
                            occurred_at=now - timedelta(days=3), value=10.0,
                            identities=[("email", "once@example.com")])])  # fmt: skip
    with pytest.raises(Invalid, match="repeat buyers"):
        service.fit_and_store(engine, settings.pulse, now=now)
    with pytest.raises(Invalid, match="calibration_end"):
        service.fit_and_store(engine, settings.pulse, now=now,
                              calibration_end=now.date() + timedelta(days=2))  # fmt: skip
    with engine.connect() as conn:
        assert service.model(conn) is None


def test_the_value_report(engine: Engine, settings: Settings) -> None:
    load_sample(engine)
    with engine.connect() as conn:
        empty = report.report(conn, settings.live, NOW)
    assert empty["fitted"] is False and empty["top"] == [] and empty["histogram"]["counts"] == []
    _fit(engine, settings)
    with engine.connect() as conn:
        got = report.report(conn, settings.live, NOW, limit=5)
        values = sorted(conn.execute(select(service.values_t.c.clv)).scalars())
    histogram = got["histogram"]
    assert sum(histogram["counts"]) == histogram["customers"] == 2357
    assert len(histogram["edges"]) == len(histogram["counts"]) + 1 == report.BINS + 2
    width = histogram["edges"][1]
    assert histogram["counts"][0] == sum(1 for v in values if v < width)  # counted in SQL
    assert histogram["counts"][-1] == sum(1 for v in values if v >= histogram["edges"][-2])
    top = got["top"]
    assert [t["clv"] for t in top] == sorted(values, reverse=True)[:5]
    assert top[0]["link"] == f"/customers/{top[0]['customer_id']}"
    risk = got["value_at_risk"]
    assert 0 < risk["value"] < risk["total_clv"] == pytest.approx(sum(values))
    assert risk["customers"] > 0


def test_erasure_deletes_the_value_and_export_includes_it(
    engine: Engine, settings: Settings
) -> None:
    load_sample(engine)
    _fit(engine, settings)
    with engine.connect() as conn:
        customer_id = queries.find(conn, "user_id:00004")
        document = export.document(conn, customer_id, now=NOW)
    assert [v["customer_id"] for v in document["lifetime_value"]] == [customer_id]
    assert document["lifetime_value"][0]["first_purchase"] == pytest.approx(29.33)
    who = Who("system", None, "test")
    done = run_write(engine, lambda conn: erasure.erase(conn, customer_id, who=who, now=NOW))
    assert done["lifetime_values"] == 1
    with engine.connect() as conn:
        assert service.customer_value(conn, customer_id=customer_id)["fitted"] is False
        after = export.document(conn, customer_id, now=NOW)
    assert after["lifetime_value"] == []
