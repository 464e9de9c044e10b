"""The sentiment of a why learns from the business's own answers: VADER for a new business,
the fitted model once it beats VADER on held-out answers; the choice is stored and reported."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hxpulse.analytics import sentiment
from hxpulse.app import create_app
from hxpulse.config import Settings
from hxpulse.learn import store
from hxpulse.surveys import textfit
from tests.conftest import T0
from tests.surveys.helpers import answer, make_survey
from tests.surveys.slang import rows

PROMOTER_SLANG = "the new trucks are sick"  # VADER: about −0.5, flagged; a promoter means it
COMPLAINT = "support ghosted me again"  # VADER: positive


def _later(why: str, score: int, email: str) -> dict[str, object]:
    return {
        "survey": "Relationship NPS",
        "score": score,
        "answered_at": (T0 + timedelta(days=2)).isoformat(),
        "email": email,
        "why": why,
    }


def _stored(engine: Engine, email_like: str) -> tuple[float, bool]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT r.sentiment, r.flagged FROM survey_responses r"
                " JOIN identities i ON i.customer_id = r.customer_id WHERE i.value = :e"
            ),
            {"e": email_like},
        ).one()
    return float(row.sentiment), bool(row.flagged)


def test_a_new_business_keeps_vader(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0)
    with engine.connect() as conn:
        assert textfit.status(conn)["used"] == "vader"  # before any fit
    answer(engine, settings, T0, *rows(60))
    got = textfit.fit(engine, settings=settings.surveys, now=T0 + timedelta(days=1))
    assert (got["used"], got["answers"], got["model_auc"], got["vader_auc"]) == (
        "vader", 60, None, None)  # fmt: skip
    assert "at least 200" in got["reason"]
    with engine.connect() as conn:
        fitted = store.load(conn, "text")
        assert fitted is not None and fitted.data is None and fitted.meta["used"] == "vader"
        assert textfit.served(conn) is None
    answer(engine, settings, T0, _later(PROMOTER_SLANG, 10, "a@example.com"))
    feeling, flagged = _stored(engine, "a@example.com")
    assert feeling == sentiment.score(PROMOTER_SLANG) < -0.5 and flagged  # VADER misreads it


def test_enough_answers_fit_a_model_that_beats_vader_and_serves(
    engine: Engine, settings: Settings
) -> None:
    make_survey(engine, settings, T0)
    answer(engine, settings, T0, *rows(240))
    answer(engine, settings, T0, {**rows(1)[0], "why": "  ", "email": "blank@example.com"})
    got = textfit.fit(engine, settings=settings.surveys, now=T0 + timedelta(days=1))
    counts = (got["answers"], got["negatives"], got["held_out"])
    assert got["used"] == "model" and counts == (240, 120, 60)  # the blank why is not counted
    assert got["model_auc"] > 0.95 and got["vader_auc"] < 0.5
    assert "beats VADER" in got["reason"]
    with engine.connect() as conn:
        status = textfit.status(conn)
        assert status["used"] == "model" and status["model_auc"] == got["model_auc"]
        first = textfit.served(conn)
        assert first is not None and textfit.served(conn) is first  # unpickled once
    answer(
        engine,
        settings,
        T0,
        _later(PROMOTER_SLANG, 10, "a@example.com"),
        _later(COMPLAINT, 3, "b@example.com"),
        _later(COMPLAINT, 8, "c@example.com"),
    )
    promoter, promoter_flag = _stored(engine, "a@example.com")
    assert 0 < promoter <= 1 and not promoter_flag  # VADER would have flagged it
    passive, passive_flag = _stored(engine, "c@example.com")
    assert -1 <= passive <= settings.surveys.negative_sentiment and passive_flag
    assert sentiment.score(COMPLAINT) > 0  # VADER would not have flagged the passive
    # a refit replaces the model: serving reads the new one
    textfit.fit(engine, settings=settings.surveys, now=T0 + timedelta(days=3), seed=1)
    with engine.connect() as conn:
        second = textfit.served(conn)
        assert second is not None and second is not first


def test_the_server_loads_the_model_at_start_and_answers_over_http_use_it(
    engine: Engine, settings: Settings, api_key: str
) -> None:
    make_survey(engine, settings, T0)
    answer(engine, settings, T0, *rows(240))
    textfit.fit(engine, settings=settings.surveys, now=T0 + timedelta(days=1))
    textfit._cache.clear()  # as in a fresh process
    with TestClient(create_app(settings)) as client:
        assert len(textfit._cache) == 1 and None not in textfit._cache.values()  # warm
        got = client.post(
            "/api/responses",
            json={"responses": [_later(PROMOTER_SLANG, 9, "http@example.com")]},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        assert got.status_code == 200, got.text
    feeling, flagged = _stored(engine, "http@example.com")
    assert feeling > 0 and not flagged
