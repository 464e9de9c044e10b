"""What the case page shows beside the thread: the customer's pulse and stage, recent
touchpoints across channels, survey answers with their why, and open negatives."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from hxpulse.config import Settings
from hxpulse.customers import queries
from hxpulse.pulse import service as pulse
from hxpulse.pulse.models import PulseNegative
from hxpulse.surveys.models import Response, Survey

negatives_t = cast(Table, PulseNegative.__table__)
responses_t = cast(Table, Response.__table__)
surveys_t = cast(Table, Survey.__table__)


def answers(conn: Connection, customer_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The customer's latest survey answers, with the survey's name and the why."""
    r, s = responses_t.c, surveys_t.c
    rows = conn.execute(
        select(r.score, r.band, r.why, r.answered_at, r.channel, s.name.label("survey"))
        .join(surveys_t, s.id == r.survey_id)
        .where(r.customer_id == customer_id)
        .order_by(r.answered_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def open_negatives(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """Negative experiences not resolved yet (each counts 12x in the pulse)."""
    n = negatives_t.c
    rows = conn.execute(
        select(n.message_id, n.event_type, n.weight, n.occurred_at)
        .where(n.customer_id == customer_id, n.resolved_at.is_(None), n.event_type != "")
        .order_by(n.occurred_at)
    )
    return [dict(row._mapping) for row in rows]


def customer_context(
    conn: Connection, settings: Settings, customer_id: int, now: datetime
) -> dict[str, Any]:
    """Everything the agent needs to continue the conversation, whichever channel it came from."""
    profile = queries.profile(conn, customer_id=customer_id, limit=12)
    return {
        "customer": profile,
        "pulse": pulse.explain(conn, settings.live, customer_id=customer_id, now=now, top=3),
        "answers": answers(conn, customer_id),
        "negatives": open_negatives(conn, customer_id),
    }
