"""Erasure reaches the fitted models: the offers model is stored again without the erased
customers' rows (the others' offers unchanged, every process reloads it), and the text model,
which cannot unlearn one person's words, is deleted when they wrote a why (VADER scores until
the next fit); a fit that was reading during an erasure leaves the erased out. On SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from hxpulse.analytics import sentiment
from hxpulse.analytics.recommend import Recommender
from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM
from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.learn import store
from hxpulse.offers import fitting, service, serving
from hxpulse.privacy import service as privacy
from hxpulse.surveys import textfit
from tests.conftest import T0
from tests.offers.helpers import catalogue, customers
from tests.surveys.helpers import answer, make_survey
from tests.surveys.slang import rows

SLANG = "the new trucks are sick"  # VADER reads it as negative; the shop's model as praise


def _erase(engine: Engine, customer_id: int, **options: Any) -> dict[str, Any]:
    now = options.get("now", T0)
    return run_write(engine, lambda conn: privacy.erase(conn, customer_id, who=SYSTEM, now=now))


def _shop(engine: Engine, settings: Settings) -> tuple[Settings, list[int]]:
    """Four customers who bought `hot`, the second `cold` too; two offers."""
    config = settings.model_copy(update={"offers_holdout": 0.0, "offers_shown": 2})
    catalogue(engine, T0, {"key": "hot", "name": "Hot", "kind": "product", "item": "hot"},
              {"key": "cold", "name": "Cold", "kind": "product", "item": "cold"})  # fmt: skip
    people = list(customers(engine, config, 4, T0, properties={"product_id": "hot"}))
    ingest(engine, [EventIn(message_id="cold", kind="track", type="purchase", occurred_at=T0,
                            identities=[("email", "c1@example.com")],
                            properties={"product_id": "cold"})], now=T0, live=config.live)  # fmt: skip
    return config, people


def _stored(engine: Engine) -> tuple[store.Fitted, Recommender]:
    with engine.connect() as conn:
        fitted = store.load(conn, serving.MODEL)
    assert fitted is not None and fitted.data is not None
    return fitted, Recommender.from_bytes(fitted.data)


def _offers(engine: Engine, config: Settings, customer_id: int) -> list[dict[str, Any]]:
    got = run_write(engine, lambda conn: service.recommend(
        conn, config, customer_id, now=T0, record=False, rng=random.Random(1)))  # fmt: skip
    return list(got["offers"])


def test_the_offers_model_forgets_the_erased_and_serves_the_others(
    engine: Engine, settings: Settings
) -> None:
    config, (first, second, third, _fourth) = _shop(engine, settings)
    fitting.fit(engine, config, now=T0)
    before = _offers(engine, config, third)
    assert [o["key"] for o in before] == ["cold"] and before[0]["source"] != "catalogue"
    with engine.connect() as conn:
        assert serving.current_model(conn).knows(first)  # type: ignore[union-attr]  # cached
        assert privacy.preview(conn, first)["model_rows"] == 1

    done = _erase(engine, first)  # at the fit's own moment: fitted_at must still move

    assert done["model_rows"] == 1 and done["text_model_dropped"] is False
    fitted, model = _stored(engine)
    assert not model.knows(first) and model.knows(second) and model.knows(third)
    assert fitted.fitted_at > T0 and fitted.meta["forgotten"] == 1
    assert fitted.meta["trained_at"] == T0.isoformat() and fitted.meta["customers"] == 4
    assert model.popular == {"hot": 4, "cold": 1}  # the counts over everyone stay
    with engine.connect() as conn:
        served = serving.current_model(conn)
        assert served is not None and not served.knows(first) and served.knows(second)
        detail = audit.entries(conn, action="customer.erase")[0]["detail"]
        assert privacy.preview(conn, first)["model_rows"] == 0
    assert detail["model_rows"] == 1 and detail["text_model_dropped"] is False
    after = _offers(engine, config, third)
    assert [(o["key"], o["source"], o["model_score"]) for o in after] == [
        (o["key"], o["source"], o["model_score"]) for o in before]  # fmt: skip
    assert _offers(engine, config, first) == []  # the shell is offered nothing

    again = _erase(engine, first, now=T0 + timedelta(hours=1))
    assert again["model_rows"] == 0 and _stored(engine)[0].fitted_at == fitted.fitted_at


def test_a_fit_reading_while_someone_is_erased_leaves_them_out(
    engine: Engine, settings: Settings
) -> None:
    config, (first, second, *_) = _shop(engine, settings)
    erased: list[dict[str, Any]] = []

    def erase_once(stage: str, _fraction: float) -> None:
        if stage == "events" and not erased:  # the events are read: theirs among them
            erased.append(_erase(engine, first))

    got = fitting.fit(engine, config, now=T0 + timedelta(minutes=1), progress=erase_once)
    assert erased and erased[0]["model_rows"] == 0  # no model stored yet
    assert got["customers"] == 4 and got["forgotten"] == 1
    fitted, model = _stored(engine)
    assert not model.knows(first) and model.knows(second) and fitted.meta["forgotten"] == 1


def _text_model(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0)
    answer(engine, settings, T0, *rows(240))
    got = textfit.fit(engine, settings=settings.surveys, now=T0 + timedelta(days=1))
    assert got["used"] == "model"


def test_the_text_model_goes_with_an_erased_why_and_vader_scores(
    engine: Engine, settings: Settings
) -> None:
    _text_model(engine, settings)
    silent = customers(engine, settings, 1, T0)  # no answer at all
    (quiet,) = silent
    with engine.connect() as conn:
        assert textfit.served(conn) is not None  # unpickled and cached
        wrote = queries.find(conn, "skater0-0@example.com")
        assert privacy.preview(conn, quiet)["text_model_dropped"] is False
        assert privacy.preview(conn, wrote)["text_model_dropped"] is True

    kept = _erase(engine, quiet)
    assert kept["text_model_dropped"] is False
    with engine.connect() as conn:
        assert store.load(conn, textfit.NAME) is not None and textfit.served(conn) is not None

    done = _erase(engine, wrote)
    assert done["text_model_dropped"] is True and done["survey_answers"] == 1
    with engine.connect() as conn:
        assert store.load(conn, textfit.NAME) is None
        assert textfit.served(conn) is None and textfit.status(conn)["used"] == "vader"
        detail = audit.entries(conn, action="customer.erase")[0]["detail"]
    assert detail["text_model_dropped"] is True
    later = {"survey": "Relationship NPS", "score": 10, "why": SLANG,
             "answered_at": (T0 + timedelta(days=2)).isoformat(), "email": "new@example.com"}  # fmt: skip
    answer(engine, settings, T0 + timedelta(days=2), later)
    with engine.connect() as conn:
        scores = textfit.score_many(conn, [SLANG])
    assert scores == [sentiment.score(SLANG)] and scores[0] < 0  # VADER, not the cached model
    refit = textfit.fit(engine, settings=settings.surveys, now=T0 + timedelta(days=3))
    assert refit["used"] == "model" and refit["answers"] == 240  # 239 of the shop, 1 new


def test_a_text_fit_during_an_erasure_fits_again(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_survey(engine, settings, T0)
    answer(engine, settings, T0, *rows(240))
    with engine.connect() as conn:
        wrote = queries.find(conn, "skater0-0@example.com")
    real, reads = textfit.training_set, []

    def read_then_erase(conn: Any) -> tuple[list[str], list[bool]]:
        found = real(conn)
        reads.append(len(found[0]))
        if len(reads) == 1:  # their why is read, then they are erased
            _erase(engine, wrote)
        return found

    monkeypatch.setattr(textfit, "training_set", read_then_erase)
    got = textfit.fit(engine, settings=settings.surveys, now=T0 + timedelta(days=1))
    assert reads == [240, 239] and got["answers"] == 239 and got["used"] == "model"
