"""Load the demo data set into a database, batch by batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Engine, select

from hxpulse.auth import service as auth
from hxpulse.auth.models import User
from hxpulse.config import Live
from hxpulse.demo.cdnow import demo_events
from hxpulse.events.service import ingest

DEMO_EMAIL = "demo@hxpulse.example"
DEMO_PASSWORD = "hxpulse-demo"


def load(engine: Engine, *, live: Live, progress: Callable[[int], None] | None = None) -> int:
    """Load the demo events (again: nothing is added twice); return how many were new."""
    events = demo_events(datetime.now(UTC).date())
    stored = 0
    while batch := list(islice(events, 5000)):
        stored += ingest(engine, batch, live=live).stored
        if progress is not None:
            progress(len(batch))
    return stored


def ensure_demo_admin(engine: Engine) -> bool:
    """Create the demo admin unless it exists; return True when created."""
    with engine.begin() as conn:
        users = User.__table__
        if conn.execute(select(users.c.id).where(users.c.email == DEMO_EMAIL)).first():
            return False
        auth.create_user(conn, email=DEMO_EMAIL, password=DEMO_PASSWORD, role="admin",
                         name="Demo admin")  # fmt: skip
    return True
