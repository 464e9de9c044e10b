"""Customers, deliveries and a handler context for the feed tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from hxpulse.config import Settings
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.outbox.dispatch import Context, Delivery

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_serial = itertools.count(1)


def customer(
    engine: Engine,
    email: str | None = "ann@example.com",
    *,
    user_id: str | None = None,
    traits: dict[str, Any] | None = None,
) -> int:
    """A customer with the identities and traits (consent and preferences included) given."""
    identities = [("email", email)] if email else []
    identities += [("user_id", user_id or f"u-{next(_serial)}")]
    made = EventIn(message_id=f"m-{next(_serial)}-{email}", kind="identify", type="identify",
                   occurred_at=NOW - timedelta(days=1), identities=identities,
                   traits={"name": "Ann Lee", **(traits or {})})  # fmt: skip
    ingest(engine, [made], now=NOW)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT customer_id FROM identities WHERE kind = 'user_id' AND value = :v"),
            {"v": identities[-1][1]},
        ).scalar_one()
    return int(found)


def link(engine: Engine, *identities: tuple[str, str]) -> None:
    """One identify call naming `identities` of different customers: they merge (the older
    profile survives)."""
    made = EventIn(message_id=f"m-{next(_serial)}-link", kind="identify", type="identify",
                   occurred_at=NOW - timedelta(hours=1), identities=list(identities))  # fmt: skip
    ingest(engine, [made], now=NOW)


def delivery(kind: str, payload: dict[str, Any], customer_id: int | None = None) -> Delivery:
    n = next(_serial)
    return Delivery(id=n, key=f"test:{kind}:{n}", kind=kind, customer_id=customer_id,
                    cause="case:7", payload=payload, attempt=1, created_at=NOW)  # fmt: skip


def context(engine: Engine, settings: Settings, smtp_port: int | None = None) -> Context:
    if smtp_port is not None:
        settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(
            update={"host": "127.0.0.1", "port": smtp_port})})  # fmt: skip
    return Context(engine=engine, settings=settings, now=NOW)
