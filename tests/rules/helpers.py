"""Shared helpers of the rules tests: settings with rules, events, and what was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from hxpulse.config import Live, Settings
from hxpulse.customers import queries
from hxpulse.events.schemas import EventIn
from hxpulse.outbox.service import outbox_t
from hxpulse.rules.evaluate import firings_t

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def live_with(*rules: dict[str, Any], **sections: Any) -> Live:
    """The live settings with `rules` added to the defaults."""
    return Settings(rules=list(rules), **sections).live


def event(mid: str, user: str, kind: str, minutes: float = 0, **fields: Any) -> EventIn:
    props = fields.pop("properties", {})
    return EventIn(message_id=mid, kind="track", type=kind, identities=[("user_id", user)],
                   occurred_at=T + timedelta(minutes=minutes), properties=props,
                   **fields)  # fmt: skip


def outbox(engine: Engine) -> list[dict[str, Any]]:
    o = outbox_t.c
    with engine.connect() as conn:
        rows = conn.execute(select(o.key, o.kind, o.customer_id, o.cause, o.payload)
                            .order_by(o.id))  # fmt: skip
        return [dict(r._mapping) for r in rows]


def fired(engine: Engine) -> list[dict[str, Any]]:
    f = firings_t.c
    with engine.connect() as conn:
        rows = conn.execute(select(f.rule, f.customer_id, f.trigger_kind, f.trigger_name,
                                   f.cause, f.capped, f.actions).order_by(f.id))  # fmt: skip
        return [dict(r._mapping) for r in rows]


def customer(engine: Engine, user: str) -> int:
    with engine.connect() as conn:
        return queries.find(conn, f"user_id:{user}")
