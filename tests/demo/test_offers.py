"""The demo's next best offers: a catalogue for a music retailer, exposures in both arms
answered through the ingest, the report's figures, and the models fitted at the end."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import Engine, text

from hxpulse.config import Settings
from hxpulse.demo import offers as demo_offers
from hxpulse.demo.cdnow import GENRES, album, demo_events, favourite, read_purchases
from hxpulse.demo.load import load
from hxpulse.learn import store
from hxpulse.offers import report, service
from hxpulse.offers.fitting import MODEL
from hxpulse.surveys.textfit import NAME as TEXT

TODAY = date(2026, 11, 23)
CUSTOMERS = 1000  # the first CDNOW customers


def test_purchases_name_albums_mostly_of_the_customers_genre() -> None:
    purchases = [p for p in read_purchases() if int(p.customer) <= 300]
    events = [e for e in demo_events(TODAY, purchases) if e.type == "purchase"]
    assert len(events) == len(purchases)
    items = [e.properties["item"] for e in events]
    assert {item.removeprefix("cd-").rsplit("-", 1)[0] for item in items} == set(GENRES)
    in_genre = sum(
        album(p.customer, p.line).startswith(f"cd-{favourite(p.customer)}-") for p in purchases
    )
    assert 0.7 < in_genre / len(purchases) < 0.9


def test_the_demo_serves_offers_answers_them_and_fits_the_models(
    engine: Engine, settings: Settings
) -> None:
    purchases = [p for p in read_purchases() if int(p.customer) <= CUSTOMERS]
    loaded = load(engine, live=settings.live, settings=settings, survey_settings=settings.surveys,
                  today=TODAY, purchases=purchases)  # fmt: skip
    with engine.connect() as conn:
        catalogue = service.get_all(conn)
        arms = demo_offers.exposures_by_arm(conn)
        figures = report.report(conn, settings, now=datetime.now(UTC))
        answers = Counter(conn.execute(text(
            "SELECT type FROM events WHERE type IN ('offer_accepted', 'offer_declined',"
            " 'offer_shown')")).scalars())  # fmt: skip
        answered = conn.execute(text(
            "SELECT COUNT(*) FROM offer_exposures WHERE response IS NOT NULL")).scalar()  # fmt: skip
        offers_model = store.load(conn, MODEL)
        text_model = store.load(conn, TEXT, with_data=False)
    # the catalogue: every kind, eligibility by stages and bands, values and costs
    assert {o["key"] for o in catalogue} == {raw["key"] for raw in demo_offers.CATALOGUE}
    assert {o["kind"] for o in catalogue} == {"product", "content", "incentive", "access"}
    assert any(o["eligibility"]["bands"] for o in catalogue)
    assert any(o["eligibility"]["stages"] for o in catalogue)
    assert all(o["cost"] > 0 and o["value"] > o["cost"] for o in catalogue)
    assert all(o["item"] for o in catalogue if o["kind"] == "product")
    # exposures in both arms, each an offer_shown event; the answers went through the ingest
    served = loaded.offers
    assert served is not None and served.exposures == sum(arms.values())
    assert arms.get("model", 0) > 0 and arms.get("holdout", 0) > 0
    assert arms["holdout"] < arms["model"]
    assert answers["offer_shown"] == served.exposures
    assert answers["offer_accepted"] == served.accepted > 0
    assert answers["offer_declined"] == served.declined > 0
    assert answered == served.accepted + served.declined
    # the report: acceptance in both arms and an uplift with its interval
    overall = figures["overall"]
    for arm in ("model", "holdout"):
        assert overall[arm]["shown"] == arms[arm]
        assert overall[arm]["accepted"] > 0
        acceptance = overall[arm]["acceptance"]
        assert 0 < acceptance["low"] < acceptance["estimate"] < acceptance["high"] < 0.5
    uplift = overall["uplift"]["acceptance"]
    assert uplift["low"] < uplift["estimate"] < uplift["high"]
    assert sum(o["model"]["shown"] + o["holdout"]["shown"] for o in figures["offers"]) == (
        served.exposures
    )
    # the models fitted at the end, after the lifetime value
    assert loaded.value is not None
    assert offers_model is not None and offers_model.data
    assert loaded.offers_model is not None and loaded.offers_model["items"] > len(GENRES)
    assert text_model is not None and loaded.text_model is not None
    assert loaded.text_model["answers"] > 0
    # run again, nothing more is served
    assert demo_offers.serve(engine, settings, today=TODAY).exposures == 0
