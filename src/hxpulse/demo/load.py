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
from hxpulse.demo.cdnow import Purchase, demo_events
from hxpulse.errors import Invalid
from hxpulse.ingest import ingest

DEMO_EMAIL = "demo@hxpulse.example"
DEMO_PASSWORD = "hxpulse-demo"


@dataclass(slots=True)
class Loaded:
    events: int  # new events
    seconds: float  # loading the events
    surveys: surveys.Summary
    value: dict[str, Any] | None = None  # the lifetime-value fit (None: too few purchases)
    value_seconds: float = 0.0


def load(
    engine: Engine,
    *,
    live: Live,
    progress: Callable[[int], None] | None = None,
    survey_settings: SurveySettings | None = None,
    today: date | None = None,
    purchases: list[Purchase] | None = None,
) -> Loaded:
    """Load the demo events, then the simulated survey answers that follow them (again:
    nothing is added twice). `purchases`: a part of the CDNOW history instead of all of it."""
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
    started = time.perf_counter()
    try:  # lifetime value on the purchases to today, for the Value page
        value: dict[str, Any] | None = clv.fit_and_store(engine, live.pulse,
                                                         now=datetime.now(UTC))  # fmt: skip
    except Invalid:
        value = None
    return Loaded(stored, seconds, summary, value, time.perf_counter() - started)


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
