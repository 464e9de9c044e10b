"""The sentiment of a why: the business's own text model where it beat VADER, else VADER.

`fit` (`hxpulse fit text`) reads the newest answers with a why, labels each by its score (the
negative band of its survey's kind: detractor, unsatisfied, difficult, low), compares a model
fitted on them with VADER on held-out answers (`analytics.textmodel.compare`) and stores the
result as the model named "text" in `fitted_models`: meta holds the counts, both AUCs and the
choice; data the pickled pipeline, only when the model is used. The answers are read and the
model fitted outside any transaction; only the save is a (short) write, so answers keep being
recorded during a fit and serving keeps the previous model until it commits.

After the save, `rescore` reads every stored answer with a why again, by id, and writes the
sentiment of the scorer now in use (the model, or VADER when the fit chose it) and the follow-up
flag that goes with it, in short writes of RESCORE_BATCH answers, so that every answer is read
on one scale. It writes no event, outbox row or firing: a re-score is not a new answer.

`score_many` is what recording an answer calls: one primary-key read of the stored meta, and
the pipeline unpickled once per process and fitted model (cached by its fitted_at and digest;
the server loads it at start, `warm`, and a refit's first answer loads the new one).

One person's words cannot be taken out of a fitted pipeline (its vocabulary, its weights), so
an erasure of someone who wrote a why deletes the stored model in its transaction (`forget`):
the next answer is scored by VADER, and the next `hxpulse fit` (or `fit text`) learns without
their words. A fit during which someone was erased fits again (`ATTEMPTS`), since its
reading may hold their words.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, func, select, update

from hxpulse.analytics import sentiment
from hxpulse.config import SurveySettings
from hxpulse.db.engine import run_write
from hxpulse.errors import Conflict
from hxpulse.learn import store
from hxpulse.surveys import kinds
from hxpulse.surveys.models import Response, Survey

NAME = "text"
FIT_LIMIT = 50_000  # the newest answers with a why a fit reads (50,000: under 2 minutes)
CACHED = 4  # fitted models kept unpickled per process (one per database in practice)
RESCORE_BATCH = 2_000  # stored answers re-scored per write transaction after a fit
ATTEMPTS = 3  # fits tried when customers are erased while one reads

log = logging.getLogger("hxpulse.surveys")
responses_t = cast(Table, Response.__table__)
surveys_t = cast(Table, Survey.__table__)
NEGATIVE_BANDS = {(kind, spec.bands[0].name) for kind, spec in kinds.SPECS.items()}

_lock = threading.Lock()
_cache: dict[tuple[datetime, str], Any] = {}


def _with_why() -> Any:
    """The answers with a why that is not blank (what a fit learns from and re-scores)."""
    return responses_t.c.why.is_not(None) & (func.length(func.trim(responses_t.c.why)) > 0)


def training_set(conn: Connection) -> tuple[list[str], list[bool]]:
    """The newest answers with a why (up to FIT_LIMIT), and whether each is negative."""
    rows = conn.execute(
        select(responses_t.c.why, responses_t.c.band, surveys_t.c.kind)
        .join(surveys_t, surveys_t.c.id == responses_t.c.survey_id)
        .where(_with_why())
        .order_by(responses_t.c.answered_at.desc(), responses_t.c.id.desc())
        .limit(FIT_LIMIT)
    ).all()
    return [r.why for r in rows], [(r.kind, r.band) in NEGATIVE_BANDS for r in rows]


def fit(
    engine: Engine, *, settings: SurveySettings, now: datetime, seed: int = 0
) -> dict[str, Any]:
    """Fit, compare with VADER, store the choice and re-score the stored answers with it;
    returns the stored meta and, under `rescored`, what the re-score did."""
    for _ in range(ATTEMPTS):
        done = _fit_once(engine, settings=settings, now=now, seed=seed)
        if done is not None:
            return {**done, "rescored": asdict(rescore(engine, settings=settings))}
    raise Conflict(f"customers were erased during each of {ATTEMPTS} text fits; fit again")


def _fit_once(
    engine: Engine, *, settings: SurveySettings, now: datetime, seed: int
) -> dict[str, Any] | None:
    """One fit, stored unless someone was erased meanwhile (then None)."""
    import sklearn

    from hxpulse.analytics import textmodel

    with engine.connect() as conn:
        erased = store.erased_count(conn)
        texts, negative = training_set(conn)
    outcome = textmodel.compare(
        texts,
        negative,
        min_answers=settings.text_min_answers,
        min_each=settings.text_min_each,
        seed=seed,
    )
    data = None if outcome.model is None else textmodel.to_bytes(outcome.model)
    meta = outcome.comparison.as_dict()
    meta.update(
        seed=seed,
        min_answers=settings.text_min_answers,
        min_each=settings.text_min_each,
        digest=None if data is None else hashlib.sha256(data).hexdigest()[:16],
        size=0 if data is None else len(data),
        sklearn=sklearn.__version__,
    )

    def save(conn: Connection) -> bool:
        store.lock(conn)
        if store.erased_count(conn) != erased:
            return False
        store.save(conn, NAME, meta=meta, data=data, now=now)
        return True

    return {**meta, "fitted_at": now.isoformat()} if run_write(engine, save) else None


def learnt_from(conn: Connection, customer_ids: list[int]) -> bool:
    """Whether the stored pipeline may hold these customers' words: it is used (a VADER
    choice stores no pipeline) and one of them wrote a why."""
    fitted = store.load(conn, NAME, with_data=False)
    if fitted is None or fitted.meta.get("used") != "model":
        return False
    query = select(responses_t.c.id).where(responses_t.c.customer_id.in_(customer_ids), _with_why())
    return conn.execute(query.limit(1)).first() is not None


def forget(conn: Connection, customer_ids: list[int]) -> bool:
    """Delete the stored model if it may hold these customers' words (an erasure, in its
    transaction, before their whys are emptied); True if it went (module doc)."""
    store.lock(conn)
    return learnt_from(conn, customer_ids) and store.drop(conn, NAME)


@dataclass(frozen=True, slots=True)
class Rescored:
    """What a re-score did: answers with a why read, those whose sentiment changed, and those
    whose follow-up flag changed with it."""

    answers: int
    changed: int
    flags_changed: int


def rescore(engine: Engine, *, settings: SurveySettings, batch: int | None = None) -> Rescored:
    """Score every stored answer with a why with the scorer now in use, and store the new
    sentiment and follow-up flag where they changed.

    Reads `batch` (RESCORE_BATCH) answers at a time in id order (keyset), scores them outside
    any write transaction and writes only the changed rows, each batch in its own short write,
    so answers keep being recorded meanwhile (those are scored by the new scorer already). The
    flag is recomputed as `service.record` computes it (`needs_follow_up`)."""
    r = responses_t.c
    after, answers, changed, flags = 0, 0, 0, 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(r.id, r.why, r.band, r.sentiment, r.flagged)
                .where(r.id > after, _with_why())
                .order_by(r.id)
                .limit(batch or RESCORE_BATCH)
            ).all()
            if not rows:
                break
            scores = score_many(conn, [row.why for row in rows])
        after, answers = rows[-1].id, answers + len(rows)
        updates = []
        for row, feeling in zip(rows, scores, strict=True):
            flagged = needs_follow_up(row.band, feeling, settings=settings)
            if feeling != row.sentiment or flagged != bool(row.flagged):
                updates.append({"rid": row.id, "feeling": feeling, "flag": flagged})
                changed += feeling != row.sentiment
                flags += flagged != bool(row.flagged)
        if updates:
            run_write(engine, partial(_store_scores, updates=updates))
    return Rescored(answers, changed, flags)


def needs_follow_up(band: str, feeling: float | None, *, settings: SurveySettings) -> bool:
    """The follow-up flag of an answer: a detractor, or a why (`feeling` is None without one)
    whose sentiment is at or below `negative_sentiment`."""
    return band == "detractor" or (feeling is not None and feeling <= settings.negative_sentiment)


def _store_scores(conn: Connection, *, updates: list[dict[str, Any]]) -> None:
    """Write re-scored sentiments; an answer whose why was erased in between is left alone."""
    conn.execute(
        update(responses_t)
        .where(responses_t.c.id == bindparam("rid"), responses_t.c.why.is_not(None))
        .values(sentiment=bindparam("feeling"), flagged=bindparam("flag")),
        updates,
    )


def status(conn: Connection) -> dict[str, Any]:
    """What serving uses now: the last fit's meta, or VADER before any fit."""
    fitted = store.load(conn, NAME, with_data=False)
    if fitted is None:
        return {"used": "vader", "fitted_at": None, "reason": "no text model fitted yet"}
    return {**fitted.meta, "fitted_at": fitted.fitted_at.isoformat()}


def served(conn: Connection) -> Any | None:
    """The fitted pipeline serving uses, or None for VADER (cached per process)."""
    fitted = store.load(conn, NAME, with_data=False)
    if fitted is None or fitted.meta.get("used") != "model":
        return None
    key = (fitted.fitted_at, str(fitted.meta.get("digest")))
    with _lock:
        if key in _cache:
            return _cache[key]
    full = store.load(conn, NAME)
    if full is None or full.data is None or full.fitted_at != fitted.fitted_at:
        return None  # replaced in between: the next answer reads the new one
    from hxpulse.analytics import textmodel

    try:
        model = textmodel.from_bytes(full.data)
    except Exception:  # noqa: BLE001 - e.g. another scikit-learn version: VADER until a refit
        log.warning("the stored text model does not load; VADER is used until `hxpulse fit text`",
                    exc_info=True)  # fmt: skip
        model = None
    with _lock:
        while len(_cache) >= CACHED:
            _cache.pop(next(iter(_cache)))
        _cache[key] = model
    return model


def warm(engine: Engine) -> None:
    """Load the served model now (the server calls it at start), so that the first answer
    does not import scikit-learn and unpickle inside its write transaction (~1.5 s)."""
    with engine.connect() as conn:
        served(conn)


def score_many(conn: Connection, texts: Sequence[str | None]) -> list[float]:
    """The sentiment of each why, −1..1: the fitted model's 1 − 2·P(negative) where it is
    used, else VADER's compound."""
    model = served(conn) if any(t and t.strip() for t in texts) else None
    if model is None:
        return sentiment.score_many(texts)
    from hxpulse.analytics import textmodel

    return textmodel.scores(model, texts)
