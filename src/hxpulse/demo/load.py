"""Load the demo data set into a database, batch by batch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, select

from hxpulse.auth import service as auth
from hxpulse.auth.models import User
from hxpulse.clv import service as clv
from hxpulse.config import Live, Settings, SurveySettings
from hxpulse.demo import advocacy, surveys
from hxpulse.demo import offers as demo_offers
from hxpulse.demo.cdnow import Purchase, demo_events
from hxpulse.errors import Invalid
from hxpulse.ingest import ingest
from hxpulse.offers import fitting
from hxpulse.surveys import textfit

DEMO_EMAIL = "demo@hxpulse.example"
DEMO_PASSWORD = "hxpulse-demo"


@dataclass(slots=True)
class Loaded:
    events: int  # new events
    seconds: float  # loading the events
    surveys: surveys.Summary
    value: dict[str, Any] | None = None  # the lifetime-value fit (None: too few purchases)
    value_seconds: float = 0.0
    offers: demo_offers.Served | None = None  # the simulated exposures and answers
    offers_model: dict[str, Any] | None = None  # the offers fit (None: too little data)
    offers_seconds: float = 0.0
    text_model: dict[str, Any] | None = None  # the fit of the survey whys' model
    text_seconds: float = 0.0


def load(
    engine: Engine,
    *,
    live: Live,
    settings: Settings | None = None,
    progress: Callable[[int], None] | None = None,
    survey_settings: SurveySettings | None = None,
    today: date | None = None,
    purchases: list[Purchase] | None = None,
) -> Loaded:
    """Load the demo events, then the simulated survey answers that follow them, the offer
    catalogue and its simulated exposures and answers (again: nothing is added twice); then
    fit lifetime value, the offers model and the text model of survey whys.
    `purchases`: a part of the CDNOW history instead of all of it."""
    started = time.perf_counter()
    day = today or datetime.now(UTC).date()
    events = demo_events(day, purchases)
    timeline = surveys.Timeline()
    stored = 0
    while batch := list(islice(events, 5000)):
        timeline.observe(batch)
        stored += ingest(engine, batch, live=live).stored
        if progress is not None:
            progress(len(batch))
    seconds = time.perf_counter() - started
    summary = surveys.load(engine, timeline, today=day, live=live, settings=survey_settings)
    advocacy.load(engine, live=live, today=day)  # asks and referrals after promoter answers
    config = settings or Settings(live=live)
    at = datetime.now(UTC)
    if survey_settings is not None:
        config = config.model_copy(update={"surveys": survey_settings})
    started = time.perf_counter()
    demo_offers.ensure_catalogue(engine, now=at)
    served = demo_offers.serve(engine, config, today=day)
    served.seconds = time.perf_counter() - started
    started = time.perf_counter()
    try:  # lifetime value on the purchases to today, for the Value page
        value: dict[str, Any] | None = clv.fit_and_store(engine, live.pulse,
                                                         now=datetime.now(UTC))  # fmt: skip
    except Invalid:
        value = None
    loaded = Loaded(stored, seconds, summary, value, time.perf_counter() - started, served)
    started = time.perf_counter()
    loaded.offers_model = _fit_offers(engine, config, datetime.now(UTC))
    loaded.offers_seconds = time.perf_counter() - started
    started = time.perf_counter()
    loaded.text_model = textfit.fit(engine, settings=config.surveys, now=datetime.now(UTC))
    loaded.text_seconds = time.perf_counter() - started
    return loaded


def _fit_offers(engine: Engine, settings: Settings, now: datetime) -> dict[str, Any] | None:
    try:
        return fitting.fit(engine, settings, now=now)
    except Invalid:
        return None


def demo_settings(settings: Settings) -> Settings:
    """`settings` for the demo: its brand (CDNOW) unless one is configured (surveys.branded)."""
    return settings.model_copy(update={"surveys": surveys.branded(settings.surveys)})


def ensure_demo_admin(engine: Engine) -> bool:
    """Create the demo admin unless it exists; return True when created."""
    with engine.begin() as conn:
        users = User.__table__
        if conn.execute(select(users.c.id).where(users.c.email == DEMO_EMAIL)).first():
            return False
        auth.create_user(conn, email=DEMO_EMAIL, password=DEMO_PASSWORD, role="admin",
                         name="Demo admin")  # fmt: skip
    return True
