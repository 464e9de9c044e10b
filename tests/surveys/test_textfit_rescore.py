"""A text fit re-scores the stored answers with the scorer it chose (the model, or VADER when
it falls back), so every answer reads on one scale; nothing else is written, nothing fires."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from hxpulse.analytics import sentiment
from hxpulse.config import Settings
from hxpulse.surveys import textfit
from tests.conftest import T0
from tests.surveys.helpers import answer, make_survey
from tests.surveys.slang import rows

# what a re-score must leave alone: every table an answer (or a rule it sets off) writes
UNTOUCHED = ("events", "outbox", "rule_firings", "cases", "pulse_negatives", "audit_log",
             "survey_score_counts", "response_themes")  # fmt: skip


def _answers(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT id, score, band, why, sentiment, flagged, themed, answered_at"
                " FROM survey_responses ORDER BY id"
            )
        )
        return [dict(r._mapping) for r in found]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in UNTOUCHED}  # fmt: skip


def _record(engine: Engine, settings: Settings) -> None:
    make_survey(engine, settings, T0)
    answer(engine, settings, T0, *rows(240))
    no_why = {**rows(1, seed=9)[0], "email": "quiet@example.com"}
    no_why.pop("why")
    answer(engine, settings, T0, no_why)


def _assert_read_by(engine: Engine, settings: Settings, scorer: str) -> list[dict[str, Any]]:
    """Every stored answer with a why carries what the scorer serving uses gives its why now,
    and the flag that goes with it; the answer without a why has no sentiment."""
    stored = _answers(engine)
    whys = [a["why"] for a in stored if a["why"]]
    with engine.connect() as conn:
        assert textfit.status(conn)["used"] == scorer
        expected = iter(textfit.score_many(conn, whys))
    for a in stored:
        if a["why"] is None:
            assert a["sentiment"] is None and a["flagged"] == (a["band"] == "detractor")
            continue
        feeling = next(expected)
        assert a["sentiment"] == feeling
        assert a["flagged"] == textfit.needs_follow_up(a["band"], feeling,
                                                        settings=settings.surveys)  # fmt: skip
    return stored


def test_a_fit_that_chooses_the_model_rescores_the_stored_answers(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(engine, settings)
    before = _answers(engine)
    assert len(before) == 241
    assert all(a["sentiment"] == sentiment.score(a["why"]) for a in before if a["why"])  # VADER
    counts = _counts(engine)
    assert counts["outbox"] > 0  # the detractors opened cases: rules did run on the answers
    monkeypatch.setattr(textfit, "RESCORE_BATCH", 50)  # five batches, read by id
    got = textfit.fit(engine, settings=settings.surveys, now=T0)
    assert got["used"] == "model"
    after = _assert_read_by(engine, settings, "model")
    changed = sum(a["sentiment"] != b["sentiment"] for a, b in zip(after, before, strict=True))
    flags = sum(a["flagged"] != b["flagged"] for a, b in zip(after, before, strict=True))
    assert changed == 240 and flags > 0  # VADER flagged the promoters' slang
    assert got["rescored"] == {"answers": 240, "changed": changed, "flags_changed": flags}
    promoters = [a for a in after if a["why"] and a["score"] >= 9]
    assert promoters and all(a["sentiment"] > 0 and not a["flagged"] for a in promoters)
    keep = ("id", "score", "band", "why", "themed", "answered_at")
    assert [{k: a[k] for k in keep} for a in after] == [{k: b[k] for k in keep} for b in before]
    assert _counts(engine) == counts  # no event, outbox row, firing or case: not a new answer
    again = textfit.fit(engine, settings=settings.surveys, now=T0)
    assert again["used"] == "model"
    assert again["rescored"] == {"answers": 240, "changed": 0, "flags_changed": 0}
    assert _answers(engine) == after and _counts(engine) == counts


def test_a_fit_that_falls_back_to_vader_rescores_with_vader(
    engine: Engine, settings: Settings
) -> None:
    _record(engine, settings)
    vader = _answers(engine)
    assert textfit.fit(engine, settings=settings.surveys, now=T0)["used"] == "model"
    counts = _counts(engine)
    strict = settings.surveys.model_copy(update={"text_min_answers": 1_000})
    got = textfit.fit(engine, settings=strict, now=T0)
    assert got["used"] == "vader" and "at least 1,000" in got["reason"]
    assert got["rescored"]["answers"] == 240 and got["rescored"]["changed"] == 240
    assert _assert_read_by(engine, settings, "vader") == vader  # back to what they were given
    assert _counts(engine) == counts


def test_an_erased_why_is_not_rescored(engine: Engine, settings: Settings) -> None:
    _record(engine, settings)
    with engine.begin() as conn:  # as `hxpulse erase` leaves an answer: the why gone
        conn.execute(
            text(
                "UPDATE survey_responses SET why = NULL"
                " WHERE id = (SELECT min(id) FROM survey_responses)"
            )
        )
    erased = _answers(engine)[0]
    got = textfit.fit(engine, settings=settings.surveys, now=T0)
    assert got["rescored"]["answers"] == 239
    assert _answers(engine)[0] == erased


def test_an_answer_recorded_during_the_rescore_has_the_new_score_already(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(engine, settings)
    real, arrived = textfit.score_many, []

    def score_then_an_answer_arrives(conn: Connection, texts: Sequence[str | None]) -> list[float]:
        scores = real(conn, texts)
        if not arrived:  # after the re-score's first batch is scored, before it is written
            arrived.append(True)
            late = {**rows(1, seed=5)[0], "email": "late@example.com"}
            answer(engine, settings, T0, late)  # its own write, as over HTTP
        return scores

    monkeypatch.setattr(textfit, "RESCORE_BATCH", 50)
    monkeypatch.setattr(textfit, "score_many", score_then_an_answer_arrives)
    got = textfit.fit(engine, settings=settings.surveys, now=T0)
    assert arrived and got["used"] == "model"
    # read in the last batch, but recorded with the model's score: nothing to change in it
    assert got["rescored"]["answers"] == 241 and got["rescored"]["changed"] == 240
    stored = _assert_read_by(engine, settings, "model")
    assert len(stored) == 242
