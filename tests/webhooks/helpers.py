"""Shared helpers: settings that allow the receiver on 127.0.0.1, and endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.webhooks import service


def local(settings: Settings, **outbox: Any) -> Settings:
    """`settings` with private networks allowed (the receiver is on 127.0.0.1)."""
    webhooks = settings.webhooks.model_copy(update={"allow_private_networks": True})
    changes: dict[str, Any] = {"webhooks": webhooks}
    if outbox:
        changes["outbox"] = settings.outbox.model_copy(update=outbox)
    return settings.model_copy(update=changes)


def endpoint(
    engine: Engine,
    settings: Settings,
    url: str,
    name: str = "ops",
    event_types: tuple[str, ...] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    return run_write(engine, lambda conn: service.create(
        conn, name=name, url=url, event_types=event_types, settings=settings.webhooks,
        now=now or datetime.now(UTC)))  # fmt: skip


def fan(engine: Engine, keys: list[str], event_type: str = "rule.fired",
        now: datetime | None = None) -> int:  # fmt: skip
    moment = now or datetime.now(UTC)

    def work(conn: Any) -> int:
        return sum(service.fan_out(conn, event_type=event_type, data={"n": key}, key=key,
                                   now=moment) for key in keys)  # fmt: skip

    return run_write(engine, work)
